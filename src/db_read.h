/* db_read: the reads that tolerate replication lag, sent to a streaming replica (db_read)
 * while it is up and its replay lag is within db_read_max_lag, else to the primary. The lag is
 * measured per worker every LB_DB_READ_CHECK_MS at most (two one-row queries, one on each
 * server), never per request. Writes never come here. */
#ifndef LB_DB_READ_H
#define LB_DB_READ_H

#include "db.h"

struct lb_db_read_options {
    const char *conninfo; /* the replica */
    int max_lag_s;        /* db_read_max_lag */
    int connect_timeout_s;
    int statement_timeout_ms;
    int unnamed; /* db_pool_mode = transaction (the replica behind the same pooler) */
};

/* How often a worker measures the lag (at most; only when a read asks). The lag is known to
 * within this much, so it is a quarter of the bound, and at most a second. */
#define LB_DB_READ_CHECK_MAX_MS 1000

struct lb_db_read;

/* Does not connect yet. NULL only when out of memory. */
struct lb_db_read *lb_db_read_new(const struct lb_db_read_options *opt);
void lb_db_read_free(struct lb_db_read *r);

/* The connection for one lag-tolerant read: the replica, or primary when the replica is down,
 * lags beyond the bound, or its lag cannot be measured while the primary answers. When the
 * primary does not answer, the replica serves (the fallback could only fail). */
struct lb_db *lb_db_read_pick(struct lb_db_read *r, struct lb_db *primary);

/* After a read on what lb_db_read_pick gave: 1 when it was the replica and the read failed
 * for want of it (LB_UNAVAILABLE): the replica is out until the next measurement and the caller
 * runs the read again on the primary. */
int lb_db_read_failed(struct lb_db_read *r, const struct lb_db *used, enum lb_status st);

/* For tests and the log: the last measured lag in ms (-1: replica down or never measured). */
long long lb_db_read_lag_ms(const struct lb_db_read *r);

#endif
