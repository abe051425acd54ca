/* api/metrics: GET /metrics, the Prometheus text exposition of the whole pool (API.md
 * "Metrics"). Public inside the application like the probes: nginx serves it to local
 * addresses only. Any worker answers with the same figures: they come from the shared
 * scoreboard (metrics.h), and the webhook deliverer's from the database. */
#include "api.h"
#include "metrics.h"
#include "store/metrics.h"

void lb_api_metrics(struct lb_ctx *ctx)
{
    struct lb_metrics_webhooks wh = {0};
    struct store_webhook_figures f;
    /* a database that is down costs the scrape its webhook lines, not the rest */
    if (ctx->app->db && store_metrics_webhooks(ctx->app->db, &f) == LB_OK) {
        wh.known = 1;
        wh.delivered = f.delivered;
        wh.failed = f.failed;
        wh.pending = f.pending;
        wh.lag_s = f.lag_s;
    }
    ctx->res->status = 200;
    ctx->res->content_type = LB_METRICS_CONTENT_TYPE;
    lb_metrics_render(&ctx->res->body, &wh);
}
