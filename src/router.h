/* router: a table of {method, pattern with :params, handler, access}; matching fills the
 * request's route params and says 404, 405 (with the Allow list) or which route. */
#ifndef LB_ROUTER_H
#define LB_ROUTER_H

#include <stddef.h>

#include "http.h"

struct lb_ctx;
typedef void (*lb_handler_fn)(struct lb_ctx *ctx);

struct lb_route {
    enum lb_method method;
    const char *pattern; /* "/leads/:id"; a ":name" segment matches one non-empty segment */
    lb_handler_fn handler;
    int access; /* LB_ACCESS_* flags: who may call it besides a tenant's own credential */
};

/* Route access flags. 0: a tenant's credential (tenant key, or a signed-in user of a tenant). */
#define LB_ACCESS_PUBLIC 1       /* no credential needed (the meeting page, the probes) */
#define LB_ACCESS_BOOKING_PAGE 2 /* a booking-page key may call it */
#define LB_ACCESS_NO_TENANT 4    /* a signed-in user who has no tenant yet may call it */

enum lb_route_result { LB_ROUTE_FOUND, LB_ROUTE_NOT_FOUND, LB_ROUTE_METHOD_NOT_ALLOWED };

/* Finds the route for req's method and path. Among the patterns that match the path, the most
 * specific (most literal segments) wins, so "/leads/stats" beats "/leads/:id". HEAD is served by
 * a GET route. On LB_ROUTE_METHOD_NOT_ALLOWED (and on FOUND, for OPTIONS) allow receives the
 * methods of that path, e.g. "GET, HEAD, PATCH". Paths match exactly: "/leads/" is not
 * "/leads" (a 404), as no spelling of the public meeting path may differ from nginx's. */
enum lb_route_result lb_route_match(const struct lb_route *routes, size_t nroutes,
                                    struct lb_request *req, const struct lb_route **found,
                                    char *allow, size_t allow_len);

const char *lb_method_name(enum lb_method m);

#endif
