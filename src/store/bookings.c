/* store/bookings: SQL for bookings. */
#include "store/bookings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox_hint.h"
#include "store/sqlcount.h"
#include "store/sqlidem.h"
#include "store/sqljson.h"
#include "store/sqloutbox.h"
#include "store/sqlvisible.h"
#include "store/util.h"

enum {
    BOOKING_MEETING,
    BOOKING_SET_STATUS,
    BOOKING_SET_STATUS_OUTBOX,
    BOOKING_SET_STATUS_IDEM,
    BOOKING_EXPIRE
};

/* Rows expired per statement: bounds the locks held and the size of one transaction. */
#define EXPIRE_BATCH 1000

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */

#define SQL_MEETING                                                                            \
    "SELECT " SQL_MEETING_JSON("b", "l", "a") " "                                              \
    "FROM bookings b "                                                                         \
    "JOIN leads l ON l.tenant_id = b.tenant_id AND l.id = b.lead_id "                          \
    "JOIN agents a ON a.tenant_id = b.tenant_id AND a.id = b.agent_id "                        \
    "WHERE b.meeting_token = $1"

/* cur locks the row; under READ COMMITTED a waiter gets the row as the previous holder
 * committed it, so the transition is judged on the current status (no lost update). ok is the
 * row only when the transition is allowed; upd/ev/cnt then change it, append the history and
 * move the statistics count (sqlcount.h) in the same statement. Two variants (outbox_hint.h):
 * the quiet one (mark SQL_QUIET) leaves the event to the outbox trigger when the tenant has an
 * enabled endpoint, the outbox one (mark SQL_OUTBOX_OWN, outbox SQL_SET_STATUS_OUTBOX) writes
 * its own booking.status_changed event (sqloutbox.h). guard is "" or SQL_IDEM_GUARD. */
#define SQL_SET_STATUS_CTES(guard, mark, outbox)                                               \
    "cur AS (SELECT *, " SQL_COUNTED " AS counted, " mark " AS quiet FROM bookings "           \
    "        WHERE tenant_id = $1 AND id = $2"                                                 \
    SQL_AGENT_EXISTS("bookings") guard " FOR UPDATE), "                                        \
    "ok AS (SELECT cur.tenant_id, cur.id, cur.status AS from_status FROM cur "                 \
    "       WHERE (cur.status::text, $3::booking_status::text) IN "                            \
    "             (('PENDING', 'CONFIRMED'), ('PENDING', 'COMPLETED'), ('PENDING', 'CANCELLED'), " \
    "              ('PENDING', 'EXPIRED'), ('CONFIRMED', 'COMPLETED'), "                       \
    "              ('CONFIRMED', 'CANCELLED'), ('CONFIRMED', 'EXPIRED'))), "                   \
    "upd AS (UPDATE bookings b SET status = $3::booking_status, updated_at = now() FROM ok "   \
    "        WHERE b.tenant_id = $1 AND b.id = ok.id RETURNING b.*), "                         \
    "ev AS (INSERT INTO booking_events (tenant_id, booking_id, from_status, to_status, key_id, " \
    "                                   actor, actor_id) "                                     \
    "       SELECT upd.tenant_id, upd.id, ok.from_status, upd.status, "                        \
    "              CASE WHEN $4 = 'key' THEN $5::text::uuid END, $4, $5 FROM upd, ok), "   \
    "cnt AS (" SQL_COUNT_BOOKINGS(SQL_STATUS_CHANGE_ROWS("upd", "ok")) ") " outbox
#define SQL_SET_STATUS_QUIET SQL_QUIET("bookings.tenant_id")
#define SQL_SET_STATUS_OUTBOX                                                                  \
    ", " SQL_OUTBOX("upd ob_b JOIN ok ON ok.id = ob_b.id "                                    \
                    "JOIN leads ob_l ON ob_l.tenant_id = ob_b.tenant_id "                      \
                    " AND ob_l.id = ob_b.lead_id "                                             \
                    "JOIN agents ob_a ON ob_a.tenant_id = ob_b.tenant_id "                     \
                    " AND ob_a.id = ob_b.agent_id",                                            \
                    "'booking.status_changed'", "json_build_object('status', ok.from_status)")
