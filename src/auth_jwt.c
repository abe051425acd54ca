/* auth_jwt: sign-in token (JWT) verification with keys loaded from a JWKS file and/or an HS256
 * secret file. The rules and the decisions where API.md is silent are in auth_jwt.h. The order
 * of work in lb_jwt_verify is chosen so that nothing an attacker sent is trusted before the
 * signature is: length cap, split, strict base64url, header (algorithm and key choice only),
 * signature, and only then the claims. */
#include "auth_jwt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "base64url.h"
#include "jsonx.h"

#define DEFAULT_AUDIENCE "authenticated"
#define REQUIRED_ROLE "authenticated"
#define HS256_LEN 32
#define P256_COORD 32
#define P256_COORD_B64 43 /* unpadded base64url of 32 bytes */
#define ES256_SIG_LEN (2 * P256_COORD)
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192 /* bigger moduli only make every verification slower */
#define RSA_E_MAX_BYTES 32
#define JWKS_MAX_ENTRIES 256
#define JWKS_MAX_DEPTH 64
#define LABEL_MAX 512

enum jwt_alg { ALG_ES256, ALG_RS256, ALG_HS256 };
enum key_type { KEY_EC, KEY_RSA };

struct jwk {
    char *kid; /* NULL when the entry has none; may contain NUL bytes (kid_len counts) */
    size_t kid_len;
    enum key_type type;
    EVP_PKEY *pkey;
};

struct lb_jwt_keys {
    struct jwk *jwks;
    size_t njwks;
    unsigned char *secret; /* NULL: no HS256 */
    size_t secret_len;
    char *issuer;
    size_t issuer_len;
    char *audience;
    size_t audience_len;
    int skipped;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- JSON helpers ------------------------------------------------------------------------- */

/* 1 when v is a JSON string equal to want (byte for byte, embedded NULs count). */
static int json_str_eq(json_object *v, const char *want, size_t want_len)
{
    if (!json_object_is_type(v, json_type_string))
        return 0;
    size_t len = (size_t)json_object_get_string_len(v);
    return len == want_len && memcmp(json_object_get_string(v), want, len) == 0;
}

static int member_str_eq(json_object *obj, const char *name, const char *want)
{
    json_object *v = NULL;
    return json_object_object_get_ex(obj, name, &v) && json_str_eq(v, want, strlen(want));
}

/* A strict JSON object from untrusted bytes (lb_json_parse_body: RFC 8259, UTF-8, depth 16,
 * duplicate member names refused, so that no two readers can disagree on a claim), or NULL. */
static json_object *parse_object(const unsigned char *s, size_t len)
{
    struct lb_msgs msgs;
    json_object *obj = NULL;
    lb_msgs_clear(&msgs);
    if (lb_json_parse_body((const char *)s, len, &obj, &msgs) != LB_OK)
        return NULL;
    return obj;
}

/* ---- key loading -------------------------------------------------------------------------- */

static void jwk_clear(struct jwk *k)
{
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof *k);
}

/* 1 when OpenSSL's own public-key check passes (EC: the point is on the curve and not the
 * point at infinity; RSA: odd n and e, among others). */
static int public_key_ok(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = c && EVP_PKEY_public_check(c) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

/* Builds a public key of the given OpenSSL key type from the parameters in bld. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (pkey && !public_key_ok(pkey)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

/* EC P-256 public key from the JWK's x and y (each exactly 32 bytes). */
static EVP_PKEY *ec_p256_from_jwk(json_object *e)
{
    json_object *xo = NULL, *yo = NULL;
    unsigned char pub[1 + 2 * P256_COORD];
    if (!json_object_object_get_ex(e, "x", &xo) || !json_object_object_get_ex(e, "y", &yo) ||
        !json_object_is_type(xo, json_type_string) || !json_object_is_type(yo, json_type_string) ||
        json_object_get_string_len(xo) != P256_COORD_B64 ||
        json_object_get_string_len(yo) != P256_COORD_B64)
        return NULL;
    /* 43 characters decode to at most 32 bytes: pub has room */
    pub[0] = 0x04; /* uncompressed point: 04 || X || Y */
    if (lb_base64url_decode(json_object_get_string(xo), P256_COORD_B64, pub + 1) != P256_COORD ||
        lb_base64url_decode(json_object_get_string(yo), P256_COORD_B64, pub + 1 + P256_COORD) !=
            P256_COORD)
        return NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub))
        pkey = pkey_from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* A big-endian unsigned integer from a base64url JWK member of at most max_bytes, or NULL. */
