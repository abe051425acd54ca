/* app: dispatch a parsed request to its handler, turning every failure into a JSON error. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "auth_jwt.h"
#include "db.h"
#include "db_read.h"
#include "log.h"
#include "metrics.h"
#include "store/actor.h"
#include "store/keys.h"

/* What a log line may show of a path. Secrets reach paths: meeting tokens by design, and
 * keys, e-mail addresses or tokens pasted into the wrong place, or behind a prefix the router
 * does not know ("/bookings//meeting/<token>", "/leads/<email>"). So every segment longer than
 * 8 bytes keeps its first 8 then "***", and a segment with an '@' keeps at most 8 bytes of what
 * precedes it; the route names (all 8 bytes or shorter) stay readable. No spaces, quotes or
 * control characters either, so that a log line stays one token per field. */
#define LOG_SEGMENT_KEEP 8

void lb_app_log_path(const char *path, char *out, size_t outlen)
{
    size_t n = 0;
    if (outlen == 0)
        return;
    for (const char *p = path; *p && n + 1 < outlen;) {
        if (*p == '/') {
            out[n++] = *p++;
            continue;
        }
        size_t seg = strcspn(p, "/");
        const char *at = memchr(p, '@', seg);
        size_t keep = at ? (size_t)(at - p) : seg;
        int masked = at != NULL || seg > LOG_SEGMENT_KEEP;
        if (keep > LOG_SEGMENT_KEEP)
            keep = LOG_SEGMENT_KEEP;
        if (n + keep + (masked ? 3 : 0) >= outlen)
            break; /* no room for the whole segment: stop rather than cut a mask */
        for (size_t i = 0; i < keep; i++) {
            unsigned char c = (unsigned char)p[i];
            out[n++] = (c <= 0x20 || c == '"' || c >= 0x7f) ? '?' : (char)c;
        }
        if (masked)
            out[n++] = '*', out[n++] = '*', out[n++] = '*';
        p += seg;
    }
    out[n] = '\0';
}

struct lb_db *lb_ctx_read_db(struct lb_ctx *ctx, unsigned kind)
{
    struct lb_app *app = ctx->app;
    int routes = lb_config_read_routes(app->cfg->db_read_routes);
    if (!app->read || routes < 0 || !((unsigned)routes & kind) ||
        (ctx->req->method != LB_METHOD_GET && ctx->req->method != LB_METHOD_HEAD))
        return app->db;
    return lb_db_read_pick(app->read, app->db);
}

int lb_ctx_read_retry(struct lb_ctx *ctx, const struct lb_db *used, enum lb_status st)
{
    return lb_db_read_failed(ctx->app->read, used, st);
}

void lb_ctx_actor(const struct lb_ctx *ctx, struct store_actor *by)
{
    switch (ctx->cred) {
    case LB_CRED_TENANT_KEY:
    case LB_CRED_BOOKING_PAGE:
        by->kind = "key";
        by->id = ctx->key_id;
        return;
    case LB_CRED_USER:
        by->kind = "user";
        by->id = ctx->user_id;
        return;
    case LB_CRED_NONE:
        break;
    }
    by->kind = "prospect"; /* the public meeting path: the meeting token is the credential */
    by->id = NULL;
}

/* Resolves the credential into ctx and applies the route's access rules; answers (401, 403,
 * 503) and returns -1 when the request may not go on. */
static int authenticate(struct lb_app *app, struct lb_request *req, const struct lb_route *route,
                        struct lb_ctx *ctx)
{
    struct lb_response *res = ctx->res;
    struct lb_principal who;
    enum lb_auth_result ar = lb_auth_check(app, req->authorization, &who);
    if (ar == LB_AUTH_UNAVAILABLE) {
        lb_response_status_error(res, LB_UNAVAILABLE, app->cfg->retry_after, NULL);
        return -1;
    }
    if (ar != LB_AUTH_OK) {
        lb_response_error(res, 401, "Unauthorized");
        if (ar == LB_AUTH_MISSING)
            lb_response_header(res, "WWW-Authenticate", "Bearer realm=\"leadbook\"");
        else
            lb_response_header(res, "WWW-Authenticate",
                               "Bearer realm=\"leadbook\", error=\"invalid_token\"");
        return -1;
    }
    ctx->cred = who.cred;
    memcpy(ctx->tenant_id, who.tenant_id, sizeof ctx->tenant_id);
    memcpy(ctx->key_id, who.key_id, sizeof ctx->key_id);
    memcpy(ctx->user_id, who.user_id, sizeof ctx->user_id);
    if (who.cred == LB_CRED_BOOKING_PAGE && !(route->access & LB_ACCESS_BOOKING_PAGE)) {
        lb_response_error(res, 403, "This key may only be used by the booking page");
        return -1;
    }
    if (who.cred == LB_CRED_USER && !who.tenant_id[0] && !(route->access & LB_ACCESS_NO_TENANT)) {
        lb_response_error(res, 403, "No tenant for user %.255s: create it with POST /tenants",
                          who.user_id);
        return -1;
    }
    return 0;
}

