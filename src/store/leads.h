/* store/leads: leads with their bookings, keyset-paginated lists and statistics. Every call is
 * scoped to tenant_id; another tenant's rows are never read (LB_NOT_FOUND / not listed). */
#ifndef LB_STORE_LEADS_H
#define LB_STORE_LEADS_H

#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "store/actor.h"
#include "store/idempotency.h"

extern const struct lb_db_stmt_set store_leads_statements;

/* Keyset position in the (createdAt DESC, id DESC) order: the key of the last row shown. */
struct store_cursor {
    int64_t created_us; /* created_at in microseconds since the Unix epoch */
    char id[37];
};

/* Creates a lead and its PENDING booking in one statement (both or neither): expiresAt =
 * scheduled_at + the agent's linkExpiryHours, a fresh meetingToken, a history row (from NULL
 * to PENDING, by `by`; NULL = the system). scheduled_at is ISO 8601 text with a zone.
 * Appends {"lead":Lead,"booking":Booking,"meetingToken":"…"}.
 * LB_NOT_FOUND: the agent is not in the tenant; LB_INVALID: bad date or a bound violated. */
enum lb_status store_lead_create(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                 const char *name, const char *email, const char *scheduled_at,
                                 const struct store_actor *by, struct lb_buf *out);
/* The same for a booking-page key (API.md credential 3): the lead's tenant is the agent's.
 * LB_NOT_FOUND: no such agent. */
enum lb_status store_lead_create_for_agent(struct lb_db *db, const char *agent_id, const char *name,
                                           const char *email, const char *scheduled_at,
                                           const struct store_actor *by, struct lb_buf *out);
/* Either of the two with an Idempotency-Key (store/idempotency.h; tenant_id NULL = for the
 * booking page). idem->not_found is the 404 answer for a missing agent. */
enum lb_status store_lead_create_idem(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                      const char *name, const char *email, const char *scheduled_at,
                                      const struct store_actor *by, struct store_idem *idem,
                                      struct lb_buf *out);
/* Appends a JSON array of at most limit (1..1000) leads, newest first, optionally of one agent
 * (agent_id NULL = all), starting after *after (NULL = from the newest). Each lead has
 * `bookings` (oldest first) and `agent` {id,name,publicLink}. *has_more tells whether at least
 * one more lead follows; then *next is the cursor for the next page. */
enum lb_status store_lead_list(struct lb_db *db, const char *tenant_id, const char *agent_id,
                               int limit, const struct store_cursor *after,
                               struct store_cursor *next, int *has_more, struct lb_buf *out);
/* Appends one lead in the list's shape; LB_NOT_FOUND if not in the tenant. */
enum lb_status store_lead_get(struct lb_db *db, const char *tenant_id, const char *lead_id,
                              struct lb_buf *out);
/* Appends {"totalLeads","upcoming","completed","expired","confirmed","cancelled",
 * "conversionRate"} for the tenant (agent_id NULL) or one of its agents, as API.md defines them,
 * computed in one aggregate query. */
enum lb_status store_lead_stats(struct lb_db *db, const char *tenant_id, const char *agent_id,
                                struct lb_buf *out);

#endif
