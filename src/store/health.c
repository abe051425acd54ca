/* store/health: SQL for the readiness probe. */
#include "store/health.h"

enum { HEALTH_WRITABLE };

static const struct lb_db_stmt stmts[] = {
    [HEALTH_WRITABLE] = {"health_writable",
                         "SELECT NOT (pg_is_in_recovery() "
                         "OR current_setting('default_transaction_read_only')::boolean "
                         "OR current_setting('transaction_read_only')::boolean)",
                         0},
};

const struct lb_db_stmt_set store_health_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_health_check(struct lb_db *db)
{
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[HEALTH_WRITABLE], 0, NULL, &res);
    if (s != LB_OK)
        return LB_UNAVAILABLE;
    s = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't' ? LB_OK : LB_READ_ONLY;
    PQclear(res);
    return s;
}
