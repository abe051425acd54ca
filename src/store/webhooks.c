/* store/webhooks: SQL for webhook endpoints and their delivery attempts. */
#include "store/webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/sqlidem.h"
#include "store/sqljson.h"
#include "store/util.h"

enum {
    WEBHOOK_CREATE,
    WEBHOOK_LIST,
    WEBHOOK_GET,
    WEBHOOK_UPDATE,
    WEBHOOK_DELETE,
    WEBHOOK_ROTATE,
    WEBHOOK_DELIVERIES,
    WEBHOOK_CREATE_IDEM,
    WEBHOOK_UPDATE_IDEM,
    WEBHOOK_ROTATE_IDEM,
    WEBHOOK_PURGE_DELIVERIES,
    WEBHOOK_PURGE_EVENTS
};

/* Rows the purge deletes per statement: bounds one transaction's locks and WAL. */
#define WEBHOOK_PURGE_BATCH 5000

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */
/* The answer of POST /webhooks: the only view with the secret. */
#define SQL_WEBHOOK_CREATED_JSON(w)                                                            \
    "json_build_object('id', " w ".id, 'url', " w ".url, 'events', " w ".events, "             \
    "'description', " w ".description, 'secret', " w ".secret, 'enabled', " w ".enabled, "     \
    "'createdAt', " SQL_TS(w ".created_at") ")"

/* Every other view of an endpoint: never a secret; previousSecretExpiresAt only while the old
 * secret still signs. */
#define SQL_WEBHOOK_JSON(w)                                                                    \
    "json_build_object('id', " w ".id, 'url', " w ".url, 'events', " w ".events, "             \
    "'description', " w ".description, 'enabled', " w ".enabled, "                            \
    "'createdAt', " SQL_TS(w ".created_at") ", 'updatedAt', " SQL_TS(w ".updated_at") ", "     \
    "'disabledReason', " w ".disabled_reason, 'failingSince', " SQL_TS(w ".failing_since") ", " \
    "'previousSecretExpiresAt', " SQL_TS("CASE WHEN " w ".previous_secret_expires_at > now() " \
                                         "THEN " w ".previous_secret_expires_at END") ")"

#define SQL_WEBHOOK_ROTATED_JSON(w)                                                            \
    "json_build_object('secret', " w ".secret, "                                               \
    "'previousSecretExpiresAt', " SQL_TS(w ".previous_secret_expires_at") ")"

/* p: a delivery row with its event's type */
#define SQL_DELIVERY_JSON(p)                                                                   \
    "json_build_object('id', " p ".id, 'eventId', " p ".event_id, 'event', " p ".type, "       \
    "'attempt', " p ".attempt, 'status', " p ".status, 'responseStatus', " p ".response_status, " \
    "'error', " p ".error, 'createdAt', " SQL_TS(p ".created_at") ", "                         \
    "'nextAttemptAt', " SQL_TS(p ".next_attempt_at") ", "                                      \
    "'deliveredAt', " SQL_TS(p ".delivered_at") ")"

#define SQL_WEBHOOK_INSERT                                                                     \
    "INSERT INTO webhook_endpoints (tenant_id, url, events, description, secret) "

/* $3 url, $4 events, $5 description, $6 enabled; NULL = unchanged. Enabling a disabled
 * endpoint clears why it was disabled and its run of failures; so does a new url. */
#define SQL_WEBHOOK_SET                                                                        \
    "url = COALESCE($3::text, w.url), events = COALESCE($4::text[], w.events), "               \
    "description = COALESCE($5::text, w.description), "                                        \
    "enabled = COALESCE($6::boolean, w.enabled), "                                             \
    "disabled_reason = CASE WHEN $6::boolean AND NOT w.enabled THEN NULL "                     \
    "                       ELSE w.disabled_reason END, "                                      \
    "failing_since = CASE WHEN ($6::boolean AND NOT w.enabled) OR $3::text <> w.url THEN NULL " \
    "                     ELSE w.failing_since END, "                                          \
    "updated_at = now() "

