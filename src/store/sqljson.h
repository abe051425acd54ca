/* sqljson: the SQL expressions that turn rows into the API's camelCase JSON, written once.
 * Each macro takes the table alias as a string literal and expands to constant SQL text
 * (string-literal concatenation at compile time; nothing here ever contains input). */
#ifndef LB_STORE_SQLJSON_H
#define LB_STORE_SQLJSON_H

/* SQL laid out for reading as SQL, not reflowed (the two markers are line comments, which
 * clang-format honours wherever they stand): */
// clang-format off
/* ISO 8601 UTC with milliseconds, e.g. 2025-12-31T10:00:00.000Z (NULL stays NULL). */
#define SQL_TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define SQL_TENANT_JSON(t)                                                                     \
    "json_build_object('id', " t ".id, 'name', " t ".name, 'userId', " t ".user_id, "          \
    "'createdAt', " SQL_TS(t ".created_at") ", 'updatedAt', " SQL_TS(t ".updated_at") ")"

#define SQL_AGENT_JSON(a)                                                                      \
    "json_build_object('id', " a ".id, 'tenantId', " a ".tenant_id, 'name', " a ".name, "      \
    "'knowledge', " a ".knowledge, 'publicLink', " a ".public_link, "                          \
    "'linkExpiryHours', " a ".link_expiry_hours, "                                             \
    "'createdAt', " SQL_TS(a ".created_at") ", 'updatedAt', " SQL_TS(a ".updated_at") ")"

#define SQL_LEAD_JSON(l)                                                                       \
    "json_build_object('id', " l ".id, 'agentId', " l ".agent_id, 'tenantId', " l ".tenant_id, " \
    "'name', " l ".name, 'email', " l ".email, 'bookedAt', " SQL_TS(l ".booked_at") ", "       \
    "'createdAt', " SQL_TS(l ".created_at") ", 'updatedAt', " SQL_TS(l ".updated_at") ")"

/* The booking's fields after tenantId, shared by the tenant and the public projections. */
#define SQL_BOOKING_TAIL(b)                                                                    \
    "'scheduledAt', " SQL_TS(b ".scheduled_at") ", 'status', " b ".status, "                   \
    "'expiresAt', " SQL_TS(b ".expires_at") ", 'meetingToken', " b ".meeting_token, "          \
    "'createdAt', " SQL_TS(b ".created_at") ", 'updatedAt', " SQL_TS(b ".updated_at")

#define SQL_BOOKING_JSON(b)                                                                        \
    "json_build_object('id', " b ".id, 'leadId', " b ".lead_id, 'agentId', " b ".agent_id, "       \
    "'tenantId', " b ".tenant_id, " SQL_BOOKING_TAIL(b) ")"

/* API.md's definition: EXPIRED, or still open (PENDING/CONFIRMED) and now() >= expiresAt. */
#define SQL_IS_EXPIRED(b)                                                                      \
    "(" b ".status = 'EXPIRED' "                                                               \
    " OR (" b ".status IN ('PENDING', 'CONFIRMED') AND now() >= " b ".expires_at))"

/* The public meeting page's projection of booking b with its lead l and agent a: no tenantId
 * and nothing else of the tenant (GET and PATCH /bookings/meeting/:meetingToken). */
#define SQL_MEETING_JSON(b, l, a)                                                                  \
    "json_build_object('id', " b ".id, 'leadId', " b ".lead_id, 'agentId', " b ".agent_id, "       \
    SQL_BOOKING_TAIL(b) ", 'isExpired', " SQL_IS_EXPIRED(b) ", "                                   \
    "'lead', json_build_object('id', " l ".id, 'name', " l ".name, 'email', " l ".email), "        \
    "'agent', json_build_object('id', " a ".id, 'name', " a ".name, 'knowledge', " a ".knowledge))"

/* A lead as GET /leads shows it: with its bookings (oldest first) and {id, name, publicLink}
 * of its agent, both read through indexes that start with the lead's tenant_id. Since issue 15
 * leadbookd builds this JSON itself (store/leadjson.c, byte for byte the same apart from
 * whitespace); this definition stays as what t/store/check_leads compares it with. The bookings
 * come ordered from bookings_tenant_lead_created (tenant_id, lead_id, created_at, id) through a
 * sorted sub-select rather than json_agg(... ORDER BY ...): an aggregate's ORDER BY sets up a
 * sort per lead even for one row (about 2 of lead_get's 24 us in the backend; PostgreSQL keeps
 * the order of a sorted sub-select that feeds an aggregate with no join or grouping). */
#define SQL_LEAD_FULL_JSON(l)                                                                  \
    "json_build_object('id', " l ".id, 'agentId', " l ".agent_id, 'tenantId', " l ".tenant_id, " \
    "'name', " l ".name, 'email', " l ".email, 'bookedAt', " SQL_TS(l ".booked_at") ", "       \
    "'createdAt', " SQL_TS(l ".created_at") ", 'updatedAt', " SQL_TS(l ".updated_at") ", "     \
    "'bookings', COALESCE((SELECT json_agg(bj.j) FROM (SELECT " SQL_BOOKING_JSON("b") " AS j " \
    "FROM bookings b WHERE b.tenant_id = " l ".tenant_id AND b.lead_id = " l ".id "            \
    "ORDER BY b.created_at, b.id) bj), '[]'::json), "                                          \
    "'agent', (SELECT json_build_object('id', a.id, 'name', a.name, 'publicLink', a.public_link) " \
    "FROM agents a WHERE a.tenant_id = " l ".tenant_id AND a.id = " l ".agent_id))"
// clang-format on

#endif
