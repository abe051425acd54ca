/* digest: SHA-256 from OpenSSL's libcrypto (EVP), for API key hashes and migration checksums. */
#include "digest.h"

#include <openssl/evp.h>
#include <string.h>

/* One digest context per process, reused: EVP_Digest would allocate, fetch and free one on
 * every call, which is most of the cost for the short inputs here (a key, a token). */
static EVP_MD_CTX *sha256_ctx;

void lb_sha256(const void *data, size_t len, unsigned char out[LB_SHA256_LEN])
{
    unsigned int n = 0;
    if (!sha256_ctx)
        sha256_ctx = EVP_MD_CTX_new();
    /* Fails only when out of memory; a zero digest then never matches a stored hash (every
     * stored hash is of a random 32-byte key). */
    if (!sha256_ctx || EVP_DigestInit_ex(sha256_ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(sha256_ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(sha256_ctx, out, &n) != 1 || n != LB_SHA256_LEN)
        memset(out, 0, LB_SHA256_LEN);
}

void lb_hex(const unsigned char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void lb_sha256_hex(const void *data, size_t len, char out[2 * LB_SHA256_LEN + 1])
{
    unsigned char d[LB_SHA256_LEN];
    lb_sha256(data, len, d);
    lb_hex(d, sizeof d, out);
}