/* The old secret moves to previous_secret for 24 hours (SET reads the row as it was). */
#define SQL_WEBHOOK_ROTATE_SET                                                                 \
    "previous_secret = w.secret, previous_secret_expires_at = now() + interval '24 hours', "   \
    "secret = $3, updated_at = now() "

static const struct lb_db_stmt stmts[] = {
    [WEBHOOK_CREATE] = {"webhook_create",
                        "INSERT INTO webhook_endpoints AS w (tenant_id, url, events, description, "
                        "secret) VALUES ($1, $2, $3::text[], COALESCE($4::text, ''), $5) "
                        "RETURNING " SQL_WEBHOOK_CREATED_JSON("w"),
                        5},
    [WEBHOOK_LIST] = {"webhook_list",
                      "SELECT COALESCE(json_agg(" SQL_WEBHOOK_JSON("w")
                      " ORDER BY w.created_at DESC, w.id DESC), '[]'::json) "
                      "FROM webhook_endpoints w WHERE w.tenant_id = $1",
                      1},
    [WEBHOOK_GET] = {"webhook_get",
                     "SELECT " SQL_WEBHOOK_JSON("w") " FROM webhook_endpoints w "
                     "WHERE w.tenant_id = $1 AND w.id = $2",
                     2},
    [WEBHOOK_UPDATE] = {"webhook_update",
                        "UPDATE webhook_endpoints AS w SET " SQL_WEBHOOK_SET
                        "WHERE w.tenant_id = $1 AND w.id = $2 RETURNING " SQL_WEBHOOK_JSON("w"),
                        6},
    [WEBHOOK_DELETE] = {"webhook_delete",
                        "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 "
                        "RETURNING id",
                        2},
    [WEBHOOK_ROTATE] = {"webhook_rotate",
                        "UPDATE webhook_endpoints AS w SET " SQL_WEBHOOK_ROTATE_SET
                        "WHERE w.tenant_id = $1 AND w.id = $2 "
                        "RETURNING " SQL_WEBHOOK_ROTATED_JSON("w"),
                        3},
    /* A page as GET /leads makes one (store/leads.c): limit + 1 rows in the index's order
     * (webhook_deliveries_endpoint), the extra one only says that more follow. No endpoint in
     * the tenant: a NULL array (LB_NOT_FOUND). */
    [WEBHOOK_DELIVERIES] = {"webhook_deliveries",
        "WITH ep AS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2), "
        "page AS (SELECT d.*, e.type, "
        "           row_number() OVER (ORDER BY d.created_at DESC, d.id DESC) AS rn "
        "  FROM webhook_deliveries d "
        "  JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id "
        "  WHERE d.tenant_id = $1 AND d.endpoint_id = $2 "
        "  AND (d.created_at, d.id) < (COALESCE('epoch'::timestamptz + $3::bigint * interval "
        "'1 microsecond', 'infinity'), COALESCE($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')) "
        "  ORDER BY d.created_at DESC, d.id DESC LIMIT $5::int + 1) "
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM ep) THEN "
        "         COALESCE(json_agg(" SQL_DELIVERY_JSON("p") " ORDER BY p.rn) "
        "                  FILTER (WHERE p.rn <= $5::int), '[]'::json) END, "
        "  count(*) > $5::int, "
        "  max((extract(epoch FROM p.created_at) * 1000000)::bigint) FILTER (WHERE p.rn = $5::int), "
        "  max(p.id::text) FILTER (WHERE p.rn = $5::int) "
        "FROM page p",
        5},
    /* With an Idempotency-Key (store/idempotency.h). */
    [WEBHOOK_CREATE_IDEM] = {"webhook_create_idem",
        "WITH " SQL_IDEM_HEAD("$6", "$7") ", "
        "w AS (" SQL_WEBHOOK_INSERT
        "      SELECT $1, $2, $3::text[], COALESCE($4::text, ''), $5 "
        "      WHERE true" SQL_IDEM_GUARD " RETURNING *), "
        "idem_resp AS (SELECT 201 AS status, " SQL_WEBHOOK_CREATED_JSON("w") "::text AS body "
        "              FROM w)"
        SQL_IDEM_TAIL("$6", "$7", "$8"),
        8},
    [WEBHOOK_UPDATE_IDEM] = {"webhook_update_idem",
        "WITH " SQL_IDEM_HEAD("$7", "$8") ", "
        "u AS (UPDATE webhook_endpoints AS w SET " SQL_WEBHOOK_SET
        "      WHERE w.tenant_id = $1 AND w.id = $2" SQL_IDEM_GUARD " RETURNING w.*), "
        "idem_resp AS (SELECT 200 AS status, " SQL_WEBHOOK_JSON("u") "::text AS body "
        "              FROM u UNION ALL SELECT 404, $10 "
        "              WHERE NOT EXISTS (SELECT 1 FROM u))"
        SQL_IDEM_TAIL("$7", "$8", "$9"),
        10},
    [WEBHOOK_ROTATE_IDEM] = {"webhook_rotate_idem",
        "WITH " SQL_IDEM_HEAD("$4", "$5") ", "
        "u AS (UPDATE webhook_endpoints AS w SET " SQL_WEBHOOK_ROTATE_SET
        "      WHERE w.tenant_id = $1 AND w.id = $2" SQL_IDEM_GUARD " RETURNING w.*), "
        "idem_resp AS (SELECT 200 AS status, " SQL_WEBHOOK_ROTATED_JSON("u") "::text AS body "
        "              FROM u UNION ALL SELECT 404, $7 "
        "              WHERE NOT EXISTS (SELECT 1 FROM u))"
        SQL_IDEM_TAIL("$4", "$5", "$6"),
        7},
    /* leadbookctl purge: delivery attempts older than 30 days (finished ones; a pending one is
     * the deliverer's), then the events none refers to any more. SKIP LOCKED: several hosts
     * may purge at once. */
    [WEBHOOK_PURGE_DELIVERIES] = {"webhook_purge_deliveries",
                                  "WITH old AS (SELECT id FROM webhook_deliveries "
                                  "  WHERE created_at < now() - interval '30 days' "
                                  "  AND status <> 'pending' LIMIT $1::int FOR UPDATE SKIP LOCKED) "
                                  "DELETE FROM webhook_deliveries d USING old WHERE d.id = old.id",
                                  1},
    [WEBHOOK_PURGE_EVENTS] = {"webhook_purge_events",
                              "WITH old AS (SELECT id FROM webhook_events e "
                              "  WHERE created_at < now() - interval '30 days' AND NOT EXISTS "
                              "  (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) "
                              "  LIMIT $1::int FOR UPDATE SKIP LOCKED) "
                              "DELETE FROM webhook_events e USING old WHERE e.id = old.id",
                              1},
};
/* clang-format on */