static BIGNUM *jwk_bn(json_object *e, const char *name, size_t max_bytes)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(e, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    size_t len = (size_t)json_object_get_string_len(v);
    if (len == 0 || len / 4 * 3 > max_bytes + 3)
        return NULL;
    unsigned char *buf = malloc(len); /* >= len * 3 / 4 */
    if (!buf)
        return NULL;
    long n = lb_base64url_decode(json_object_get_string(v), len, buf);
    BIGNUM *bn = (n > 0 && (size_t)n <= max_bytes) ? BN_bin2bn(buf, (int)n, NULL) : NULL;
    free(buf);
    return bn;
}

/* RSA public key from the JWK's n and e, RSA_MIN_BITS..RSA_MAX_BITS bits. */
static EVP_PKEY *rsa_from_jwk(json_object *e)
{
    /* one spare byte: some encoders keep a leading zero byte */
    BIGNUM *n = jwk_bn(e, "n", RSA_MAX_BITS / 8 + 1);
    BIGNUM *ex = jwk_bn(e, "e", RSA_E_MAX_BYTES);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    /* e > 2^16 as FIPS 186-4 asks (OpenSSL's public check accepts e = 3) */
    if (n && ex && BN_num_bits(n) >= RSA_MIN_BITS && BN_num_bits(n) <= RSA_MAX_BITS &&
        BN_num_bits(ex) > 16 && (bld = OSSL_PARAM_BLD_new()) != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex))
        pkey = pkey_from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(ex);
    return pkey;
}

/* 1 when a key_ops member allows verification: an array of strings holding "verify". */
static int key_ops_verify(json_object *ops)
{
    if (!json_object_is_type(ops, json_type_array))
        return 0;
    size_t n = json_object_array_length(ops);
    for (size_t i = 0; i < n; i++)
        if (json_str_eq(json_object_array_get_idx(ops, i), "verify", 6))
            return 1;
    return 0;
}

/* Turns one JWKS entry into a key. Returns 0, or -1 when the entry is not usable here (the
 * caller counts it as skipped): not an object, a kty other than EC (P-256) or RSA, "use" other
 * than "sig", key_ops without "verify", an alg other than ES256 (EC) / RS256 (RSA), a non-string
 * kid, bad coordinates or modulus. kty "oct" is never used: HS256 keys come only from the
 * secret file, so that a published JWKS can never hold an HMAC key. */
static int jwk_parse(json_object *e, struct jwk *out)
{
    json_object *v = NULL;
    memset(out, 0, sizeof *out);
    if (!json_object_is_type(e, json_type_object))
        return -1;
    if (json_object_object_get_ex(e, "use", &v) && !json_str_eq(v, "sig", 3))
        return -1;
    if (json_object_object_get_ex(e, "key_ops", &v) && !key_ops_verify(v))
        return -1;
    const char *want_alg;
    if (member_str_eq(e, "kty", "EC")) {
        if (!member_str_eq(e, "crv", "P-256"))
            return -1;
        out->type = KEY_EC;
        want_alg = "ES256";
    } else if (member_str_eq(e, "kty", "RSA")) {
        out->type = KEY_RSA;
        want_alg = "RS256";
    } else {
        return -1;
    }
    if (json_object_object_get_ex(e, "alg", &v) && !json_str_eq(v, want_alg, 5))
        return -1;
    if (json_object_object_get_ex(e, "kid", &v)) {
        if (!json_object_is_type(v, json_type_string))
            return -1;
        out->kid_len = (size_t)json_object_get_string_len(v);
        out->kid = malloc(out->kid_len + 1);
        if (!out->kid)
            return -1;
        memcpy(out->kid, json_object_get_string(v), out->kid_len + 1);
    }
    out->pkey = out->type == KEY_EC ? ec_p256_from_jwk(e) : rsa_from_jwk(e);
    if (!out->pkey) {
        jwk_clear(out);
        return -1;
    }
    return 0;
}