/* Result: the status found, the booking (new, or as found), changed flag, and whether the
 * tenant has an enabled endpoint (the hint). */
#define SQL_SET_STATUS_SELECT(hooked)                                                          \
    "SELECT cur.status, CASE WHEN upd.id IS NOT NULL THEN " SQL_BOOKING_JSON("upd")            \
    "       WHEN cur.status = $3::booking_status THEN " SQL_BOOKING_JSON("cur") " END, "       \
    "  upd.id IS NOT NULL, " hooked " "                                                        \
    "FROM cur LEFT JOIN upd ON upd.id = cur.id"
#define SQL_SET_STATUS                                                                         \
    "WITH " SQL_SET_STATUS_CTES("", SQL_SET_STATUS_QUIET, "")                                  \
    SQL_SET_STATUS_SELECT("cur.quiet IS NULL")
#define SQL_SET_STATUS_WITH_OUTBOX                                                             \
    "WITH " SQL_SET_STATUS_CTES("", SQL_OUTBOX_OWN, SQL_SET_STATUS_OUTBOX)                     \
    SQL_SET_STATUS_SELECT(SQL_OUTBOX_HOOKED("cur.tenant_id"))
/* With an Idempotency-Key: $6 scope, $7 key, $8 fingerprint, $9 the 404 answer. A refused
 * transition (409) is stored too: it is the answer to that request. The quiet variant only. */
#define SQL_SET_STATUS_IDEM                                                                    \
    "WITH " SQL_IDEM_HEAD("$6", "$7") ", "                                                     \
    SQL_SET_STATUS_CTES(SQL_IDEM_GUARD, SQL_SET_STATUS_QUIET, "")                              \
    ", idem_resp AS ("                                                                         \
    "  SELECT CASE WHEN upd.id IS NOT NULL OR cur.status = $3::booking_status THEN 200 "       \
    "              ELSE 409 END AS status, "                                                   \
    "         CASE WHEN upd.id IS NOT NULL THEN " SQL_BOOKING_JSON("upd") "::text "            \
    "              WHEN cur.status = $3::booking_status THEN " SQL_BOOKING_JSON("cur") "::text " \
    "              ELSE " SQL_IDEM_ERROR_409("'Cannot change booking status from ' || cur.status " \
                                             "|| ' to ' || $3") " END AS body "                \
    "  FROM cur LEFT JOIN upd ON upd.id = cur.id "                                             \
    "  UNION ALL SELECT 404, $9 WHERE NOT EXISTS (SELECT 1 FROM cur))"                         \
    SQL_IDEM_TAIL("$6", "$7", "$8")

/* SKIP LOCKED: rows being changed (or expired by another host) are left to their holder.
 * The update finds its rows by ctid = ANY(array), a TID scan whatever the planner guesses for
 * the batch size (a join on the CTE got a hash join over the whole table); the rows are locked,
 * so their ctid cannot change under it. The batch is counted by cnt (sqlcount.h). */
#define SQL_EXPIRE                                                                             \
    "WITH due AS (SELECT ctid AS tid, tenant_id, id, status AS from_status, "                  \
    "                    " SQL_COUNTED " AS counted FROM bookings "                            \
    "             WHERE status IN ('PENDING', 'CONFIRMED') AND expires_at <= now() "           \
    SQL_AGENT_EXISTS("bookings")                                                               \
    "             LIMIT $1::int FOR UPDATE SKIP LOCKED), "                                     \
    "upd AS (UPDATE bookings b SET status = 'EXPIRED', updated_at = now() "                    \
    "        WHERE b.ctid = ANY (ARRAY(SELECT tid FROM due)) "                                 \
    "        RETURNING b.tenant_id, b.id, b.agent_id, b.status), "                             \
    "ev AS (INSERT INTO booking_events (tenant_id, booking_id, from_status, to_status, actor) " \
    "       SELECT upd.tenant_id, upd.id, due.from_status, 'EXPIRED', 'system' "               \
    "       FROM upd JOIN due ON due.tenant_id = upd.tenant_id AND due.id = upd.id), "         \
    "cnt AS (" SQL_COUNT_BOOKINGS(SQL_STATUS_CHANGE_ROWS("upd", "due")) ") "                   \
    "SELECT count(*) FROM upd"
