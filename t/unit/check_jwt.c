/* Unit tests: sign-in token verification (src/auth_jwt.c) against tokens made by t/lib/jwtsign.c
 * with keys generated here: every refusal of API.md's list and of RESEARCH-2.md 3.5, the happy
 * paths, key rotation, JWKS filtering and the loading of key files with its error messages. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth_jwt.h"
#include "jwtsign.h"

#define NOW 1700000000LL
#define ISS "https://abcdefghijklmnop.supabase.co/auth/v1"
#define J(s) "\"" s "\""
#define TOK_MAX 16384
#define JWKS_MAX 32768

static const unsigned char SECRET[] = "super-secret-jwt-token-with-at-least-32-characters-long";
#define SECRET_LEN (sizeof SECRET - 1)

/* P-256 group order n */
static const unsigned char P256_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

static EVP_PKEY *ec1, *ec2, *rsa, *rsa1024, *p384, *attacker;
static char *jwks;                                    /* ec1, ec2, rsa1, rsa-small, p384 */
static struct lb_jwt_keys *k_all, *k_jwks, *k_secret; /* both, JWKS only, secret only */
static struct lb_jwt_claims got;

/* ---- helpers ------------------------------------------------------------------------------ */

static char *rotating(void)
{
    /* enough that a test's tokens, paths and claims stay alive until it ends */
    static char bufs[64][TOK_MAX];
    static int next;
    char *b = bufs[next++ % 64];
    b[0] = '\0';
    return b;
}

static const char *num(long long v)
{
    char *b = rotating();
    snprintf(b, TOK_MAX, "%lld", v);
    return b;
}

static void add_member(char *b, size_t *n, const char *name, const char *value)
{
    if (value)
        *n += (size_t)snprintf(b + *n, TOK_MAX - *n, "%s\"%s\":%s", *n > 1 ? "," : "", name, value);
}

/* A claims object: each argument is a member's value as JSON text, NULL to leave it out;
 * extra is appended as more members ("\"nbf\":1"), NULL for none. */
static const char *claims(const char *iss, const char *aud, const char *role, const char *sub,
                          const char *exp, const char *extra)
{
    char *b = rotating();
    size_t n = 1;
    b[0] = '{';
    add_member(b, &n, "iss", iss);
    add_member(b, &n, "aud", aud);
    add_member(b, &n, "role", role);
    add_member(b, &n, "sub", sub);
    add_member(b, &n, "exp", exp);
    if (extra)
        n += (size_t)snprintf(b + n, TOK_MAX - n, "%s%s", n > 1 ? "," : "", extra);
    snprintf(b + n, TOK_MAX - n, "}");
    return b;
}

static const char *std_claims(void)
{
    return claims(J(ISS), J("authenticated"), J("authenticated"), J("user-1"), num(NOW + 3600),
                  "\"iat\":1700000000,\"session_id\":\"s1\"");
}

/* The standard claims with one member replaced (value NULL: removed). */
static const char *std_with(const char *name, const char *value)
{
    const char *iss = J(ISS), *aud = J("authenticated"), *role = J("authenticated");
    const char *sub = J("user-1"), *exp = num(NOW + 3600);
    if (strcmp(name, "iss") == 0)
        iss = value;
    else if (strcmp(name, "aud") == 0)
        aud = value;
    else if (strcmp(name, "role") == 0)
        role = value;
    else if (strcmp(name, "sub") == 0)
        sub = value;
    else if (strcmp(name, "exp") == 0)
        exp = value;
    else
        ck_abort_msg("std_with %s", name);
    return claims(iss, aud, role, sub, exp, NULL);
}

static const char *sign_raw(const char *header, const char *cl, const char *alg, EVP_PKEY *pk,
                            const unsigned char *hk, size_t hl)
{
    char *t = rotating();
    ck_assert_int_eq(jwtsign_raw(header, cl, alg, pk, hk, hl, t, TOK_MAX), 0);
    return t;
}

static const char *header(const char *alg, const char *kid)
{
    char *b = rotating();
    if (kid)
        snprintf(b, TOK_MAX, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
    else
        snprintf(b, TOK_MAX, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    return b;
}

static const char *es(EVP_PKEY *pk, const char *kid, const char *cl)
{
    return sign_raw(header("ES256", kid), cl, "ES256", pk, NULL, 0);
}
static const char *rs(EVP_PKEY *pk, const char *kid, const char *cl)
{
    return sign_raw(header("RS256", kid), cl, "RS256", pk, NULL, 0);
}
static const char *hs(const char *kid, const char *cl)
{
    return sign_raw(header("HS256", kid), cl, "HS256", NULL, SECRET, SECRET_LEN);
}

static enum lb_jwt_result verify_at(const struct lb_jwt_keys *k, const char *t, long long now)
{
    return lb_jwt_verify(k, t, strlen(t), now, &got);
}

/* Compares by name so that a failure says "expected bad_alg, got ok". */
#define V(keys, tok, want) V_AT(keys, tok, NOW, want)
#define V_AT(keys, tok, now, want)                                                                 \
    do {                                                                                           \
        const char *t_ = (tok);                                                                    \
        enum lb_jwt_result r_ = verify_at((keys), t_, (now));                                      \
        ck_assert_msg(r_ == (want), "expected %s, got %s for %.300s", lb_jwt_result_name(want),    \
                      lb_jwt_result_name(r_), t_);                                                 \
    } while (0)

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Flips the lowest data bit of the base64url character at t[i] (t must be writable). */
static void flip(char *t, size_t i)
{
    const char *p = strchr(B64, t[i]);
    ck_assert_ptr_nonnull(p);
    t[i] = B64[(p - B64) ^ 1];
}

static char *copy(const char *s)
{
    char *b = rotating();
    size_t len = strlen(s);
    ck_assert_uint_lt(len, TOK_MAX);
    memcpy(b, s, len + 1);
    return b;
}

/* Offsets of the two dots. */
static void dots(const char *t, size_t *d1, size_t *d2)
{
    const char *a = strchr(t, '.');
    ck_assert_ptr_nonnull(a);
    const char *b = strchr(a + 1, '.');
    ck_assert_ptr_nonnull(b);
    *d1 = (size_t)(a - t);
    *d2 = (size_t)(b - t);
}

/* The token with its signature segment replaced by base64url(sig). */
static const char *with_sig(const char *t, const unsigned char *sig, size_t len)
{
    size_t d1, d2;
    char *b = copy(t);
    dots(b, &d1, &d2);
    ck_assert_int_ge(jwtsign_b64url(sig, len, b + d2 + 1, TOK_MAX - d2 - 1), 0);
    return b;
}

/* The token with its header segment replaced by base64url(h). */
static const char *with_header(const char *t, const char *h)
{
    size_t d1, d2;
    char *b = rotating();
    dots(t, &d1, &d2);
    long n = jwtsign_b64url(h, strlen(h), b, TOK_MAX);
    ck_assert_int_ge(n, 0);
    snprintf(b + n, TOK_MAX - (size_t)n, "%s", t + d1);
    return b;
}

/* r and s of an ECDSA (SHA-256) signature by pk over the token's signing input. */
static void ecdsa_rs(EVP_PKEY *pk, const char *t, BIGNUM **r, BIGNUM **s)
{
    size_t d1, d2, derlen = 256;
    unsigned char der[256];
    dots(t, &d1, &d2);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk), 1);
    ck_assert_int_eq(EVP_DigestSign(md, der, &derlen, (const unsigned char *)t, d2), 1);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    ck_assert_ptr_nonnull(sig);
    *r = BN_dup(ECDSA_SIG_get0_r(sig));
    *s = BN_dup(ECDSA_SIG_get0_s(sig));
    ECDSA_SIG_free(sig);
}

/* The DER signature by pk over the token's signing input (what ES256 must NOT accept). */
static size_t ecdsa_der(EVP_PKEY *pk, const char *t, unsigned char *der, size_t cap)
{
    size_t d1, d2, derlen = cap;
    dots(t, &d1, &d2);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk), 1);
    ck_assert_int_eq(EVP_DigestSign(md, der, &derlen, (const unsigned char *)t, d2), 1);
    EVP_MD_CTX_free(md);
    return derlen;
}

static const char *with_rs(const char *t, const BIGNUM *r, const BIGNUM *s)
{
    unsigned char raw[64];
    ck_assert_int_eq(BN_bn2binpad(r, raw, 32), 32);
    ck_assert_int_eq(BN_bn2binpad(s, raw + 32, 32), 32);
    return with_sig(t, raw, sizeof raw);
}

static char *jwk_of(EVP_PKEY *pk, const char *kid)
{
    char *b = rotating();
    ck_assert_int_eq(jwtsign_jwk(pk, kid, b, TOK_MAX), 0);
    return b;
}

