/* store/replica: SQL of the replay-lag measurement (no tenant data: server positions only). */
#include "store/replica.h"

#include <stdio.h>
#include <string.h>

enum { REPLICA_PRIMARY_LSN, REPLICA_REPLAYED };

static const struct lb_db_stmt stmts[] = {
    [REPLICA_PRIMARY_LSN] = {"replica_primary_lsn", "SELECT pg_current_wal_lsn()::text", 0},
    /* pg_last_wal_replay_lsn() is NULL on a server that never was a standby */
    [REPLICA_REPLAYED] = {"replica_replayed",
                          "SELECT pg_is_in_recovery(), "
                          "COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false), "
                          "COALESCE(pg_last_wal_replay_lsn() >= $2::pg_lsn, false)",
                          2},
};

const struct lb_db_stmt_set store_replica_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_replica_primary_lsn(struct lb_db *primary, char lsn[STORE_LSN_LEN])
{
    PGresult *res;
    enum lb_status s = lb_db_exec(primary, &stmts[REPLICA_PRIMARY_LSN], 0, NULL, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
        strlen(PQgetvalue(res, 0, 0)) >= STORE_LSN_LEN)
        s = LB_INTERNAL;
    else
        snprintf(lsn, STORE_LSN_LEN, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return s;
}

enum lb_status store_replica_replayed(struct lb_db *replica, const char *lsn_a, const char *lsn_b,
                                      int *standby, int *reached_a, int *reached_b)
{
    const char *values[] = {lsn_a, lsn_b};
    PGresult *res;
    enum lb_status s = lb_db_exec(replica, &stmts[REPLICA_REPLAYED], 2, values, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1 || PQnfields(res) != 3) {
        PQclear(res);
        return LB_INTERNAL;
    }
    *standby = PQgetvalue(res, 0, 0)[0] == 't';
    *reached_a = PQgetvalue(res, 0, 1)[0] == 't';
    *reached_b = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    return LB_OK;
}
