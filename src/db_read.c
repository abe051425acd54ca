/* db_read: pick the replica or the primary for a lag-tolerant read.
 *
 * The lag is measured by WAL position rather than by pg_last_xact_replay_timestamp(), which
 * grows on an idle primary that sends nothing to replay: at each measurement the worker asks
 * the primary for its WAL position P (pg_current_wal_lsn) and the replica whether it has
 * replayed up to P, and up to the oldest position it had not yet replayed at an earlier
 * measurement (remembered with the time it was taken). While the replica has not reached a
 * position taken at time T, its lag is at least now - T; once it has, at most now - T. So the
 * estimate is an upper bound, too high by at most one measurement interval. */
#include "db_read.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store/replica.h"

struct lb_db_read {
    struct lb_db *replica;
    long long max_lag_ms;
    long long check_ms;
    long long checked_at; /* monotonic ms of the last measurement; 0 = never */
    int usable;           /* the last measurement: up, standby or not, within the bound */
    long long lag_ms;     /* the last measured lag; -1 = down */
    char pending[STORE_LSN_LEN];
    long long pending_at; /* when pending was the primary's position; 0 = none */
    int primary_down;     /* the primary did not answer the last measurement */
};

struct lb_db_read *lb_db_read_new(const struct lb_db_read_options *opt)
{
    struct lb_db_read *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    struct lb_db_options dbo = {.conninfo = opt->conninfo,
                                .connect_timeout_s = opt->connect_timeout_s,
                                .statement_timeout_ms = opt->statement_timeout_ms,
                                .listen_channel = NULL,
                                .unnamed = opt->unnamed};
    r->replica = lb_db_new(&dbo);
    if (!r->replica) {
        free(r);
        return NULL;
    }
    r->max_lag_ms = (long long)(opt->max_lag_s > 0 ? opt->max_lag_s : 2) * 1000;
    r->check_ms =
        r->max_lag_ms / 4 < LB_DB_READ_CHECK_MAX_MS ? r->max_lag_ms / 4 : LB_DB_READ_CHECK_MAX_MS;
    r->lag_ms = -1;
    return r;
}

void lb_db_read_free(struct lb_db_read *r)
{
    if (!r)
        return;
    lb_db_free(r->replica);
    free(r);
}

long long lb_db_read_lag_ms(const struct lb_db_read *r)
{
    return r->lag_ms;
}

static void set_usable(struct lb_db_read *r, int usable, const char *why)
{
    if (usable != r->usable)
        lb_log(usable ? LB_LOG_INFO : LB_LOG_WARN, usable ? "db_read_replica" : "db_read_primary",
               "reason=%s lag_ms=%lld max_lag_ms=%lld", why, r->lag_ms, r->max_lag_ms);
    r->usable = usable;
}

/* One measurement (see the top of the file). */
static void measure(struct lb_db_read *r, struct lb_db *primary, long long now)
{
    char lsn[STORE_LSN_LEN];
    enum lb_status ps = store_replica_primary_lsn(primary, lsn);
    r->primary_down = ps == LB_UNAVAILABLE;
    int standby = 0, reached_old = 0, reached_now = 0;
    enum lb_status rs =
        store_replica_replayed(r->replica, r->pending_at ? r->pending : NULL,
                               ps == LB_OK ? lsn : NULL, &standby, &reached_old, &reached_now);
    if (rs != LB_OK) {
        r->lag_ms = -1;
        r->pending_at = 0;
        set_usable(r, 0, "replica_down");
        return;
    }
    if (!standby) { /* promoted: a primary itself, nothing left to replay */
        r->pending_at = 0;
        r->lag_ms = 0;
        set_usable(r, 1, "not_standby");
        return;
    }
    if (ps != LB_OK) { /* the lag cannot be measured: keep the last figure */
        set_usable(r, r->lag_ms >= 0 && r->lag_ms <= r->max_lag_ms, "primary_unmeasured");
        return;
    }
    if (reached_now) {
        r->pending_at = 0;
        r->lag_ms = 0;
    } else if (r->pending_at && reached_old) {
        r->lag_ms = now - r->pending_at; /* replayed up to there: at most this far behind */
        memcpy(r->pending, lsn, sizeof r->pending);
        r->pending_at = now;
    } else if (r->pending_at) {
        r->lag_ms = now - r->pending_at; /* not yet there: at least this far behind */
    } else {
        memcpy(r->pending, lsn, sizeof r->pending); /* behind by less than we can tell yet */
        r->pending_at = now;
        r->lag_ms = 0;
    }
    set_usable(r, r->lag_ms <= r->max_lag_ms, r->lag_ms <= r->max_lag_ms ? "lag_ok" : "lag");
}

struct lb_db *lb_db_read_pick(struct lb_db_read *r, struct lb_db *primary)
{
    if (!r)
        return primary;
    long long now = lb_monotonic_ms();
    if (!r->checked_at || now - r->checked_at >= r->check_ms || now < r->checked_at) {
        r->checked_at = now;
        measure(r, primary, now);
    } else if (r->usable && r->pending_at && now - r->pending_at > r->max_lag_ms) {
        /* between measurements: a position not replayed yet has become too old */
        r->lag_ms = now - r->pending_at;
        set_usable(r, 0, "lag");
    }
    if (r->usable)
        return r->replica;
    /* the primary cannot answer: a replica that answers serves, however far behind */
    return r->primary_down && r->lag_ms >= 0 ? r->replica : primary;
}

int lb_db_read_failed(struct lb_db_read *r, const struct lb_db *used, enum lb_status st)
{
    if (!r || used != r->replica || st != LB_UNAVAILABLE)
        return 0;
    r->lag_ms = -1;
    r->pending_at = 0;
    set_usable(r, 0, "replica_failed");
    return 1;
}
