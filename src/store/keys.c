/* store/keys: SQL for API keys, and the generation of key text. */
#include "store/keys.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base64url.h"
#include "digest.h"
#include "log.h"
#include "store/sqljson.h"
#include "store/util.h"

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */

#define SQL_KEY_JSON(k, revoked)                                                               \
    "json_build_object('id', " k ".id, 'tenantId', " k ".tenant_id, 'scope', " k ".scope, "    \
    "'label', " k ".label, "                                                                   \
    "'createdAt', " SQL_TS(k ".created_at") ", 'revokedAt', " SQL_TS(revoked) ")"

enum { KEY_CREATE, KEY_CREATE_BOOKING_PAGE, KEY_REVOKE, KEY_LIST, KEY_LIST_BOOKING_PAGE, KEY_LOOKUP };

static const struct lb_db_stmt stmts[] = {
    [KEY_CREATE] = {"key_create",
                    "INSERT INTO api_keys (tenant_id, key_hash, label) "
                    "VALUES ($1, decode($2, 'hex'), COALESCE($3, '')) RETURNING id",
                    3},
    [KEY_CREATE_BOOKING_PAGE] = {"key_create_booking_page",
                    "INSERT INTO api_keys (tenant_id, scope, key_hash, label) "
                    "VALUES (NULL, 'booking_page', decode($1, 'hex'), COALESCE($2, '')) RETURNING id",
                    2},
    /* Lock and revoke unless already revoked; the workers hear of it from the api_keys_notify
     * trigger (sql/003), in the same transaction, so only if the revocation commits. */
    [KEY_REVOKE] = {"key_revoke",
                    "WITH k AS (SELECT * FROM api_keys WHERE id = $1 FOR UPDATE), "
                    "r AS (UPDATE api_keys a SET revoked_at = now() FROM k "
                    "      WHERE a.id = k.id AND k.revoked_at IS NULL RETURNING a.id, a.revoked_at) "
                    "SELECT " SQL_KEY_JSON("k", "COALESCE(r.revoked_at, k.revoked_at)") " "
                    "FROM k LEFT JOIN r ON r.id = k.id",
                    1},
    [KEY_LIST] = {"key_list",
                  "SELECT COALESCE((SELECT json_agg(" SQL_KEY_JSON("k", "k.revoked_at")
                  " ORDER BY k.created_at DESC, k.id DESC) FROM api_keys k "
                  "WHERE k.tenant_id = t.id), '[]'::json) FROM tenants t WHERE t.id = $1",
                  1},
    [KEY_LIST_BOOKING_PAGE] = {"key_list_booking_page",
                  "SELECT COALESCE(json_agg(" SQL_KEY_JSON("k", "k.revoked_at")
                  " ORDER BY k.created_at DESC, k.id DESC), '[]'::json) FROM api_keys k "
                  "WHERE k.scope = 'booking_page'",
                  0},
    [KEY_LOOKUP] = {"key_lookup",
                    "SELECT COALESCE(tenant_id::text, ''), id, scope = 'booking_page' FROM api_keys "
                    "WHERE key_hash = decode($1, 'hex') AND revoked_at IS NULL",
                    1},
};
/* clang-format on */

const struct lb_db_stmt_set store_keys_statements = {stmts, sizeof stmts / sizeof stmts[0]};

/* Fills buf with len bytes from the kernel's CSPRNG; -1 if it cannot. */
static int random_bytes(unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0)
            return -1; /* EINTR cannot happen for <= 256 bytes from an initialised pool */
        got += (size_t)n;
    }
    return 0;
}

/* tenant_id NULL: a booking-page key. */
static enum lb_status key_create(struct lb_db *db, const char *tenant_id, const char *label,
                                 struct lb_buf *out)
{
    unsigned char secret[32], hash[LB_SHA256_LEN];
    char key[STORE_KEY_TEXT_LEN + 2], hash_hex[2 * LB_SHA256_LEN + 1];
    if (random_bytes(secret, sizeof secret) != 0) {
        lb_log(LB_LOG_ERROR, "key_random_failed", "tenant=%s", tenant_id ? tenant_id : "-");
        return LB_INTERNAL;
    }
    memcpy(key, STORE_KEY_PREFIX, sizeof STORE_KEY_PREFIX - 1);
    lb_base64url_encode(secret, sizeof secret, key + sizeof STORE_KEY_PREFIX - 1,
                        sizeof key - (sizeof STORE_KEY_PREFIX - 1));
    lb_sha256(key, strlen(key), hash);
    lb_hex(hash, sizeof hash, hash_hex);

    const char *v[] = {tenant_id, hash_hex, label};
    PGresult *res;
    enum lb_status s = tenant_id ? lb_db_exec(db, &stmts[KEY_CREATE], 3, v, &res)
                                 : lb_db_exec(db, &stmts[KEY_CREATE_BOOKING_PAGE], 2, v + 1, &res);
    if (s != LB_OK)
        return s;
    /* Built here rather than in SQL so that the key text never reaches the server. */
    if (lb_buf_puts(out, "{\"id\":") != 0 || lb_buf_json_string(out, PQgetvalue(res, 0, 0)) != 0 ||
        lb_buf_puts(out, ",\"key\":") != 0 || lb_buf_json_string(out, key) != 0 ||
        lb_buf_putc(out, '}') != 0)
        s = LB_INTERNAL;
    PQclear(res);
    memset(key, 0, sizeof key);
    memset(secret, 0, sizeof secret);
    return s;
}

enum lb_status store_key_create(struct lb_db *db, const char *tenant_id, const char *label,
                                struct lb_buf *out)
{
    return key_create(db, tenant_id, label, out);
}

enum lb_status store_key_create_booking_page(struct lb_db *db, const char *label,
                                             struct lb_buf *out)
{
    return key_create(db, NULL, label, out);
}

enum lb_status store_key_revoke(struct lb_db *db, const char *key_id, struct lb_buf *out)
{
    const char *v[] = {key_id};
    return store_exec_json(db, &stmts[KEY_REVOKE], 1, v, out);
}

enum lb_status store_key_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    const char *v[] = {tenant_id};
    return store_exec_json(db, &stmts[KEY_LIST], 1, v, out);
}

enum lb_status store_key_list_booking_page(struct lb_db *db, struct lb_buf *out)
{
    return store_exec_json(db, &stmts[KEY_LIST_BOOKING_PAGE], 0, NULL, out);
}

enum lb_status store_key_lookup(struct lb_db *db, const unsigned char hash[LB_SHA256_LEN],
                                struct store_key_ref *ref)
{
    char hash_hex[2 * LB_SHA256_LEN + 1];
    lb_hex(hash, LB_SHA256_LEN, hash_hex);
    const char *v[] = {hash_hex};
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[KEY_LOOKUP], 1, v, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1) {
        s = LB_NOT_FOUND;
    } else {
        snprintf(ref->tenant_id, sizeof ref->tenant_id, "%s", PQgetvalue(res, 0, 0));
        snprintf(ref->key_id, sizeof ref->key_id, "%s", PQgetvalue(res, 0, 1));
        ref->booking_page = PQgetvalue(res, 0, 2)[0] == 't';
    }
    PQclear(res);
    return s;
}