const struct lb_db_stmt_set store_webhooks_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_webhook_create(struct lb_db *db, const char *tenant_id, const char *url,
                                    const char *events, const char *description, const char *secret,
                                    struct lb_buf *out)
{
    const char *v[] = {tenant_id, url, events, description, secret};
    return store_exec_json(db, &stmts[WEBHOOK_CREATE], 5, v, out);
}

enum lb_status store_webhook_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    const char *v[] = {tenant_id};
    return store_exec_json(db, &stmts[WEBHOOK_LIST], 1, v, out);
}

enum lb_status store_webhook_get(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                 struct lb_buf *out)
{
    const char *v[] = {tenant_id, webhook_id};
    return store_exec_json(db, &stmts[WEBHOOK_GET], 2, v, out);
}

static const char *enabled_param(int enabled)
{
    return enabled < 0 ? NULL : enabled ? "true" : "false";
}

enum lb_status store_webhook_update(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                    const char *url, const char *events, const char *description,
                                    int enabled, struct lb_buf *out)
{
    const char *v[] = {tenant_id, webhook_id, url, events, description, enabled_param(enabled)};
    return store_exec_json(db, &stmts[WEBHOOK_UPDATE], 6, v, out);
}

enum lb_status store_webhook_delete(struct lb_db *db, const char *tenant_id, const char *webhook_id)
{
    const char *v[] = {tenant_id, webhook_id};
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[WEBHOOK_DELETE], 2, v, &res);
    if (s != LB_OK)
        return s;
    s = PQntuples(res) == 1 ? LB_OK : LB_NOT_FOUND;
    PQclear(res);
    return s;
}