static struct lb_jwt_keys *keys_from(const char *jw, const unsigned char *secret, size_t slen)
{
    struct lb_jwt_keys *k = NULL;
    char err[512] = "";
    int rc = lb_jwt_keys_from_memory(jw, jw ? strlen(jw) : 0, secret, slen, ISS, NULL, &k, err,
                                     sizeof err);
    ck_assert_msg(rc == 0, "load failed: %s", err);
    return k;
}

/* Loads a one-entry JWKS (with the secret, so that loading succeeds either way) and returns
 * how many JWKS keys were usable (0 or 1); checks the skipped count agrees. */
static int usable_entry(const char *entry)
{
    char doc[TOK_MAX];
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", entry);
    struct lb_jwt_keys *k = keys_from(doc, SECRET, SECRET_LEN);
    int usable = lb_jwt_keys_count(k) - 1;
    ck_assert_int_eq(lb_jwt_keys_skipped(k), 1 - usable);
    lb_jwt_keys_free(k);
    return usable;
}

/* A JWK of pk with member name set to value (JSON text; NULL removes the member). */
static const char *jwk_with(EVP_PKEY *pk, const char *name, const char *value)
{
    json_object *o = json_tokener_parse(jwk_of(pk, "t"));
    ck_assert_ptr_nonnull(o);
    json_object_object_del(o, name);
    if (value)
        json_object_object_add(o, name, json_tokener_parse(value));
    char *b = copy(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return b;
}

/* ---- happy paths -------------------------------------------------------------------------- */

START_TEST(t_es256_with_kid)
{
    V(k_all, es(ec1, "ec1", std_claims()), LB_JWT_OK);
    ck_assert_str_eq(got.sub, "user-1");
    ck_assert_int_eq(got.exp, NOW + 3600);
    V(k_jwks, es(ec1, "ec1", std_claims()), LB_JWT_OK);
}
END_TEST

START_TEST(t_es256_without_kid)
{
    V(k_all, es(ec1, NULL, std_claims()), LB_JWT_OK);
    V(k_all, es(ec2, NULL, std_claims()), LB_JWT_OK);
    ck_assert_str_eq(got.sub, "user-1");
}
END_TEST

START_TEST(t_key_rotation)
{
    /* both keys of the JWKS verify their own tokens; a kid pins the key */
    V(k_jwks, es(ec1, "ec1", std_claims()), LB_JWT_OK);
    V(k_jwks, es(ec2, "ec2", std_claims()), LB_JWT_OK);
    V(k_jwks, es(ec2, "ec1", std_claims()), LB_JWT_SIGNATURE);
    V(k_jwks, es(ec1, "ec2", std_claims()), LB_JWT_SIGNATURE);
}
END_TEST

START_TEST(t_rs256)
{
    V(k_all, rs(rsa, "rsa1", std_claims()), LB_JWT_OK);
    V(k_all, rs(rsa, NULL, std_claims()), LB_JWT_OK);
    ck_assert_str_eq(got.sub, "user-1");
}
END_TEST

START_TEST(t_hs256)
{
    V(k_all, hs(NULL, std_claims()), LB_JWT_OK);
    V(k_secret, hs(NULL, std_claims()), LB_JWT_OK);
    ck_assert_int_eq(got.exp, NOW + 3600);
    /* HS256 always and only uses the secret: a kid in its header is ignored */
    V(k_all, hs("ec1", std_claims()), LB_JWT_OK);
    V(k_secret, hs("anything", std_claims()), LB_JWT_OK);
}
END_TEST

START_TEST(t_es256_high_s_accepted)
{
    /* JOSE has no low-S rule: (r, n - s) is as valid as (r, s) */
    const char *t = es(ec1, "ec1", std_claims());
    BIGNUM *r, *s, *n = BN_bin2bn(P256_N, 32, NULL);
    ecdsa_rs(ec1, t, &r, &s);
    BN_sub(s, n, s);
    V(k_all, with_rs(t, r, s), LB_JWT_OK);
    BN_free(r);
    BN_free(s);
    BN_free(n);
}
END_TEST

START_TEST(t_key_headers_ignored)
{
    /* jku, x5u, x5c and jwk are never fetched nor used: a token of a known key still verifies */
    char h[TOK_MAX];
    snprintf(h, sizeof h,
             "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"jku\":\"https://evil.example/jwks.json\","
             "\"x5u\":\"https://evil.example/cert\",\"x5c\":[\"MIIB\"],\"jwk\":%s}",
             jwk_of(attacker, "ec1"));
    V(k_all, sign_raw(h, std_claims(), "ES256", ec1, NULL, 0), LB_JWT_OK);
}
END_TEST

START_TEST(t_custom_audience)
{
    struct lb_jwt_keys *k = NULL;
    char err[256];
    ck_assert_int_eq(
        lb_jwt_keys_from_memory(NULL, 0, SECRET, SECRET_LEN, ISS, "my-api", &k, err, sizeof err),
        0);
    V(k, hs(NULL, std_with("aud", J("my-api"))), LB_JWT_OK);
    V(k, hs(NULL, std_with("aud", "[\"x\",\"my-api\"]")), LB_JWT_OK);
    V(k, hs(NULL, std_claims()), LB_JWT_AUDIENCE);
    lb_jwt_keys_free(k);
    /* "" means the default */
    ck_assert_int_eq(
        lb_jwt_keys_from_memory(NULL, 0, SECRET, SECRET_LEN, ISS, "", &k, err, sizeof err), 0);
    V(k, hs(NULL, std_claims()), LB_JWT_OK);
    lb_jwt_keys_free(k);
}
END_TEST

START_TEST(t_longest_token)
{
    /* the longest token under the cap verifies; one byte more is refused unparsed */
    char pad[8192], extra[8300];
    size_t best = 0;
    for (size_t n = 5900; n < 6200; n++) {
        memset(pad, 'x', n);
        pad[n] = '\0';
        snprintf(extra, sizeof extra, "\"pad\":\"%s\"", pad);
        const char *t = hs(
            NULL, claims(J(ISS), J("authenticated"), J("authenticated"), J("u"), num(NOW), extra));
        size_t len = strlen(t);
        if (len <= LB_JWT_MAX_TOKEN) {
            if (len > best)
                best = len;
            V(k_all, t, LB_JWT_OK);
        } else {
            V(k_all, t, LB_JWT_TOO_LARGE);
        }
    }
    ck_assert_int_ge(best, LB_JWT_MAX_TOKEN - 2);
}
END_TEST

START_TEST(t_rfc7515_vectors)
{
    /* RFC 7515 A.3 (ES256) and A.1 (HS256): signatures made by someone else's code. Their
     * claims have no aud, so a verified signature shows as LB_JWT_AUDIENCE. */
    static const char es_jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                                  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                                  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
    static const char payload[] = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
                                  "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    char t[1024];
    struct lb_jwt_keys *k = NULL;
    char err[256] = "";
    ck_assert_msg(lb_jwt_keys_from_memory(es_jwks, strlen(es_jwks), NULL, 0, "joe", NULL, &k, err,
                                          sizeof err) == 0,
                  "%s", err);
    snprintf(t, sizeof t,
             "eyJhbGciOiJFUzI1NiJ9.%s.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8IS"
             "lSApmWQxfKTUJqPP3-Kg6NU1Q",
             payload);
    V_AT(k, t, 1300819380 - 100, LB_JWT_AUDIENCE);
    V_AT(k, t, 1300819380 + 30, LB_JWT_EXPIRED);
    lb_jwt_keys_free(k);

    static const char hs_key_b64[] =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    unsigned char key[64];
    /* decode with OpenSSL's (standard alphabet, padded) decoder: not the code under test */
    char std64[128];
    size_t n = strlen(hs_key_b64);
    for (size_t i = 0; i < n; i++)
        std64[i] = hs_key_b64[i] == '-' ? '+' : hs_key_b64[i] == '_' ? '/' : hs_key_b64[i];
    while (n % 4)
        std64[n++] = '=';
    std64[n] = '\0';
    unsigned char tmp[128];
    int dl = EVP_DecodeBlock(tmp, (const unsigned char *)std64, (int)n);
    ck_assert_int_eq(dl, 66); /* 64 bytes + 2 for the "==" padding */
    memcpy(key, tmp, 64);
    ck_assert_int_eq(lb_jwt_keys_from_memory(NULL, 0, key, 64, "joe", NULL, &k, err, sizeof err),
                     0);
    snprintf(t, sizeof t,
             "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.%s."
             "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
             payload);
    V_AT(k, t, 1300819380 - 100, LB_JWT_AUDIENCE);
    lb_jwt_keys_free(k);
}
END_TEST

START_TEST(t_result_names)
{
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_OK), "ok");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_TOO_LARGE), "too_large");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_MALFORMED), "malformed");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_ALG), "bad_alg");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_KID), "unknown_kid");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_SIGNATURE), "bad_signature");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_EXPIRED), "expired");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_NOT_YET_VALID), "not_yet_valid");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_ISSUER), "bad_issuer");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_AUDIENCE), "bad_audience");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_ROLE), "bad_role");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_SUBJECT), "bad_subject");
    ck_assert_str_eq(lb_jwt_result_name(LB_JWT_CLAIM_TYPE), "bad_claim_type");
    ck_assert_str_eq(lb_jwt_result_name((enum lb_jwt_result)99), "unknown");
}
END_TEST

