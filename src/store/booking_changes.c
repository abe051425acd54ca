/* store/booking_changes: SQL for reschedules, the prospect's changes and the history. */
#include "store/booking_changes.h"

#include <stdlib.h>

#include "store/sqlcount.h"
#include "store/sqlidem.h"
#include "store/sqljson.h"
#include "store/sqlvisible.h"
#include "store/util.h"

enum {
    RESCHEDULE,
    RESCHEDULE_IDEM,
    PROSPECT_STATUS,
    PROSPECT_STATUS_IDEM,
    PROSPECT_RESCHEDULE,
    PROSPECT_RESCHEDULE_IDEM,
    EVENTS
};

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */

/* The booking, locked, with its agent's current linkExpiryHours and whether it is past its
 * expiry; where: which booking (with the guard of an idempotent variant). The statements count
 * their own status changes (sqlcount.h; a reschedule changes no count). */
#define SQL_CUR(where)                                                                         \
    "cur AS (SELECT b.*, a.link_expiry_hours AS hours, now() >= b.expires_at AS past, "        \
    "               " SQL_COUNTED " AS counted, " SQL_QUIET("b.tenant_id") " AS quiet "        \
    "        FROM bookings b JOIN agents a ON a.tenant_id = b.tenant_id AND a.id = b.agent_id " \
    "        WHERE " where " FOR UPDATE OF b), "
#define SQL_OPEN(c) "(" c ".status IN ('PENDING', 'CONFIRMED') AND NOT " c ".past)"

/* Move cur to when (a timestamptz expression) unless it is already there; record it. */
#define SQL_MOVE(when, actor_kind, actor_id)                                                   \
    "ok AS (SELECT * FROM cur WHERE " SQL_OPEN("cur")                                          \
    "       AND cur.scheduled_at IS DISTINCT FROM " when "), "                                 \
    "upd AS (UPDATE bookings b SET scheduled_at = " when ", "                                  \
    "        expires_at = " when " + ok.hours * interval '1 hour', updated_at = now() "        \
    "        FROM ok WHERE b.tenant_id = ok.tenant_id AND b.id = ok.id RETURNING b.*), "       \
    "ev AS (INSERT INTO booking_events (tenant_id, booking_id, kind, from_scheduled_at, "      \
    "                                   to_scheduled_at, key_id, actor, actor_id) "            \
    "       SELECT upd.tenant_id, upd.id, 'rescheduled', ok.scheduled_at, upd.scheduled_at, "  \
    "              CASE WHEN " actor_kind " = 'key' THEN (" actor_id ")::text::uuid END, "           \
    "              " actor_kind ", " actor_id " FROM upd, ok), "

#define SQL_NOT_RESCHEDULABLE(what)                                                            \
    SQL_IDEM_ERROR_409("'" what " cannot be rescheduled: it ' || CASE WHEN cur.status IN "     \
                       "('PENDING', 'CONFIRMED') THEN 'has expired' "                          \
                       "ELSE 'is ' || cur.status::text END")

/* PATCH /bookings/:id: $1 tenant, $2 id, $3 when, $4/$5 actor; then (scope, key, fp) and the
 * 404 body. */
#define SQL_RESCHEDULE_CTES(guard, not_found)                                                  \
    SQL_CUR("b.tenant_id = $1 AND b.id = $2" guard)                                            \
    SQL_MOVE("$3::timestamptz", "$4", "$5")                                                    \
    "idem_resp AS ("                                                                           \
    "  SELECT CASE WHEN " SQL_OPEN("cur") " THEN 200 ELSE 409 END AS status, "                 \
    "         CASE WHEN upd.id IS NOT NULL THEN " SQL_BOOKING_JSON("upd") "::text "            \
    "              WHEN " SQL_OPEN("cur") " THEN " SQL_BOOKING_JSON("cur") "::text "           \
    "              ELSE " SQL_NOT_RESCHEDULABLE("Booking ' || cur.id || '") " END AS body "    \
    "  FROM cur LEFT JOIN upd ON upd.id = cur.id "                                             \
    "  UNION ALL SELECT 404, " not_found " WHERE NOT EXISTS (SELECT 1 FROM cur))"

