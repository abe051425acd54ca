/* jwtsign: the test-side JWT signer (see jwtsign.h). Deliberately separate from src/auth_jwt.c
 * (no shared code): a signer built from the verifier's own helpers would share its bugs. */
#include "base64url.h"
#include "jwtsign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define SECRET_MAX (1024 * 1024)
#define SIG_MAX 1024 /* RSA 8192 bits */

long jwtsign_b64url(const void *in, size_t len, char *out, size_t outlen)
{
    return lb_base64url_encode(in, len, out, outlen);
}

static void ssl_error(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    fprintf(stderr, "jwtsign: %s failed%s%s\n", what, e ? ": " : "", buf);
    ERR_clear_error();
}

/* SHA-256 digest signature with pkey into sig (DER for EC, PKCS #1 v1.5 for RSA). */
static int digest_sign(EVP_PKEY *pkey, const char *msg, size_t msglen, unsigned char *sig,
                       size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t need = 0;
    int ok = md && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
             (!EVP_PKEY_is_a(pkey, "RSA") ||
              EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
             EVP_DigestSign(md, NULL, &need, (const unsigned char *)msg, msglen) == 1 &&
             need <= *siglen &&
             EVP_DigestSign(md, sig, siglen, (const unsigned char *)msg, msglen) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        ssl_error("EVP_DigestSign");
    return ok ? 0 : -1;
}

/* The JOSE form of an ECDSA signature: R || S, each as long as the group order. */
static int ec_raw_signature(EVP_PKEY *pkey, const unsigned char *der, size_t derlen,
                            unsigned char *raw, size_t *rawlen)
{
    const unsigned char *p = der;
    int coord = (EVP_PKEY_get_bits(pkey) + 7) / 8;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (!es || coord <= 0 || (size_t)(2 * coord) > *rawlen) {
        ECDSA_SIG_free(es);
        fprintf(stderr, "jwtsign: cannot convert the ECDSA signature\n");
        return -1;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    int ok = BN_bn2binpad(r, raw, coord) == coord && BN_bn2binpad(s, raw + coord, coord) == coord;
    ECDSA_SIG_free(es);
    if (!ok)
        return -1;
    *rawlen = (size_t)(2 * coord);
    return 0;
}

int jwtsign_raw(const char *header_json, const char *claims_json, const char *alg, EVP_PKEY *pkey,
                const unsigned char *hmac_key, size_t hmac_len, char *out, size_t outlen)
{
    unsigned char sig[SIG_MAX], der[SIG_MAX];
    size_t siglen = 0;
    if (!header_json || !claims_json || !alg || !out) {
        fprintf(stderr, "jwtsign: missing argument\n");
        return -1;
    }
    long h = jwtsign_b64url(header_json, strlen(header_json), out, outlen);
    if (h < 0 || (size_t)h + 2 > outlen)
        goto too_small;
    out[h] = '.';
    long p = jwtsign_b64url(claims_json, strlen(claims_json), out + h + 1, outlen - (size_t)h - 1);
    if (p < 0 || (size_t)(h + 1 + p) + 2 > outlen)
        goto too_small;
    size_t msglen = (size_t)(h + 1 + p);
    if (strcmp(alg, "HS256") == 0) {
        static const unsigned char empty[1] = {0};
        unsigned int maclen = 0;
        /* HMAC() takes a NULL key to mean "no new key": give empty keys a real address */
        if (!HMAC(EVP_sha256(), hmac_len ? hmac_key : empty, (int)hmac_len,
                  (const unsigned char *)out, msglen, sig, &maclen)) {
            ssl_error("HMAC");
            return -1;
        }
        siglen = maclen;
    } else if (strcmp(alg, "ES256") == 0 || strcmp(alg, "RS256") == 0) {
        int ec = alg[0] == 'E';
        if (!pkey || !EVP_PKEY_is_a(pkey, ec ? "EC" : "RSA")) {
            fprintf(stderr, "jwtsign: %s needs an %s key\n", alg, ec ? "EC" : "RSA");
            return -1;
        }
        size_t derlen = sizeof der; /* the DER signature (EC) or the signature (RSA) */
        if (digest_sign(pkey, out, msglen, der, &derlen) != 0)
            return -1;
        siglen = sizeof sig;
        if (ec) {
            if (ec_raw_signature(pkey, der, derlen, sig, &siglen) != 0)
                return -1;
        } else {
            memcpy(sig, der, derlen);
            siglen = derlen;
        }
    } else if (strcmp(alg, "none") != 0) {
        fprintf(stderr, "jwtsign: unsupported alg %s\n", alg);
        return -1;
    }
    out[msglen] = '.';
    if (jwtsign_b64url(sig, siglen, out + msglen + 1, outlen - msglen - 1) < 0)
        goto too_small;
    OPENSSL_cleanse(sig, sizeof sig);
    return 0;
too_small:
    fprintf(stderr, "jwtsign: output buffer too small (%zu bytes)\n", outlen);
    return -1;
}

/* Reads a file whole (at most SECRET_MAX bytes) less one trailing "\n" or "\r\n". */
static unsigned char *read_secret(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return NULL;
    }
    unsigned char *buf = malloc(SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, SECRET_MAX + 1, f) : 0;
    int bad = !buf || ferror(f) || n > SECRET_MAX;
    fclose(f);
    if (bad) {
        fprintf(stderr, "jwtsign: cannot read %s (or larger than %d bytes)\n", file, SECRET_MAX);
        free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    *len = n;
    return buf;
}

static EVP_PKEY *read_private_key(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey)
        ssl_error(file);
    return pkey;
}

/* Serialises obj into out (plain, "/" not escaped). */
static int json_out(json_object *obj, char *out, size_t outlen)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!s || len + 1 > outlen) {
        fprintf(stderr, "jwtsign: output buffer too small (%zu bytes)\n", outlen);
        return -1;
    }
    memcpy(out, s, len + 1);
    return 0;
}

