/* app: the request dispatcher shared by the worker, the tests and the fuzz targets:
 * validate the request line, match a route, authenticate, call the handler. No FastCGI here. */
#ifndef LB_APP_H
#define LB_APP_H

#include "config.h"
#include "http.h"
#include "router.h"

#include "auth.h"

struct lb_db;
struct lb_db_read;
struct lb_jwt_keys;

struct lb_app {
    const struct lb_config *cfg;
    struct lb_db *db;        /* this worker's connection (may be NULL in unit tests) */
    struct lb_db *listen;    /* db_listen: its LISTEN connection (NULL: db LISTENs itself) */
    struct lb_db_read *read; /* db_read: the replica for lag-tolerant reads (NULL: none) */
    struct lb_auth *auth;    /* this worker's credential caches (may be NULL in unit tests) */
    struct lb_jwt_keys *jwt; /* sign-in token keys (NULL: sign-in tokens not configured) */
    const struct lb_route *routes;
    size_t nroutes;
    int test_hooks; /* LEADBOOK_TEST_HOOKS=1: enables /_test/ routes for process tests */
};

/* What a handler gets: the request, the response to fill, and who is asking. */
struct lb_ctx {
    struct lb_app *app;
    struct lb_request *req;
    struct lb_response *res;
    enum lb_credential cred; /* LB_CRED_NONE on public routes */
    /* the credential's tenant: "" on public routes, for the booking-page key and for a
     * signed-in user who has no tenant yet */
    char tenant_id[37];
    char key_id[37];                  /* the key's id ("" for a user), for the history */
    char user_id[LB_USER_ID_MAX + 1]; /* the signed-in user's sub ("" for a key) */
};

/* The connection for a read that tolerates replication lag, of kind LB_READ_MEETING or
 * LB_READ_STATS (config.h): the replica when db_read is set, db_read_routes names the kind, the
 * request is a GET or HEAD (its handler writes nothing, so no read follows a write of its own),
 * and the replica is up and within db_read_max_lag; else the primary (ctx->app->db). */
struct lb_db *lb_ctx_read_db(struct lb_ctx *ctx, unsigned kind);
/* After a read on what lb_ctx_read_db gave: 1 when the caller must run it again on
 * ctx->app->db (it was the replica, and the replica failed with LB_UNAVAILABLE). */
int lb_ctx_read_retry(struct lb_ctx *ctx, const struct lb_db *used, enum lb_status st);

/* Who made a change, for the booking history (store/actor.h). */
struct store_actor;
void lb_ctx_actor(const struct lb_ctx *ctx, struct store_actor *by);

/* The route table of the service (api/routes.c). */
extern const struct lb_route lb_api_routes[];
extern const size_t lb_api_nroutes;

/* Checks what the workers will load from the configuration (the sign-in token key files), so
 * that leadbookd refuses to start, and a reload keeps the old workers, when they are bad.
 * Returns 0, or -1 with a message in err. */
int lb_app_check_config(const struct lb_config *cfg, char *err, size_t errlen);

/* Per-worker state: opens the worker's database connection (lazily reconnecting later), the
 * credential caches and the sign-in token keys (read from their files, so a reload's new
 * workers see rotated keys). Never fails: a database that is down makes requests answer 503
 * until it is back. */
void lb_app_worker_init(struct lb_app *app);
void lb_app_worker_free(struct lb_app *app);
/* 1 if the worker's database connection is (re)established now (one throttled attempt at
 * most), else 0 with the reason in err: a reload's new worker asks before it accepts. */
int lb_app_db_reached(struct lb_app *app, char *err, size_t errlen);
/* 1 once the worker's database connection has been established (since its start). */
int lb_app_db_connected_once(const struct lb_app *app);

/* Answers one request into res. Never fails: every problem becomes an HTTP error response. */
void lb_app_dispatch(struct lb_app *app, struct lb_request *req, struct lb_response *res);

/* Writes the path for logs with secrets masked (meeting tokens keep their first 8 characters). */
void lb_app_log_path(const char *path, char *out, size_t outlen);

#endif
