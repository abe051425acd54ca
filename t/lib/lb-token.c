/* lb-token: makes sign-in tokens and JWKS documents for development, the e2e tests and the
 * benchmark (a command line over t/lib/jwtsign.c; not installed).
 *
 *   lb-token sign --alg ES256|RS256|HS256 --key FILE [--kid KID] --iss ISS --sub SUB
 *                 [--aud AUD] [--role ROLE] [--ttl SECONDS] [--email E] [--now UNIXTIME]
 *   lb-token jwks --key PEM --kid KID [--key PEM --kid KID ...]
 *
 * sign prints the token and a newline. Claims: iss, sub, aud (default "authenticated"), role
 * (default "authenticated"), iat (now), exp (now + ttl; ttl defaults to 3600 and may be
 * negative for an already expired token), session_id (a random UUID), email if given. --now
 * replaces the clock (reproducible tokens). jwks prints {"keys":[...]} for the PEM private
 * keys' public halves. Exit status 0, 1 on failure, 2 on a usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "jwtsign.h"

#define MAX_KEYS 16
#define OUT_MAX (64 * 1024)

static int usage(void)
{
    fputs(
        "usage: lb-token sign --alg ES256|RS256|HS256 --key FILE [--kid KID] --iss ISS --sub SUB\n"
        "                     [--aud AUD] [--role ROLE] [--ttl SECONDS] [--email E] [--now T]\n"
        "       lb-token jwks --key PEM --kid KID [--key PEM --kid KID ...]\n",
        stderr);
    return 2;
}

static int parse_ll(const char *s, long long *v)
{
    char *end = NULL;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return (errno == 0 && end != s && *end == '\0') ? 0 : -1;
}

/* A random version-4 UUID, like Supabase's session ids. */
static int random_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

static int cmd_sign(int argc, char **argv)
{
    const char *alg = NULL, *key = NULL, *kid = NULL, *iss = NULL, *sub = NULL, *email = NULL;
    const char *aud = "authenticated", *role = "authenticated";
    long long ttl = 3600, now = (long long)time(NULL);
    for (int i = 0; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (strcmp(o, "--alg") == 0)
            alg = v;
        else if (strcmp(o, "--key") == 0)
            key = v;
        else if (strcmp(o, "--kid") == 0)
            kid = v;
        else if (strcmp(o, "--iss") == 0)
            iss = v;
        else if (strcmp(o, "--sub") == 0)
            sub = v;
        else if (strcmp(o, "--aud") == 0)
            aud = v;
        else if (strcmp(o, "--role") == 0)
            role = v;
        else if (strcmp(o, "--email") == 0)
            email = v;
        else if (strcmp(o, "--ttl") == 0 && parse_ll(v, &ttl) == 0)
            continue;
        else if (strcmp(o, "--now") == 0 && parse_ll(v, &now) == 0)
            continue;
        else
            return usage();
    }
    if (!alg || !key || !iss || !sub)
        return usage();
    char session[37];
    if (random_uuid(session) != 0) {
        fputs("lb-token: no random bytes\n", stderr);
        return 1;
    }
    json_object *c = json_object_new_object();
    json_object_object_add(c, "iss", json_object_new_string(iss));
    json_object_object_add(c, "sub", json_object_new_string(sub));
    json_object_object_add(c, "aud", json_object_new_string(aud));
    json_object_object_add(c, "role", json_object_new_string(role));
    json_object_object_add(c, "iat", json_object_new_int64(now));
    json_object_object_add(c, "exp", json_object_new_int64(now + ttl));
    json_object_object_add(c, "session_id", json_object_new_string(session));
    if (email)
        json_object_object_add(c, "email", json_object_new_string(email));
    const char *claims =
        json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = malloc(OUT_MAX);
    int rc = out && claims ? jwtsign(alg, kid, key, claims, out, OUT_MAX) : -1;
    json_object_put(c);
    if (rc == 0)
        printf("%s\n", out);
    free(out);
    return rc == 0 ? 0 : 1;
}

static int cmd_jwks(int argc, char **argv)
{
    const char *files[MAX_KEYS], *kids[MAX_KEYS];
    int n = 0;
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--key") == 0) {
            if (n == MAX_KEYS) {
                fprintf(stderr, "lb-token: at most %d keys\n", MAX_KEYS);
                return 2;
            }
            files[n] = argv[i + 1];
            kids[n++] = NULL;
        } else if (strcmp(argv[i], "--kid") == 0 && n > 0 && !kids[n - 1]) {
            kids[n - 1] = argv[i + 1];
        } else {
            return usage();
        }
    }
    if (n == 0)
        return usage();
    for (int i = 0; i < n; i++)
        if (!kids[i])
            return usage();
    char *out = malloc(OUT_MAX);
    int rc = out ? jwtsign_jwks(files, kids, n, out, OUT_MAX) : -1;
    if (rc == 0)
        printf("%s\n", out);
    free(out);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sign") == 0)
        return cmd_sign(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "jwks") == 0)
        return cmd_jwks(argc - 2, argv + 2);
    return usage();
}