START_TEST(t_out_cleared_on_failure)
{
    V(k_all, hs(NULL, std_claims()), LB_JWT_OK);
    ck_assert_str_eq(got.sub, "user-1");
    V(k_all, hs(NULL, std_with("role", J("anon"))), LB_JWT_ROLE);
    ck_assert_str_eq(got.sub, "");
    ck_assert_int_eq(got.exp, 0);
    /* out may be NULL */
    const char *t = hs(NULL, std_claims());
    ck_assert_int_eq(lb_jwt_verify(k_all, t, strlen(t), NOW, NULL), LB_JWT_OK);
    ck_assert_int_eq(lb_jwt_verify(NULL, t, strlen(t), NOW, NULL), LB_JWT_MALFORMED);
}
END_TEST

/* ---- algorithms and key confusion --------------------------------------------------------- */

START_TEST(t_alg_none)
{
    static const char *const algs[] = {"none", "None", "NONE", "nOnE"};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char *t = copy(sign_raw(header(algs[i], NULL), std_claims(), "none", NULL, NULL, 0));
        ck_assert_int_eq(t[strlen(t) - 1], '.');
        V(k_all, t, LB_JWT_ALG);
        V(k_secret, t, LB_JWT_ALG);
        t[strlen(t) - 1] = '\0'; /* without the trailing dot: two segments */
        V(k_all, t, LB_JWT_MALFORMED);
        /* none with a kid of a real key */
        V(k_all, sign_raw(header(algs[i], "ec1"), std_claims(), "none", NULL, NULL, 0), LB_JWT_ALG);
    }
}
END_TEST

START_TEST(t_alg_others)
{
    static const char *const algs[] = {"HS384",  "HS512",  "RS384",  "RS512", "PS256",
                                       "ES384",  "ES512",  "EdDSA",  "es256", "hs256",
                                       "ES256 ", " ES256", "ES256K", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        V(k_all, sign_raw(header(algs[i], NULL), std_claims(), "HS256", NULL, SECRET, SECRET_LEN),
          LB_JWT_ALG);
    static const char *const headers[] = {"{\"typ\":\"JWT\"}",
                                          "{\"alg\":null}",
                                          "{\"alg\":256}",
                                          "{\"alg\":[\"HS256\"]}",
                                          "{\"alg\":\"HS256\\u0000\"}",
                                          "{}"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        V(k_all, sign_raw(headers[i], std_claims(), "HS256", NULL, SECRET, SECRET_LEN), LB_JWT_ALG);
}
END_TEST

START_TEST(t_hs256_with_jwks_text_as_secret)
{
    const unsigned char *key = (const unsigned char *)jwks;
    const char *t = sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, key, strlen(jwks));
    V(k_jwks, t, LB_JWT_ALG);           /* no secret configured: nothing verifies HS256 */
    V(k_all, t, LB_JWT_SIGNATURE);      /* only the secret is used, and it is another key */
    const char *j = jwk_of(ec1, "ec1"); /* one JWK's text */
    t = sign_raw(header("HS256", "ec1"), std_claims(), "HS256", NULL, (const unsigned char *)j,
                 strlen(j));
    V(k_jwks, t, LB_JWT_ALG);
    V(k_all, t, LB_JWT_SIGNATURE);
}
END_TEST

START_TEST(t_hs256_with_public_key_as_secret)
{
    EVP_PKEY *pubs[] = {ec1, rsa};
    const char *kids[] = {"ec1", "rsa1"};
    for (size_t i = 0; i < 2; i++) {
        /* PEM and DER of the public key: libjwt #200 and GHSA-q843 */
        BIO *bio = BIO_new(BIO_s_mem());
        ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, pubs[i]), 1);
        char *pem = NULL;
        long pem_len = BIO_get_mem_data(bio, &pem);
        unsigned char *der = NULL;
        int der_len = i2d_PUBKEY(pubs[i], &der);
        ck_assert_int_gt(der_len, 0);
        const char *t1 = sign_raw(header("HS256", kids[i]), std_claims(), "HS256", NULL,
                                  (const unsigned char *)pem, (size_t)pem_len);
        const char *t2 =
            sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, der, (size_t)der_len);
        V(k_jwks, t1, LB_JWT_ALG);
        V(k_jwks, t2, LB_JWT_ALG);
        V(k_all, t1, LB_JWT_SIGNATURE);
        V(k_all, t2, LB_JWT_SIGNATURE);
        OPENSSL_free(der);
        BIO_free(bio);
    }
}
END_TEST

START_TEST(t_asymmetric_against_secret_only)
{
    V(k_secret, es(ec1, "ec1", std_claims()), LB_JWT_ALG);
    V(k_secret, es(ec1, NULL, std_claims()), LB_JWT_ALG);
    V(k_secret, rs(rsa, "rsa1", std_claims()), LB_JWT_ALG);
    V(k_secret, rs(rsa, NULL, std_claims()), LB_JWT_ALG);
}
END_TEST

START_TEST(t_hmac_empty_key)
{
    const char *t = sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, NULL, 0);
    V(k_all, t, LB_JWT_SIGNATURE);
    V(k_secret, t, LB_JWT_SIGNATURE);
    V(k_jwks, t, LB_JWT_ALG);
    /* and an empty secret cannot be configured */
    struct lb_jwt_keys *k = NULL;
    char err[256] = "";
    ck_assert_int_eq(lb_jwt_keys_from_memory(NULL, 0, (const unsigned char *)"", 0, ISS, NULL, &k,
                                             err, sizeof err),
                     -1);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
}
END_TEST

START_TEST(t_alg_key_type_mismatch)
{
    /* RS256 naming an EC key, ES256 naming an RSA key */
    V(k_all, rs(rsa, "ec1", std_claims()), LB_JWT_ALG);
    V(k_all, es(ec1, "rsa1", std_claims()), LB_JWT_ALG);
    /* a P-384 key is not an ES256 key: skipped at load, so its kid is unknown */
    V(k_all, es(p384, "p384", std_claims()), LB_JWT_KID);
    V(k_all, es(p384, NULL, std_claims()), LB_JWT_SIGNATURE);
    /* RSA 1024 likewise */
    V(k_all, rs(rsa1024, "rsa-small", std_claims()), LB_JWT_KID);
    V(k_all, rs(rsa1024, NULL, std_claims()), LB_JWT_SIGNATURE);
    ck_assert_int_eq(lb_jwt_keys_skipped(k_all), 2);
    ck_assert_int_eq(lb_jwt_keys_count(k_all), 4);
    ck_assert_int_eq(lb_jwt_keys_count(k_jwks), 3);
    ck_assert_int_eq(lb_jwt_keys_count(k_secret), 1);
}
END_TEST

START_TEST(t_embedded_attacker_key)
{
    char h[TOK_MAX];
    /* the attacker signs with his own key and ships it in the header: never used */
    snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"jwk\":%s}", jwk_of(attacker, NULL));
    V(k_all, sign_raw(h, std_claims(), "ES256", attacker, NULL, 0), LB_JWT_SIGNATURE);
    snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"kid\":\"evil\",\"jwk\":%s}",
             jwk_of(attacker, "evil"));
    V(k_all, sign_raw(h, std_claims(), "ES256", attacker, NULL, 0), LB_JWT_KID);
    snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"jku\":\"https://evil/jwks\"}");
    V(k_all, sign_raw(h, std_claims(), "ES256", attacker, NULL, 0), LB_JWT_SIGNATURE);
}
END_TEST

/* ---- kid ---------------------------------------------------------------------------------- */

START_TEST(t_unknown_kid)
{
    char long_kid[1001];
    memset(long_kid, 'a', 1000);
    long_kid[1000] = '\0';
    const char *kids[] = {"nope", "../../dev/null", "/dev/null", "' OR '1'='1", long_kid,
                          "",     "ec1\\u0000",     "EC1",       "ec1 "};
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        V(k_all, es(ec1, kids[i], std_claims()), LB_JWT_KID);
        V(k_all, rs(rsa, kids[i], std_claims()), LB_JWT_KID);
    }
}
END_TEST

