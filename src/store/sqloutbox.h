/* sqloutbox: the webhook outbox (sql/005_webhooks.sql, sql/008_webhook_notify.sql) written by
 * the statement that makes the change, instead of by the outbox trigger on booking_events
 * (issue 18: the trigger's PL/pgSQL call, its six queries and its lookups of the rows the
 * statement had just written cost a POST /leads with one subscribed endpoint about a fifth of
 * its rate, pgbench of the statement alone, t/bench/results.md). A statement that writes its own
 * outbox rows
 *   - evaluates SQL_OUTBOX_OWN where it reads its first row, beside SQL_COUNTED: the mark that
 *     the outbox trigger's WHEN tests (sql/009_trigger_marks.sql), so that the trigger skips
 *     this statement's booking_events rows (and only this statement's);
 *   - adds the CTEs of SQL_OUTBOX, which write what the trigger would have written for its one
 *     booking: the event (the same Standard Webhooks envelope, the same JSON, the payload read
 *     from the statement's own RETURNING rows), one pending delivery per enabled endpoint of the
 *     tenant subscribed to the event's type, and the NOTIFY under the trigger's rule (only when
 *     no due delivery is waiting, and one notifying transaction at a time, sql/008).
 * The endpoints are read in the statement's snapshot, as the writes are: an endpoint created
 * while the statement runs is as concurrent with the change as one created just after it.
 * Such a statement is the "outbox" variant of its kind; the "quiet" variant (SQL_QUIET) leaves
 * the events to the trigger, and which one is sent is a hint per tenant (outbox_hint.h): both
 * are always correct. Every other writer (the variants with an Idempotency-Key, the
 * reschedule, the prospect's confirm or cancel, the expiry sweep, bulk SQL, an operator) still
 * goes through the trigger. */
#ifndef LB_STORE_SQLOUTBOX_H
#define LB_STORE_SQLOUTBOX_H

#include "store/sqljson.h"

// clang-format off

/* This statement writes its own outbox rows: the outbox trigger is to skip it. */
#define SQL_OUTBOX_OWN "set_config('leadbook.quiet', statement_timestamp()::text, true)"

/* The event's CTEs (ob_ev, ob_wd), for a statement that changes one booking. from: a FROM list
 * that gives that booking as ob_b, its lead as ob_l and its agent as ob_a (id, name), one row
 * (or none: nothing is written); type: the event type, an SQL string literal; previous: the
 * JSON of data.previous (NULL for a creation). One row of from gives one event id: a statement
 * with several would fail on webhook_events' primary key rather than announce them wrongly. */
#define SQL_OUTBOX(from, type, previous)                                                       \
    "ob_ev AS (INSERT INTO webhook_events (id, tenant_id, type, payload) "                     \
    "  SELECT x.id, ob_b.tenant_id, " type ", json_build_object("                              \
    "           'id', x.id, 'type', " type ", 'createdAt', " SQL_TS("now()") ", "              \
    "           'data', json_build_object("                                                    \
    "               'booking', " SQL_BOOKING_JSON("ob_b") ", "                                 \
    "               'lead', json_build_object('id', ob_l.id, 'name', ob_l.name, "              \
    "                                         'email', ob_l.email), "                          \
    "               'agent', json_build_object('id', ob_a.id, 'name', ob_a.name), "            \
    "               'previous', " previous "))::text "                                         \
    "  FROM (SELECT gen_random_uuid() AS id) x, " from " "                                     \
    "  WHERE EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.tenant_id = ob_b.tenant_id "    \
    "                AND w.enabled AND " type " = ANY (w.events)) "                            \
    "  RETURNING id, tenant_id), "                                                             \
    "ob_wd AS (INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id) "             \
    "  SELECT w.tenant_id, w.id, ob_ev.id FROM ob_ev "                                         \
    "  JOIN webhook_endpoints w ON w.tenant_id = ob_ev.tenant_id AND w.enabled "               \
    "   AND " type " = ANY (w.events) "                                                        \
    "  LEFT JOIN LATERAL (SELECT pg_notify('leadbook_webhooks', '') "                          \
    "     WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d "                               \
    "                       WHERE d.status = 'pending' AND d.next_attempt_at <= now()) "       \
    "       AND pg_try_advisory_xact_lock(1818392424, 2002873189)) wake ON true) "

/* Whether the tenant has an enabled endpoint (the outbox variant's answer for outbox_hint.h):
 * the quiet variant's mark says it already (SQL_QUIET is NULL when it has one). */
#define SQL_OUTBOX_HOOKED(tenant)                                                              \
    "EXISTS (SELECT 1 FROM webhook_endpoints hooked WHERE hooked.tenant_id = " tenant          \
    " AND hooked.enabled)"

// clang-format on

#endif
