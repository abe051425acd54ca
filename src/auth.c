/* auth: bearer credential -> principal, with per-worker caches so that the steady state costs
 * no key look-up and no signature check, only an empty query's round trip (below):
 * - keys: the key's SHA-256 -> its tenant (or the booking page). An entry is dropped when the
 *   database announces a change of that key on the leadbook_keys channel (sql/003's triggers:
 *   leadbookctl, plain SQL, the cascade from deleting its tenant), brought up to date before
 *   every lookup by one round trip that delivers whatever committed before the request.
 * - sign-in tokens: the token's SHA-256 -> its verified sub and exp (kept until exp; the
 *   signature is checked once) and the user's tenant. "No tenant yet" is never cached: the
 *   tenant may be created by another worker's POST /tenants a moment later.
 * Both are emptied whenever the connection was re-established (notifications may have been
 * missed meanwhile). If the connection is broken the caches cannot be trusted: the credential
 * is checked in the database (or the request gets 503), never accepted from a stale cache. */
#include "auth.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth_jwt.h"
#include "db.h"
#include "digest.h"
#include "log.h"
#include "metrics.h"
#include "store/keys.h"
#include "store/tenants.h"
#include "validate.h"

#define AUTH_KEY_SLOTS 1024  /* power of two */
#define AUTH_USER_SLOTS 1024 /* power of two */
#define KEY_PREFIX_LEN (sizeof STORE_KEY_PREFIX - 1)

struct key_entry {
    int used;
    unsigned char hash[LB_SHA256_LEN];
    struct store_key_ref ref;
};

struct user_entry {
    int used;
    unsigned char hash[LB_SHA256_LEN]; /* of the token text */
    long long exp;                     /* the token's exp (Unix seconds) */
    char sub[LB_USER_ID_MAX + 1];
    char tenant_id[37]; /* "" = not known yet (looked up on every request until found) */
};

struct lb_auth {
    unsigned long generation; /* lb_db_generation the entries were filled under */
    struct key_entry keys[AUTH_KEY_SLOTS];
    struct user_entry users[AUTH_USER_SLOTS];
};

struct lb_auth *lb_auth_new(void)
{
    return calloc(1, sizeof(struct lb_auth));
}

void lb_auth_free(struct lb_auth *auth)
{
    free(auth);
}

const char *lb_credential_name(enum lb_credential cred)
{
    switch (cred) {
    case LB_CRED_TENANT_KEY:
        return "key";
    case LB_CRED_USER:
        return "user";
    case LB_CRED_BOOKING_PAGE:
        return "booking_page";
    case LB_CRED_NONE:
        break;
    }
    return "-";
}

static void auth_flush(struct lb_auth *auth)
{
    memset(auth->keys, 0, sizeof auth->keys);
    memset(auth->users, 0, sizeof auth->users);
}

static void on_notify(void *ctx, const char *channel, const char *payload)
{
    struct lb_auth *auth = ctx;
    if (strcmp(channel, STORE_KEYS_CHANNEL) != 0)
        return;
    if (strcmp(payload, "all") == 0) {
        auth_flush(auth);
        return;
    }
    static const char tenant_prefix[] = "tenant:";
    if (strncmp(payload, tenant_prefix, sizeof tenant_prefix - 1) == 0) {
        /* a tenant deleted (its keys are announced one by one as well) or given to another
         * user: its users are looked up again */
        const char *tenant = payload + sizeof tenant_prefix - 1;
        for (size_t i = 0; i < AUTH_USER_SLOTS; i++)
            if (auth->users[i].used && strcmp(auth->users[i].tenant_id, tenant) == 0)
                auth->users[i].tenant_id[0] = '\0';
        return;
    }
    /* a key changed (revoked, deleted): drop that key */
    for (size_t i = 0; i < AUTH_KEY_SLOTS; i++)
        if (auth->keys[i].used && strcmp(auth->keys[i].ref.key_id, payload) == 0)
            memset(&auth->keys[i], 0, sizeof auth->keys[i]);
}

/* Entries filled under an earlier connection may have missed a revocation: drop them. */
static void auth_follow_generation(struct lb_auth *auth, struct lb_db *db)
{
    unsigned long gen = lb_db_generation(db);
    if (gen != auth->generation) {
        auth_flush(auth);
        auth->generation = gen;
    }
}

/* The connection that LISTENs: db_listen's when set (db may go through a transaction pooler),
 * else the worker's own. */
static struct lb_db *notify_db(struct lb_app *app)
{
    return app->listen ? app->listen : app->db;
}

/* Brings the caches up to date with every announcement committed before the request came:
 * one round trip on the LISTENing connection (lb_db_sync_notifications), so that a revocation
 * committed a moment ago, whose notification the server has not yet pushed to this worker,
 * still refuses the very next request (API.md "Authentication"; a non-blocking poll of what
 * had already arrived let a revoked key through for a few milliseconds under load). Returns 0
 * when the caches may be trusted, -1 when they were emptied because the connection is not (or
 * no longer) there. */
static int auth_sync(struct lb_auth *auth, struct lb_db *db)
{
    if (lb_db_sync_notifications(db, on_notify, auth) < 0) {
        auth_flush(auth);
        return -1;
    }
    auth_follow_generation(auth, db);
    return 0;
}

static size_t slot_of(const unsigned char *hash, size_t slots)
{
    return ((size_t)hash[0] | (size_t)hash[1] << 8) & (slots - 1);
}