START_TEST(t_kid_not_a_string)
{
    static const char *const headers[] = {
        "{\"alg\":\"ES256\",\"kid\":5}", "{\"alg\":\"ES256\",\"kid\":null}",
        "{\"alg\":\"ES256\",\"kid\":[\"ec1\"]}", "{\"alg\":\"ES256\",\"kid\":{\"ec1\":1}}"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        V(k_all, sign_raw(headers[i], std_claims(), "ES256", ec1, NULL, 0), LB_JWT_MALFORMED);
}
END_TEST

/* ---- signatures --------------------------------------------------------------------------- */

START_TEST(t_bit_flips)
{
    const char *toks[] = {es(ec1, "ec1", std_claims()), rs(rsa, "rsa1", std_claims()),
                          hs(NULL, std_claims())};
    const char *flipped_headers[] = {"{\"alg\":\"ES256\",\"typ\":\"KWT\",\"kid\":\"ec1\"}",
                                     "{\"alg\":\"RS256\",\"typ\":\"KWT\",\"kid\":\"rsa1\"}",
                                     "{\"alg\":\"HS256\",\"typ\":\"KWT\"}"};
    for (size_t i = 0; i < 3; i++) {
        size_t d1, d2;
        V(k_all, toks[i], LB_JWT_OK);
        dots(toks[i], &d1, &d2);
        /* header: one bit of "JWT" -> "KWT", still valid JSON */
        V(k_all, with_header(toks[i], flipped_headers[i]), LB_JWT_SIGNATURE);
        /* payload: one bit anywhere in the middle, the first and the last full character */
        size_t at[] = {d1 + 1, d1 + 1 + (d2 - d1) / 2, d2 - 2};
        for (size_t j = 0; j < 3; j++) {
            char *t = copy(toks[i]);
            flip(t, at[j]);
            V(k_all, t, LB_JWT_SIGNATURE);
        }
        /* signature: first, middle, next to last character */
        size_t slen = strlen(toks[i]) - d2 - 1;
        size_t sat[] = {d2 + 1, d2 + 1 + slen / 2, d2 + slen - 1};
        for (size_t j = 0; j < 3; j++) {
            char *t = copy(toks[i]);
            flip(t, sat[j]);
            V(k_all, t, LB_JWT_SIGNATURE);
        }
    }
}
END_TEST

START_TEST(t_es256_der_signature)
{
    const char *t = es(ec1, "ec1", std_claims());
    unsigned char der[128];
    size_t n = ecdsa_der(ec1, t, der, sizeof der);
    V(k_all, with_sig(t, der, n), LB_JWT_SIGNATURE);
}
END_TEST

START_TEST(t_es256_signature_lengths)
{
    const char *t = es(ec1, "ec1", std_claims());
    BIGNUM *r, *s;
    unsigned char raw[128];
    ecdsa_rs(ec1, t, &r, &s);
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(s, raw + 32, 32);
    memcpy(raw + 64, raw, 64);
    V(k_all, with_sig(t, raw, 64), LB_JWT_OK);
    V(k_all, with_sig(t, raw, 63), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, raw, 65), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, raw, 128), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, raw, 0), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, raw, 32), LB_JWT_SIGNATURE);
    /* a leading zero byte in front of a 64-byte signature (DER-style sign padding) */
    unsigned char z[65] = {0};
    memcpy(z + 1, raw, 64);
    V(k_all, with_sig(t, z, 65), LB_JWT_SIGNATURE);
    BN_free(r);
    BN_free(s);
}
END_TEST

START_TEST(t_es256_out_of_range)
{
    const char *t = es(ec1, "ec1", std_claims());
    BIGNUM *r, *s, *zero = BN_new(), *n = BN_bin2bn(P256_N, 32, NULL), *big = BN_new();
    unsigned char ff[32];
    memset(ff, 0xff, sizeof ff);
    BN_bin2bn(ff, 32, big);
    BN_zero(zero);
    ecdsa_rs(ec1, t, &r, &s);
    V(k_all, with_rs(t, zero, zero), LB_JWT_SIGNATURE); /* CVE-2022-21449 */
    V(k_all, with_rs(t, zero, s), LB_JWT_SIGNATURE);
    V(k_all, with_rs(t, r, zero), LB_JWT_SIGNATURE);
    V(k_all, with_rs(t, n, s), LB_JWT_SIGNATURE);
    V(k_all, with_rs(t, r, n), LB_JWT_SIGNATURE);
    V(k_all, with_rs(t, big, s), LB_JWT_SIGNATURE);
    V(k_all, with_rs(t, r, big), LB_JWT_SIGNATURE);
    /* r + n and s + n still fit in 32 bytes only if below 2^256; the valid pair verifies */
    V(k_all, with_rs(t, r, s), LB_JWT_OK);
    /* zero signature also without kid (every key is tried) */
    const char *t2 = es(ec1, NULL, std_claims());
    V(k_all, with_rs(t2, zero, zero), LB_JWT_SIGNATURE);
    BN_free(r);
    BN_free(s);
    BN_free(zero);
    BN_free(n);
    BN_free(big);
}
END_TEST

START_TEST(t_rs256_and_hs256_signature_lengths)
{
    unsigned char sig[600];
    memset(sig, 0x5a, sizeof sig);
    const char *t = rs(rsa, "rsa1", std_claims());
    V(k_all, with_sig(t, sig, 255), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, sig, 256), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, sig, 257), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, sig, 0), LB_JWT_SIGNATURE);
    t = hs(NULL, std_claims());
    V(k_all, with_sig(t, sig, 31), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, sig, 32), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, sig, 33), LB_JWT_SIGNATURE);
    V(k_all, with_sig(t, sig, 0), LB_JWT_SIGNATURE);
    /* a truncated real MAC: the first 31 bytes are right */
    char *c = copy(t);
    size_t d1, d2;
    dots(c, &d1, &d2);
    c[d2 + 1 + 40] = '\0'; /* 40 characters = 30 bytes */
    V(k_all, c, LB_JWT_SIGNATURE);
}
END_TEST

/* ---- token format ------------------------------------------------------------------------- */

START_TEST(t_too_large)
{
    char *t = rotating();
    memset(t, 'a', LB_JWT_MAX_TOKEN + 1);
    t[LB_JWT_MAX_TOKEN + 1] = '\0';
    V(k_all, t, LB_JWT_TOO_LARGE);
    t[LB_JWT_MAX_TOKEN] = '\0';
    V(k_all, t, LB_JWT_MALFORMED); /* 8192 bytes: parsed (and refused) */
    /* too large is decided on len alone, whatever the bytes */
    ck_assert_int_eq(lb_jwt_verify(k_all, t, (size_t)-1, NOW, &got), LB_JWT_TOO_LARGE);
}
END_TEST

START_TEST(t_segments)
{
    const char *ok = es(ec1, "ec1", std_claims());
    size_t d1, d2;
    dots(ok, &d1, &d2);
    char buf[TOK_MAX];
    const char *bad[] = {"",        ".",
                         "..",      "...",
                         "a",       "a.b",
                         "a.b.c.d", "eyJ.eyJ",
                         "....",    "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        V(k_all, bad[i], LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s.", ok); /* 4 segments, the last empty */
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s.%s", ok, ok + d2 + 1); /* 4 */
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s.eyJ9.eyJ9", ok); /* 5 (JWE-shaped) */
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%.*s", (int)d2, ok); /* header.payload */
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s", ok + d1); /* .payload.sig */
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%.*s.%s", (int)d1, ok, ok + d2); /* header..sig */
    V(k_all, buf, LB_JWT_MALFORMED);
    /* an embedded NUL: len counts past it */
    memcpy(buf, ok, strlen(ok) + 1);
    buf[d1 + 3] = '\0';
    ck_assert_int_eq(lb_jwt_verify(k_all, buf, strlen(ok), NOW, &got), LB_JWT_MALFORMED);
}
END_TEST

