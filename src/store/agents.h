/* store/agents: a tenant's agents. Every call is scoped to tenant_id: another tenant's agent is
 * LB_NOT_FOUND, exactly like a missing one. Malformed UUIDs give LB_INVALID. */
#ifndef LB_STORE_AGENTS_H
#define LB_STORE_AGENTS_H

#include "buf.h"
#include "db.h"
#include "store/idempotency.h"

extern const struct lb_db_stmt_set store_agents_statements;

/* Creates an agent (link_expiry_hours 0 = the default, 24); appends the Agent
 * {id,tenantId,name,knowledge,publicLink,linkExpiryHours,createdAt,updatedAt}.
 * LB_INVALID: a bound is violated; LB_NOT_FOUND: no such tenant. */
enum lb_status store_agent_create(struct lb_db *db, const char *tenant_id, const char *name,
                                  const char *knowledge, int link_expiry_hours, struct lb_buf *out);
/* Appends the tenant's agents as a JSON array, newest first. */
enum lb_status store_agent_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out);
/* Appends one Agent; LB_NOT_FOUND if not in the tenant. */
enum lb_status store_agent_get(struct lb_db *db, const char *tenant_id, const char *agent_id,
                               struct lb_buf *out);
/* Appends the Agent whose publicLink this is; LB_NOT_FOUND if not in the tenant. */
enum lb_status store_agent_by_link(struct lb_db *db, const char *tenant_id, const char *public_link,
                                   struct lb_buf *out);
/* For a booking-page key only (API.md credential 3): the Agent of this publicLink, whichever
 * its tenant; LB_NOT_FOUND if none. */
enum lb_status store_agent_by_link_for_booking_page(struct lb_db *db, const char *public_link,
                                                    struct lb_buf *out);
/* Changes the given fields (name/knowledge NULL and link_expiry_hours < 0 = unchanged), bumps
 * updatedAt, appends the Agent. Existing bookings keep their expiresAt. */
enum lb_status store_agent_update(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                  const char *name, const char *knowledge, int link_expiry_hours,
                                  struct lb_buf *out);
/* store_agent_create and store_agent_update with an Idempotency-Key (store/idempotency.h). */
enum lb_status store_agent_create_idem(struct lb_db *db, const char *tenant_id, const char *name,
                                       const char *knowledge, int link_expiry_hours,
                                       struct store_idem *idem, struct lb_buf *out);
enum lb_status store_agent_update_idem(struct lb_db *db, const char *tenant_id,
                                       const char *agent_id, const char *name,
                                       const char *knowledge, int link_expiry_hours,
                                       struct store_idem *idem, struct lb_buf *out);
/* Deletes the agent at once; its leads, bookings and their history are out of sight from then
 * on and are deleted in batches by store_agent_purge_deleted (sql/007_agent_delete.sql).
 * LB_NOT_FOUND if none. */
enum lb_status store_agent_delete(struct lb_db *db, const char *tenant_id, const char *agent_id);
/* Deletes deleted agents' rows, `batch` leads (or bookings) per statement, until none is left
 * or budget_s seconds have passed (then *more = 1); *rows: the rows deleted by the batches
 * themselves (leads, or bookings without their lead; the cascades come on top). Any tenant:
 * for `leadbookctl purge` only. */
enum lb_status store_agent_purge_deleted(struct lb_db *db, int batch, double budget_s, long *rows,
                                         int *more);

#endif
