/* api/health: liveness (no database call), readiness (through the store) and the
 * process-test hooks. */
#include "api.h"
#include "store/health.h"

#include <signal.h>
#include <stdlib.h>
#include <time.h>

void lb_api_healthz(struct lb_ctx *ctx)
{
    lb_response_json(ctx->res, 200);
    lb_buf_puts(&ctx->res->body, "{\"status\":\"ok\"}");
}

/* Readiness: a real round trip to the database, which must also accept writes (API.md: a
 * read-only database or a standby after a failover is not ready). */
void lb_api_readyz(struct lb_ctx *ctx)
{
    enum lb_status st = ctx->app->db ? store_health_check(ctx->app->db) : LB_UNAVAILABLE;
    if (st != LB_OK) {
        lb_response_status_error(ctx->res, st == LB_READ_ONLY ? st : LB_UNAVAILABLE,
                                 ctx->app->cfg->retry_after, NULL);
        return;
    }
    lb_response_json(ctx->res, 200);
    lb_buf_puts(&ctx->res->body, "{\"status\":\"ok\",\"database\":\"up\"}");
}

/* GET /_test/sleep?ms=N: a deliberately slow request, for the shutdown and reload tests.
 * It exists only when leadbookd was started with LEADBOOK_TEST_HOOKS=1. */
void lb_api_test_sleep(struct lb_ctx *ctx)
{
    if (!ctx->app->test_hooks) {
        lb_response_error(ctx->res, 404, "Cannot GET %s", ctx->req->path);
        return;
    }
    const char *ms = lb_request_query(ctx->req, "ms", NULL);
    long v = ms ? strtol(ms, NULL, 10) : 1000;
    if (v < 0 || v > 60000)
        v = 1000;
    struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    lb_response_json(ctx->res, 200);
    lb_buf_printf(&ctx->res->body, "{\"slept\":%ld}", v);
}

/* GET /_test/crash: the worker dies as a crashing build would (SIGABRT), for the back-off test.
 * Exists only with LEADBOOK_TEST_HOOKS=1. */
void lb_api_test_crash(struct lb_ctx *ctx)
{
    if (!ctx->app->test_hooks) {
        lb_response_error(ctx->res, 404, "Cannot GET %s", ctx->req->path);
        return;
    }
    signal(SIGABRT, SIG_DFL);
    abort();
}
