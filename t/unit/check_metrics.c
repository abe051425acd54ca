/* Unit tests: the scoreboard (src/metrics.c): status and method indexes, the text rendering
 * (exact samples, cumulative buckets, escaping, the format), pool totals across slots, a
 * slot's counters surviving the worker that held it (a forked child writes, the parent reads),
 * restarts by cause, and the webhook lines left out when the database did not answer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "promtext.h"

static void handler(struct lb_ctx *c)
{
    (void)c;
}

static const struct lb_route routes[] = {
    {LB_METHOD_GET, "/leads/:id", handler, 0},
    {LB_METHOD_PATCH, "/leads/:id", handler, 0},
    {LB_METHOD_POST, "/leads", handler, 0},
    {LB_METHOD_GET, "/healthz", handler, LB_ACCESS_PUBLIC},
    {LB_METHOD_GET, "/odd/\"q\"\\b", handler, 0},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static struct lb_buf out;

static void setup(void)
{
    ck_assert_int_eq(lb_metrics_map(routes, NROUTES, 8), 0);
    lb_buf_init(&out);
}

static void teardown(void)
{
    lb_buf_free(&out);
    lb_metrics_unmap();
}

/* A worker in entry slot: the master's reserve, then the child's attach. */
static void worker_in(int slot)
{
    lb_metrics_slot_reserve(slot);
    lb_metrics_attach(slot);
}

static void request(int route, enum lb_method m, int status, int64_t us)
{
    lb_metrics_route(route);
    lb_metrics_request(m, status, us);
}

static const char *render(const struct lb_metrics_webhooks *wh)
{
    lb_buf_reset(&out);
    lb_metrics_render(&out, wh);
    lb_buf_putc(&out, '\0');
    char err[512];
    ck_assert_msg(promtext_check(out.data, err, sizeof err) == 0, "%s", err);
    return out.data;
}

static double val(const char *text, const char *series)
{
    return promtext_value0(text, series);
}

START_TEST(t_status_index)
{
    static const int used[] = {200, 201, 204, 400, 401, 403, 404, 405,
                               406, 409, 413, 415, 422, 429, 500, 503};
    int seen[LB_METRICS_NSTATUS] = {0};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        int idx = lb_metrics_status_index(used[i]);
        ck_assert_int_ge(idx, 0);
        ck_assert_int_lt(idx, LB_METRICS_NSTATUS - 1);
        ck_assert_int_eq(seen[idx]++, 0); /* one index per code */
        char code[8];
        snprintf(code, sizeof code, "%d", used[i]);
        ck_assert_str_eq(lb_metrics_status_label(idx), code);
    }
    static const int others[] = {0, 100, 202, 302, 418, 502, 504, 599, 1000, -1};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        ck_assert_str_eq(lb_metrics_status_label(lb_metrics_status_index(others[i])), "other");
    ck_assert_str_eq(lb_metrics_status_label(-5), "other");
    ck_assert_str_eq(lb_metrics_status_label(LB_METRICS_NSTATUS), "other");
}
END_TEST

START_TEST(t_method_index)
{
    static const enum lb_method all[] = {LB_METHOD_OTHER,  LB_METHOD_GET,    LB_METHOD_HEAD,
                                         LB_METHOD_POST,   LB_METHOD_PUT,    LB_METHOD_PATCH,
                                         LB_METHOD_DELETE, LB_METHOD_OPTIONS};
    int seen[LB_METRICS_NMETHODS] = {0};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int idx = lb_metrics_method_index(all[i]);
        ck_assert_int_ge(idx, 0);
        ck_assert_int_lt(idx, LB_METRICS_NMETHODS);
        ck_assert_int_eq(seen[idx]++, 0);
    }
    ck_assert_int_eq(lb_metrics_method_index((enum lb_method)99), (int)LB_METHOD_OTHER);
}
END_TEST