START_TEST(t_base64url_strict)
{
    const char *ok = es(ec1, "ec1", std_claims());
    size_t d1, d2, len = strlen(ok);
    dots(ok, &d1, &d2);
    char buf[TOK_MAX];
    size_t ends[] = {d1, d2, len}; /* where each segment ends */
    for (size_t i = 0; i < 3; i++) {
        /* "=" padding appended to the segment */
        snprintf(buf, sizeof buf, "%.*s=%s", (int)ends[i], ok, ok + ends[i]);
        V(k_all, buf, LB_JWT_MALFORMED);
        snprintf(buf, sizeof buf, "%.*s==%s", (int)ends[i], ok, ok + ends[i]);
        V(k_all, buf, LB_JWT_MALFORMED);
        size_t mid = ends[i] - 3;
        const char subst[] = {'+', '/', ' ', '\t', '\n', '=', '%', '*', (char)0xc3};
        for (size_t j = 0; j < sizeof subst; j++) {
            memcpy(buf, ok, len + 1);
            buf[mid] = subst[j];
            V(k_all, buf, LB_JWT_MALFORMED);
        }
        /* a segment whose length no byte string has (4k + 1) */
        snprintf(buf, sizeof buf, "%.*sA%s", (int)ends[i], ok, ok + ends[i]);
        size_t seglen = ends[i] - (i == 0 ? 0 : ends[i - 1] + 1) + 1;
        if (seglen % 4 == 1)
            V(k_all, buf, LB_JWT_MALFORMED);
    }
    snprintf(buf, sizeof buf, " %s", ok);
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s\n", ok);
    V(k_all, buf, LB_JWT_MALFORMED);
    snprintf(buf, sizeof buf, "%s ", ok);
    V(k_all, buf, LB_JWT_MALFORMED);
    /* non-canonical trailing bits: 64 signature bytes are 86 characters, the last carrying 4
     * bits of data and 2 unused ones, which must be zero */
    ck_assert_int_eq(len - d2 - 1, 86);
    memcpy(buf, ok, len + 1);
    flip(buf, len - 1);
    V(k_all, buf, LB_JWT_MALFORMED);
    /* the same for a header of 3k + 1 bytes (2 characters with 4 unused bits at the end) */
    const char *h1 = "{\"alg\":\"HS256\",\"typ\":\"JWT\" }"; /* 28 = 3 * 9 + 1 bytes */
    const char *t = copy(sign_raw(h1, std_claims(), "HS256", NULL, SECRET, SECRET_LEN));
    V(k_all, t, LB_JWT_OK);
    dots(t, &d1, &d2);
    memcpy(buf, t, strlen(t) + 1);
    flip(buf, d1 - 1);
    V(k_all, buf, LB_JWT_MALFORMED);
}
END_TEST

START_TEST(t_header_not_an_object)
{
    static const char *const headers[] = {"[]",
                                          "[{\"alg\":\"ES256\"}]",
                                          "\"ES256\"",
                                          "1",
                                          "null",
                                          "true",
                                          "{",
                                          "{\"alg\":\"ES256\"} x",
                                          "{\"alg\":\"ES256\"}{}",
                                          "{'alg':'ES256'}",
                                          "{\"alg\":\"ES256\",}",
                                          "{\"alg\":\"ES256\",\"x\":\"\xff\"}",
                                          "{\"alg\":\"ES256\",\"x\":NaN}",
                                          ""};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        V(k_all, sign_raw(headers[i], std_claims(), "ES256", ec1, NULL, 0), LB_JWT_MALFORMED);
    /* a duplicate alg: two readers must not disagree on it */
    V(k_all, sign_raw("{\"alg\":\"none\",\"alg\":\"ES256\"}", std_claims(), "ES256", ec1, NULL, 0),
      LB_JWT_MALFORMED);
    V(k_all,
      sign_raw("{\"alg\":\"ES256\",\"kid\":\"x\",\"kid\":\"ec1\"}", std_claims(), "ES256", ec1,
               NULL, 0),
      LB_JWT_MALFORMED);
}
END_TEST