static int load_jwks(struct lb_jwt_keys *k, const char *text, size_t len, const char *label,
                     char *err, size_t errlen)
{
    size_t off = 0;
    if (len > LB_JWT_MAX_FILE)
        return fail(err, errlen, "%s: larger than %d bytes", label, LB_JWT_MAX_FILE);
    if (lb_json_check_syntax(text, len, JWKS_MAX_DEPTH, &off) != 0)
        return fail(err, errlen, "%s: not valid JSON (error at byte %zu)", label, off);
    /* json-c counts a scalar leaf as one level more than its container */
    struct json_tokener *tok = json_tokener_new_ex(JWKS_MAX_DEPTH + 1);
    if (!tok)
        return fail(err, errlen, "%s: out of memory", label);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
    json_tokener_free(tok);
    json_object *arr = NULL;
    int rc = -1;
    if (!json_object_is_type(doc, json_type_object))
        fail(err, errlen, "%s: not a JSON object (a JWKS is {\"keys\":[...]})", label);
    else if (!json_object_object_get_ex(doc, "keys", &arr) ||
             !json_object_is_type(arr, json_type_array))
        fail(err, errlen, "%s: no \"keys\" array", label);
    else if (json_object_array_length(arr) > JWKS_MAX_ENTRIES)
        fail(err, errlen, "%s: more than %d keys", label, JWKS_MAX_ENTRIES);
    else if (!(k->jwks = calloc(json_object_array_length(arr) + 1, sizeof *k->jwks)))
        fail(err, errlen, "%s: out of memory", label);
    else
        rc = 0;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++) {
        if (jwk_parse(json_object_array_get_idx(arr, i), &k->jwks[k->njwks]) == 0)
            k->njwks++;
        else
            k->skipped++;
    }
    json_object_put(doc);
    ERR_clear_error(); /* refused keys leave OpenSSL errors that are no one else's business */
    if (rc == 0 && k->njwks > LB_JWT_MAX_KEYS)
        rc = fail(err, errlen, "%s: more than %d usable keys", label, LB_JWT_MAX_KEYS);
    return rc;
}

static int keys_build(const char *jwks, size_t jwks_len, const char *jwks_label,
                      const unsigned char *secret, size_t secret_len, const char *secret_label,
                      const char *issuer, const char *audience, struct lb_jwt_keys **out, char *err,
                      size_t errlen)
{
    if (!out)
        return fail(err, errlen, "no place for the keys");
    *out = NULL;
    if (!issuer || !*issuer)
        return fail(err, errlen, "jwt_issuer is required for sign-in tokens");
    if (!jwks && !secret)
        return fail(err, errlen, "no sign-in token key: set jwt_jwks_file and/or jwt_secret_file");
    if (!audience || !*audience)
        audience = DEFAULT_AUDIENCE;
    struct lb_jwt_keys *k = calloc(1, sizeof *k);
    if (!k)
        return fail(err, errlen, "out of memory");
    k->issuer_len = strlen(issuer);
    k->audience_len = strlen(audience);
    k->issuer = strdup(issuer);
    k->audience = strdup(audience);
    if (!k->issuer || !k->audience) {
        fail(err, errlen, "out of memory");
        goto failed;
    }
    if (secret) {
        if (secret_len == 0) {
            fail(err, errlen, "%s: the secret is empty", secret_label);
            goto failed;
        }
        if (secret_len > LB_JWT_MAX_FILE) {
            fail(err, errlen, "%s: larger than %d bytes", secret_label, LB_JWT_MAX_FILE);
            goto failed;
        }
        if (!(k->secret = malloc(secret_len))) {
            fail(err, errlen, "out of memory");
            goto failed;
        }
        memcpy(k->secret, secret, secret_len);
        k->secret_len = secret_len;
    }
    if (jwks && load_jwks(k, jwks, jwks_len, jwks_label, err, errlen) != 0)
        goto failed;
    if (k->njwks == 0 && !k->secret) {
        fail(err, errlen,
             "%s: no usable key (%d skipped: ES256 needs EC P-256, RS256 RSA >= %d bits)",
             jwks_label, k->skipped, RSA_MIN_BITS);
        goto failed;
    }
    *out = k;
    return 0;
failed:
    lb_jwt_keys_free(k);
    return -1;
}

int lb_jwt_keys_from_memory(const char *jwks, size_t jwks_len, const unsigned char *secret,
                            size_t secret_len, const char *issuer, const char *audience,
                            struct lb_jwt_keys **out, char *err, size_t errlen)
{
    return keys_build(jwks, jwks_len, "jwks", secret, secret_len, "secret", issuer, audience, out,
                      err, errlen);
}

