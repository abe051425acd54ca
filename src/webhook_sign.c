/* webhook_sign: Standard Webhooks signatures (HMAC-SHA256, base64) and the back-off schedule. */
#include "webhook_sign.h"

#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"
#define MAX_KEY_BYTES 64

/* Decodes canonical padded base64 (what a secret carries) into key; returns its length or -1.
 * EVP_DecodeBlock does not reject every non-canonical form and counts the padding as zero
 * bytes, so the length is checked and the padding subtracted here. */
static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static int decode_key(const char *b64, unsigned char key[MAX_KEY_BYTES])
{
    size_t len = strlen(b64);
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > MAX_KEY_BYTES)
        return -1;
    /* the alphabet everywhere but in the last two places, which may be "=" or "==" */
    for (size_t i = 0; i < len; i++)
        if (!b64_char(b64[i]) &&
            !(b64[i] == '=' && (i == len - 1 || (i == len - 2 && b64[len - 1] == '='))))
            return -1;
    int n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return -1;
    if (b64[len - 1] == '=')
        n--;
    if (b64[len - 2] == '=')
        n--;
    return n > 0 ? n : -1;
}

int lb_webhook_sign(const char *secret, const char *id, long long timestamp, const char *body,
                    size_t body_len, char out[LB_WEBHOOK_SIG_LEN + 1])
{
    size_t plen = sizeof SECRET_PREFIX - 1;
    if (!secret || strncmp(secret, SECRET_PREFIX, plen) != 0)
        return -1;
    unsigned char key[MAX_KEY_BYTES];
    int key_len = decode_key(secret + plen, key);
    if (key_len < 0)
        return -1;
    char head[128];
    int hn = snprintf(head, sizeof head, "%s.%lld.", id, timestamp);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return -1;
    /* The signed content is "<id>.<timestamp>.<body>": fed in two parts, the body not copied. */
    unsigned char mac[EVP_MAX_MD_SIZE];
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t got = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, (size_t)key_len, params) &&
             EVP_MAC_update(ctx, (const unsigned char *)head, (size_t)hn) &&
             EVP_MAC_update(ctx, (const unsigned char *)body, body_len) &&
             EVP_MAC_final(ctx, mac, &got, sizeof mac) && got == 32;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)got); /* 44 chars and a NUL */
    return 0;
}

int lb_webhook_signature_header(const char *secret, const char *previous, const char *id,
                                long long timestamp, const char *body, size_t body_len,
                                char out[LB_WEBHOOK_SIG_HEADER_LEN])
{
    if (lb_webhook_sign(secret, id, timestamp, body, body_len, out) != 0)
        return -1;
    if (!previous)
        return 0;
    out[LB_WEBHOOK_SIG_LEN] = ' ';
    return lb_webhook_sign(previous, id, timestamp, body, body_len, out + LB_WEBHOOK_SIG_LEN + 1);
}

static const long schedule_s[LB_WEBHOOK_MAX_ATTEMPTS - 1] = {
    5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600,
};

long lb_webhook_retry_base_s(int attempt)
{
    if (attempt < 1 || attempt >= LB_WEBHOOK_MAX_ATTEMPTS)
        return -1;
    return schedule_s[attempt - 1];
}

double lb_webhook_retry_delay_s(int attempt, double rnd)
{
    long base = lb_webhook_retry_base_s(attempt);
    if (base < 0)
        return -1;
    if (!(rnd >= 0 && rnd < 1)) /* also NaN */
        rnd = 0.5;
    return (double)base * (0.9 + 0.2 * rnd);
}
