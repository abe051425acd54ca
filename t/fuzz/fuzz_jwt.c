/* fuzz_jwt: the sign-in token verifier (src/auth_jwt.c) with fixed keys: an HS256 secret and a
 * JWKS holding one EC P-256 public key (its private half was used once to make the seed corpus
 * and then thrown away). The first input byte picks the mode:
 *  - even: the rest is the token, verified as sent (splitting, base64url, header, key choice,
 *    ES256/HS256 signature checks);
 *  - odd: the rest is "HEADER\nCLAIMS" (JSON texts), which the target signs with the HS256
 *    secret (t/lib/jwtsign.c) before verifying, so that the claim checks behind the signature
 *    are reached too.
 * Invariant: an accepted token has a sub of 1..255 bytes without control characters and an exp
 * in range that has not passed (with the leeway) at the fixed clock. */
#include <stdlib.h>
#include <string.h>

#include "auth_jwt.h"
#include "fuzz_common.h"
#include "jwtsign.h"

#define NOW 1700000000LL
#define ISS "https://fuzz.supabase.co/auth/v1"

static const char JWKS[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"EQPIdHve_"
    "A9o453PyL5QSMgfP4PmGTFHonSpzkgDlDI\","
    "\"y\":\"t35Nu7xgyvFCOuBqAVEPc_5WvhzBJZujtvnEaWE5SgY\",\"alg\":\"ES256\",\"use\":\"sig\","
    "\"kid\":\"fuzz-ec1\"}]}";
static const unsigned char SECRET[] = "fuzz-hs256-secret-0123456789abcdef";

static struct lb_jwt_keys *keys; /* loaded once; reachable until exit */

static void check(const char *token, size_t len)
{
    struct lb_jwt_claims c;
    enum lb_jwt_result r = lb_jwt_verify(keys, token, len, NOW, &c);
    FUZZ_ASSERT(lb_jwt_result_name(r) && strcmp(lb_jwt_result_name(r), "unknown") != 0,
                "result %d has no name", (int)r);
    if (r != LB_JWT_OK) {
        FUZZ_ASSERT(c.sub[0] == '\0' && c.exp == 0, "claims filled on a refusal (%s)",
                    lb_jwt_result_name(r));
        return;
    }
    FUZZ_ASSERT(len <= LB_JWT_MAX_TOKEN, "accepted a token of %zu bytes", len);
    size_t n = strnlen(c.sub, sizeof c.sub);
    FUZZ_ASSERT(n >= 1 && n <= LB_JWT_SUB_MAX, "accepted sub of length %zu", n);
    for (size_t i = 0; i < n; i++)
        FUZZ_ASSERT((unsigned char)c.sub[i] >= 0x20 && c.sub[i] != 0x7f,
                    "accepted sub with control character 0x%02x", (unsigned char)c.sub[i]);
    FUZZ_ASSERT(c.exp >= 0 && c.exp <= LB_JWT_TIME_MAX && NOW < c.exp + LB_JWT_LEEWAY_S,
                "accepted exp %lld at %lld", c.exp, NOW);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys) {
        char err[256];
        if (lb_jwt_keys_from_memory(JWKS, sizeof JWKS - 1, SECRET, sizeof SECRET - 1, ISS, NULL,
                                    &keys, err, sizeof err) != 0)
            fuzz_fail("loading the fixed keys: %s", err);
        FUZZ_ASSERT(lb_jwt_keys_count(keys) == 2, "fixed keys: %d", lb_jwt_keys_count(keys));
    }
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        /* an exact-size heap copy, so that ASan sees any read past the end */
        char *t = malloc(size - 1 ? size - 1 : 1);
        if (!t)
            return 0;
        memcpy(t, data + 1, size - 1);
        check(t, size - 1);
        free(t);
        return 0;
    }
    char *text = fuzz_strndup(data + 1, size - 1);
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        size_t cap = 2 * (size + 64);
        char *tok = malloc(cap);
        if (tok &&
            jwtsign_raw(text, nl + 1, "HS256", NULL, SECRET, sizeof SECRET - 1, tok, cap) == 0)
            check(tok, strlen(tok));
        free(tok);
    }
    free(text);
    return 0;
}