/* Reads a whole file of at most LB_JWT_MAX_FILE bytes into a malloc'd buffer (NUL added). */
static int read_file(const char *label, const char *path, char **data, size_t *len, char *err,
                     size_t errlen)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, "%s: %s", label, strerror(errno));
    char *buf = malloc(LB_JWT_MAX_FILE + 2);
    if (!buf) {
        fclose(f);
        return fail(err, errlen, "%s: out of memory", label);
    }
    size_t n = fread(buf, 1, LB_JWT_MAX_FILE + 1, f);
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (read_errno || n > LB_JWT_MAX_FILE) {
        OPENSSL_clear_free(buf, LB_JWT_MAX_FILE + 2);
        if (read_errno)
            return fail(err, errlen, "%s: %s", label, strerror(read_errno));
        return fail(err, errlen, "%s: larger than %d bytes", label, LB_JWT_MAX_FILE);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int lb_jwt_keys_load(const char *jwks_file, const char *secret_file, const char *issuer,
                     const char *audience, struct lb_jwt_keys **out, char *err, size_t errlen)
{
    char jwks_label[LABEL_MAX], secret_label[LABEL_MAX];
    char *jwks = NULL, *secret = NULL;
    size_t jwks_len = 0, secret_len = 0;
    int rc = -1;
    if (out)
        *out = NULL;
    if (jwks_file && !*jwks_file)
        jwks_file = NULL;
    if (secret_file && !*secret_file)
        secret_file = NULL;
    /* issuer and "no file at all" first: they need no I/O and keys_build words them */
    if (!issuer || !*issuer || (!jwks_file && !secret_file))
        return keys_build(NULL, 0, "", NULL, 0, "", issuer, audience, out, err, errlen);
    snprintf(jwks_label, sizeof jwks_label, "jwt_jwks_file %s", jwks_file ? jwks_file : "");
    snprintf(secret_label, sizeof secret_label, "jwt_secret_file %s",
             secret_file ? secret_file : "");
    if (jwks_file && read_file(jwks_label, jwks_file, &jwks, &jwks_len, err, errlen) != 0)
        goto done;
    if (secret_file && read_file(secret_label, secret_file, &secret, &secret_len, err, errlen) != 0)
        goto done;
    size_t key_len = secret_len;
    /* editors and `echo` end the file with a newline that is not part of the secret */
    if (key_len > 0 && secret[key_len - 1] == '\n') {
        key_len--;
        if (key_len > 0 && secret[key_len - 1] == '\r')
            key_len--;
    }
    rc = keys_build(jwks, jwks_len, jwks_label, (const unsigned char *)secret, key_len,
                    secret_label, issuer, audience, out, err, errlen);
done:
    free(jwks);
    if (secret)
        OPENSSL_clear_free(secret, secret_len);
    return rc;
}

void lb_jwt_keys_free(struct lb_jwt_keys *keys)
{
    if (!keys)
        return;
    for (size_t i = 0; i < keys->njwks; i++)
        jwk_clear(&keys->jwks[i]);
    free(keys->jwks);
    if (keys->secret)
        OPENSSL_clear_free(keys->secret, keys->secret_len);
    free(keys->issuer);
    free(keys->audience);
    free(keys);
}

int lb_jwt_keys_count(const struct lb_jwt_keys *keys)
{
    if (!keys)
        return 0;
    return (int)keys->njwks + (keys->secret ? 1 : 0);
}

int lb_jwt_keys_skipped(const struct lb_jwt_keys *keys)
{
    return keys ? keys->skipped : 0;
}

/* ---- signatures --------------------------------------------------------------------------- */

/* EVP_DigestVerify with SHA-256 (RSA: PKCS #1 v1.5 padding, stated rather than assumed). */
static int digest_verify(EVP_PKEY *pkey, int rsa, const unsigned char *sig, size_t siglen,
                         const unsigned char *msg, size_t msglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
             (!rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
             EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* JOSE carries an ES256 signature as 64 raw bytes R || S; OpenSSL wants DER. r or s of 0 or
 * >= the group order encode fine and are refused by OpenSSL's verification. */
static int verify_es256(EVP_PKEY *pkey, const unsigned char *sig, size_t siglen,
                        const unsigned char *msg, size_t msglen)
{
    unsigned char der[2 * (P256_COORD + 4) + 8];
    if (siglen != ES256_SIG_LEN)
        return 0;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, P256_COORD, NULL);
    BIGNUM *s = BN_bin2bn(sig + P256_COORD, P256_COORD, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return 0;
    }
    /* es owns r and s now */
    int ok = 0;
    int derlen = i2d_ECDSA_SIG(es, NULL);
    if (derlen > 0 && (size_t)derlen <= sizeof der) {
        unsigned char *p = der;
        if (i2d_ECDSA_SIG(es, &p) == derlen)
            ok = digest_verify(pkey, 0, der, (size_t)derlen, msg, msglen);
    }
    ECDSA_SIG_free(es);
    return ok;
}

static int verify_rs256(EVP_PKEY *pkey, const unsigned char *sig, size_t siglen,
                        const unsigned char *msg, size_t msglen)
{
    /* a PKCS #1 signature is exactly as long as the modulus */
    if (siglen != (size_t)EVP_PKEY_get_size(pkey))
        return 0;
    return digest_verify(pkey, 1, sig, siglen, msg, msglen);
}

static int verify_hs256(const struct lb_jwt_keys *keys, const unsigned char *sig, size_t siglen,
                        const unsigned char *msg, size_t msglen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (siglen != HS256_LEN)
        return 0;
    if (!HMAC(EVP_sha256(), keys->secret, (int)keys->secret_len, msg, msglen, mac, &maclen))
        return 0;
    /* constant time: where a forged MAC first differs must not show (CVE-2024-25189) */
    int ok = maclen == HS256_LEN && CRYPTO_memcmp(mac, sig, HS256_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    return ok;
}

/* Chooses the key(s) for alg and kid and checks the signature over msg. */
static enum lb_jwt_result check_signature(const struct lb_jwt_keys *keys, enum jwt_alg alg,
                                          const char *kid, size_t kid_len, const unsigned char *sig,
                                          size_t siglen, const unsigned char *msg, size_t msglen)
{
    if (alg == ALG_HS256) {
        if (!keys->secret)
            return LB_JWT_ALG;
        return verify_hs256(keys, sig, siglen, msg, msglen) ? LB_JWT_OK : LB_JWT_SIGNATURE;
    }
    enum key_type type = alg == ALG_ES256 ? KEY_EC : KEY_RSA;
    size_t typed = 0, named = 0, usable = 0;
    int ok = 0;
    for (size_t i = 0; i < keys->njwks; i++)
        typed += keys->jwks[i].type == type;
    if (typed == 0)
        return LB_JWT_ALG; /* e.g. ES256 against a configuration holding only the secret */
    for (size_t i = 0; i < keys->njwks && !ok; i++) {
        const struct jwk *k = &keys->jwks[i];
        if (kid) {
            if (!k->kid || k->kid_len != kid_len || memcmp(k->kid, kid, kid_len) != 0)
                continue;
            named++;
        }
        if (k->type != type)
            continue;
        usable++;
        ok = type == KEY_EC ? verify_es256(k->pkey, sig, siglen, msg, msglen)
                            : verify_rs256(k->pkey, sig, siglen, msg, msglen);
    }
    ERR_clear_error(); /* a refused signature leaves OpenSSL errors behind */
    if (ok)
        return LB_JWT_OK;
    if (kid && named == 0)
        return LB_JWT_KID;
    if (usable == 0)
        return LB_JWT_ALG; /* the kid names only keys of another type: RS256 naming an EC key */
    return LB_JWT_SIGNATURE;
}

/* ---- header ------------------------------------------------------------------------------- */

/* Reads alg and kid from the header; refuses what must be refused. The key-carrying headers
 * jku, x5u, jwk and x5c are never looked at: keys come only from the configuration. */
static enum lb_jwt_result check_header(json_object *h, enum jwt_alg *alg, const char **kid,
                                       size_t *kid_len)
{
    json_object *v = NULL;
    /* crit names extensions the verifier must understand; leadbook understands none */
    if (json_object_object_get_ex(h, "crit", &v))
        return LB_JWT_MALFORMED;
    /* b64:false (RFC 7797) would mean a payload that is not base64url */
    if (json_object_object_get_ex(h, "b64", &v) &&
        !(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)))
        return LB_JWT_MALFORMED;
    *kid = NULL;
    *kid_len = 0;
    if (json_object_object_get_ex(h, "kid", &v)) {
        if (!json_object_is_type(v, json_type_string))
            return LB_JWT_MALFORMED;
        *kid = json_object_get_string(v);
        *kid_len = (size_t)json_object_get_string_len(v);
    }
    if (!json_object_object_get_ex(h, "alg", &v))
        return LB_JWT_ALG;
    if (json_str_eq(v, "ES256", 5))
        *alg = ALG_ES256;
    else if (json_str_eq(v, "RS256", 5))
        *alg = ALG_RS256;
    else if (json_str_eq(v, "HS256", 5))
        *alg = ALG_HS256;
    else
        return LB_JWT_ALG;
    if (*alg == ALG_HS256)
        *kid = NULL; /* the secret has no kid: HS256 always and only uses it */
    return LB_JWT_OK;
}

/* ---- claims ------------------------------------------------------------------------------- */

/* A NumericDate claim: absent (*present = 0), or an integer in [0, LB_JWT_TIME_MAX]. */
static enum lb_jwt_result time_claim(json_object *c, const char *name, long long *value,
                                     int *present)
{
    json_object *v = NULL;
    *present = json_object_object_get_ex(c, name, &v);
    *value = 0;
    if (!*present)
        return LB_JWT_OK;
    /* json_type_int only: 1.5, 1e9, "123" and null are not; json-c clamps integers beyond
     * int64 to its limits, which the range check then refuses */
    if (!json_object_is_type(v, json_type_int))
        return LB_JWT_CLAIM_TYPE;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || x > LB_JWT_TIME_MAX)
        return LB_JWT_CLAIM_TYPE;
    *value = (long long)x;
    return LB_JWT_OK;
}

static enum lb_jwt_result check_times(json_object *c, long long now_s, long long *exp)
{
    long long nbf, iat;
    int has_exp, has_nbf, has_iat;
    enum lb_jwt_result r;
    if ((r = time_claim(c, "exp", exp, &has_exp)) != LB_JWT_OK)
        return r;
    if (!has_exp)
        return LB_JWT_EXPIRED;
    /* valid while now < exp + leeway; exp is bounded, so exp + leeway cannot overflow */
    if (now_s >= *exp + LB_JWT_LEEWAY_S)
        return LB_JWT_EXPIRED;
    if ((r = time_claim(c, "nbf", &nbf, &has_nbf)) != LB_JWT_OK)
        return r;
    /* now + leeway < nbf, written so that nothing overflows whatever now is */
    if (has_nbf && nbf - LB_JWT_LEEWAY_S > now_s)
        return LB_JWT_NOT_YET_VALID;
    if ((r = time_claim(c, "iat", &iat, &has_iat)) != LB_JWT_OK)
        return r;
    if (has_iat && iat - LB_JWT_LEEWAY_S > now_s)
        return LB_JWT_NOT_YET_VALID;
    return LB_JWT_OK;
}

/* aud: the audience as a string, or an array of strings one of which is the audience. */
static int audience_ok(const struct lb_jwt_keys *keys, json_object *c)
{
    json_object *aud = NULL;
    if (!json_object_object_get_ex(c, "aud", &aud))
        return 0;
    if (json_object_is_type(aud, json_type_string))
        return json_str_eq(aud, keys->audience, keys->audience_len);
    if (!json_object_is_type(aud, json_type_array))
        return 0;
    size_t n = json_object_array_length(aud);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(aud, i);
        if (!json_object_is_type(e, json_type_string))
            return 0;
        found |= json_str_eq(e, keys->audience, keys->audience_len);
    }
    return found;
}

