/* router: segment-by-segment, exact matching of the request path against the route table. */
#include "router.h"

#include <stdio.h>
#include <string.h>

const char *lb_method_name(enum lb_method m)
{
    switch (m) {
    case LB_METHOD_GET:
        return "GET";
    case LB_METHOD_HEAD:
        return "HEAD";
    case LB_METHOD_POST:
        return "POST";
    case LB_METHOD_PUT:
        return "PUT";
    case LB_METHOD_PATCH:
        return "PATCH";
    case LB_METHOD_DELETE:
        return "DELETE";
    case LB_METHOD_OPTIONS:
        return "OPTIONS";
    case LB_METHOD_OTHER:
        break;
    }
    return "OTHER";
}

/* Returns the number of literal segments matched (>= 0), or -1 when the path does not match.
 * With req non-NULL, the :params are stored in it. */
static int pattern_match(const char *pattern, const char *path, size_t path_len,
                         struct lb_request *req)
{
    const char *p = pattern, *s = path, *end = path + path_len;
    int literals = 0;
    size_t nparams = 0;
    for (;;) {
        if (*p != '/' || s >= end || *s != '/')
            return -1;
        p++;
        s++;
        size_t plen = strcspn(p, "/");
        const char *seg_end = memchr(s, '/', (size_t)(end - s));
        size_t slen = seg_end ? (size_t)(seg_end - s) : (size_t)(end - s);
        if (p[0] == ':') {
            if (slen == 0)
                return -1;
            if (req) {
                if (nparams >= LB_MAX_ROUTE_PARAMS)
                    return -1;
                req->params[nparams].key = lb_arena_strndup(&req->arena, p + 1, plen - 1);
                req->params[nparams].value = lb_arena_strndup(&req->arena, s, slen);
                if (!req->params[nparams].key || !req->params[nparams].value)
                    return -1;
            }
            nparams++;
        } else {
            if (plen != slen || memcmp(p, s, slen) != 0)
                return -1;
            literals++;
        }
        p += plen;
        s += slen;
        if (*p == '\0' && s == end) {
            if (req)
                req->nparams = nparams;
            return literals;
        }
        if (*p == '\0' || s == end)
            return -1;
    }
}

static int method_ok(enum lb_method route, enum lb_method req)
{
    return route == req || (req == LB_METHOD_HEAD && route == LB_METHOD_GET);
}

static void allow_add(char *allow, size_t len, const char *name)
{
    if (strstr(allow, name))
        return;
    size_t used = strlen(allow);
    snprintf(allow + used, len - used, "%s%s", used ? ", " : "", name);
}

enum lb_route_result lb_route_match(const struct lb_route *routes, size_t nroutes,
                                    struct lb_request *req, const struct lb_route **found,
                                    char *allow, size_t allow_len)
{
    *found = NULL;
    if (allow_len)
        allow[0] = '\0';
    /* The path is matched exactly (Express's "strict routing"): a trailing slash, an empty
     * segment ("//leads", "/bookings//meeting/x") or an extra one makes another path, a 404.
     * The web frontend calls exact URLs, so nothing needs leniency, and ignoring a trailing
     * slash served the public booking at "/bookings/meeting/<token>/", a spelling that
     * nginx's exact public location did not match. */
    size_t len = strlen(req->path);

    int best = -1;
    for (size_t i = 0; i < nroutes; i++) {
        int score = pattern_match(routes[i].pattern, req->path, len, NULL);
        if (score > best)
            best = score;
    }
    if (best < 0)
        return LB_ROUTE_NOT_FOUND;

    const struct lb_route *hit = NULL;
    for (size_t i = 0; i < nroutes; i++) {
        if (pattern_match(routes[i].pattern, req->path, len, NULL) != best)
            continue;
        if (allow_len) {
            allow_add(allow, allow_len, lb_method_name(routes[i].method));
            if (routes[i].method == LB_METHOD_GET)
                allow_add(allow, allow_len, "HEAD");
        }
        if (!hit && method_ok(routes[i].method, req->method))
            hit = &routes[i];
    }
    if (allow_len)
        allow_add(allow, allow_len, "OPTIONS");
    if (!hit)
        return LB_ROUTE_METHOD_NOT_ALLOWED;
    if (pattern_match(hit->pattern, req->path, len, req) < 0)
        return LB_ROUTE_NOT_FOUND; /* out of memory while copying params */
    *found = hit;
    return LB_ROUTE_FOUND;
}