enum lb_status store_webhook_rotate(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                    const char *secret, struct lb_buf *out)
{
    const char *v[] = {tenant_id, webhook_id, secret};
    return store_exec_json(db, &stmts[WEBHOOK_ROTATE], 3, v, out);
}

enum lb_status store_webhook_create_idem(struct lb_db *db, const char *tenant_id, const char *url,
                                         const char *events, const char *description,
                                         const char *secret, struct store_idem *idem,
                                         struct lb_buf *out)
{
    const char *v[] = {tenant_id, url,         events,    description,
                       secret,    idem->scope, idem->key, idem->fingerprint};
    return store_idem_exec(db, &stmts[WEBHOOK_CREATE_IDEM], 8, v, idem, out);
}

enum lb_status store_webhook_update_idem(struct lb_db *db, const char *tenant_id,
                                         const char *webhook_id, const char *url,
                                         const char *events, const char *description, int enabled,
                                         struct store_idem *idem, struct lb_buf *out)
{
    const char *v[] = {tenant_id,      webhook_id,  url,
                       events,         description, enabled_param(enabled),
                       idem->scope,    idem->key,   idem->fingerprint,
                       idem->not_found};
    return store_idem_exec(db, &stmts[WEBHOOK_UPDATE_IDEM], 10, v, idem, out);
}

enum lb_status store_webhook_rotate_idem(struct lb_db *db, const char *tenant_id,
                                         const char *webhook_id, const char *secret,
                                         struct store_idem *idem, struct lb_buf *out)
{
    const char *v[] = {tenant_id, webhook_id,        secret,         idem->scope,
                       idem->key, idem->fingerprint, idem->not_found};
    return store_idem_exec(db, &stmts[WEBHOOK_ROTATE_IDEM], 7, v, idem, out);
}

enum lb_status store_webhook_deliveries(struct lb_db *db, const char *tenant_id,
                                        const char *webhook_id, int limit,
                                        const struct store_cursor *after, struct store_cursor *next,
                                        int *has_more, struct lb_buf *out)
{
    *has_more = 0;
    if (limit < 1 || limit > 1000)
        return LB_INVALID;
    char us[24], lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    if (after)
        snprintf(us, sizeof us, "%" PRId64, after->created_us);
    const char *v[] = {tenant_id, webhook_id, after ? us : NULL, after ? after->id : NULL, lim};
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[WEBHOOK_DELIVERIES], 5, v, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return LB_NOT_FOUND;
    }
    s = store_append(out, PQgetvalue(res, 0, 0));
    if (s == LB_OK && PQgetvalue(res, 0, 1)[0] == 't' && !PQgetisnull(res, 0, 2)) {
        *has_more = 1;
        next->created_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        snprintf(next->id, sizeof next->id, "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    return s;
}

/* Runs a purge statement in batches until one deletes less than a batch. */
static enum lb_status purge_all(struct lb_db *db, const struct lb_db_stmt *stmt, long *count)
{
    char batch[16];
    snprintf(batch, sizeof batch, "%d", WEBHOOK_PURGE_BATCH);
    const char *v[] = {batch};
    *count = 0;
    for (;;) {
        PGresult *res;
        enum lb_status s = lb_db_exec(db, stmt, 1, v, &res);
        if (s != LB_OK)
            return s;
        long n = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        *count += n;
        if (n < WEBHOOK_PURGE_BATCH)
            return LB_OK;
    }
}

enum lb_status store_webhook_purge(struct lb_db *db, long *deliveries, long *events)
{
    *events = 0;
    enum lb_status s = purge_all(db, &stmts[WEBHOOK_PURGE_DELIVERIES], deliveries);
    return s == LB_OK ? purge_all(db, &stmts[WEBHOOK_PURGE_EVENTS], events) : s;
}
