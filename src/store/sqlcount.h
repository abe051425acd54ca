/* sqlcount: the statistics counters (sql/002_stats_counters.sql) written by the statement that
 * writes the rows they count, instead of by the statement triggers of sql/002 (issue 15: the
 * triggers cost about as much as the rest of the insert). A counting statement
 *   - evaluates SQL_COUNTED in the CTE that the writes read from first (the agent, or the
 *     booking it locks), before any row is written: the mark that the triggers' WHEN tests
 *     (sql/006_write_path.sql), so that they skip this statement and only this one;
 *   - upserts the net change of its rows into the backend's shard with SQL_COUNT_LEADS /
 *     SQL_COUNT_BOOKINGS, in key order (as the triggers did), so that two statements lock
 *     counter rows in the same order and cannot deadlock on them.
 * Every other writer (bulk SQL, an operator) is still counted by the triggers. */
#ifndef LB_STORE_SQLCOUNT_H
#define LB_STORE_SQLCOUNT_H

/* clang-format off */

/* This statement counts its own rows (true for as long as the statement runs: the value is its
 * start time, and the setting is local to the transaction). */
#define SQL_COUNTED "set_config('leadbook.counted', statement_timestamp()::text, true)"

/* This statement writes no webhook event: evaluated where the statement reads the tenant's row
 * first (beside SQL_COUNTED), it sets the mark that the outbox trigger's WHEN tests
 * (sql/009_trigger_marks.sql) when the tenant has no enabled endpoint, a probe of the partial
 * index webhook_endpoints_tenant_enabled instead of the trigger's PL/pgSQL call per event. */
#define SQL_QUIET(tenant)                                                                      \
    "CASE WHEN NOT EXISTS (SELECT 1 FROM webhook_endpoints quiet WHERE quiet.tenant_id = "     \
    tenant " AND quiet.enabled) "                                                              \
    "THEN set_config('leadbook.quiet', statement_timestamp()::text, true) END"

/* rows: a query giving (tenant_id, agent_id, d) with distinct keys, in key order. */
#define SQL_COUNT_LEADS(rows)                                                                  \
    "INSERT INTO stats_lead_counts AS c (tenant_id, agent_id, shard, n) "                      \
    "SELECT x.tenant_id, x.agent_id, (pg_backend_pid() % 8)::smallint, x.d "                   \
    "FROM (" rows ") x (tenant_id, agent_id, d) "                                              \
    "ON CONFLICT (tenant_id, agent_id, shard) DO UPDATE SET n = c.n + excluded.n"

/* rows: a query giving (tenant_id, agent_id, status, d) with distinct keys, in key order. */
#define SQL_COUNT_BOOKINGS(rows)                                                               \
    "INSERT INTO stats_booking_counts AS c (tenant_id, agent_id, status, shard, n) "           \
    "SELECT x.tenant_id, x.agent_id, x.status, (pg_backend_pid() % 8)::smallint, x.d "         \
    "FROM (" rows ") x (tenant_id, agent_id, status, d) "                                      \
    "ON CONFLICT (tenant_id, agent_id, status, shard) DO UPDATE SET n = c.n + excluded.n"

/* The rows of a status change of the bookings in upd (RETURNING tenant_id, agent_id, status)
 * from the status in old (tenant_id, id, from_status): -1 on the old status, +1 on the new one, summed per
 * key (a batch of the sweep has many rows per key). */
#define SQL_STATUS_CHANGE_ROWS(upd, old)                                                       \
    "SELECT tenant_id, agent_id, status, sum(d) FROM ("                                        \
    "  SELECT " upd ".tenant_id, " upd ".agent_id, " old ".from_status AS status, -1 AS d "    \
    "  FROM " upd " JOIN " old " ON " old ".tenant_id = " upd ".tenant_id "                    \
    "    AND " old ".id = " upd ".id "                                                         \
    "  UNION ALL SELECT tenant_id, agent_id, status, 1 FROM " upd ") s "                       \
    "GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3"

/* clang-format on */

#endif