START_TEST(t_crit_and_b64)
{
    static const char *const refused[] = {
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[\"exp\"],\"exp\":1}",
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[]}",
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":null}",
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[\"b64\"],\"b64\":false}",
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"b64\":false}",
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"b64\":\"true\"}",
        "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"b64\":null}"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        V(k_all, sign_raw(refused[i], std_claims(), "ES256", ec1, NULL, 0), LB_JWT_MALFORMED);
    /* b64:true is the default spelled out: harmless */
    V(k_all,
      sign_raw("{\"alg\":\"ES256\",\"kid\":\"ec1\",\"b64\":true}", std_claims(), "ES256", ec1, NULL,
               0),
      LB_JWT_OK);
}
END_TEST

START_TEST(t_claims_not_an_object)
{
    char deep[256] = "";
    for (int i = 0; i < 20; i++)
        strcat(deep, "[");
    for (int i = 0; i < 20; i++)
        strcat(deep, "]");
    char deep_claims[512];
    snprintf(deep_claims, sizeof deep_claims,
             "{\"iss\":\"" ISS "\",\"aud\":\"authenticated\",\"role\":\"authenticated\","
             "\"sub\":\"u\",\"exp\":%lld,\"user_metadata\":%s}",
             NOW + 60, deep);
    char dup[512];
    snprintf(dup, sizeof dup,
             "{\"iss\":\"" ISS "\",\"aud\":\"authenticated\",\"role\":\"authenticated\","
             "\"sub\":\"victim\",\"exp\":%lld,\"sub\":\"attacker\"}",
             NOW + 60);
    /* not an object, not JSON, nested deeper than 16, a duplicate sub, overlong UTF-8 */
    const char *bad[] = {"[]",
                         "\"x\"",
                         "1",
                         "null",
                         "{",
                         "",
                         "{\"sub\":\"a\"} x",
                         deep_claims,
                         dup,
                         "{\"sub\":\"\xc0\xaf\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* properly signed, so the claims are parsed */
        V(k_all, es(ec1, "ec1", bad[i]), LB_JWT_MALFORMED);
        V(k_all, hs(NULL, bad[i]), LB_JWT_MALFORMED);
    }
}
END_TEST

START_TEST(t_claims_whitespace_ok)
{
    char c[512];
    snprintf(c, sizeof c,
             " {\r\n \"iss\" : \"" ISS
             "\",\n\t\"aud\":\"authenticated\",\"role\":\"authenticated\","
             "\"sub\":\"u\",\"exp\":%lld} ",
             NOW + 60);
    V(k_all, hs(NULL, c), LB_JWT_OK);
}
END_TEST

/* ---- claims ------------------------------------------------------------------------------- */

START_TEST(t_exp)
{
    V(k_all, hs(NULL, std_with("exp", NULL)), LB_JWT_EXPIRED);
    V(k_all, hs(NULL, std_with("exp", num(NOW - 31))), LB_JWT_EXPIRED);
    V(k_all, hs(NULL, std_with("exp", num(NOW - 30))), LB_JWT_EXPIRED);
    V(k_all, hs(NULL, std_with("exp", num(NOW - 29))), LB_JWT_OK);
    ck_assert_int_eq(got.exp, NOW - 29);
    V(k_all, hs(NULL, std_with("exp", num(NOW))), LB_JWT_OK);
    static const char *const wrong_type[] = {"1.5",
                                             "1700003600.0",
                                             "1.7000036e9",
                                             "\"1700003600\"",
                                             "null",
                                             "true",
                                             "[1700003600]",
                                             "{}",
                                             "99999999999999999999",
                                             "9223372036854775807",
                                             "9223372036854775808",
                                             "-9223372036854775809",
                                             "18446744073709551616",
                                             "253402300800",
                                             "-1",
                                             "1e400"};
    for (size_t i = 0; i < sizeof wrong_type / sizeof wrong_type[0]; i++)
        V(k_all, hs(NULL, std_with("exp", wrong_type[i])), LB_JWT_CLAIM_TYPE);
    /* the largest accepted exp, and no overflow with extreme clocks */
    V(k_all, hs(NULL, std_with("exp", "253402300799")), LB_JWT_OK);
    ck_assert_int_eq(got.exp, LB_JWT_TIME_MAX);
    V_AT(k_all, hs(NULL, std_with("exp", "253402300799")), LLONG_MAX, LB_JWT_EXPIRED);
    V_AT(k_all, hs(NULL, std_with("exp", "0")), LLONG_MIN, LB_JWT_OK);
    V(k_all, hs(NULL, std_with("exp", "0")), LB_JWT_EXPIRED);
}
END_TEST

START_TEST(t_nbf_iat)
{
    const char *base[] = {"nbf", "iat"};
    for (size_t i = 0; i < 2; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "\"%s\":%lld", base[i], NOW + 31);
        const char *std_iss = J(ISS), *aud = J("authenticated"), *role = J("authenticated");
        V(k_all, hs(NULL, claims(std_iss, aud, role, J("u"), num(NOW + 3600), extra)),
          LB_JWT_NOT_YET_VALID);
        snprintf(extra, sizeof extra, "\"%s\":%lld", base[i], NOW + 30);
        V(k_all, hs(NULL, claims(std_iss, aud, role, J("u"), num(NOW + 3600), extra)), LB_JWT_OK);
        snprintf(extra, sizeof extra, "\"%s\":%lld", base[i], NOW + 29);
        V(k_all, hs(NULL, claims(std_iss, aud, role, J("u"), num(NOW + 3600), extra)), LB_JWT_OK);
        snprintf(extra, sizeof extra, "\"%s\":%lld", base[i], NOW - 86400);
        V(k_all, hs(NULL, claims(std_iss, aud, role, J("u"), num(NOW + 3600), extra)), LB_JWT_OK);
        static const char *const wrong[] = {"1.5", "\"1700000000\"",       "null",
                                            "-5",  "99999999999999999999", "false"};
        for (size_t j = 0; j < sizeof wrong / sizeof wrong[0]; j++) {
            snprintf(extra, sizeof extra, "\"%s\":%s", base[i], wrong[j]);
            V(k_all, hs(NULL, claims(std_iss, aud, role, J("u"), num(NOW + 3600), extra)),
              LB_JWT_CLAIM_TYPE);
        }
        /* no overflow near the clock's limits */
        snprintf(extra, sizeof extra, "\"%s\":253402300799", base[i]);
        V_AT(k_all, hs(NULL, claims(std_iss, aud, role, J("u"), "253402300799", extra)),
             LLONG_MIN + 1, LB_JWT_NOT_YET_VALID);
    }
}
END_TEST

START_TEST(t_iss)
{
    static const char *const bad[] = {J(ISS "/"),
                                      J("supabase"),
                                      J("https://abcdefghijklmnop.supabase.co/auth/v"),
                                      J("HTTPS://abcdefghijklmnop.supabase.co/auth/v1"),
                                      J("https://other.supabase.co/auth/v1"),
                                      J(ISS "\\u0000"),
                                      J(""),
                                      "5",
                                      "null",
                                      "[\"" ISS "\"]",
                                      NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        V(k_all, hs(NULL, std_with("iss", bad[i])), LB_JWT_ISSUER);
    V(k_all, hs(NULL, std_with("iss", J(ISS))), LB_JWT_OK);
}
END_TEST

START_TEST(t_aud)
{
    static const char *const good[] = {J("authenticated"), "[\"authenticated\"]",
                                       "[\"x\",\"authenticated\"]", "[\"authenticated\",\"x\"]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        V(k_all, hs(NULL, std_with("aud", good[i])), LB_JWT_OK);
    static const char *const bad[] = {NULL,
                                      "null",
                                      "[]",
                                      "[\"x\"]",
                                      "5",
                                      "{\"authenticated\":true}",
                                      "true",
                                      "[\"authenticated\",5]",
                                      "[null,\"authenticated\"]",
                                      "[[\"authenticated\"]]",
                                      J("Authenticated"),
                                      J("authenticated "),
                                      J(""),
                                      J("authenticated\\u0000")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        V(k_all, hs(NULL, std_with("aud", bad[i])), LB_JWT_AUDIENCE);
}
END_TEST

START_TEST(t_role)
{
    static const char *const bad[] = {
        NULL,   J("anon"),          J("service_role"),     J(""),  "1",
        "null", J("Authenticated"), "[\"authenticated\"]", "true", J("authenticated\\u0000")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        V(k_all, hs(NULL, std_with("role", bad[i])), LB_JWT_ROLE);
}
END_TEST

START_TEST(t_sub)
{
    char s255[300], s256[300];
    memset(s255 + 1, 'a', 255);
    s255[0] = '"';
    s255[256] = '"';
    s255[257] = '\0';
    memset(s256 + 1, 'b', 256);
    s256[0] = '"';
    s256[257] = '"';
    s256[258] = '\0';
    V(k_all, hs(NULL, std_with("sub", s255)), LB_JWT_OK);
    ck_assert_uint_eq(strlen(got.sub), 255);
    ck_assert_int_eq(got.sub[0], 'a');
    V(k_all, hs(NULL, std_with("sub", s256)), LB_JWT_SUBJECT);
    V(k_all, hs(NULL, std_with("sub", J("j\xc3\xb6hn"))), LB_JWT_OK);
    ck_assert_str_eq(got.sub, "j\xc3\xb6hn");
    V(k_all, hs(NULL, std_with("sub", J("6c1e4b1e-3f0e-4bd2-9d3e-8b7f3e1a2c4d"))), LB_JWT_OK);
    static const char *const bad[] = {NULL,       J(""),          "5",          "null",   "[\"u\"]",
                                      J("a\\nb"), J("a\\u0000b"), J("\\u007f"), J("\\t"), "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        V(k_all, hs(NULL, std_with("sub", bad[i])), LB_JWT_SUBJECT);
}
END_TEST

START_TEST(t_legacy_api_keys)
{
    /* Supabase's anon and service_role keys are HS256 JWTs: iss "supabase", no sub, no aud */
    char c[256];
    static const char *const roles[] = {"anon", "service_role"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(c, sizeof c,
                 "{\"iss\":\"supabase\",\"ref\":\"abcdefghijklmnop\",\"role\":\"%s\",\"iat\":%lld,"
                 "\"exp\":%lld}",
                 roles[i], NOW - 100, NOW + 100000000);
        V(k_all, hs(NULL, c), LB_JWT_ISSUER);
        /* even where the issuer were "supabase", they are no user */
        struct lb_jwt_keys *k = NULL;
        char err[128];
        ck_assert_int_eq(lb_jwt_keys_from_memory(NULL, 0, SECRET, SECRET_LEN, "supabase", NULL, &k,
                                                 err, sizeof err),
                         0);
        V(k, hs(NULL, c), LB_JWT_AUDIENCE);
        lb_jwt_keys_free(k);
    }
}
END_TEST

START_TEST(t_claim_order)
{
    /* exp first, then nbf, iat, iss, aud, role, sub */
    V(k_all, hs(NULL, claims(NULL, NULL, NULL, NULL, num(NOW - 100), NULL)), LB_JWT_EXPIRED);
    V(k_all, hs(NULL, claims(NULL, NULL, NULL, NULL, num(NOW + 100), "\"nbf\":1800000000")),
      LB_JWT_NOT_YET_VALID);
    V(k_all, hs(NULL, claims(NULL, NULL, NULL, NULL, num(NOW + 100), NULL)), LB_JWT_ISSUER);
    V(k_all, hs(NULL, claims(J(ISS), NULL, NULL, NULL, num(NOW + 100), NULL)), LB_JWT_AUDIENCE);
    V(k_all, hs(NULL, claims(J(ISS), J("authenticated"), NULL, NULL, num(NOW + 100), NULL)),
      LB_JWT_ROLE);
    V(k_all,
      hs(NULL, claims(J(ISS), J("authenticated"), J("authenticated"), NULL, num(NOW + 100), NULL)),
      LB_JWT_SUBJECT);
}
END_TEST

/* ---- loading ------------------------------------------------------------------------------ */

START_TEST(t_jwks_entry_filters)
{
    ck_assert_int_eq(usable_entry(jwk_of(ec1, "a")), 1);
    ck_assert_int_eq(usable_entry(jwk_of(rsa, "a")), 1);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "alg", NULL)), 1);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "use", NULL)), 1);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "kid", NULL)), 1);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "key_ops", "[\"verify\"]")), 1);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "key_ops", "[\"sign\",\"verify\"]")), 1);
    ck_assert_int_eq(usable_entry(jwk_with(rsa, "alg", NULL)), 1);

    ck_assert_int_eq(usable_entry("5"), 0);
    ck_assert_int_eq(usable_entry("\"x\""), 0);
    ck_assert_int_eq(usable_entry("{}"), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "alg", J("ES384"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "alg", J("RS256"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "alg", J("HS256"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "alg", "5")), 0);
    ck_assert_int_eq(usable_entry(jwk_with(rsa, "alg", J("PS256"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(rsa, "alg", J("ES256"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "use", J("enc"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "use", "5")), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "key_ops", "[\"sign\"]")), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "key_ops", "[]")), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "key_ops", J("verify"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "kid", "5")), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "kty", J("ec"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "kty", J("oct"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "kty", J("OKP"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "kty", NULL)), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "crv", NULL)), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "crv", J("P-384"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "crv", J("secp256k1"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "x", NULL)), 0);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "y", "5")), 0);
    /* 31 bytes, 33 bytes, padded, standard alphabet */
    ck_assert_int_eq(
        usable_entry(jwk_with(ec1, "x", J("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))), 0);
    ck_assert_int_eq(
        usable_entry(jwk_with(ec1, "x", J("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))), 0);
    ck_assert_int_eq(
        usable_entry(jwk_with(ec1, "x", J("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))), 0);
    /* a point that is not on the curve: (0, 0) and ec1's x with ec2's y */
    ck_assert_int_eq(
        usable_entry(jwk_with(ec1, "x", J("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))), 0);
    json_object *o2 = json_tokener_parse(jwk_of(ec2, "b"));
    char y2[128];
    snprintf(y2, sizeof y2, "\"%s\"", json_object_get_string(json_object_object_get(o2, "y")));
    json_object_put(o2);
    ck_assert_int_eq(usable_entry(jwk_with(ec1, "y", y2)), 0);
    /* RSA: small e, missing n */
    ck_assert_int_eq(usable_entry(jwk_with(rsa, "e", J("Aw"))), 0);
    ck_assert_int_eq(usable_entry(jwk_with(rsa, "n", NULL)), 0);
    ck_assert_int_eq(usable_entry(jwk_with(rsa, "n", J("AQAB"))), 0);
    ck_assert_int_eq(usable_entry(jwk_of(rsa1024, "a")), 0);
    ck_assert_int_eq(usable_entry(jwk_of(p384, "a")), 0);
}
END_TEST

START_TEST(t_jwks_filtered_key_not_used)
{
    /* an EC key whose JWK says alg ES384 never verifies ES256, even by kid: with no other EC
     * key there is no ES256 key at all; next to another one, its kid is unknown */
    char doc[TOK_MAX];
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", jwk_with(ec1, "alg", J("ES384")));
    struct lb_jwt_keys *k = keys_from(doc, SECRET, SECRET_LEN);
    V(k, es(ec1, "t", std_claims()), LB_JWT_ALG);
    V(k, es(ec1, NULL, std_claims()), LB_JWT_ALG);
    lb_jwt_keys_free(k);
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", jwk_with(ec1, "alg", J("ES384")),
             jwk_of(ec2, "ec2"));
    k = keys_from(doc, NULL, 0);
    V(k, es(ec1, "t", std_claims()), LB_JWT_KID);
    V(k, es(ec1, NULL, std_claims()), LB_JWT_SIGNATURE);
    lb_jwt_keys_free(k);
    /* duplicate kids: each key with that kid is tried */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", jwk_of(ec1, "same"), jwk_of(ec2, "same"));
    k = keys_from(doc, NULL, 0);
    V(k, es(ec1, "same", std_claims()), LB_JWT_OK);
    V(k, es(ec2, "same", std_claims()), LB_JWT_OK);
    lb_jwt_keys_free(k);
}
END_TEST

static void expect_load_error(const char *jw, size_t jwlen, const unsigned char *secret,
                              size_t slen, const char *issuer, const char *want)
{
    struct lb_jwt_keys *k = (struct lb_jwt_keys *)1;
    char err[512] = "";
    ck_assert_int_eq(
        lb_jwt_keys_from_memory(jw, jwlen, secret, slen, issuer, NULL, &k, err, sizeof err), -1);
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
}

START_TEST(t_jwks_errors)
{
    static const char *const not_json[] = {"{", "", "{\"keys\":[}", "keys", "{\"keys\":[]} x"};
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++)
        expect_load_error(not_json[i], strlen(not_json[i]), NULL, 0, ISS, "not valid JSON");
    expect_load_error("[]", 2, NULL, 0, ISS, "not a JSON object");
    expect_load_error("null", 4, NULL, 0, ISS, "not a JSON object");
    expect_load_error("{}", 2, NULL, 0, ISS, "no \"keys\" array");
    expect_load_error("{\"keys\":{}}", 11, NULL, 0, ISS, "no \"keys\" array");
    expect_load_error("{\"keys\":null}", 13, NULL, 0, ISS, "no \"keys\" array");
    expect_load_error("{\"keys\":[]}", 11, NULL, 0, ISS, "no usable key");
    expect_load_error("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", 35, NULL, 0, ISS,
                      "no usable key (1 skipped");
    expect_load_error(NULL, 0, NULL, 0, ISS, "no sign-in token key");
    expect_load_error(NULL, 0, SECRET, SECRET_LEN, NULL, "jwt_issuer");
    expect_load_error(NULL, 0, SECRET, SECRET_LEN, "", "jwt_issuer");
    expect_load_error(NULL, 0, SECRET, 0, ISS, "secret: the secret is empty");
    /* an empty key list is fine when there is a secret (Supabase's JWKS of an HS256 project) */
    struct lb_jwt_keys *k = keys_from("{\"keys\":[]}", SECRET, SECRET_LEN);
    ck_assert_int_eq(lb_jwt_keys_count(k), 1);
    V(k, hs(NULL, std_claims()), LB_JWT_OK);
    lb_jwt_keys_free(k);
    /* more usable keys than the cap */
    char *doc = malloc(200000);
    size_t n = (size_t)snprintf(doc, 200000, "{\"keys\":[");
    const char *one = jwk_of(ec1, NULL);
    for (int i = 0; i <= LB_JWT_MAX_KEYS; i++)
        n += (size_t)snprintf(doc + n, 200000 - n, "%s%s", i ? "," : "", one);
    snprintf(doc + n, 200000 - n, "]}");
    expect_load_error(doc, strlen(doc), NULL, 0, ISS, "usable keys");
    free(doc);
    /* lb_jwt_keys_free(NULL) and counts of NULL are harmless */
    lb_jwt_keys_free(NULL);
    ck_assert_int_eq(lb_jwt_keys_count(NULL), 0);
    ck_assert_int_eq(lb_jwt_keys_skipped(NULL), 0);
}
END_TEST

/* ---- files -------------------------------------------------------------------------------- */

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    char *b = rotating();
    snprintf(b, TOK_MAX, "%s/%s", tmpdir, name);
    return b;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static const char *write_pem(const char *name, EVP_PKEY *pk)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static void expect_file_error(const char *jf, const char *sf, const char *issuer, const char *want1,
                              const char *want2)
{
    struct lb_jwt_keys *k = NULL;
    char err[1024] = "";
    ck_assert_int_eq(lb_jwt_keys_load(jf, sf, issuer, NULL, &k, err, sizeof err), -1);
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(err, want1) && (!want2 || strstr(err, want2)),
                  "error \"%s\" lacks \"%s\" / \"%s\"", err, want1, want2 ? want2 : "");
    ck_assert_ptr_null(strchr(err, '\n')); /* one line */
}

static struct lb_jwt_keys *load_ok(const char *jf, const char *sf)
{
    struct lb_jwt_keys *k = NULL;
    char err[1024] = "";
    ck_assert_msg(lb_jwt_keys_load(jf, sf, ISS, NULL, &k, err, sizeof err) == 0, "%s", err);
    return k;
}

START_TEST(t_load_files)
{
    const char *jf = write_file("jwks.json", jwks, strlen(jwks));
    const char *sf = copy(write_file("secret", "topsecret\n", 10));
    jf = copy(jf);
    struct lb_jwt_keys *k = load_ok(jf, sf);
    ck_assert_int_eq(lb_jwt_keys_count(k), 4);
    ck_assert_int_eq(lb_jwt_keys_skipped(k), 2);
    const unsigned char *ts = (const unsigned char *)"topsecret";
    V(k, sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, ts, 9), LB_JWT_OK);
    /* the newline is not part of the key (note: "topsecret\0" would be the same HMAC key) */
    V(k,
      sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL,
               (const unsigned char *)"topsecret\n", 10),
      LB_JWT_SIGNATURE);
    V(k, es(ec2, "ec2", std_claims()), LB_JWT_OK);
    lb_jwt_keys_free(k);

    /* "\r\n" is stripped too, but only one newline */
    sf = copy(write_file("secret-crlf", "topsecret\r\n", 11));
    k = load_ok(NULL, sf);
    V(k, sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, ts, 9), LB_JWT_OK);
    lb_jwt_keys_free(k);
    sf = copy(write_file("secret-2nl", "topsecret\n\n", 11));
    k = load_ok("", sf);
    V(k, sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, ts, 9), LB_JWT_SIGNATURE);
    V(k,
      sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL,
               (const unsigned char *)"topsecret\n", 10),
      LB_JWT_OK);
    lb_jwt_keys_free(k);
    /* no newline at all: the file's bytes as they are */
    sf = copy(write_file("secret-nonl", "topsecret", 9));
    k = load_ok(jf, sf);
    V(k, sign_raw(header("HS256", NULL), std_claims(), "HS256", NULL, ts, 9), LB_JWT_OK);
    lb_jwt_keys_free(k);
    k = load_ok(jf, "");
    ck_assert_int_eq(lb_jwt_keys_count(k), 3);
    lb_jwt_keys_free(k);

    /* errors name the file and what is wrong */
    const char *missing = copy(tmp_path("nonexistent.json"));
    expect_file_error(missing, NULL, ISS, missing, "No such file");
    expect_file_error(jf, missing, ISS, "jwt_secret_file", "No such file");
    expect_file_error(tmpdir, NULL, ISS, "jwt_jwks_file", tmpdir);
    const char *bad = copy(write_file("bad.json", "{\"keys\":[", 9));
    expect_file_error(bad, NULL, ISS, bad, "not valid JSON");
    const char *nokeys = copy(write_file("nokeys.json", "{\"jwks\":[]}", 11));
    expect_file_error(nokeys, NULL, ISS, nokeys, "no \"keys\" array");
    const char *empty = copy(write_file("empty-secret", "\n", 1));
    expect_file_error(NULL, empty, ISS, empty, "empty");
    const char *empty2 = copy(write_file("empty-secret2", "", 0));
    expect_file_error(jf, empty2, ISS, empty2, "empty");
    const char *crlf = copy(write_file("crlf-secret", "\r\n", 2));
    expect_file_error(NULL, crlf, ISS, crlf, "empty");
    expect_file_error(jf, sf, NULL, "jwt_issuer", NULL);
    expect_file_error(jf, sf, "", "jwt_issuer", NULL);
    expect_file_error(NULL, NULL, ISS, "jwt_jwks_file", "jwt_secret_file");
    expect_file_error("", "", ISS, "no sign-in token key", NULL);
    /* larger than the cap */
    size_t big_len = LB_JWT_MAX_FILE + 1;
    char *big = malloc(big_len);
    memset(big, ' ', big_len);
    const char *bigf = copy(write_file("big.json", big, big_len));
    free(big);
    expect_file_error(bigf, NULL, ISS, bigf, "larger than");
    expect_file_error(NULL, bigf, ISS, bigf, "larger than");
}
END_TEST

START_TEST(t_jwtsign_files)
{
    const char *ecf = copy(write_pem("ec1.pem", ec1));
    const char *rsf = copy(write_pem("rsa.pem", rsa));
    const char *sf = copy(write_file("hs-secret", "s3cr3t\n", 7));
    const char *files[] = {ecf, rsf};
    const char *kids[] = {"ec-file", "rsa-file"};
    char doc[JWKS_MAX], tok[TOK_MAX];
    ck_assert_int_eq(jwtsign_jwks(files, kids, 2, doc, sizeof doc), 0);
    const char *jf = copy(write_file("signer.json", doc, strlen(doc)));
    struct lb_jwt_keys *k = load_ok(jf, sf);
    ck_assert_int_eq(lb_jwt_keys_count(k), 3);
    ck_assert_int_eq(jwtsign("ES256", "ec-file", ecf, std_claims(), tok, sizeof tok), 0);
    V(k, tok, LB_JWT_OK);
    ck_assert_int_eq(jwtsign("ES256", NULL, ecf, std_claims(), tok, sizeof tok), 0);
    V(k, tok, LB_JWT_OK);
    ck_assert_int_eq(jwtsign("RS256", "rsa-file", rsf, std_claims(), tok, sizeof tok), 0);
    V(k, tok, LB_JWT_OK);
    ck_assert_int_eq(jwtsign("HS256", NULL, sf, std_claims(), tok, sizeof tok), 0);
    V(k, tok, LB_JWT_OK);
    /* a kid with characters JSON must escape */
    ck_assert_int_eq(jwtsign("ES256", "a\"b/c", ecf, std_claims(), tok, sizeof tok), 0);
    V(k, tok, LB_JWT_KID);
    lb_jwt_keys_free(k);
    /* the signer's own refusals */
    ck_assert_int_eq(jwtsign("ES256", NULL, rsf, std_claims(), tok, sizeof tok), -1);
    ck_assert_int_eq(jwtsign("RS256", NULL, ecf, std_claims(), tok, sizeof tok), -1);
    ck_assert_int_eq(jwtsign("PS256", NULL, rsf, std_claims(), tok, sizeof tok), -1);
    ck_assert_int_eq(jwtsign("ES256", NULL, tmp_path("nope.pem"), std_claims(), tok, sizeof tok),
                     -1);
    ck_assert_int_eq(jwtsign("ES256", NULL, ecf, std_claims(), tok, 50), -1);
    ck_assert_int_eq(jwtsign_jwks(files, kids, 2, doc, 100), -1);
}
END_TEST

/* ---- setup -------------------------------------------------------------------------------- */

static EVP_PKEY *keygen_ec(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    if (!k)
        abort();
    return k;
}

static EVP_PKEY *keygen_rsa(size_t bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
    if (!k)
        abort();
    return k;
}

static void setup_keys(void)
{
    char one[5][8192];
    ec1 = keygen_ec("P-256");
    ec2 = keygen_ec("P-256");
    attacker = keygen_ec("P-256");
    p384 = keygen_ec("P-384");
    rsa = keygen_rsa(2048);
    rsa1024 = keygen_rsa(1024);
    EVP_PKEY *keys[] = {ec1, ec2, rsa, rsa1024, p384};
    const char *kids[] = {"ec1", "ec2", "rsa1", "rsa-small", "p384"};
    for (int i = 0; i < 5; i++)
        if (jwtsign_jwk(keys[i], kids[i], one[i], sizeof one[i]) != 0)
            abort();
    jwks = malloc(JWKS_MAX);
    int n = snprintf(jwks, JWKS_MAX, "{\"keys\":[%s,%s,%s,%s,%s]}", one[0], one[1], one[2], one[3],
                     one[4]);
    if (n < 0 || n >= JWKS_MAX)
        abort();
    char err[512] = "";
    if (lb_jwt_keys_from_memory(jwks, strlen(jwks), SECRET, SECRET_LEN, ISS, NULL, &k_all, err,
                                sizeof err) != 0 ||
        lb_jwt_keys_from_memory(jwks, strlen(jwks), NULL, 0, ISS, NULL, &k_jwks, err, sizeof err) !=
            0 ||
        lb_jwt_keys_from_memory(NULL, 0, SECRET, SECRET_LEN, ISS, NULL, &k_secret, err,
                                sizeof err) != 0) {
        fprintf(stderr, "check_jwt: setup: %s\n", err);
        abort();
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_jwt.XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
}

static void teardown_keys(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "check_jwt: could not remove %s\n", tmpdir);
    lb_jwt_keys_free(k_all);
    lb_jwt_keys_free(k_jwks);
    lb_jwt_keys_free(k_secret);
    free(jwks);
    EVP_PKEY *keys[] = {ec1, ec2, rsa, rsa1024, p384, attacker};
    for (int i = 0; i < 6; i++)
        EVP_PKEY_free(keys[i]);
}

int main(void)
{
    setup_keys();
    Suite *s = suite_create("jwt");
    TCase *ok = tcase_create("accepted");
    tcase_add_test(ok, t_es256_with_kid);
    tcase_add_test(ok, t_es256_without_kid);
    tcase_add_test(ok, t_key_rotation);
    tcase_add_test(ok, t_rs256);
    tcase_add_test(ok, t_hs256);
    tcase_add_test(ok, t_es256_high_s_accepted);
    tcase_add_test(ok, t_key_headers_ignored);
    tcase_add_test(ok, t_custom_audience);
    tcase_add_test(ok, t_longest_token);
    tcase_add_test(ok, t_rfc7515_vectors);
    tcase_add_test(ok, t_result_names);
    tcase_add_test(ok, t_out_cleared_on_failure);
    tcase_add_test(ok, t_claims_whitespace_ok);
    suite_add_tcase(s, ok);

    TCase *alg = tcase_create("algorithms and keys");
    tcase_add_test(alg, t_alg_none);
    tcase_add_test(alg, t_alg_others);
    tcase_add_test(alg, t_hs256_with_jwks_text_as_secret);
    tcase_add_test(alg, t_hs256_with_public_key_as_secret);
    tcase_add_test(alg, t_asymmetric_against_secret_only);
    tcase_add_test(alg, t_hmac_empty_key);
    tcase_add_test(alg, t_alg_key_type_mismatch);
    tcase_add_test(alg, t_embedded_attacker_key);
    tcase_add_test(alg, t_unknown_kid);
    tcase_add_test(alg, t_kid_not_a_string);
    suite_add_tcase(s, alg);

    TCase *sig = tcase_create("signatures");
    tcase_add_test(sig, t_bit_flips);
    tcase_add_test(sig, t_es256_der_signature);
    tcase_add_test(sig, t_es256_signature_lengths);
    tcase_add_test(sig, t_es256_out_of_range);
    tcase_add_test(sig, t_rs256_and_hs256_signature_lengths);
    suite_add_tcase(s, sig);

    TCase *fmt = tcase_create("format");
    tcase_add_test(fmt, t_too_large);
    tcase_add_test(fmt, t_segments);
    tcase_add_test(fmt, t_base64url_strict);
    tcase_add_test(fmt, t_header_not_an_object);
    tcase_add_test(fmt, t_crit_and_b64);
    tcase_add_test(fmt, t_claims_not_an_object);
    suite_add_tcase(s, fmt);

    TCase *cl = tcase_create("claims");
    tcase_add_test(cl, t_exp);
    tcase_add_test(cl, t_nbf_iat);
    tcase_add_test(cl, t_iss);
    tcase_add_test(cl, t_aud);
    tcase_add_test(cl, t_role);
    tcase_add_test(cl, t_sub);
    tcase_add_test(cl, t_legacy_api_keys);
    tcase_add_test(cl, t_claim_order);
    suite_add_tcase(s, cl);

    TCase *ld = tcase_create("loading");
    tcase_add_test(ld, t_jwks_entry_filters);
    tcase_add_test(ld, t_jwks_filtered_key_not_used);
    tcase_add_test(ld, t_jwks_errors);
    tcase_add_test(ld, t_load_files);
    tcase_add_test(ld, t_jwtsign_files);
    tcase_set_timeout(ld, 60);
    suite_add_tcase(s, ld);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    teardown_keys();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
