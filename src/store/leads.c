/* store/leads: SQL for leads. The list and the statistics come in two prepared variants (whole
 * tenant / one agent) so that each has a plan that uses its own index, rather than one generic
 * plan with "agent_id = $2 OR $2 IS NULL" that can use neither well. */
#include "store/leads.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/leadjson.h"
#include "store/outbox_hint.h"
#include "store/sqlcount.h"
#include "store/sqlidem.h"
#include "store/sqljson.h"
#include "store/sqloutbox.h"
#include "store/sqlvisible.h"
#include "store/util.h"

enum {
    LEAD_CREATE,
    LEAD_CREATE_FOR_AGENT,
    LEAD_CREATE_OUTBOX,
    LEAD_CREATE_FOR_AGENT_OUTBOX,
    LEAD_CREATE_IDEM,
    LEAD_CREATE_FOR_AGENT_IDEM,
    LEAD_LIST,
    LEAD_LIST_AGENT,
    LEAD_GET,
    LEAD_STATS,
    LEAD_STATS_AGENT
};

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */
/* One statement: the agent must be in the tenant (else no row at all); the booking's insert
 * reads the lead's row from the CTE, so a failure anywhere rolls back both. It counts its own
 * lead and booking in the statistics counters (nl, nb; sqlcount.h), and a's SQL_COUNTED tells
 * the counting triggers of sql/002 to skip it. Two variants (outbox_hint.h): the quiet one
 * (mark SQL_QUIET, no outbox CTEs) leaves the event to the outbox trigger when the tenant has
 * an enabled endpoint; the outbox one (mark SQL_OUTBOX_OWN, outbox SQL_LEAD_OUTBOX) writes its
 * own booking.created event and deliveries (sqloutbox.h). guard is "" or SQL_IDEM_GUARD. */
#define SQL_LEAD_CREATE_CTES(agent_filter, guard, mark, outbox)                                \
    "a AS MATERIALIZED (SELECT tenant_id, id, name, link_expiry_hours, "                     \
    "      " SQL_COUNTED " AS counted, " mark " AS quiet "                                     \
    "      FROM agents WHERE " agent_filter guard "), "                                        \
    "l AS (INSERT INTO leads (tenant_id, agent_id, name, email, booked_at) "                   \
    "      SELECT a.tenant_id, a.id, $3, $4, now() FROM a RETURNING *), "                      \
    "b AS (INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, status, expires_at) " \
    "      SELECT l.tenant_id, l.id, l.agent_id, $5::timestamptz, 'PENDING', "                 \
    "             $5::timestamptz + a.link_expiry_hours * interval '1 hour' "                  \
    "      FROM l JOIN a ON a.id = l.agent_id RETURNING *), "                                  \
    "e AS (INSERT INTO booking_events (tenant_id, booking_id, from_status, to_status, key_id, " \
    "                                  actor, actor_id) "                                      \
    "      SELECT b.tenant_id, b.id, NULL, b.status, "                                         \
    "             CASE WHEN $6 = 'key' THEN $7::text::uuid END, $6, $7 FROM b), "           \
    "nl AS (" SQL_COUNT_LEADS("SELECT tenant_id, agent_id, 1 FROM l") "), "                  \
    "nb AS (" SQL_COUNT_BOOKINGS("SELECT tenant_id, agent_id, status, 1 FROM b") ") "        \
    outbox
#define SQL_LEAD_QUIET SQL_QUIET("agents.tenant_id")
#define SQL_LEAD_OUTBOX                                                                        \
    ", " SQL_OUTBOX("b ob_b JOIN l ob_l ON ob_l.id = ob_b.lead_id "                           \
                    "JOIN a ob_a ON ob_a.id = ob_b.agent_id", "'booking.created'", "NULL")
#define SQL_LEAD_CREATE_JSON                                                                   \
    "json_build_object('lead', " SQL_LEAD_JSON("l") ", 'booking', " SQL_BOOKING_JSON("b")      \
    ", 'meetingToken', b.meeting_token)"
