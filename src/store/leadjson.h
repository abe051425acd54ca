/* store/leadjson: a lead as GET /leads and GET /leads/:id show it, built in C from the columns
 * of SQL_LEAD_ROW_COLS (issue 15: the database does not scale out, leadbookd does). The JSON is
 * the one the SQL json_build_object of sqljson.h made, byte for byte apart from whitespace
 * (none here): the same keys in the same order, strings escaped as PostgreSQL's escape_json
 * does, timestamps as ISO 8601 UTC with milliseconds (2025-12-31T10:00:00.000Z). */
#ifndef LB_STORE_LEADJSON_H
#define LB_STORE_LEADJSON_H

#include <stdint.h>

#include <libpq-fe.h>

#include "buf.h"
#include "db.h"

/* clang-format off */

/* A timestamp for store_lead_json: to_json of the UTC wall-clock time, which is ISO 8601
 * whatever the session's DateStyle and TimeZone ("2025-12-31T10:00:00.123456", trailing
 * zeros of the fraction and the fraction itself dropped when zero). */
#define SQL_TSJ(col) "to_json((" col ") AT TIME ZONE 'UTC')"

/* The columns, one row per booking of the lead (oldest first) or one row with NULL booking
 * columns for a lead without any: p the lead, a its agent (LEFT JOIN), b the booking (LEFT
 * JOIN LATERAL). */
#define SQL_LEAD_ROW_COLS                                                                      \
    "p.id, p.agent_id, p.tenant_id, p.name, p.email, " SQL_TSJ("p.booked_at") ", "             \
    SQL_TSJ("p.created_at") ", " SQL_TSJ("p.updated_at") ", "                                  \
    "a.id, a.name, a.public_link, "                                                            \
    "b.id, b.lead_id, b.agent_id, b.tenant_id, " SQL_TSJ("b.scheduled_at") ", b.status, "      \
    SQL_TSJ("b.expires_at") ", b.meeting_token, " SQL_TSJ("b.created_at") ", "                 \
    SQL_TSJ("b.updated_at")
/* After FROM <the lead(s) as p>: its agent and its bookings, both through indexes that start
 * with the lead's tenant_id. */
#define SQL_LEAD_ROW_JOINS                                                                     \
    " LEFT JOIN agents a ON a.tenant_id = p.tenant_id AND a.id = p.agent_id "                  \
    "LEFT JOIN LATERAL (SELECT * FROM bookings b "                                             \
    "                   WHERE b.tenant_id = p.tenant_id AND b.lead_id = p.id) b ON true "

/* clang-format on */

/* Appends the lead whose rows start at row *row of res and advances *row past them.
 * LB_INTERNAL if out cannot grow or a column is not what SQL_LEAD_ROW_COLS gives. */
enum lb_status store_lead_json(const PGresult *res, int *row, struct lb_buf *out);

/* The lead's created_at (column 6 of row) in microseconds since the Unix epoch, for the
 * keyset cursor; -1 if it cannot be read. */
int64_t store_lead_created_us(const PGresult *res, int row);

#endif
