/* Unit tests: route matching, params, specificity, 404/405 and the Allow list. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static void h_a(struct lb_ctx *c)
{
    (void)c;
}
static void h_b(struct lb_ctx *c)
{
    (void)c;
}
static void h_c(struct lb_ctx *c)
{
    (void)c;
}
static void h_d(struct lb_ctx *c)
{
    (void)c;
}
static void h_e(struct lb_ctx *c)
{
    (void)c;
}

static const struct lb_route routes[] = {
    {LB_METHOD_GET, "/leads/:id", h_a, 0},
    {LB_METHOD_GET, "/leads/stats", h_b, 0},
    {LB_METHOD_POST, "/leads", h_c, 0},
    {LB_METHOD_GET, "/leads", h_c, 0},
    {LB_METHOD_PATCH, "/bookings/:id/status", h_d, 0},
    {LB_METHOD_GET, "/bookings/meeting/:meetingToken", h_e, 1},
    {LB_METHOD_GET, "/agents/:id", h_a, 0},
    {LB_METHOD_PATCH, "/agents/:id", h_b, 0},
    {LB_METHOD_DELETE, "/agents/:id", h_c, 0},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static struct lb_request req;

static enum lb_route_result match(enum lb_method m, const char *path, const struct lb_route **r,
                                  char *allow)
{
    lb_request_reset(&req);
    req.method = m;
    req.path = path;
    return lb_route_match(routes, NROUTES, &req, r, allow, 128);
}

static void setup(void)
{
    lb_request_init(&req);
}
static void teardown(void)
{
    lb_request_free(&req);
}

START_TEST(t_param_extracted)
{
    const struct lb_route *r;
    char allow[128];
    ck_assert_int_eq(match(LB_METHOD_GET, "/leads/abc-123", &r, allow), LB_ROUTE_FOUND);
    ck_assert_ptr_eq(r->handler, h_a);
    ck_assert_str_eq(lb_request_param(&req, "id"), "abc-123");
    ck_assert_ptr_null(lb_request_param(&req, "other"));

    ck_assert_int_eq(match(LB_METHOD_PATCH, "/bookings/b1/status", &r, allow), LB_ROUTE_FOUND);
    ck_assert_ptr_eq(r->handler, h_d);
    ck_assert_str_eq(lb_request_param(&req, "id"), "b1");
}
END_TEST

START_TEST(t_literal_beats_param)
{
    const struct lb_route *r;
    char allow[128];
    ck_assert_int_eq(match(LB_METHOD_GET, "/leads/stats", &r, allow), LB_ROUTE_FOUND);
    ck_assert_ptr_eq(r->handler, h_b);
    ck_assert_uint_eq(req.nparams, 0);
}
END_TEST

START_TEST(t_public_flag)
{
    const struct lb_route *r;
    char allow[128];
    ck_assert_int_eq(match(LB_METHOD_GET, "/bookings/meeting/tok", &r, allow), LB_ROUTE_FOUND);
    ck_assert_int_eq(r->access, LB_ACCESS_PUBLIC);
    ck_assert_str_eq(lb_request_param(&req, "meetingToken"), "tok");
    ck_assert_int_eq(match(LB_METHOD_HEAD, "/bookings/meeting/tok", &r, allow), LB_ROUTE_FOUND);
    ck_assert_ptr_eq(r->handler, h_e);
}
END_TEST

START_TEST(t_not_found)
{
    const struct lb_route *r;
    char allow[128];
    const char *paths[] = {"/",
                           "/lead",
                           "/leads/a/b",
                           "/leads//",
                           "//leads",
                           "/bookings/x",
                           "/bookings//status",
                           "/LEADS",
                           "/leads/stats/x",
                           "/agents"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        ck_assert_msg(match(LB_METHOD_GET, paths[i], &r, allow) == LB_ROUTE_NOT_FOUND, "%s",
                      paths[i]);
}
END_TEST

START_TEST(t_method_not_allowed_lists_allow)
{
    const struct lb_route *r;
    char allow[128];
    ck_assert_int_eq(match(LB_METHOD_PUT, "/leads", &r, allow), LB_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow, "POST, GET, HEAD, OPTIONS");
    ck_assert_int_eq(match(LB_METHOD_POST, "/agents/x", &r, allow), LB_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow, "GET, HEAD, PATCH, DELETE, OPTIONS");
    /* the literal route decides the Allow list of its path */
    ck_assert_int_eq(match(LB_METHOD_DELETE, "/leads/stats", &r, allow),
                     LB_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow, "GET, HEAD, OPTIONS");
    ck_assert_int_eq(match(LB_METHOD_OTHER, "/leads", &r, allow), LB_ROUTE_METHOD_NOT_ALLOWED);
}
END_TEST

/* Paths are matched exactly: a trailing slash, an empty or an extra segment is another path,
 * a 404 for every method (not a 405: no route has that path). */
START_TEST(t_trailing_slash)
{
    const struct lb_route *r;
    char allow[128];
    const char *paths[] = {"/leads/",
                           "/leads/x/",
                           "/leads/stats/",
                           "/agents/x/",
                           "/bookings/b1/status/",
                           "/bookings/meeting/tok/",
                           "/bookings/meeting/tok//",
                           "/bookings/meeting/tok/x",
                           "//bookings/meeting/tok",
                           "/bookings//meeting/tok",
                           "/bookings/meeting//tok",
                           "/bookings/meeting/",
                           "/bookings/meeting"};
    const enum lb_method methods[] = {LB_METHOD_GET, LB_METHOD_HEAD, LB_METHOD_PATCH,
                                      LB_METHOD_POST, LB_METHOD_OPTIONS};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
            ck_assert_msg(match(methods[m], paths[i], &r, allow) == LB_ROUTE_NOT_FOUND, "%s %s",
                          lb_method_name(methods[m]), paths[i]);
    /* and the exact spellings still match */
    ck_assert_int_eq(match(LB_METHOD_GET, "/bookings/meeting/tok", &r, allow), LB_ROUTE_FOUND);
    ck_assert_ptr_eq(r->handler, h_e);
    ck_assert_int_eq(match(LB_METHOD_GET, "/leads", &r, allow), LB_ROUTE_FOUND);
    ck_assert_ptr_eq(r->handler, h_c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("match");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_param_extracted);
    tcase_add_test(tc, t_literal_beats_param);
    tcase_add_test(tc, t_public_flag);
    tcase_add_test(tc, t_not_found);
    tcase_add_test(tc, t_method_not_allowed_lists_allow);
    tcase_add_test(tc, t_trailing_slash);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
