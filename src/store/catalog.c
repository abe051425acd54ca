/* store/catalog: every statement of the store, prepared by lb_db_ready on each connection. */
#include "db.h"
#include "store/agents.h"
#include "store/booking_changes.h"
#include "store/bookings.h"
#include "store/health.h"
#include "store/idempotency.h"
#include "store/keys.h"
#include "store/leads.h"
#include "store/metrics.h"
#include "store/replica.h"
#include "store/tenants.h"
#include "store/webhooks.h"

const struct lb_db_stmt_set *const lb_db_catalog[] = {
    &store_tenants_statements,
    &store_keys_statements,
    &store_agents_statements,
    &store_leads_statements,
    &store_bookings_statements,
    &store_idempotency_statements,
    &store_booking_changes_statements,
    &store_health_statements,
    &store_webhooks_statements,
    &store_metrics_statements,
    &store_replica_statements, /* db_read: the replay lag measurement */
    NULL,
};