START_TEST(t_requests_by_route_method_status)
{
    worker_in(0);
    request(0, LB_METHOD_GET, 200, 1500);
    request(0, LB_METHOD_GET, 200, 700);
    request(0, LB_METHOD_HEAD, 200, 10);
    request(1, LB_METHOD_PATCH, 409, 30000);
    request(2, LB_METHOD_POST, 418, 5);          /* a code the API never answers */
    lb_metrics_request(LB_METHOD_GET, 404, 100); /* no route: unmatched */
    request(-1, LB_METHOD_OPTIONS, 204, 100);
    request(0, LB_METHOD_DELETE, 405, 100); /* not the route's method: unmatched */
    const char *t = render(NULL);
    ck_assert_double_eq(
        val(t, "leadbook_http_requests_total{route=\"/leads/:id\",method=\"GET\",status=\"200\"}"),
        2);
    ck_assert_double_eq(
        val(t, "leadbook_http_requests_total{route=\"/leads/:id\",method=\"HEAD\",status=\"200\"}"),
        1);
    ck_assert_double_eq(
        val(t,
            "leadbook_http_requests_total{route=\"/leads/:id\",method=\"PATCH\",status=\"409\"}"),
        1);
    ck_assert_double_eq(
        val(t, "leadbook_http_requests_total{route=\"/leads\",method=\"POST\",status=\"other\"}"),
        1);
    ck_assert_double_eq(
        val(t, "leadbook_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"),
        1);
    ck_assert_double_eq(
        val(t,
            "leadbook_http_requests_total{route=\"unmatched\",method=\"OPTIONS\",status=\"204\"}"),
        1);
    ck_assert_double_eq(
        val(t,
            "leadbook_http_requests_total{route=\"unmatched\",method=\"DELETE\",status=\"405\"}"),
        1);
    /* nothing else: a series never counted is not rendered */
    int samples = 0;
    for (const char *p = t; (p = strstr(p, "\nleadbook_http_requests_total{")); p++)
        samples++;
    ck_assert_int_eq(samples, 7);
    ck_assert_ptr_null(strstr(t, "/healthz"));
}
END_TEST

START_TEST(t_histogram_cumulative_by_pattern)
{
    worker_in(0);
    request(0, LB_METHOD_GET, 200, 1000);     /* le 0.001 (bounds are inclusive) */
    request(0, LB_METHOD_HEAD, 200, 1001);    /* le 0.0025 */
    request(1, LB_METHOD_PATCH, 200, 3000);   /* le 0.005: same pattern, same histogram */
    request(0, LB_METHOD_GET, 500, 60000000); /* a minute: only +Inf */
    const char *t = render(NULL);
    static const char h[] = "leadbook_http_request_duration_seconds";
    char s[256];
    static const char *const le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                     "0.25",  "0.5",    "1",     "2.5",  "5",     "10",   "+Inf"};
    static const double want[] = {1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4};
    for (size_t i = 0; i < sizeof le / sizeof le[0]; i++) {
        snprintf(s, sizeof s, "%s_bucket{route=\"/leads/:id\",le=\"%s\"}", h, le[i]);
        ck_assert_msg(val(t, s) == want[i], "%s = %g, want %g", s, val(t, s), want[i]);
    }
    snprintf(s, sizeof s, "%s_count{route=\"/leads/:id\"}", h);
    ck_assert_double_eq(val(t, s), 4);
    snprintf(s, sizeof s, "%s_sum{route=\"/leads/:id\"} 60.005001\n", h);
    ck_assert_msg(strstr(t, s), "no exact sum in\n%s", t);
    /* one histogram per pattern: /leads/:id is not repeated per method */
    snprintf(s, sizeof s, "%s_count{route=\"/leads/:id\"}", h);
    ck_assert_ptr_null(strstr(strstr(t, s) + 1, s));
    ck_assert_ptr_null(strstr(t, "route=\"/leads\",le="));
}
END_TEST

START_TEST(t_label_values_escaped)
{
    worker_in(0);
    request(4, LB_METHOD_GET, 200, 1);
    const char *t = render(NULL);
    ck_assert_msg(strstr(t, "{route=\"/odd/\\\"q\\\"\\\\b\",method=\"GET\",status=\"200\"} 1\n"),
                  "%s", t);
}
END_TEST

START_TEST(t_pool_sums_slots_and_survives_reuse)
{
    worker_in(0);
    request(3, LB_METHOD_GET, 200, 1);
    request(3, LB_METHOD_GET, 200, 1);
    lb_metrics_worker_started();
    worker_in(1);
    request(3, LB_METHOD_GET, 200, 1);
    lb_metrics_worker_started();
    static const char s[] =
        "leadbook_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}";
    ck_assert_double_eq(val(render(NULL), s), 3);
    ck_assert_double_eq(val(render(NULL), "leadbook_workers_alive"), 2);
    /* the worker of slot 0 crashes; its replacement gets slot 0 and counts on from there */
    lb_metrics_worker_exited(LB_RESTART_CRASH);
    ck_assert_double_eq(val(render(NULL), s), 3);
    worker_in(0);
    lb_metrics_worker_started();
    request(3, LB_METHOD_GET, 200, 1);
    const char *t = render(NULL);
    ck_assert_double_eq(val(t, s), 4);
    ck_assert_double_eq(val(t, "leadbook_workers_alive"), 2);
    ck_assert_double_eq(val(t, "leadbook_worker_restarts_total{cause=\"crash\"}"), 1);
    ck_assert_double_eq(val(t, "leadbook_worker_restarts_total{cause=\"recycle\"}"), 0);
}
END_TEST