/* LEADBOOK_TEST_HOOKS=1 only: ?_testPauseMs=N holds the answer of a request N ms after its
 * handler ran (after its transaction committed, before a byte of the answer is written), so
 * that the fault tests can kill a worker exactly there. */
static void test_pause(const struct lb_request *req)
{
    const char *ms = lb_request_query(req, "_testPauseMs", NULL);
    long n = ms ? strtol(ms, NULL, 10) : 0;
    if (n > 0 && n <= 60000) {
        struct timespec ts = {n / 1000, (n % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

#define ANSWER_MARGIN_MS 500 /* from the worker's answer to nginx's: what it may take at most */

/* A request that waited in the queue longer than nginx waits for its answer: its client got a
 * 504 already, so running it now could only make a write the client was told failed (API.md
 * "Deadlines"). */
static int past_deadline(const struct lb_app *app, const struct lb_request *req)
{
    if (app->cfg->request_deadline <= 0 || req->started_ms <= 0)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t waited = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - req->started_ms;
    if (waited < (int64_t)app->cfg->request_deadline * 1000)
        return 0;
    lb_log(LB_LOG_WARN, "deadline_passed", "rid=%s waited_ms=%lld", req->request_id,
           (long long)waited);
    return 1;
}

/* The wall-clock ms by which this request must be answered: nginx's start time plus what it
 * waits (request_deadline), less the time the answer needs to get back; 0 = unknown. */
static long long request_deadline_rt(const struct lb_app *app, const struct lb_request *req)
{
    if (app->cfg->request_deadline <= 0 || req->started_ms <= 0)
        return 0;
    return (long long)req->started_ms + (long long)app->cfg->request_deadline * 1000 -
           ANSWER_MARGIN_MS;
}

void lb_app_dispatch(struct lb_app *app, struct lb_request *req, struct lb_response *res)
{
    struct lb_ctx ctx = {.app = app, .req = req, .res = res};
    res->head_only = req->method == LB_METHOD_HEAD;

    if (past_deadline(app, req)) {
        lb_metrics_deadline_dropped();
        lb_response_status_error(res, LB_UNAVAILABLE, app->cfg->retry_after, NULL);
        return;
    }
    if (req->path_error) {
        lb_response_error(res, 400, "Malformed request path");
        return;
    }
    if (req->body_too_large) {
        lb_response_error(res, 413, "Request body exceeds %zu bytes", app->cfg->max_body_bytes);
        return;
    }

    const struct lb_route *route;
    char allow[128];
    switch (req->path_encoded_slash
                ? LB_ROUTE_NOT_FOUND
                : lb_route_match(app->routes, app->nroutes, req, &route, allow, sizeof allow)) {
    case LB_ROUTE_NOT_FOUND:
        lb_response_error(res, 404, "Cannot %.16s %.200s", req->method_name, req->path);
        return;
    case LB_ROUTE_METHOD_NOT_ALLOWED:
        if (req->method == LB_METHOD_OPTIONS) {
            res->status = 204;
            lb_response_header(res, "Allow", "%s", allow);
            return;
        }
        lb_response_error(res, 405, "Method %.16s not allowed on %.200s", req->method_name,
                          req->path);
        lb_response_header(res, "Allow", "%s", allow);
        return;
    case LB_ROUTE_FOUND:
        lb_metrics_route((int)(route - app->routes)); /* its pattern labels the metrics */
        break;
    }

    if (req->query_error) {
        lb_response_error(res, 400, "Malformed query string");
        return;
    }
    /* no statement of this request is waited for beyond the time nginx waits for its answer,
     * and no write of it commits after that (less the margins: db.h) */
    lb_db_set_deadline(app->db, request_deadline_rt(app, req));
    if (!(route->access & LB_ACCESS_PUBLIC) && authenticate(app, req, route, &ctx) != 0) {
        lb_db_set_deadline(app->db, 0);
        return;
    }
    route->handler(&ctx);
    lb_db_set_deadline(app->db, 0);
    if (res->status == 204 || req->method == LB_METHOD_HEAD)
        res->head_only = 1;
    if (app->test_hooks)
        test_pause(req);
}

/* Loads the sign-in token keys the config names (*keys NULL when it names none). */
static int load_jwt_keys(const struct lb_config *cfg, struct lb_jwt_keys **keys, char *err,
                         size_t errlen)
{
    *keys = NULL;
    if (!cfg->jwt_issuer[0])
        return 0;
    return lb_jwt_keys_load(cfg->jwt_jwks_file, cfg->jwt_secret_file, cfg->jwt_issuer,
                            cfg->jwt_audience, keys, err, errlen);
}

int lb_app_check_config(const struct lb_config *cfg, char *err, size_t errlen)
{
    struct lb_jwt_keys *keys;
    if (load_jwt_keys(cfg, &keys, err, errlen) != 0)
        return -1;
    if (keys)
        lb_log(LB_LOG_INFO, "jwt_keys", "keys=%d issuer=\"%s\"", lb_jwt_keys_count(keys),
               cfg->jwt_issuer);
    lb_jwt_keys_free(keys);
    return 0;
}

void lb_app_worker_init(struct lb_app *app)
{
    const struct lb_config *cfg = app->cfg;
    int pooled = strcmp(cfg->db_pool_mode, "transaction") == 0;
    struct lb_db_options opt = {
        .conninfo = cfg->db,
        .connect_timeout_s = cfg->db_connect_timeout,
        .statement_timeout_ms = cfg->db_statement_timeout,
        .listen_channel = cfg->db_listen[0] ? NULL : STORE_KEYS_CHANNEL,
        .unnamed = pooled,
    };
    app->db = lb_db_new(&opt);
    app->listen = NULL;
    int listen_ok = 1;
    if (cfg->db_listen[0]) {
        /* a direct session to the primary: LISTEN cannot work through transaction pooling */
        struct lb_db_options lo = {.conninfo = cfg->db_listen,
                                   .connect_timeout_s = cfg->db_connect_timeout,
                                   .statement_timeout_ms = cfg->db_statement_timeout,
                                   .listen_channel = STORE_KEYS_CHANNEL};
        app->listen = lb_db_new(&lo);
        if (app->listen)
            lb_db_set_statements(app->listen, NULL);
        listen_ok = app->listen != NULL;
    }
    app->read = NULL;
    if (cfg->db_read[0]) {
        struct lb_db_read_options ro = {.conninfo = cfg->db_read,
                                        .max_lag_s = cfg->db_read_max_lag,
                                        .connect_timeout_s = cfg->db_connect_timeout,
                                        .statement_timeout_ms = cfg->db_statement_timeout,
                                        .unnamed = pooled};
        app->read = lb_db_read_new(&ro);
        listen_ok = listen_ok && app->read != NULL;
    }
    app->auth = lb_auth_new();
    if (!app->db || !app->auth || !listen_ok)
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=\"out of memory\"");
    app->jwt = NULL;
    char err[512];
    if (load_jwt_keys(app->cfg, &app->jwt, err, sizeof err) != 0)
        lb_log(LB_LOG_ERROR, "jwt_keys_failed",
               "reason=\"%s\" note=\"sign-in tokens are refused (401)\"", err);
    /* connect now so the first request does not pay for it; failure is not fatal: requests
     * answer 503 and the connection is retried */
    if (app->db && lb_db_ready(app->db) != LB_OK)
        lb_log(LB_LOG_WARN, "db_unavailable", "when=worker_start");
    if (app->listen && lb_db_ready(app->listen) != LB_OK)
        lb_log(LB_LOG_WARN, "db_listen_unavailable", "when=worker_start");
}

int lb_app_db_connected_once(const struct lb_app *app)
{
    return app->db && lb_db_generation(app->db) > 0;
}

int lb_app_db_reached(struct lb_app *app, char *err, size_t errlen)
{
    if (!app->db || lb_db_ready(app->db) != LB_OK) {
        snprintf(err, errlen, "%s", app->db ? lb_db_last_error(app->db) : "out of memory");
        return 0;
    }
    if (app->listen && lb_db_ready(app->listen) != LB_OK) { /* db_listen */
        snprintf(err, errlen, "db_listen: %s", lb_db_last_error(app->listen));
        return 0;
    }
    return 1;
}

void lb_app_worker_free(struct lb_app *app)
{
    lb_db_free(app->db);
    lb_db_free(app->listen);
    lb_db_read_free(app->read);
    app->listen = NULL;
    app->read = NULL;
    lb_auth_free(app->auth);
    lb_jwt_keys_free(app->jwt);
    app->db = NULL;
    app->auth = NULL;
    app->jwt = NULL;
}