/* The answer of a prospect's change: the public projection of the booking as it is now. */
#define SQL_PROSPECT_RESP(refused, not_found)                                                  \
    "idem_resp AS ("                                                                           \
    "  SELECT CASE WHEN upd.id IS NOT NULL OR NOT (" refused ") THEN 200 ELSE 409 END "        \
    "           AS status, "                                                                   \
    "         CASE WHEN upd.id IS NOT NULL THEN " SQL_MEETING_JSON("upd", "l", "a") "::text "  \
    "              WHEN NOT (" refused ") THEN " SQL_MEETING_JSON("cur", "l", "a") "::text "   \
    "              ELSE " SQL_IDEM_ERROR_409(                                                  \
                      "CASE WHEN " SQL_OPEN("cur") " OR cur.status NOT IN ('PENDING', "        \
                      "'CONFIRMED') THEN 'Cannot change booking status from ' || "             \
                      "cur.status::text || ' to ' || $2 "                                      \
                      "ELSE 'This booking has expired' END") " END AS body "                   \
    "  FROM cur LEFT JOIN upd ON upd.id = cur.id "                                             \
    "  JOIN leads l ON l.tenant_id = cur.tenant_id AND l.id = cur.lead_id "                    \
    "  JOIN agents a ON a.tenant_id = cur.tenant_id AND a.id = cur.agent_id "                  \
    "  UNION ALL SELECT 404, " not_found " WHERE NOT EXISTS (SELECT 1 FROM cur))"

/* PATCH /bookings/meeting/:token {status}: $1 token, $2 CONFIRMED or CANCELLED. Refused: a
 * status it does not have and may not take (final, expired, CONFIRMED from CONFIRMED is the
 * status it has). */
#define SQL_PROSPECT_STATUS_REFUSED                                                            \
    "cur.status::text <> $2 AND NOT (" SQL_OPEN("cur") " AND (cur.status::text, $2) IN "       \
    "(('PENDING', 'CONFIRMED'), ('PENDING', 'CANCELLED'), ('CONFIRMED', 'CANCELLED')))"
#define SQL_PROSPECT_STATUS_CTES(guard, not_found)                                             \
    SQL_CUR("b.meeting_token = $1::uuid" guard)                                                \
    "ok AS (SELECT * FROM cur WHERE cur.status::text <> $2 AND NOT ("                          \
    SQL_PROSPECT_STATUS_REFUSED ")), "                                                         \
    "upd AS (UPDATE bookings b SET status = $2::booking_status, updated_at = now() FROM ok "   \
    "        WHERE b.tenant_id = ok.tenant_id AND b.id = ok.id RETURNING b.*), "               \
    "ev AS (INSERT INTO booking_events (tenant_id, booking_id, from_status, to_status, actor) " \
    "       SELECT upd.tenant_id, upd.id, ok.status, upd.status, 'prospect' FROM upd, ok), "   \
    "okf AS (SELECT tenant_id, id, status AS from_status FROM ok), "                           \
    "cnt AS (" SQL_COUNT_BOOKINGS(SQL_STATUS_CHANGE_ROWS("upd", "okf")) "), "                  \
    SQL_PROSPECT_RESP(SQL_PROSPECT_STATUS_REFUSED, not_found)

/* PATCH /bookings/meeting/:token {scheduledAt}: $1 token, $2 when. */
#define SQL_PROSPECT_RESCHEDULE_CTES(guard, not_found)                                         \
    SQL_CUR("b.meeting_token = $1::uuid" guard)                                                \
    SQL_MOVE("$2::timestamptz", "'prospect'", "NULL::text")                                    \
    "idem_resp AS ("                                                                           \
    "  SELECT CASE WHEN " SQL_OPEN("cur") " THEN 200 ELSE 409 END AS status, "                 \
    "         CASE WHEN upd.id IS NOT NULL THEN " SQL_MEETING_JSON("upd", "l", "a") "::text "  \
    "              WHEN " SQL_OPEN("cur") " THEN " SQL_MEETING_JSON("cur", "l", "a") "::text " \
    "              ELSE " SQL_NOT_RESCHEDULABLE("This booking") " END AS body "                \
    "  FROM cur LEFT JOIN upd ON upd.id = cur.id "                                             \
    "  JOIN leads l ON l.tenant_id = cur.tenant_id AND l.id = cur.lead_id "                    \
    "  JOIN agents a ON a.tenant_id = cur.tenant_id AND a.id = cur.agent_id "                  \
    "  UNION ALL SELECT 404, " not_found " WHERE NOT EXISTS (SELECT 1 FROM cur))"

#define SQL_PLAIN(ctes) "WITH " ctes " SELECT status, body FROM idem_resp"
#define SQL_IDEM(ctes, s, k, f) "WITH " SQL_IDEM_HEAD(s, k) ", " ctes SQL_IDEM_TAIL(s, k, f)

#define SQL_EVENT_JSON(e)                                                                      \
    "json_build_object('id', " e ".id, 'kind', " e ".kind, 'fromStatus', " e ".from_status, "  \
    "'toStatus', " e ".to_status, 'fromScheduledAt', " SQL_TS(e ".from_scheduled_at") ", "     \
    "'toScheduledAt', " SQL_TS(e ".to_scheduled_at") ", 'at', " SQL_TS(e ".changed_at") ", "   \
    "'by', json_build_object('kind', " e ".actor, 'id', " e ".actor_id))"