/* Result: the answer's JSON, and whether the tenant has an enabled endpoint (the hint). */
#define SQL_LEAD_CREATE(agent_filter)                                                          \
    "WITH " SQL_LEAD_CREATE_CTES(agent_filter, "", SQL_LEAD_QUIET, "")                         \
    "SELECT " SQL_LEAD_CREATE_JSON ", a.quiet IS NULL FROM l JOIN b ON b.lead_id = l.id, a"
#define SQL_LEAD_CREATE_OUTBOX(agent_filter)                                                   \
    "WITH " SQL_LEAD_CREATE_CTES(agent_filter, "", SQL_OUTBOX_OWN, SQL_LEAD_OUTBOX)            \
    "SELECT " SQL_LEAD_CREATE_JSON ", " SQL_OUTBOX_HOOKED("a.tenant_id") " "                  \
    "FROM l JOIN b ON b.lead_id = l.id, a"
/* The same with an Idempotency-Key: $8 scope, $9 key, $10 fingerprint, $11 the 404 answer
 * (the quiet variant only). */
#define SQL_LEAD_CREATE_IDEM(agent_filter)                                                     \
    "WITH " SQL_IDEM_HEAD("$8", "$9") ", "                                                     \
    SQL_LEAD_CREATE_CTES(agent_filter, SQL_IDEM_GUARD, SQL_LEAD_QUIET, "")                     \
    ", idem_resp AS (SELECT 201 AS status, " SQL_LEAD_CREATE_JSON "::text AS body "            \
    "                FROM l JOIN b ON b.lead_id = l.id "                                       \
    "                UNION ALL SELECT 404, $11 WHERE NOT EXISTS (SELECT 1 FROM a))"            \
    SQL_IDEM_TAIL("$8", "$9", "$10")

/* A page: limit + 1 leads by the index order, each with its agent and bookings, one row per
 * booking (store/leadjson.h builds the JSON in leadbookd); the first `limit` leads are shown,
 * the extra one only says that more follow; the cursor is the key of the last lead shown. No
 * cursor = start above every key ('infinity'). */
#define SQL_LEAD_PAGE(filter)                                                                  \
    "SELECT " SQL_LEAD_ROW_COLS " "                                                            \
    "FROM (SELECT l.* FROM leads l WHERE l.tenant_id = $1 " filter SQL_AGENT_LIVE("l", "$1")  \
    "      AND (l.created_at, l.id) < (COALESCE('epoch'::timestamptz + $3::bigint * interval " \
    "'1 microsecond', 'infinity'), COALESCE($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')) " \
    "      ORDER BY l.created_at DESC, l.id DESC LIMIT $5::int + 1) p"                         \
    SQL_LEAD_ROW_JOINS                                                                         \
    "ORDER BY p.created_at DESC, p.id DESC, b.created_at, b.id"

/* Statistics per API.md: expired = EXPIRED, or PENDING/CONFIRMED with now() >= expiresAt
 * (COMPLETED/CANCELLED never); upcoming = PENDING, in the future and not expired;
 * conversionRate = completed * 100 / totalLeads rounded half up, in integers.
 * Not a scan of the tenant (sql/002_stats_counters.sql): the per-status counts come from the
 * counter tables; from the rows only the open bookings already due (index ranges bounded by
 * the expiry sweep):
 *   expired  = EXPIRED + open with expires_at <= now()  (then also scheduled_at < now(), as
 *              expires_at > scheduled_at: a range of the tenant's bookings_open_due, sql/006;
 *              "IS TRUE" keeps the sweep's cross-tenant index on expires_at out of it)
 *   upcoming = PENDING - PENDING with scheduled_at <= now()  (expires_at > scheduled_at, so a
 *              PENDING booking past expiry is also past its time) */
