/* auth: bearer key -> tenant. The key's SHA-256 is looked up in a per-worker cache, so the
 * steady state costs no database round trip; the cache is emptied when a revocation is
 * announced on the leadbook_keys channel (checked without blocking before every lookup) and
 * whenever the connection was re-established (notifications may have been missed meanwhile).
 * If the connection is broken the cache cannot be trusted: the key is checked in the database
 * (or the request gets 503), never accepted from a stale cache. */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "digest.h"
#include "store/keys.h"
#include "validate.h"

#define AUTH_CACHE_SLOTS 1024 /* power of two */

struct auth_entry {
    int used;
    unsigned char hash[LB_SHA256_LEN];
    struct store_key_ref ref;
};

struct lb_auth {
    unsigned long generation; /* lb_db_generation the entries were filled under */
    struct auth_entry slots[AUTH_CACHE_SLOTS];
};

struct lb_auth *lb_auth_new(void)
{
    return calloc(1, sizeof(struct lb_auth));
}

void lb_auth_free(struct lb_auth *auth)
{
    free(auth);
}

static void auth_flush(struct lb_auth *auth)
{
    memset(auth->slots, 0, sizeof auth->slots);
}

/* Compares two hashes in time independent of where they differ. */
static int hash_equal(const unsigned char *a, const unsigned char *b)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < LB_SHA256_LEN; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static void on_notify(void *ctx, const char *channel, const char *payload)
{
    struct lb_auth *auth = ctx;
    if (strcmp(channel, STORE_KEYS_CHANNEL) != 0)
        return;
    /* a revocation names the key id: drop that key */
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
        if (auth->slots[i].used && strcmp(auth->slots[i].ref.key_id, payload) == 0)
            memset(&auth->slots[i], 0, sizeof auth->slots[i]);
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

/* Brings the cache up to date with the database's announcements. Returns 0 when the cache may
 * be trusted, -1 when it was emptied because the connection is not (or no longer) there. */
static int auth_sync(struct lb_auth *auth, struct lb_db *db)
{
    if (lb_db_poll_notifications(db, on_notify, auth) < 0) {
        auth_flush(auth);
        return -1;
    }
    auth_follow_generation(auth, db);
    return 0;
}

enum lb_auth_result lb_auth_check(struct lb_app *app, const char *authorization, char tenant_id[37],
                                  char key_id[37])
{
    tenant_id[0] = key_id[0] = '\0';
    if (!authorization || !*authorization)
        return LB_AUTH_MISSING;
    char key[LB_BEARER_KEY_MAX_LEN + 1];
    if (lb_auth_parse_bearer(authorization, key, sizeof key) != 0)
        return LB_AUTH_INVALID;
    if (!app->db || !app->auth)
        return LB_AUTH_UNAVAILABLE;

    unsigned char hash[LB_SHA256_LEN];
    lb_sha256(key, strlen(key), hash);
    memset(key, 0, sizeof key);

    struct lb_auth *auth = app->auth;
    size_t slot = ((size_t)hash[0] | (size_t)hash[1] << 8) & (AUTH_CACHE_SLOTS - 1);
    if (auth_sync(auth, app->db) == 0 && auth->slots[slot].used &&
        hash_equal(auth->slots[slot].hash, hash)) {
        memcpy(tenant_id, auth->slots[slot].ref.tenant_id, 37);
        memcpy(key_id, auth->slots[slot].ref.key_id, 37);
        return LB_AUTH_OK;
    }

    struct store_key_ref ref;
    enum lb_status st = store_key_lookup(app->db, hash, &ref);
    if (st == LB_NOT_FOUND)
        return LB_AUTH_INVALID;
    if (st != LB_OK)
        return LB_AUTH_UNAVAILABLE;
    /* the lookup may have reconnected: entries from before are flushed, this one is fresh */
    auth_follow_generation(auth, app->db);
    auth->slots[slot].used = 1;
    memcpy(auth->slots[slot].hash, hash, sizeof hash);
    auth->slots[slot].ref = ref;
    memcpy(tenant_id, ref.tenant_id, 37);
    memcpy(key_id, ref.key_id, 37);
    return LB_AUTH_OK;
}