/* The region is really shared: what a forked worker counts, and the counters it leaves when it
 * dies, are the parent's to read. */
START_TEST(t_forked_worker_counts_are_shared)
{
    lb_metrics_slot_reserve(2);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        lb_metrics_attach(2);
        for (int i = 0; i < 7; i++)
            request(0, LB_METHOD_GET, 404, 100);
        lb_metrics_db_reconnect();
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    const char *t = render(NULL);
    ck_assert_double_eq(
        val(t, "leadbook_http_requests_total{route=\"/leads/:id\",method=\"GET\",status=\"404\"}"),
        7);
    ck_assert_double_eq(val(t, "leadbook_db_reconnects_total"), 1);
}
END_TEST

START_TEST(t_slots_past_the_reserved_are_not_read)
{
    worker_in(0);
    lb_metrics_attach(5); /* written without the master's reserve: not summed (yet) */
    request(3, LB_METHOD_GET, 200, 1);
    static const char s[] =
        "leadbook_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}";
    ck_assert_double_eq(val(render(NULL), s), 0);
    lb_metrics_slot_reserve(5);
    ck_assert_double_eq(val(render(NULL), s), 1);
}
END_TEST

START_TEST(t_restart_causes)
{
    ck_assert_int_eq(lb_metrics_stop_cause("reload"), LB_RESTART_RELOAD);
    ck_assert_int_eq(lb_metrics_stop_cause("request_timeout"), LB_RESTART_TIMEOUT);
    ck_assert_int_eq(lb_metrics_stop_cause("shutdown"), LB_RESTART_NONE);
    ck_assert_int_eq(lb_metrics_stop_cause(NULL), LB_RESTART_NONE);
    for (int i = 0; i < 4; i++)
        lb_metrics_worker_started();
    lb_metrics_worker_exited(LB_RESTART_RECYCLE);
    lb_metrics_worker_exited(LB_RESTART_TIMEOUT);
    lb_metrics_worker_exited(LB_RESTART_RELOAD);
    lb_metrics_worker_exited(LB_RESTART_NONE);
    lb_metrics_worker_exited(LB_RESTART_NONE); /* more exits than starts: stays at 0 */
    const char *t = render(NULL);
    ck_assert_double_eq(val(t, "leadbook_workers_alive"), 0);
    static const char *const causes[] = {"crash", "recycle", "timeout", "reload"};
    static const double want[] = {0, 1, 1, 1};
    for (int i = 0; i < 4; i++) {
        char s[128];
        snprintf(s, sizeof s, "leadbook_worker_restarts_total{cause=\"%s\"}", causes[i]);
        double v;
        ck_assert_msg(promtext_value(t, s, &v), "%s absent", s);
        ck_assert_double_eq(v, want[i]);
    }
}
END_TEST

START_TEST(t_deadline_and_unavailable)
{
    worker_in(0);
    lb_metrics_deadline_dropped();
    lb_metrics_request(LB_METHOD_POST, 503, 10);
    request(0, LB_METHOD_GET, 503, 10); /* the database's */
    request(0, LB_METHOD_GET, 200, 10); /* the drop flag was for one request only */
    const char *t = render(NULL);
    ck_assert_double_eq(val(t, "leadbook_requests_deadline_dropped_total"), 1);
    ck_assert_double_eq(val(t, "leadbook_db_unavailable_total"), 1);
    ck_assert_double_eq(
        val(t, "leadbook_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"503\"}"),
        1);
}
END_TEST

START_TEST(t_auth_checks_and_cache)
{
    worker_in(0);
    lb_metrics_auth_check(LB_CRED_TENANT_KEY, LB_AUTH_OK);
    lb_metrics_auth_check(LB_CRED_TENANT_KEY, LB_AUTH_OK);
    lb_metrics_auth_check(LB_CRED_NONE, LB_AUTH_MISSING);
    lb_metrics_auth_check(LB_CRED_USER, LB_AUTH_UNAVAILABLE);
    lb_metrics_auth_check(LB_CRED_BOOKING_PAGE, LB_AUTH_INVALID);
    lb_metrics_auth_check((enum lb_credential)9, LB_AUTH_OK); /* ignored */
    lb_metrics_auth_cache_hit(LB_CRED_USER);
    const char *t = render(NULL);
    ck_assert_double_eq(val(t, "leadbook_auth_checks_total{kind=\"key\",result=\"ok\"}"), 2);
    ck_assert_double_eq(val(t, "leadbook_auth_checks_total{kind=\"none\",result=\"missing\"}"), 1);
    ck_assert_double_eq(val(t, "leadbook_auth_checks_total{kind=\"user\",result=\"unavailable\"}"),
                        1);
    ck_assert_double_eq(
        val(t, "leadbook_auth_checks_total{kind=\"booking_page\",result=\"invalid\"}"), 1);
    double v;
    ck_assert(promtext_value(t, "leadbook_auth_cache_hits_total{kind=\"user\"}", &v) && v == 1);
    ck_assert(promtext_value(t, "leadbook_auth_cache_hits_total{kind=\"key\"}", &v) && v == 0);
}
END_TEST

