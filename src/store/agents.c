/* store/agents: SQL for agents. */
#include "store/agents.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "store/sqlidem.h"
#include "store/sqljson.h"
#include "store/util.h"

enum {
    AGENT_CREATE,
    AGENT_LIST,
    AGENT_GET,
    AGENT_BY_LINK,
    AGENT_BY_LINK_ANY_TENANT,
    AGENT_UPDATE,
    AGENT_DELETE,
    AGENT_CREATE_IDEM,
    AGENT_UPDATE_IDEM,
    AGENT_PURGE_BATCH,
    AGENT_PURGE_DONE
};

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */
#define SQL_AGENT_SET                                                                          \
    "name = COALESCE($3, a.name), knowledge = COALESCE($4, a.knowledge), "                     \
    "link_expiry_hours = COALESCE($5::int, a.link_expiry_hours), updated_at = now() "

static const struct lb_db_stmt stmts[] = {
    [AGENT_CREATE] = {"agent_create",
                      "INSERT INTO agents AS a (tenant_id, name, knowledge, link_expiry_hours) "
                      "VALUES ($1, $2, $3, COALESCE($4::int, 24)) RETURNING " SQL_AGENT_JSON("a"),
                      4},
    [AGENT_LIST] = {"agent_list",
                    "SELECT COALESCE(json_agg(" SQL_AGENT_JSON("a")
                    " ORDER BY a.created_at DESC, a.id DESC), '[]'::json) "
                    "FROM agents a WHERE a.tenant_id = $1",
                    1},
    [AGENT_GET] = {"agent_get",
                   "SELECT " SQL_AGENT_JSON("a") " FROM agents a "
                   "WHERE a.tenant_id = $1 AND a.id = $2",
                   2},
    [AGENT_BY_LINK] = {"agent_by_link",
                       "SELECT " SQL_AGENT_JSON("a") " FROM agents a "
                       "WHERE a.public_link = $2 AND a.tenant_id = $1",
                       2},
    /* The booking page's key belongs to no tenant: the public link names the agent. */
    [AGENT_BY_LINK_ANY_TENANT] = {"agent_by_link_any_tenant",
                       "SELECT " SQL_AGENT_JSON("a") " FROM agents a WHERE a.public_link = $1",
                       1},
    [AGENT_UPDATE] = {"agent_update",
                      "UPDATE agents AS a SET " SQL_AGENT_SET
                      "WHERE a.tenant_id = $1 AND a.id = $2 RETURNING " SQL_AGENT_JSON("a"),
                      5},
    [AGENT_DELETE] = {"agent_delete",
                      "DELETE FROM agents WHERE tenant_id = $1 AND id = $2 RETURNING id", 2},
    /* With an Idempotency-Key (store/idempotency.h). */
    [AGENT_CREATE_IDEM] = {"agent_create_idem",
                      "WITH " SQL_IDEM_HEAD("$5", "$6") ", "
                      "a AS (INSERT INTO agents (tenant_id, name, knowledge, link_expiry_hours) "
                      "      SELECT $1, $2, $3, COALESCE($4::int, 24) "
                      "      WHERE true" SQL_IDEM_GUARD " RETURNING *), "
                      "idem_resp AS (SELECT 201 AS status, " SQL_AGENT_JSON("a") "::text AS body "
                      "              FROM a)"
                      SQL_IDEM_TAIL("$5", "$6", "$7"),
                      7},
    [AGENT_UPDATE_IDEM] = {"agent_update_idem",
                      "WITH " SQL_IDEM_HEAD("$6", "$7") ", "
                      "u AS (UPDATE agents AS a SET " SQL_AGENT_SET
                      "      WHERE a.tenant_id = $1 AND a.id = $2" SQL_IDEM_GUARD " RETURNING a.*), "
                      "idem_resp AS (SELECT 200 AS status, " SQL_AGENT_JSON("u") "::text AS body "
                      "              FROM u UNION ALL SELECT 404, $9 "
                      "              WHERE NOT EXISTS (SELECT 1 FROM u))"
                      SQL_IDEM_TAIL("$6", "$7", "$8"),
                      9},
    /* A batch of a deleted agent's rows (sql/007_agent_delete.sql): the oldest deletion that
     * still has leads (or bookings moved to it), locked so that purgers on other hosts take
     * other agents; its leads by the (tenant_id, agent_id, ...) index, each deleted with its
     * bookings and history by the cascades; once no lead is left, bookings that name the
     * agent under another agent's lead. */
    [AGENT_PURGE_BATCH] = {"agent_purge_batch",
                      "WITH d AS (SELECT tenant_id, agent_id FROM agent_deletions d "
                      "           WHERE EXISTS (SELECT 1 FROM leads l WHERE l.tenant_id = d.tenant_id "
                      "                         AND l.agent_id = d.agent_id) "
                      "              OR EXISTS (SELECT 1 FROM bookings b WHERE b.tenant_id = d.tenant_id "
                      "                         AND b.agent_id = d.agent_id) "
                      "           ORDER BY deleted_at LIMIT 1 FOR UPDATE SKIP LOCKED), "
                      "dl AS (DELETE FROM leads WHERE tenant_id = (SELECT tenant_id FROM d) "
                      "       AND id = ANY (ARRAY(SELECT l.id FROM leads l, d "
                      "                           WHERE l.tenant_id = d.tenant_id "
                      "                             AND l.agent_id = d.agent_id LIMIT $1::int)) "
                      "       RETURNING 1), "
                      "db AS (DELETE FROM bookings WHERE tenant_id = (SELECT tenant_id FROM d) "
                      "       AND NOT EXISTS (SELECT 1 FROM leads l, d WHERE l.tenant_id = d.tenant_id "
                      "                       AND l.agent_id = d.agent_id) "
                      "       AND id = ANY (ARRAY(SELECT b.id FROM bookings b, d "
                      "                           WHERE b.tenant_id = d.tenant_id "
                      "                             AND b.agent_id = d.agent_id LIMIT $1::int)) "
                      "       RETURNING 1) "
                      "SELECT (SELECT count(*) FROM dl) + (SELECT count(*) FROM db)",
                      1},
    /* A deletion is forgotten an hour after its last row is gone (a write that read the agent
     * just before the deletion may commit just after it; statements are bounded far below). */
    [AGENT_PURGE_DONE] = {"agent_purge_done",
                      "DELETE FROM agent_deletions d WHERE deleted_at < now() - interval '1 hour' "
                      "AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.tenant_id = d.tenant_id "
                      "                AND l.agent_id = d.agent_id) "
                      "AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.tenant_id = d.tenant_id "
                      "                AND b.agent_id = d.agent_id)",
                      0},
};
/* clang-format on */

