/* auth_jwt: verification of sign-in tokens (compact JWS, API.md "Credentials and tenancy" 2).
 * Pure: no I/O besides reading the key files in lb_jwt_keys_load, no clock (the caller passes
 * the time), no global state. All cryptography is OpenSSL 3's EVP; JSON is json-c, checked
 * strictly by lb_json_parse_body first (RFC 8259, duplicate member names refused).
 *
 * Decisions (where API.md leaves room):
 *  - The algorithm is pinned to the key's type: HS256 always and only uses the secret file's key
 *    (a kid in an HS256 header is ignored); ES256 only EC P-256 JWKS keys, RS256 only RSA JWKS
 *    keys of 2048..8192 bits with e > 2^16. With a kid only the JWKS keys carrying that kid are
 *    tried (several, if the JWKS repeats a kid); without one, every JWKS key of the right type.
 *  - LB_JWT_ALG: alg missing, not a string, or not exactly ES256/RS256/HS256; or no loaded key
 *    may verify it: no secret for HS256, no JWKS key of the type for ES256/RS256 (checked before
 *    the kid), or the kid names only keys of another type (RS256 naming an EC key).
 *    LB_JWT_KID: keys of the type exist, but the token's kid names no loaded JWKS key (entries
 *    skipped at load, such as P-384 or RSA-1024 keys, are not loaded).
 *  - LB_JWT_MALFORMED: not three canonical base64url segments, header or claims not a strict
 *    JSON object (duplicate names, nesting over 16 levels, invalid UTF-8), a non-string kid, a
 *    crit header (any), b64 other than true.
 *  - Claim types: exp, nbf, iat must be JSON integers in [0, LB_JWT_TIME_MAX] (year 9999), else
 *    LB_JWT_CLAIM_TYPE (also for null, floats such as 1.5 or 1e9, strings, and integers that
 *    json-c clamped); a missing exp is LB_JWT_EXPIRED. For the string claims (iss, aud, role,
 *    sub) a missing value, null or a value of another type is that claim's own code
 *    (LB_JWT_ISSUER, LB_JWT_AUDIENCE, LB_JWT_ROLE, LB_JWT_SUBJECT): "not the expected
 *    issuer". aud given as an array must contain only strings, one of them the audience.
 *  - Claims are checked in this order: exp, nbf, iat, iss, aud, role, sub. */
#ifndef LB_AUTH_JWT_H
#define LB_AUTH_JWT_H

#include <stddef.h>

#define LB_JWT_MAX_TOKEN 8192 /* longer tokens are refused (LB_JWT_TOO_LARGE) */
#define LB_JWT_LEEWAY_S 30
#define LB_JWT_SUB_MAX 255
/* Largest exp/nbf/iat accepted: 9999-12-31T23:59:59Z, so that exp * 1000000 (microseconds)
 * cannot overflow an int64 in the caller. */
#define LB_JWT_TIME_MAX 253402300799LL
#define LB_JWT_MAX_FILE (1024 * 1024) /* key files larger than this are refused */
#define LB_JWT_MAX_KEYS 32            /* usable JWKS keys at most (each may cost a verify) */

struct lb_jwt_keys; /* opaque: the loaded keys + issuer + audience */

/* Loads keys: jwks_file (a JWKS JSON document, may be NULL/"" = none) and secret_file (HS256
 * shared secret: the file's bytes less ONE trailing "\n" (or "\r\n"); NULL/"" = none). issuer
 * required (non-empty), audience NULL/"" = "authenticated". At least one of the two files must
 * be given, and at least one usable key must result. JWKS entries that cannot be used (other
 * kty or curve, RSA under 2048 bits, use/key_ops/alg not allowing ES256/RS256 verification,
 * bad coordinates) are skipped and counted (lb_jwt_keys_skipped). Returns 0 and *out, or -1
 * with a one-line message in err (which file, what is wrong). Files are read whole, at most
 * LB_JWT_MAX_FILE bytes. */
int lb_jwt_keys_load(const char *jwks_file, const char *secret_file, const char *issuer,
                     const char *audience, struct lb_jwt_keys **out, char *err, size_t errlen);
/* The same from memory (tests, fuzz target): jwks text (NULL = none), secret bytes (NULL =
 * none; used as given, no newline is stripped; a non-NULL secret of length 0 is an error). */
int lb_jwt_keys_from_memory(const char *jwks, size_t jwks_len, const unsigned char *secret,
                            size_t secret_len, const char *issuer, const char *audience,
                            struct lb_jwt_keys **out, char *err, size_t errlen);
void lb_jwt_keys_free(struct lb_jwt_keys *keys);
/* How many keys were loaded (JWKS keys usable + 1 for the secret), for a log line. */
int lb_jwt_keys_count(const struct lb_jwt_keys *keys);
/* How many JWKS entries were skipped as unusable, for the same log line. */
int lb_jwt_keys_skipped(const struct lb_jwt_keys *keys);

enum lb_jwt_result {
    LB_JWT_OK = 0,
    LB_JWT_TOO_LARGE,
    LB_JWT_MALFORMED,
    LB_JWT_ALG,
    LB_JWT_KID,
    LB_JWT_SIGNATURE,
    LB_JWT_EXPIRED,
    LB_JWT_NOT_YET_VALID,
    LB_JWT_ISSUER,
    LB_JWT_AUDIENCE,
    LB_JWT_ROLE,
    LB_JWT_SUBJECT,
    LB_JWT_CLAIM_TYPE
};

struct lb_jwt_claims {
    char sub[LB_JWT_SUB_MAX + 1]; /* NUL-terminated, 1..255 bytes, no control characters */
    long long exp;                /* Unix seconds, 0..LB_JWT_TIME_MAX */
};

/* Verifies a compact JWS (the text after "Bearer "), len bytes, at Unix time now_s. The
 * signature is checked before any claim is looked at. On LB_JWT_OK fills *out (if non-NULL);
 * on any other result *out is zeroed. */
enum lb_jwt_result lb_jwt_verify(const struct lb_jwt_keys *keys, const char *token, size_t len,
                                 long long now_s, struct lb_jwt_claims *out);
/* "ok", "too_large", "malformed", "bad_alg", "unknown_kid", "bad_signature", "expired",
 * "not_yet_valid", "bad_issuer", "bad_audience", "bad_role", "bad_subject", "bad_claim_type";
 * "unknown" for a value outside the enum. For logs and metrics. */
const char *lb_jwt_result_name(enum lb_jwt_result r);

#endif
