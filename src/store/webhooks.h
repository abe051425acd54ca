/* store/webhooks: a tenant's webhook endpoints and their delivery attempts (sql/005_webhooks.sql).
 * Every call is scoped to tenant_id: another tenant's endpoint is LB_NOT_FOUND, exactly like a
 * missing one. The views (camelCase JSON):
 *   created:   {id, url, events, description, secret, enabled, createdAt} (the only time the
 *              secret is shown)
 *   endpoint:  {id, url, events, description, enabled, createdAt, updatedAt, disabledReason,
 *              failingSince, previousSecretExpiresAt} (never a secret; disabledReason and
 *              failingSince are the deliverer's, null while it has nothing to say;
 *              previousSecretExpiresAt is null unless a rotation's old secret still signs)
 *   rotated:   {secret, previousSecretExpiresAt}
 *   delivery:  {id, eventId, event, attempt, status, responseStatus, error, createdAt,
 *              nextAttemptAt, deliveredAt}
 * events is a PostgreSQL text[] literal of validated names ("{booking.created}"). */
#ifndef LB_STORE_WEBHOOKS_H
#define LB_STORE_WEBHOOKS_H

#include "buf.h"
#include "db.h"
#include "store/idempotency.h"
#include "store/leads.h" /* struct store_cursor */

extern const struct lb_db_stmt_set store_webhooks_statements;

/* Creates an enabled endpoint with this secret; appends the created view. description NULL =
 * "". LB_NOT_FOUND: no such tenant; LB_INVALID: a bound of the schema is violated. */
enum lb_status store_webhook_create(struct lb_db *db, const char *tenant_id, const char *url,
                                    const char *events, const char *description, const char *secret,
                                    struct lb_buf *out);
/* Appends the tenant's endpoints (endpoint view) as a JSON array, newest first. */
enum lb_status store_webhook_list(struct lb_db *db, const char *tenant_id, struct lb_buf *out);
/* Appends one endpoint view; LB_NOT_FOUND if not in the tenant. */
enum lb_status store_webhook_get(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                 struct lb_buf *out);
/* Changes the given fields (NULL / enabled < 0 = unchanged), bumps updatedAt, appends the
 * endpoint view. Enabling a disabled endpoint clears disabledReason and failingSince; a new url
 * clears failingSince (the failures were another receiver's). */
enum lb_status store_webhook_update(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                    const char *url, const char *events, const char *description,
                                    int enabled, struct lb_buf *out);
/* Deletes the endpoint and its delivery attempts. LB_NOT_FOUND if none. */
enum lb_status store_webhook_delete(struct lb_db *db, const char *tenant_id,
                                    const char *webhook_id);
/* Makes secret the signing secret; the old one signs too for 24 hours (previous_secret; a
 * second rotation within them drops the first old one). Appends the rotated view. */
enum lb_status store_webhook_rotate(struct lb_db *db, const char *tenant_id, const char *webhook_id,
                                    const char *secret, struct lb_buf *out);
/* The three writes with an Idempotency-Key (store/idempotency.h); update and rotate need
 * idem->not_found. */
enum lb_status store_webhook_create_idem(struct lb_db *db, const char *tenant_id, const char *url,
                                         const char *events, const char *description,
                                         const char *secret, struct store_idem *idem,
                                         struct lb_buf *out);
enum lb_status store_webhook_update_idem(struct lb_db *db, const char *tenant_id,
                                         const char *webhook_id, const char *url,
                                         const char *events, const char *description, int enabled,
                                         struct store_idem *idem, struct lb_buf *out);
enum lb_status store_webhook_rotate_idem(struct lb_db *db, const char *tenant_id,
                                         const char *webhook_id, const char *secret,
                                         struct store_idem *idem, struct lb_buf *out);
/* Appends a JSON array of at most limit (1..1000) delivery attempts of the endpoint, newest
 * first (createdAt DESC, id DESC), starting after *after (NULL = from the newest).
 * *has_more tells whether at least one more follows; then *next is the key of the last one
 * shown. LB_NOT_FOUND: no such endpoint in the tenant. */
enum lb_status store_webhook_deliveries(struct lb_db *db, const char *tenant_id,
                                        const char *webhook_id, int limit,
                                        const struct store_cursor *after, struct store_cursor *next,
                                        int *has_more, struct lb_buf *out);

/* leadbookctl purge: deletes finished delivery attempts older than 30 days and the events no
 * delivery refers to any more, in batches; safe from several hosts at once. */
enum lb_status store_webhook_purge(struct lb_db *db, long *deliveries, long *events);

#endif
