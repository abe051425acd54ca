/* store/replica: what the read router (src/db_read.c) asks to measure a streaming replica's
 * replay lag: the primary's WAL position, and whether the replica has replayed up to one. */
#ifndef LB_STORE_REPLICA_H
#define LB_STORE_REPLICA_H

#include "db.h"

extern const struct lb_db_stmt_set store_replica_statements;

#define STORE_LSN_LEN 32 /* "XXXXXXXX/XXXXXXXX" and its NUL, with room */

/* The primary's current WAL insert position (pg_current_wal_lsn) as text. LB_OK, or the
 * status of the failure (a standby answers it with an error: not a primary). */
enum lb_status store_replica_primary_lsn(struct lb_db *primary, char lsn[STORE_LSN_LEN]);

/* On the replica, one round trip: whether it is still a standby (*standby), and whether it has
 * replayed up to lsn_a and up to lsn_b (NULL = not asked: 0). */
enum lb_status store_replica_replayed(struct lb_db *replica, const char *lsn_a, const char *lsn_b,
                                      int *standby, int *reached_a, int *reached_b);

#endif