/* sub: 1..255 bytes, no control characters (it ends up in SQL parameters and log lines). */
static int subject_ok(json_object *c, char out[LB_JWT_SUB_MAX + 1])
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(c, "sub", &v) || !json_object_is_type(v, json_type_string))
        return 0;
    size_t len = (size_t)json_object_get_string_len(v);
    const unsigned char *s = (const unsigned char *)json_object_get_string(v);
    if (len == 0 || len > LB_JWT_SUB_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    memcpy(out, s, len);
    out[len] = '\0';
    return 1;
}

static enum lb_jwt_result check_claims(const struct lb_jwt_keys *keys, json_object *c,
                                       long long now_s, struct lb_jwt_claims *out)
{
    json_object *v = NULL;
    enum lb_jwt_result r = check_times(c, now_s, &out->exp);
    if (r != LB_JWT_OK)
        return r;
    if (!json_object_object_get_ex(c, "iss", &v) || !json_str_eq(v, keys->issuer, keys->issuer_len))
        return LB_JWT_ISSUER;
    if (!audience_ok(keys, c))
        return LB_JWT_AUDIENCE;
    /* anon and service_role tokens (Supabase's legacy API keys are such JWTs) are no user */
    if (!member_str_eq(c, "role", REQUIRED_ROLE))
        return LB_JWT_ROLE;
    if (!subject_ok(c, out->sub))
        return LB_JWT_SUBJECT;
    return LB_JWT_OK;
}