static enum lb_auth_result check_key(struct lb_app *app, const char *key, int trusted,
                                     struct lb_principal *who)
{
    unsigned char hash[LB_SHA256_LEN];
    lb_sha256(key, strlen(key), hash);
    struct lb_auth *auth = app->auth;
    struct key_entry *e = &auth->keys[slot_of(hash, AUTH_KEY_SLOTS)];
    if (!trusted || !e->used || CRYPTO_memcmp(e->hash, hash, sizeof hash) != 0) {
        struct store_key_ref ref;
        enum lb_status st = store_key_lookup(app->db, hash, &ref);
        if (st == LB_NOT_FOUND)
            return LB_AUTH_INVALID;
        if (st != LB_OK)
            return LB_AUTH_UNAVAILABLE;
        /* the lookup may have reconnected: entries from before are flushed, this one is fresh */
        auth_follow_generation(auth, notify_db(app));
        e->used = 1;
        memcpy(e->hash, hash, sizeof hash);
        e->ref = ref;
    } else {
        lb_metrics_auth_cache_hit(e->ref.booking_page ? LB_CRED_BOOKING_PAGE : LB_CRED_TENANT_KEY);
    }
    who->cred = e->ref.booking_page ? LB_CRED_BOOKING_PAGE : LB_CRED_TENANT_KEY;
    memcpy(who->tenant_id, e->ref.tenant_id, sizeof who->tenant_id);
    memcpy(who->key_id, e->ref.key_id, sizeof who->key_id);
    return LB_AUTH_OK;
}

static enum lb_auth_result check_token(struct lb_app *app, const char *token, int trusted,
                                       struct lb_principal *who)
{
    if (!app->jwt)
        return LB_AUTH_INVALID; /* sign-in tokens are not configured */
    size_t len = strlen(token);
    unsigned char hash[LB_SHA256_LEN];
    lb_sha256(token, len, hash);
    long long now = (long long)time(NULL);
    struct lb_auth *auth = app->auth;
    struct user_entry *e = &auth->users[slot_of(hash, AUTH_USER_SLOTS)];
    struct user_entry got;
    if (trusted && e->used && CRYPTO_memcmp(e->hash, hash, sizeof hash) == 0) {
        if (now >= e->exp + LB_JWT_LEEWAY_S) {
            memset(e, 0, sizeof *e);
            return LB_AUTH_INVALID;
        }
        got = *e;
        lb_metrics_auth_cache_hit(LB_CRED_USER); /* no signature check */
    } else {
        struct lb_jwt_claims claims;
        enum lb_jwt_result r = lb_jwt_verify(app->jwt, token, len, now, &claims);
        if (r != LB_JWT_OK) {
            lb_log(LB_LOG_INFO, "token_refused", "reason=%s", lb_jwt_result_name(r));
            return LB_AUTH_INVALID;
        }
        memset(&got, 0, sizeof got);
        got.used = 1;
        memcpy(got.hash, hash, sizeof hash);
        got.exp = claims.exp;
        memcpy(got.sub, claims.sub, sizeof got.sub);
    }
    if (!got.tenant_id[0]) {
        enum lb_status st = store_tenant_of_user(app->db, got.sub, got.tenant_id);
        if (st != LB_OK && st != LB_NOT_FOUND)
            return LB_AUTH_UNAVAILABLE;
        /* the lookup may have reconnected: entries from before are flushed, this one is fresh */
        auth_follow_generation(auth, notify_db(app));
    }
    *e = got;
    who->cred = LB_CRED_USER;
    memcpy(who->user_id, got.sub, sizeof who->user_id);
    memcpy(who->tenant_id, got.tenant_id, sizeof who->tenant_id);
    return LB_AUTH_OK;
}

/* *kind: what the credential is, as far as it could be told (for the metrics). */
static enum lb_auth_result check_credential(struct lb_app *app, const char *authorization,
                                            struct lb_principal *who, enum lb_credential *kind)
{
    memset(who, 0, sizeof *who);
    if (!authorization || !*authorization)
        return LB_AUTH_MISSING;
    char credential[LB_BEARER_KEY_MAX_LEN + 1];
    if (lb_auth_parse_bearer(authorization, credential, sizeof credential) != 0)
        return LB_AUTH_INVALID;
    int is_key = strncmp(credential, STORE_KEY_PREFIX, KEY_PREFIX_LEN) == 0;
    *kind = is_key ? LB_CRED_TENANT_KEY : LB_CRED_USER;
    if (!app->db || !app->auth) {
        OPENSSL_cleanse(credential, strlen(credential));
        return LB_AUTH_UNAVAILABLE;
    }
    int trusted = auth_sync(app->auth, notify_db(app)) == 0;
    enum lb_auth_result r = is_key ? check_key(app, credential, trusted, who)
                                   : check_token(app, credential, trusted, who);
    OPENSSL_cleanse(credential, strlen(credential));
    if (r != LB_AUTH_OK)
        memset(who, 0, sizeof *who);
    return r;
}

enum lb_auth_result lb_auth_check(struct lb_app *app, const char *authorization,
                                  struct lb_principal *who)
{
    enum lb_credential kind = LB_CRED_NONE;
    enum lb_auth_result r = check_credential(app, authorization, who, &kind);
    /* a key is a booking-page key only once it was found */
    lb_metrics_auth_check(r == LB_AUTH_OK ? who->cred : kind, r);
    return r;
}
