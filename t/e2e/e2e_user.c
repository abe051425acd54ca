/* e2e_user: sign-in tokens for the end-to-end suites. Every stack of e2e_main is configured
 * the way scripts/dev-up configures the development stack: an EC P-256 key and an RSA key in a
 * JWKS file, an HS256 secret file, the issuer of a local identity provider. Tokens are signed
 * here with the private halves (t/lib/jwtsign), as the provider would sign them. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"
#include "jwtsign.h"

static char jwt_dir[256];
static char ec_pem[300], rsa_pem[300], secret_file[300], jwks_file[300];
static char line_issuer[400], line_jwks[400], line_secret[400];

const char *e2e_jwt_dir(void)
{
    return jwt_dir;
}

const char *e2e_jwks_path(void)
{
    return jwks_file;
}

static int write_key(EVP_PKEY *k, const char *path)
{
    FILE *f = fopen(path, "w");
    int ok = f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int e2e_keygen_pem(const char *type, const char *path)
{
    EVP_PKEY *k = strcmp(type, "EC") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                          : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    int rc = k ? write_key(k, path) : -1;
    EVP_PKEY_free(k);
    return rc;
}

int e2e_write_jwks(const char *const *pems, const char *const *kids, int n)
{
    static char jwks[16384];
    if (jwtsign_jwks(pems, kids, n, jwks, sizeof jwks) != 0)
        return -1;
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", jwks_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fputs(jwks, f) >= 0;
    if (fclose(f) != 0 || !ok)
        return -1;
    return rename(tmp, jwks_file); /* whole or nothing, as an operator's timer would do it */
}

int e2e_jwt_setup(const char **lines, int max)
{
    snprintf(jwt_dir, sizeof jwt_dir, "/tmp/lb-e2e-jwt-XXXXXX");
    if (!mkdtemp(jwt_dir) || chmod(jwt_dir, 0755) != 0 || max < 3)
        return -1;
    snprintf(ec_pem, sizeof ec_pem, "%s/ec.pem", jwt_dir);
    snprintf(rsa_pem, sizeof rsa_pem, "%s/rsa.pem", jwt_dir);
    snprintf(secret_file, sizeof secret_file, "%s/secret", jwt_dir);
    snprintf(jwks_file, sizeof jwks_file, "%s/jwks.json", jwt_dir);
    if (e2e_keygen_pem("EC", ec_pem) != 0 || e2e_keygen_pem("RSA", rsa_pem) != 0)
        return -1;
    unsigned char raw[32];
    char secret[64];
    if (RAND_bytes(raw, sizeof raw) != 1 ||
        jwtsign_b64url(raw, sizeof raw, secret, sizeof secret) < 0)
        return -1;
    FILE *f = fopen(secret_file, "w");
    if (!f || fprintf(f, "%s\n", secret) < 0 || fclose(f) != 0)
        return -1;
    const char *pems[] = {ec_pem, rsa_pem};
    const char *kids[] = {E2E_JWT_KID, E2E_JWT_RSA_KID};
    if (e2e_write_jwks(pems, kids, 2) != 0)
        return -1;
    snprintf(line_issuer, sizeof line_issuer, "jwt_issuer = %s", E2E_JWT_ISSUER);
    snprintf(line_jwks, sizeof line_jwks, "jwt_jwks_file = %s", jwks_file);
    snprintf(line_secret, sizeof line_secret, "jwt_secret_file = %s", secret_file);
    lines[0] = line_issuer;
    lines[1] = line_jwks;
    lines[2] = line_secret;
    return 3;
}

void e2e_jwt_teardown(void)
{
    if (!jwt_dir[0] || getenv("LEADBOOK_KEEP_TEST_DIRS"))
        return;
    const char *files[] = {ec_pem, rsa_pem, secret_file, jwks_file};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    rmdir(jwt_dir);
}

void e2e_token_claims(char *out, size_t outlen, const char *alg, const char *kid,
                      const char *key_file, const char *claims)
{
    if (!key_file)
        key_file = strcmp(alg, "HS256") == 0   ? secret_file
                   : strcmp(alg, "RS256") == 0 ? rsa_pem
                                               : ec_pem;
    if (!kid && strcmp(alg, "HS256") != 0)
        kid = strcmp(alg, "RS256") == 0 ? E2E_JWT_RSA_KID : E2E_JWT_KID;
    ck_assert_msg(jwtsign(alg, kid, key_file, claims, out, outlen) == 0, "jwtsign %s failed", alg);
}

void e2e_token(char *out, size_t outlen, const char *alg, const char *sub, long ttl_s)
{
    long long now = (long long)time(NULL);
    char claims[1024];
    snprintf(claims, sizeof claims,
             "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"authenticated\",\"role\":\"authenticated\","
             "\"iat\":%lld,\"exp\":%lld,\"email\":\"user@example.com\",\"aal\":\"aal1\","
             "\"is_anonymous\":false}",
             E2E_JWT_ISSUER, sub, now, now + ttl_s);
    e2e_token_claims(out, outlen, alg, NULL, NULL, claims);
}

void e2e_user_new(struct e2e_tenant *u, const char *alg)
{
    memset(u, 0, sizeof *u);
    unsigned char r[16];
    ck_assert(RAND_bytes(r, sizeof r) == 1);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(u->user_id, sizeof u->user_id,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    char token[1900];
    e2e_token(token, sizeof token, alg ? alg : "ES256", u->user_id, 3600);
    snprintf(u->auth, sizeof u->auth, "Authorization: Bearer %s\r\n", token);
}

void e2e_user_signup(struct e2e_tenant *u, const char *name)
{
    struct e2e_resp r;
    char body[512];
    snprintf(body, sizeof body, "{\"userId\":\"%s\",\"name\":\"%s\"}", u->user_id, name);
    e2e_call(&r, u, "POST", "/tenants", body);
    e2e_expect(&r, 201);
    snprintf(u->id, sizeof u->id, "%s", e2e_str(r.json, "id"));
    e2e_free(&r);
}

void e2e_booking_key_new(char *auth, size_t authlen, char key_id[37])
{
    json_object *o = e2e_ctl("key", "create", "--booking-page", "--label", "e2e", E2E_END);
    snprintf(auth, authlen, "Authorization: Bearer %s\r\n", e2e_str(o, "key"));
    if (key_id)
        snprintf(key_id, 37, "%s", e2e_str(o, "id"));
    json_object_put(o);
}
