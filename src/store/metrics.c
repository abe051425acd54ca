/* store/metrics: SQL for GET /metrics. */
#include "store/metrics.h"

#include <stdlib.h>

enum { METRICS_WEBHOOKS };

/* One scan for the counts; the lag's min() is over due pending rows only (a claimed row's
 * next_attempt_at is its lease, in the future, so it is not lag). */
static const struct lb_db_stmt stmts[] = {
    [METRICS_WEBHOOKS] = {"metrics_webhooks",
                          "SELECT count(*) FILTER (WHERE status = 'delivered'), "
                          "count(*) FILTER (WHERE status = 'failed'), "
                          "count(*) FILTER (WHERE status = 'pending'), "
                          "COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at) "
                          "FILTER (WHERE status = 'pending' AND next_attempt_at <= now())), 0) "
                          "FROM webhook_deliveries",
                          0},
};

const struct lb_db_stmt_set store_metrics_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_metrics_webhooks(struct lb_db *db, struct store_webhook_figures *out)
{
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[METRICS_WEBHOOKS], 0, NULL, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1 || PQnfields(res) != 4) {
        PQclear(res);
        return LB_INTERNAL;
    }
    out->delivered = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    out->failed = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    out->pending = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    out->lag_s = strtod(PQgetvalue(res, 0, 3), NULL);
    PQclear(res);
    return LB_OK;
}
