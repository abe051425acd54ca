/* app: dispatch a parsed request to its handler, turning every failure into a JSON error. */
#include "app.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "db.h"
#include "log.h"
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

void lb_app_dispatch(struct lb_app *app, struct lb_request *req, struct lb_response *res)
{
    struct lb_ctx ctx = {.app = app, .req = req, .res = res};
    res->head_only = req->method == LB_METHOD_HEAD;

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
    switch (lb_route_match(app->routes, app->nroutes, req, &route, allow, sizeof allow)) {
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
        break;
    }

    if (req->query_error) {
        lb_response_error(res, 400, "Malformed query string");
        return;
    }
    if (!route->is_public) {
        enum lb_auth_result ar = lb_auth_check(app, req->authorization, ctx.tenant_id, ctx.key_id);
        if (ar == LB_AUTH_UNAVAILABLE) {
            lb_response_status_error(res, LB_UNAVAILABLE, app->cfg->retry_after, NULL);
            return;
        }
        if (ar != LB_AUTH_OK) {
            lb_response_error(res, 401, "Unauthorized");
            lb_response_header(res, "WWW-Authenticate", "Bearer realm=\"leadbook\"");
            return;
        }
    }
    route->handler(&ctx);
    if (res->status == 204 || req->method == LB_METHOD_HEAD)
        res->head_only = 1;
}

void lb_app_worker_init(struct lb_app *app)
{
    struct lb_db_options opt = {
        .conninfo = app->cfg->db,
        .connect_timeout_s = app->cfg->db_connect_timeout,
        .statement_timeout_ms = app->cfg->db_statement_timeout,
        .listen_channel = STORE_KEYS_CHANNEL,
    };
    app->db = lb_db_new(&opt);
    app->auth = lb_auth_new();
    if (!app->db || !app->auth)
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=\"out of memory\"");
    /* connect now so the first request does not pay for it; failure is not fatal: requests
     * answer 503 and the connection is retried */
    if (app->db && lb_db_ready(app->db) != LB_OK)
        lb_log(LB_LOG_WARN, "db_unavailable", "when=worker_start");
}

void lb_app_worker_free(struct lb_app *app)
{
    lb_db_free(app->db);
    lb_auth_free(app->auth);
    app->db = NULL;
    app->auth = NULL;
}
