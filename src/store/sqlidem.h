/* sqlidem: the SQL around an idempotent write (store/idempotency.h). A statement is
 *   WITH SQL_IDEM_HEAD(s, k),
 *        <its CTEs; the first one, which finds or makes the row, ANDs SQL_IDEM_GUARD>,
 *        idem_resp AS (SELECT <http status> AS status, <answer text> AS body ...)
 *   SQL_IDEM_TAIL(s, k, f)
 * where s, k, f are the parameter placeholders of scope, key and fingerprint ("$8"...).
 * idem_resp must give one row whenever the guard let the statement run. */
#ifndef LB_STORE_SQLIDEM_H
#define LB_STORE_SQLIDEM_H

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */
#define SQL_IDEM_HEAD(s, k)                                                                    \
    "idem_lock AS (SELECT pg_try_advisory_xact_lock("                                          \
    "                 hashtextextended(" s "::text || chr(10) || " k "::text, 0)) AS got), "   \
    "idem_prev AS (SELECT fingerprint, status, body FROM idempotency_keys "                    \
    "              WHERE scope = " s " AND key = " k "), "                                     \
    "idem_go AS (SELECT 1 FROM idem_lock WHERE got AND NOT EXISTS (SELECT 1 FROM idem_prev)) "

#define SQL_IDEM_GUARD " AND EXISTS (SELECT 1 FROM idem_go)"

#define SQL_IDEM_TAIL(s, k, f)                                                                 \
    ", idem_store AS (INSERT INTO idempotency_keys (scope, key, fingerprint, status, body) "   \
    "   SELECT " s ", " k ", decode(" f ", 'hex'), r.status, r.body FROM idem_resp r "         \
    "   WHERE EXISTS (SELECT 1 FROM idem_go)) "                                                \
    "SELECT l.got, encode(p.fingerprint, 'hex'), p.status, p.body, r.status, r.body "          \
    "FROM idem_lock l LEFT JOIN idem_prev p ON true "                                          \
    "LEFT JOIN idem_resp r ON EXISTS (SELECT 1 FROM idem_go)"

/* The NestJS-shaped error body that lb_response_error writes, for a message given as SQL text
 * (API.md: {"statusCode":409,"message":"…","error":"Conflict"}). */
#define SQL_IDEM_ERROR_409(message_sql)                                                        \
    "('{\"statusCode\":409,\"message\":' || to_json((" message_sql ")::text)::text || "        \
    "',\"error\":\"Conflict\"}')"
/* clang-format on */

#endif