int jwtsign(const char *alg, const char *kid, const char *key_file, const char *claims_json,
            char *out, size_t outlen)
{
    char header[1024 + 4096];
    if (!alg || !key_file || !claims_json) {
        fprintf(stderr, "jwtsign: missing argument\n");
        return -1;
    }
    json_object *h = json_object_new_object();
    json_object_object_add(h, "alg", json_object_new_string(alg));
    json_object_object_add(h, "typ", json_object_new_string("JWT"));
    if (kid)
        json_object_object_add(h, "kid", json_object_new_string(kid));
    int rc = json_out(h, header, sizeof header);
    json_object_put(h);
    if (rc != 0)
        return -1;
    if (strcmp(alg, "HS256") == 0) {
        size_t len = 0;
        unsigned char *secret = read_secret(key_file, &len);
        if (!secret)
            return -1;
        rc = jwtsign_raw(header, claims_json, alg, NULL, secret, len, out, outlen);
        OPENSSL_clear_free(secret, SECRET_MAX + 1);
        return rc;
    }
    if (strcmp(alg, "ES256") != 0 && strcmp(alg, "RS256") != 0) {
        fprintf(stderr, "jwtsign: unsupported alg %s (ES256, RS256, HS256)\n", alg);
        return -1;
    }
    EVP_PKEY *pkey = read_private_key(key_file);
    if (!pkey)
        return -1;
    rc = jwtsign_raw(header, claims_json, alg, pkey, NULL, 0, out, outlen);
    EVP_PKEY_free(pkey);
    return rc;
}

/* Adds name: base64url of bn, left-padded with zeros to pad bytes (0: minimal). */
static int add_bn(json_object *o, const char *name, const BIGNUM *bn, int pad)
{
    unsigned char bin[SIG_MAX + 1];
    char text[2 * SIG_MAX];
    int len = pad ? pad : BN_num_bytes(bn);
    if (len <= 0 || len > (int)sizeof bin || BN_bn2binpad(bn, bin, len) != len ||
        jwtsign_b64url(bin, (size_t)len, text, sizeof text) < 0)
        return -1;
    json_object_object_add(o, name, json_object_new_string(text));
    return 0;
}

int jwtsign_jwk(EVP_PKEY *pkey, const char *kid, char *out, size_t outlen)
{
    BIGNUM *a = NULL, *b = NULL;
    json_object *o = json_object_new_object();
    int rc = -1;
    if (EVP_PKEY_is_a(pkey, "EC")) {
        static const struct {
            const char *group, *crv, *alg;
            int coord;
        } curves[] = {{"prime256v1", "P-256", "ES256", 32},
                      {"secp384r1", "P-384", "ES384", 48},
                      {"secp521r1", "P-521", "ES512", 66}};
        char group[64] = "";
        size_t i;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           NULL) != 1)
            goto done;
        for (i = 0; i < sizeof curves / sizeof curves[0]; i++)
            if (strcmp(group, curves[i].group) == 0)
                break;
        if (i == sizeof curves / sizeof curves[0]) {
            fprintf(stderr, "jwtsign: unsupported curve %s\n", group);
            goto done;
        }
        json_object_object_add(o, "kty", json_object_new_string("EC"));
        json_object_object_add(o, "crv", json_object_new_string(curves[i].crv));
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) != 1 ||
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) != 1 ||
            add_bn(o, "x", a, curves[i].coord) != 0 || add_bn(o, "y", b, curves[i].coord) != 0)
            goto done;
        json_object_object_add(o, "alg", json_object_new_string(curves[i].alg));
    } else if (EVP_PKEY_is_a(pkey, "RSA")) {
        json_object_object_add(o, "kty", json_object_new_string("RSA"));
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) != 1 ||
            add_bn(o, "n", a, 0) != 0 || add_bn(o, "e", b, 0) != 0)
            goto done;
        json_object_object_add(o, "alg", json_object_new_string("RS256"));
    } else {
        fprintf(stderr, "jwtsign: only EC and RSA keys have a JWK here\n");
        goto done;
    }
    json_object_object_add(o, "use", json_object_new_string("sig"));
    if (kid)
        json_object_object_add(o, "kid", json_object_new_string(kid));
    rc = json_out(o, out, outlen);
done:
    if (rc != 0 && !a)
        ssl_error("reading the public key");
    BN_free(a);
    BN_free(b);
    json_object_put(o);
    return rc;
}

int jwtsign_jwks(const char *const *pem_files, const char *const *kids, int n, char *out,
                 size_t outlen)
{
    char jwk[8192];
    size_t used = 0;
    if (n < 0 || outlen < sizeof "{\"keys\":[]}")
        return -1;
    used = (size_t)snprintf(out, outlen, "{\"keys\":[");
    for (int i = 0; i < n; i++) {
        EVP_PKEY *pkey = read_private_key(pem_files[i]);
        int rc = pkey ? jwtsign_jwk(pkey, kids ? kids[i] : NULL, jwk, sizeof jwk) : -1;
        EVP_PKEY_free(pkey);
        if (rc != 0)
            return -1;
        size_t len = strlen(jwk);
        if (used + len + 1 + sizeof "]}" > outlen) {
            fprintf(stderr, "jwtsign: output buffer too small (%zu bytes)\n", outlen);
            return -1;
        }
        if (i > 0)
            out[used++] = ',';
        memcpy(out + used, jwk, len);
        used += len;
    }
    memcpy(out + used, "]}", sizeof "]}");
    return 0;
}
