/* jwtsign: a JWT signer for the tests, the benchmark and the dev scripts (t/lib/lb-token); never
 * linked into leadbookd. It signs whatever it is given, including forged and broken headers,
 * so that the tests can check that src/auth_jwt.c refuses them. OpenSSL 3 EVP for all
 * cryptography, json-c for the JSON it writes. Every function reports failures on stderr and
 * returns -1; nothing is written past outlen (out is NUL-terminated on success). */
#ifndef LB_JWTSIGN_H
#define LB_JWTSIGN_H

#include <stddef.h>

#include <openssl/evp.h>

/* Signs header {"alg":alg,"typ":"JWT"[,"kid":kid]} and the given claims JSON text (used
 * verbatim) with: for ES256/RS256 a PEM private key file, for HS256 the secret file (file bytes
 * less one trailing newline, "\n" or "\r\n"). Writes the compact token to out. Returns 0 or
 * -1 (message on stderr). */
int jwtsign(const char *alg, const char *kid, const char *key_file, const char *claims_json,
            char *out, size_t outlen);

/* Lower level, for tests that forge: signs arbitrary header JSON text + claims text (both used
 * verbatim) as alg says, whatever the header claims: "ES256" with an EC pkey (SHA-256, raw
 * R || S, each as long as the curve's order: 64 bytes for P-256, 96 for P-384), "RS256" with
 * an RSA pkey (PKCS #1 v1.5, SHA-256), "HS256" with hmac_key[0..hmac_len) (hmac_len may be 0),
 * "none" for an empty signature. */
int jwtsign_raw(const char *header_json, const char *claims_json, const char *alg, EVP_PKEY *pkey,
                const unsigned char *hmac_key, size_t hmac_len, char *out, size_t outlen);

/* Writes the JWKS JSON ({"keys":[...]}) of the public halves of the given PEM private key files
 * with their kids (EC P-256 -> kty EC, RSA -> kty RSA, "alg" and "use":"sig" set). */
int jwtsign_jwks(const char *const *pem_files, const char *const *kids, int n, char *out,
                 size_t outlen);

/* One JWK object (text) of pkey's public half: EC P-256/P-384/P-521 (alg ES256/ES384/ES512) or
 * RSA of any size (alg RS256), "use":"sig", "kid" when kid is non-NULL. */
int jwtsign_jwk(EVP_PKEY *pkey, const char *kid, char *out, size_t outlen);

/* Unpadded base64url of in[0..len). Returns the text's length, or -1 if it does not fit. */
long jwtsign_b64url(const void *in, size_t len, char *out, size_t outlen);

#endif
