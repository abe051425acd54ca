/* store/sqlvisible: what keeps a deleted agent's leads and bookings out of sight until the
 * batches of `leadbookctl purge` have deleted them (sql/007_agent_delete.sql). A statement
 * that joins the agent needs neither: the agent row is gone at once. */
#ifndef LB_STORE_SQLVISIBLE_H
#define LB_STORE_SQLVISIBLE_H

/* clang-format off */

/* For statements over many rows of one tenant: the deleted agents are read once per
 * statement (an InitPlan; the table is nearly always empty), not probed per row. */
#define SQL_AGENT_LIVE(row, tenant)                                                            \
    " AND " row ".agent_id <> ALL (ARRAY(SELECT agent_id FROM agent_deletions "                \
    "WHERE tenant_id = " tenant ")) "

/* For statements about one row: its agent exists (one probe of the agents' key). */
#define SQL_AGENT_EXISTS(row)                                                                  \
    " AND EXISTS (SELECT 1 FROM agents live WHERE live.tenant_id = " row ".tenant_id "         \
    "AND live.id = " row ".agent_id) "

/* clang-format on */

#endif
