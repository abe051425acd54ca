/* app: the request dispatcher shared by the worker, the tests and the fuzz targets:
 * validate the request line, match a route, authenticate, call the handler. No FastCGI here. */
#ifndef LB_APP_H
#define LB_APP_H

#include "config.h"
#include "http.h"
#include "router.h"

struct lb_db;
struct lb_auth;

struct lb_app {
    const struct lb_config *cfg;
    struct lb_db *db;     /* this worker's connection (may be NULL in unit tests) */
    struct lb_auth *auth; /* this worker's key cache (may be NULL in unit tests) */
    const struct lb_route *routes;
    size_t nroutes;
    int test_hooks; /* LEADBOOK_TEST_HOOKS=1: enables /_test/ routes for process tests */
};

/* What a handler gets: the request, the response to fill, and who is asking. */
struct lb_ctx {
    struct lb_app *app;
    struct lb_request *req;
    struct lb_response *res;
    char tenant_id[37]; /* the credential's tenant ("" on public routes) */
    char key_id[37];    /* the credential's key id, for the booking history */
};

/* The route table of the service (api/routes.c). */
extern const struct lb_route lb_api_routes[];
extern const size_t lb_api_nroutes;

/* Per-worker state: opens the worker's database connection (lazily reconnecting later) and key
 * cache. Never fails: a database that is down makes requests answer 503 until it is back. */
void lb_app_worker_init(struct lb_app *app);
void lb_app_worker_free(struct lb_app *app);

/* Answers one request into res. Never fails: every problem becomes an HTTP error response. */
void lb_app_dispatch(struct lb_app *app, struct lb_request *req, struct lb_response *res);

/* Writes the path for logs with secrets masked (meeting tokens keep their first 8 characters). */
void lb_app_log_path(const char *path, char *out, size_t outlen);

#endif