static const struct lb_db_stmt stmts[] = {
    [RESCHEDULE] = {"booking_reschedule", SQL_PLAIN(SQL_RESCHEDULE_CTES("", "$6")), 6},
    [RESCHEDULE_IDEM] = {"booking_reschedule_idem",
                         SQL_IDEM(SQL_RESCHEDULE_CTES(SQL_IDEM_GUARD, "$9"), "$6", "$7", "$8"), 9},
    [PROSPECT_STATUS] = {"booking_prospect_status",
                         SQL_PLAIN(SQL_PROSPECT_STATUS_CTES("", "$3")), 3},
    [PROSPECT_STATUS_IDEM] = {"booking_prospect_status_idem",
                              SQL_IDEM(SQL_PROSPECT_STATUS_CTES(SQL_IDEM_GUARD, "$6"),
                                       "$3", "$4", "$5"), 6},
    [PROSPECT_RESCHEDULE] = {"booking_prospect_reschedule",
                             SQL_PLAIN(SQL_PROSPECT_RESCHEDULE_CTES("", "$3")), 3},
    [PROSPECT_RESCHEDULE_IDEM] = {"booking_prospect_reschedule_idem",
                                  SQL_IDEM(SQL_PROSPECT_RESCHEDULE_CTES(SQL_IDEM_GUARD, "$6"),
                                           "$3", "$4", "$5"), 6},
    /* The history through booking_events_tenant_booking (tenant_id, booking_id, seq). */
    [EVENTS] = {"booking_events",
                "SELECT (SELECT COALESCE(json_agg(" SQL_EVENT_JSON("e") "), '[]'::json) "
                "        FROM (SELECT * FROM booking_events "
                "              WHERE tenant_id = b.tenant_id AND booking_id = b.id "
                "              ORDER BY seq) e) "
                "FROM bookings b WHERE b.tenant_id = $1 AND b.id = $2" SQL_AGENT_EXISTS("b"),
                2},
};
/* clang-format on */

const struct lb_db_stmt_set store_booking_changes_statements = {stmts,
                                                                sizeof stmts / sizeof stmts[0]};

/* Runs a plain change: one row (status, body). */
static enum lb_status run_plain(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                                const char *const *v, struct store_answer *ans, struct lb_buf *out)
{
    PGresult *res;
    enum lb_status s = lb_db_exec(db, stmt, nparams, v, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1) {
        s = LB_INTERNAL;
    } else {
        ans->status = atoi(PQgetvalue(res, 0, 0));
        s = store_append(out, PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return s;
}

enum lb_status store_booking_reschedule(struct lb_db *db, const char *tenant_id,
                                        const char *booking_id, const char *scheduled_at,
                                        const struct store_actor *by, struct store_idem *idem,
                                        struct store_answer *ans, struct lb_buf *out)
{
    const char *v[9] = {tenant_id, booking_id, scheduled_at};
    store_actor_params(by, &v[3], &v[4]);
    if (!idem) {
        v[5] = ans->not_found;
        return run_plain(db, &stmts[RESCHEDULE], 6, v, ans, out);
    }
    v[5] = idem->scope, v[6] = idem->key, v[7] = idem->fingerprint, v[8] = ans->not_found;
    enum lb_status s = store_idem_exec(db, &stmts[RESCHEDULE_IDEM], 9, v, idem, out);
    ans->status = idem->status;
    return s;
}

enum lb_status store_booking_prospect_change(struct lb_db *db, const char *meeting_token,
                                             const char *new_status, const char *scheduled_at,
                                             struct store_idem *idem, struct store_answer *ans,
                                             struct lb_buf *out)
{
    const char *v[6] = {meeting_token, new_status ? new_status : scheduled_at};
    int plain = new_status ? PROSPECT_STATUS : PROSPECT_RESCHEDULE;
    if (!idem) {
        v[2] = ans->not_found;
        return run_plain(db, &stmts[plain], 3, v, ans, out);
    }
    v[2] = idem->scope, v[3] = idem->key, v[4] = idem->fingerprint, v[5] = ans->not_found;
    enum lb_status s = store_idem_exec(db, &stmts[plain + 1], 6, v, idem, out);
    ans->status = idem->status;
    return s;
}

enum lb_status store_booking_events(struct lb_db *db, const char *tenant_id, const char *booking_id,
                                    struct lb_buf *out)
{
    const char *v[] = {tenant_id, booking_id};
    return store_exec_json(db, &stmts[EVENTS], 2, v, out);
}