#define SQL_LEAD_STATS(filter)                                                                 \
    "WITH l AS (SELECT COALESCE(sum(n), 0)::bigint AS n FROM stats_lead_counts c "             \
    "           WHERE tenant_id = $1 " filter SQL_AGENT_LIVE("c", "$1") "), "                  \
    "c AS (SELECT "                                                                            \
    "  COALESCE(sum(n) FILTER (WHERE status = 'PENDING'), 0)::bigint AS pending, "             \
    "  COALESCE(sum(n) FILTER (WHERE status = 'CONFIRMED'), 0)::bigint AS confirmed, "         \
    "  COALESCE(sum(n) FILTER (WHERE status = 'COMPLETED'), 0)::bigint AS completed, "         \
    "  COALESCE(sum(n) FILTER (WHERE status = 'EXPIRED'), 0)::bigint AS expired, "             \
    "  COALESCE(sum(n) FILTER (WHERE status = 'CANCELLED'), 0)::bigint AS cancelled "          \
    "  FROM stats_booking_counts c WHERE tenant_id = $1 " filter SQL_AGENT_LIVE("c", "$1") "), " \
    "o AS (SELECT count(*) AS n FROM bookings b WHERE tenant_id = $1 " filter                  \
    "      AND status IN ('PENDING', 'CONFIRMED') AND scheduled_at < now() "                   \
    "      AND (expires_at <= now()) IS TRUE" SQL_AGENT_LIVE("b", "$1") "), "                  \
    "d AS (SELECT count(*) AS n FROM bookings b WHERE tenant_id = $1 " filter                  \
    "      AND status = 'PENDING' AND scheduled_at <= now()" SQL_AGENT_LIVE("b", "$1") ") "      \
    "SELECT json_build_object('totalLeads', l.n, 'total', l.n, 'upcoming', c.pending - d.n, "  \
    "  'completed', c.completed, 'expired', c.expired + o.n, 'confirmed', c.confirmed, "       \
    "  'cancelled', c.cancelled, 'conversionRate', "                                           \
    "  CASE WHEN l.n = 0 THEN 0 ELSE (c.completed * 200 + l.n) / (2 * l.n) END) FROM l, c, o, d"

static const struct lb_db_stmt stmts[] = {
    [LEAD_CREATE] = {"lead_create", SQL_LEAD_CREATE("tenant_id = $1 AND id = $2"), 7},
    /* The booking page's key: the agent names the tenant ($1 is NULL, typed for the same
     * parameter list). */
    [LEAD_CREATE_FOR_AGENT] = {"lead_create_for_agent",
                               SQL_LEAD_CREATE("$1::uuid IS NULL AND id = $2"), 7},
    [LEAD_CREATE_OUTBOX] = {"lead_create_outbox",
                            SQL_LEAD_CREATE_OUTBOX("tenant_id = $1 AND id = $2"), 7},
    [LEAD_CREATE_FOR_AGENT_OUTBOX] = {"lead_create_for_agent_outbox",
                                      SQL_LEAD_CREATE_OUTBOX("$1::uuid IS NULL AND id = $2"), 7},
    [LEAD_CREATE_IDEM] = {"lead_create_idem",
                          SQL_LEAD_CREATE_IDEM("tenant_id = $1 AND id = $2"), 11},
    [LEAD_CREATE_FOR_AGENT_IDEM] = {"lead_create_for_agent_idem",
                                    SQL_LEAD_CREATE_IDEM("$1::uuid IS NULL AND id = $2"), 11},
    /* $2 is unused in the whole-tenant variant but typed, so both take the same parameters. */
    [LEAD_LIST] = {"lead_list", SQL_LEAD_PAGE("AND $2::uuid IS NULL"), 5},
    [LEAD_LIST_AGENT] = {"lead_list_agent", SQL_LEAD_PAGE("AND l.agent_id = $2"), 5},
    [LEAD_GET] = {"lead_get",
                  "SELECT " SQL_LEAD_ROW_COLS " FROM leads p" SQL_LEAD_ROW_JOINS
                  "WHERE p.tenant_id = $1 AND p.id = $2" SQL_AGENT_EXISTS("p")
                  "ORDER BY b.created_at, b.id",
                  2},
    [LEAD_STATS] = {"lead_stats", SQL_LEAD_STATS(""), 1},
    [LEAD_STATS_AGENT] = {"lead_stats_agent", SQL_LEAD_STATS("AND agent_id = $2"), 2},
};
/* clang-format on */

const struct lb_db_stmt_set store_leads_statements = {stmts, sizeof stmts / sizeof stmts[0]};

