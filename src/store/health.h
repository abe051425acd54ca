/* store/health: the database as GET /readyz judges it (answers, and accepts writes). */
#ifndef LB_STORE_HEALTH_H
#define LB_STORE_HEALTH_H

#include "db.h"

extern const struct lb_db_stmt_set store_health_statements;

/* One round trip. LB_OK: the database answers and accepts writes; LB_READ_ONLY: it answers but
 * would refuse writes (a standby after a failover, default_transaction_read_only);
 * LB_UNAVAILABLE: it does not answer. */
enum lb_status store_health_check(struct lb_db *db);

#endif