const struct lb_db_stmt_set store_agents_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_agent_create(struct lb_db *db, const char *tenant_id, const char *name,
                                  const char *knowledge, int link_expiry_hours, struct lb_buf *out)
{
    char hours[16];
    snprintf(hours, sizeof hours, "%d", link_expiry_hours);
    const char *v[] = {tenant_id, name, knowledge, link_expiry_hours ? hours : NULL};
    return store_exec_json(db, &stmts[AGENT_CREATE], 4, v, out);
}

enum lb_status store_agent_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    const char *v[] = {tenant_id};
    return store_exec_json(db, &stmts[AGENT_LIST], 1, v, out);
}

enum lb_status store_agent_get(struct lb_db *db, const char *tenant_id, const char *agent_id,
                               struct lb_buf *out)
{
    const char *v[] = {tenant_id, agent_id};
    return store_exec_json(db, &stmts[AGENT_GET], 2, v, out);
}

enum lb_status store_agent_by_link(struct lb_db *db, const char *tenant_id, const char *public_link,
                                   struct lb_buf *out)
{
    const char *v[] = {tenant_id, public_link};
    return store_exec_json(db, &stmts[AGENT_BY_LINK], 2, v, out);
}

enum lb_status store_agent_by_link_for_booking_page(struct lb_db *db, const char *public_link,
                                                    struct lb_buf *out)
{
    const char *v[] = {public_link};
    return store_exec_json(db, &stmts[AGENT_BY_LINK_ANY_TENANT], 1, v, out);
}

enum lb_status store_agent_update(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                  const char *name, const char *knowledge, int link_expiry_hours,
                                  struct lb_buf *out)
{
    char hours[16];
    snprintf(hours, sizeof hours, "%d", link_expiry_hours);
    const char *v[] = {tenant_id, agent_id, name, knowledge, link_expiry_hours >= 0 ? hours : NULL};
    return store_exec_json(db, &stmts[AGENT_UPDATE], 5, v, out);
}

enum lb_status store_agent_delete(struct lb_db *db, const char *tenant_id, const char *agent_id)
{
    const char *v[] = {tenant_id, agent_id};
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[AGENT_DELETE], 2, v, &res);
    if (s != LB_OK)
        return s;
    s = PQntuples(res) == 1 ? LB_OK : LB_NOT_FOUND;
    PQclear(res);
    return s;
}

enum lb_status store_agent_create_idem(struct lb_db *db, const char *tenant_id, const char *name,
                                       const char *knowledge, int link_expiry_hours,
                                       struct store_idem *idem, struct lb_buf *out)
{
    char hours[16];
    snprintf(hours, sizeof hours, "%d", link_expiry_hours);
    const char *v[] = {tenant_id,   name,      knowledge,        link_expiry_hours ? hours : NULL,
                       idem->scope, idem->key, idem->fingerprint};
    return store_idem_exec(db, &stmts[AGENT_CREATE_IDEM], 7, v, idem, out);
}

enum lb_status store_agent_update_idem(struct lb_db *db, const char *tenant_id,
                                       const char *agent_id, const char *name,
                                       const char *knowledge, int link_expiry_hours,
                                       struct store_idem *idem, struct lb_buf *out)
{
    char hours[16];
    snprintf(hours, sizeof hours, "%d", link_expiry_hours);
    const char *v[] = {tenant_id,
                       agent_id,
                       name,
                       knowledge,
                       link_expiry_hours >= 0 ? hours : NULL,
                       idem->scope,
                       idem->key,
                       idem->fingerprint,
                       idem->not_found};
    return store_idem_exec(db, &stmts[AGENT_UPDATE_IDEM], 9, v, idem, out);
}

enum lb_status store_agent_purge_deleted(struct lb_db *db, int batch, double budget_s, long *rows,
                                         int *more)
{
    char b[16];
    snprintf(b, sizeof b, "%d", batch);
    const char *v[] = {b};
    int64_t until = lb_monotonic_us() + (int64_t)(budget_s * 1e6);
    *rows = 0;
    *more = 0;
    for (;;) {
        PGresult *res;
        enum lb_status s = lb_db_exec(db, &stmts[AGENT_PURGE_BATCH], 1, v, &res);
        if (s != LB_OK)
            return s;
        long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        *rows += n;
        if (n == 0)
            break;
        if (lb_monotonic_us() >= until) {
            *more = 1;
            return LB_OK;
        }
    }
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[AGENT_PURGE_DONE], 0, NULL, &res);
    if (s == LB_OK)
        PQclear(res);
    return s;
}