/* clang-format on */

/* one_waiter (db.h): a booking held by a stuck transaction ties up one worker, not all. */
static const struct lb_db_stmt stmts[] = {
    [BOOKING_MEETING] = {"booking_meeting", SQL_MEETING, 1},
    [BOOKING_SET_STATUS] = {"booking_set_status", SQL_SET_STATUS, 5, .one_waiter = 1},
    [BOOKING_SET_STATUS_OUTBOX] = {"booking_set_status_outbox", SQL_SET_STATUS_WITH_OUTBOX, 5,
                                   .one_waiter = 1},
    [BOOKING_SET_STATUS_IDEM] = {"booking_set_status_idem", SQL_SET_STATUS_IDEM, 9,
                                 .one_waiter = 1},
    [BOOKING_EXPIRE] = {"booking_expire", SQL_EXPIRE, 1},
};

const struct lb_db_stmt_set store_bookings_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_booking_meeting(struct lb_db *db, const char *meeting_token,
                                     struct lb_buf *out)
{
    const char *v[] = {meeting_token};
    enum lb_status s = store_exec_json(db, &stmts[BOOKING_MEETING], 1, v, out);
    /* A malformed token is answered like an unknown one (API.md: the same 404). */
    return s == LB_INVALID ? LB_NOT_FOUND : s;
}

enum lb_status store_booking_set_status(struct lb_db *db, const char *tenant_id,
                                        const char *booking_id, const char *new_status,
                                        const struct store_actor *by, struct lb_buf *out,
                                        char from_status[STORE_STATUS_LEN])
{
    const char *v[] = {tenant_id, booking_id, new_status, NULL, NULL};
    store_actor_params(by, &v[3], &v[4]);
    PGresult *res;
    from_status[0] = '\0';
    int outbox = store_outbox_hint(tenant_id); /* outbox_hint.h: either is correct */
    enum lb_status s =
        lb_db_exec(db, &stmts[outbox ? BOOKING_SET_STATUS_OUTBOX : BOOKING_SET_STATUS], 5, v, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1) {
        s = LB_NOT_FOUND;
    } else {
        store_outbox_hint_set(tenant_id, PQgetvalue(res, 0, 3)[0] == 't');
        snprintf(from_status, STORE_STATUS_LEN, "%s", PQgetvalue(res, 0, 0));
        if (PQgetisnull(res, 0, 1))
            s = LB_CONFLICT; /* neither changed nor already in that status */
        else
            s = store_append(out, PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return s;
}

enum lb_status store_booking_set_status_idem(struct lb_db *db, const char *tenant_id,
                                             const char *booking_id, const char *new_status,
                                             const struct store_actor *by, struct store_idem *idem,
                                             struct lb_buf *out)
{
    const char *v[] = {tenant_id,   booking_id, new_status,        NULL,           NULL,
                       idem->scope, idem->key,  idem->fingerprint, idem->not_found};
    store_actor_params(by, &v[3], &v[4]);
    return store_idem_exec(db, &stmts[BOOKING_SET_STATUS_IDEM], 9, v, idem, out);
}

enum lb_status store_booking_expire_all(struct lb_db *db, long *count)
{
    char batch[16];
    snprintf(batch, sizeof batch, "%d", EXPIRE_BATCH);
    const char *v[] = {batch};
    *count = 0;
    for (;;) {
        PGresult *res;
        enum lb_status s = lb_db_exec(db, &stmts[BOOKING_EXPIRE], 1, v, &res);
        if (s != LB_OK)
            return s;
        long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        *count += n;
        if (n < EXPIRE_BATCH)
            return LB_OK;
    }
}
