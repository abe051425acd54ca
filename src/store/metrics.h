/* store/metrics: what GET /metrics reads from the database (the webhook deliverer's figures:
 * it is another process, leadbookctl webhooks run, so its state is the outbox itself). */
#ifndef LB_STORE_METRICS_H
#define LB_STORE_METRICS_H

#include "db.h"

extern const struct lb_db_stmt_set store_metrics_statements;

struct store_webhook_figures {
    long long delivered, failed, pending; /* rows of the delivery log by status */
    double lag_s; /* age of the oldest due pending delivery in seconds, 0 when none is due */
};

/* One round trip over every tenant's deliveries. LB_OK, or the database's status. */
enum lb_status store_metrics_webhooks(struct lb_db *db, struct store_webhook_figures *out);

#endif