/* The quiet or the outbox variant, as the hint for key says; the answer updates the hint. */
static enum lb_status lead_create(struct lb_db *db, int quiet, int outbox, const char *key,
                                  const char *const *v, struct lb_buf *out)
{
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[store_outbox_hint(key) ? outbox : quiet], 7, v, &res);
    if (s != LB_OK)
        return s;
    s = store_first_json(res, out);
    if (s != LB_NOT_FOUND) /* a row: its second column is the hint */
        store_outbox_hint_set(key, PQgetvalue(res, 0, 1)[0] == 't');
    PQclear(res);
    return s;
}

enum lb_status store_lead_create(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                 const char *name, const char *email, const char *scheduled_at,
                                 const struct store_actor *by, struct lb_buf *out)
{
    const char *v[] = {tenant_id, agent_id, name, email, scheduled_at, NULL, NULL};
    store_actor_params(by, &v[5], &v[6]);
    return lead_create(db, LEAD_CREATE, LEAD_CREATE_OUTBOX, tenant_id, v, out);
}

enum lb_status store_lead_create_for_agent(struct lb_db *db, const char *agent_id, const char *name,
                                           const char *email, const char *scheduled_at,
                                           const struct store_actor *by, struct lb_buf *out)
{
    const char *v[] = {NULL, agent_id, name, email, scheduled_at, NULL, NULL};
    store_actor_params(by, &v[5], &v[6]);
    return lead_create(db, LEAD_CREATE_FOR_AGENT, LEAD_CREATE_FOR_AGENT_OUTBOX, agent_id, v, out);
}

enum lb_status store_lead_create_idem(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                      const char *name, const char *email, const char *scheduled_at,
                                      const struct store_actor *by, struct store_idem *idem,
                                      struct lb_buf *out)
{
    const char *v[] = {tenant_id,      agent_id, name,        email,     scheduled_at,
                       NULL,           NULL,     idem->scope, idem->key, idem->fingerprint,
                       idem->not_found};
    store_actor_params(by, &v[5], &v[6]);
    return store_idem_exec(db, &stmts[tenant_id ? LEAD_CREATE_IDEM : LEAD_CREATE_FOR_AGENT_IDEM],
                           11, v, idem, out);
}

enum lb_status store_lead_list(struct lb_db *db, const char *tenant_id, const char *agent_id,
                               int limit, const struct store_cursor *after,
                               struct store_cursor *next, int *has_more, struct lb_buf *out)
{
    *has_more = 0;
    if (limit < 1 || limit > 1000)
        return LB_INVALID;
    char us[24], lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    if (after)
        snprintf(us, sizeof us, "%" PRId64, after->created_us);
    const char *v[] = {tenant_id, agent_id, after ? us : NULL, after ? after->id : NULL, lim};
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[agent_id ? LEAD_LIST_AGENT : LEAD_LIST], 5, v, &res);
    if (s != LB_OK)
        return s;
    s = store_append(out, "[");
    int row = 0, shown = 0, last = -1;
    while (s == LB_OK && row < PQntuples(res)) {
        if (shown == limit) { /* the extra lead: more follow, after the last one shown */
            *has_more = 1;
            next->created_us = store_lead_created_us(res, last);
            snprintf(next->id, sizeof next->id, "%s", PQgetvalue(res, last, 0));
            if (next->created_us < 0)
                s = LB_INTERNAL;
            break;
        }
        last = row;
        if (shown++ > 0)
            s = store_append(out, ",");
        if (s == LB_OK)
            s = store_lead_json(res, &row, out);
    }
    if (s == LB_OK)
        s = store_append(out, "]");
    PQclear(res);
    return s;
}

enum lb_status store_lead_get(struct lb_db *db, const char *tenant_id, const char *lead_id,
                              struct lb_buf *out)
{
    const char *v[] = {tenant_id, lead_id};
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[LEAD_GET], 2, v, &res);
    if (s != LB_OK)
        return s;
    int row = 0;
    s = PQntuples(res) == 0 ? LB_NOT_FOUND : store_lead_json(res, &row, out);
    PQclear(res);
    return s;
}

enum lb_status store_lead_stats(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                struct lb_buf *out)
{
    const char *v[] = {tenant_id, agent_id};
    if (agent_id)
        return store_exec_json(db, &stmts[LEAD_STATS_AGENT], 2, v, out);
    return store_exec_json(db, &stmts[LEAD_STATS], 1, v, out);
}