START_TEST(t_webhook_lines)
{
    const char *t = render(NULL);
    ck_assert_ptr_null(strstr(t, "leadbook_webhook"));
    struct lb_metrics_webhooks wh = {.known = 0, .delivered = 5};
    ck_assert_ptr_null(strstr(render(&wh), "leadbook_webhook"));
    wh = (struct lb_metrics_webhooks){
        .known = 1, .delivered = 5, .failed = 2, .pending = 1, .lag_s = 12.25};
    t = render(&wh);
    ck_assert_double_eq(val(t, "leadbook_webhook_deliveries_total{status=\"delivered\"}"), 5);
    ck_assert_double_eq(val(t, "leadbook_webhook_deliveries_total{status=\"failed\"}"), 2);
    ck_assert_double_eq(val(t, "leadbook_webhook_deliveries_total{status=\"pending\"}"), 1);
    ck_assert_double_eq(val(t, "leadbook_webhook_outbox_lag_seconds"), 12.25);
}
END_TEST

START_TEST(t_every_family_typed)
{
    const char *t = render(NULL);
    static const char *const types[] = {
        "# TYPE leadbook_http_requests_total counter\n",
        "# TYPE leadbook_http_request_duration_seconds histogram\n",
        "# TYPE leadbook_requests_deadline_dropped_total counter\n",
        "# TYPE leadbook_workers_alive gauge\n",
        "# TYPE leadbook_worker_restarts_total counter\n",
        "# TYPE leadbook_db_reconnects_total counter\n",
        "# TYPE leadbook_db_unavailable_total counter\n",
        "# TYPE leadbook_auth_checks_total counter\n",
        "# TYPE leadbook_auth_cache_hits_total counter\n",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        ck_assert_msg(strstr(t, types[i]), "missing %s", types[i]);
}
END_TEST

/* Not mapped (leadbookctl, the fuzzers): every call is a no-op and the text still parses. */
START_TEST(t_unmapped_is_harmless)
{
    lb_metrics_unmap();
    lb_metrics_slot_reserve(0);
    lb_metrics_attach(0);
    lb_metrics_worker_started();
    request(0, LB_METHOD_GET, 200, 10);
    lb_metrics_db_reconnect();
    lb_metrics_auth_check(LB_CRED_TENANT_KEY, LB_AUTH_OK);
    lb_metrics_worker_exited(LB_RESTART_CRASH);
    const char *t = render(NULL);
    ck_assert_ptr_null(strstr(t, "leadbook_http_requests_total{"));
    ck_assert_double_eq(val(t, "leadbook_workers_alive"), 0);
    ck_assert_int_eq(lb_metrics_map(routes, NROUTES, 8), 0); /* for the teardown */
}
END_TEST

START_TEST(t_too_many_routes_refused)
{
    lb_metrics_unmap();
    static struct lb_route big[LB_METRICS_MAX_ROUTES + 1];
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        big[i] = (struct lb_route){LB_METHOD_GET, "/x", handler, 0};
    ck_assert_int_eq(lb_metrics_map(big, LB_METRICS_MAX_ROUTES + 1, 8), -1);
    ck_assert_int_eq(lb_metrics_map(big, LB_METRICS_MAX_ROUTES, 8), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("scoreboard");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_status_index);
    tcase_add_test(tc, t_method_index);
    tcase_add_test(tc, t_requests_by_route_method_status);
    tcase_add_test(tc, t_histogram_cumulative_by_pattern);
    tcase_add_test(tc, t_label_values_escaped);
    tcase_add_test(tc, t_pool_sums_slots_and_survives_reuse);
    tcase_add_test(tc, t_forked_worker_counts_are_shared);
    tcase_add_test(tc, t_slots_past_the_reserved_are_not_read);
    tcase_add_test(tc, t_restart_causes);
    tcase_add_test(tc, t_deadline_and_unavailable);
    tcase_add_test(tc, t_auth_checks_and_cache);
    tcase_add_test(tc, t_webhook_lines);
    tcase_add_test(tc, t_every_family_typed);
    tcase_add_test(tc, t_unmapped_is_harmless);
    tcase_add_test(tc, t_too_many_routes_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