/* ---- verification ------------------------------------------------------------------------- */

enum lb_jwt_result lb_jwt_verify(const struct lb_jwt_keys *keys, const char *token, size_t len,
                                 long long now_s, struct lb_jwt_claims *out)
{
    struct lb_jwt_claims claims;
    memset(&claims, 0, sizeof claims);
    if (out)
        memset(out, 0, sizeof *out);
    if (len > LB_JWT_MAX_TOKEN)
        return LB_JWT_TOO_LARGE;
    if (!keys || !token)
        return LB_JWT_MALFORMED;
    /* header "." payload "." signature: exactly two dots */
    const char *end = token + len;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)))
        return LB_JWT_MALFORMED;
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1);
    size_t slen = (size_t)(end - d2 - 1);
    if (hlen == 0 || plen == 0)
        return LB_JWT_MALFORMED;
    /* each segment decodes to at most 3/4 of its length: len bytes hold all three */
    unsigned char *buf = malloc(len);
    if (!buf)
        return LB_JWT_MALFORMED;
    json_object *header = NULL, *payload = NULL;
    enum lb_jwt_result r = LB_JWT_MALFORMED;
    unsigned char *hdr = buf;
    long hn = lb_base64url_decode(token, hlen, hdr);
    unsigned char *pay = hn >= 0 ? hdr + hn : NULL;
    long pn = pay ? lb_base64url_decode(d1 + 1, plen, pay) : -1;
    unsigned char *sig = pn >= 0 ? pay + pn : NULL;
    long sn = sig ? lb_base64url_decode(d2 + 1, slen, sig) : -1;
    if (sn < 0 || !(header = parse_object(hdr, (size_t)hn)))
        goto done;
    enum jwt_alg alg = ALG_ES256;
    const char *kid = NULL;
    size_t kid_len = 0;
    if ((r = check_header(header, &alg, &kid, &kid_len)) != LB_JWT_OK)
        goto done;
    /* the signing input is the header and payload exactly as sent */
    r = check_signature(keys, alg, kid, kid_len, sig, (size_t)sn, (const unsigned char *)token,
                        (size_t)(d2 - token));
    if (r != LB_JWT_OK)
        goto done;
    if (!(payload = parse_object(pay, (size_t)pn))) {
        r = LB_JWT_MALFORMED;
        goto done;
    }
    r = check_claims(keys, payload, now_s, &claims);
    if (r == LB_JWT_OK && out)
        *out = claims;
done:
    json_object_put(header);
    json_object_put(payload);
    free(buf);
    return r;
}

const char *lb_jwt_result_name(enum lb_jwt_result r)
{
    switch (r) {
    case LB_JWT_OK:
        return "ok";
    case LB_JWT_TOO_LARGE:
        return "too_large";
    case LB_JWT_MALFORMED:
        return "malformed";
    case LB_JWT_ALG:
        return "bad_alg";
    case LB_JWT_KID:
        return "unknown_kid";
    case LB_JWT_SIGNATURE:
        return "bad_signature";
    case LB_JWT_EXPIRED:
        return "expired";
    case LB_JWT_NOT_YET_VALID:
        return "not_yet_valid";
    case LB_JWT_ISSUER:
        return "bad_issuer";
    case LB_JWT_AUDIENCE:
        return "bad_audience";
    case LB_JWT_ROLE:
        return "bad_role";
    case LB_JWT_SUBJECT:
        return "bad_subject";
    case LB_JWT_CLAIM_TYPE:
        return "bad_claim_type";
    }
    return "unknown";
}
