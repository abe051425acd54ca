/* check_metrics: GET /metrics through the real nginx site and the 4-worker pool. Known requests
 * are made, then scraped while 0 to 3 workers are held busy (so that different workers answer):
 * every scrape must show the exact pool totals, the same whichever worker answers. A worker is
 * killed (SIGKILL): nothing drops and a crash restart is counted. No raw id or token ever
 * appears (route labels are the route table's patterns); the text parses as format 0.0.4; the
 * deliverer's figures match the database; nginx refuses other addresses. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "e2e.h"
#include "promtext.h"

#define CT "text/plain; version=0.0.4; charset=utf-8"
#define REQ "leadbook_http_requests_total"

/* One scrape from this host: asserts 200, the content type and a parsable text. *text is the
 * caller's to free; returns the pid of the worker that answered (from the access log). */
static pid_t scrape(char **text)
{
    struct e2e_resp r;
    e2e_raw(&r, NULL, "GET", "/metrics", NULL, 0);
    ck_assert_int_eq(r.status, 200);
    char ct[128], rid[64];
    ck_assert_ptr_nonnull(e2e_header(&r, "Content-Type", ct, sizeof ct));
    ck_assert_str_eq(ct, CT);
    ck_assert_ptr_nonnull(e2e_header(&r, "X-Request-Id", rid, sizeof rid));
    char err[512];
    ck_assert_msg(promtext_check(r.raw.body, err, sizeof err) == 0, "%s", err);
    *text = strdup(r.raw.body);
    e2e_free(&r);

    /* the access line is written before the answer is flushed to nginx */
    char needle[128], line[1024];
    snprintf(needle, sizeof needle, "rid=%s worker=", rid);
    FILE *f = fopen(e2e_stack.log, "r");
    ck_assert_ptr_nonnull(f);
    pid_t pid = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "path=/metrics ") && strstr(line, needle))
            pid = (pid_t)atol(strstr(line, needle) + strlen(needle));
    fclose(f);
    ck_assert_msg(pid > 0, "no access line for %s", rid);
    return pid;
}

/* The samples that do not move between two scrapes: no comments, nothing about /metrics itself
 * (each scrape is counted once answered) or the sleepers, no clock-driven gauge. */
static char *stable(const char *text)
{
    char *out = calloc(1, strlen(text) + 1);
    size_t n = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = (size_t)(nl - line) + 1;
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        if (buf[0] != '#' && !strstr(buf, "route=\"/metrics\"") &&
            !strstr(buf, "route=\"/_test/sleep\"") &&
            strncmp(buf, "leadbook_webhook_outbox_lag_seconds", 35) != 0) {
            memcpy(out + n, line, len);
            n += len;
        }
        line = nl + 1;
    }
    return out;
}

static double v(const char *text, const char *series)
{
    return promtext_value0(text, series);
}

static double delta(const char *before, const char *after, const char *series)
{
    return v(after, series) - v(before, series);
}

/* n requests /_test/sleep?ms=ms in the background (each holds a worker); returns them. */
static void sleepers(int n, int ms, pid_t *kids)
{
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            char path[64];
            struct httpc_resp r;
            snprintf(path, sizeof path, "/_test/sleep?ms=%d", ms);
            int st = httpc(e2e_stack.port, "GET", path, "Authorization: Bearer x\r\n", NULL, 0, &r,
                           20000);
            httpc_free(&r);
            _exit(st == 200 ? 0 : 1);
        }
    }
}

static void reap_all(int n, const pid_t *kids)
{
    for (int i = 0; i < n; i++) {
        int st;
        ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a sleeper failed");
    }
}

static void call_expect(const struct e2e_tenant *t, const char *headers, const char *method,
                        const char *path, int status)
{
    struct e2e_resp r;
    if (headers)
        e2e_raw(&r, headers, method, path, NULL, 0);
    else
        e2e_call(&r, t, method, path, NULL);
    ck_assert_msg(r.status == status, "%s %s: %d, want %d", method, path, r.status, status);
    e2e_free(&r);
}

START_TEST(t_totals_exact_whichever_worker)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Metrics totals", 0);
    char *base;
    scrape(&base);

    char lead[37], booking[37], token[37], path[256];
    e2e_lead_new(&t, NULL, "Metrics lead", 86400, lead, booking, token);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/leads/%s", lead);
        call_expect(&t, NULL, "GET", path, 200);
    }
    for (int i = 0; i < 2; i++)
        call_expect(&t, NULL, "GET", "/leads/00000000-0000-4000-8000-000000000000", 404);
    snprintf(path, sizeof path, "/nowhere/%s", lead);
    call_expect(&t, NULL, "GET", path, 404);
    call_expect(&t, NULL, "GET", path, 404);
    call_expect(NULL, "Authorization: Bearer lbk_notakeynotakeynotakeynotakeynotakey1234\r\n",
                "GET", "/leads", 401);
    struct e2e_resp r;
    ck_assert_int_eq(e2e_meeting(&r, token, NULL), 200);
    e2e_free(&r);
    call_expect(NULL, "", "HEAD", "/healthz", 200);
    call_expect(NULL, "", "HEAD", "/healthz", 200);

    /* scrapes with 0..3 workers busy: the one left free answers */
    char *first = NULL, *first_stable = NULL;
    pid_t answered[12] = {0};
    int rounds = 0, distinct = 0;
    for (int k = 0; rounds < 12 && (rounds < 4 || distinct < 3); k = (k + 1) % 4, rounds++) {
        pid_t kids[3];
        sleepers(k, 1200, kids);
        stack_sleep_ms(k ? 300 : 0);
        char *text;
        pid_t w = scrape(&text);
        reap_all(k, kids);
        int known = 0;
        for (int i = 0; i < rounds; i++)
            known |= answered[i] == w;
        distinct += !known;
        answered[rounds] = w;

        ck_assert_double_eq(
            delta(base, text, REQ "{route=\"/leads/:id\",method=\"GET\",status=\"200\"}"), 3);
        ck_assert_double_eq(
            delta(base, text, REQ "{route=\"/leads/:id\",method=\"GET\",status=\"404\"}"), 2);
        ck_assert_double_eq(
            delta(base, text, REQ "{route=\"/leads\",method=\"POST\",status=\"201\"}"), 1);
        ck_assert_double_eq(
            delta(base, text, REQ "{route=\"/leads\",method=\"GET\",status=\"401\"}"), 1);
        ck_assert_double_eq(
            delta(base, text, REQ "{route=\"unmatched\",method=\"GET\",status=\"404\"}"), 2);
        ck_assert_double_eq(
            delta(base, text,
                  REQ "{route=\"/bookings/meeting/:meetingToken\",method=\"GET\",status=\"200\"}"),
            1);
        ck_assert_double_eq(
            delta(base, text, REQ "{route=\"/healthz\",method=\"HEAD\",status=\"200\"}"), 2);
        ck_assert_double_eq(
            delta(base, text, "leadbook_http_request_duration_seconds_count{route=\"/leads/:id\"}"),
            5);
        ck_assert_double_eq(
            delta(
                base, text,
                "leadbook_http_request_duration_seconds_bucket{route=\"/leads/:id\",le=\"+Inf\"}"),
            5);
        ck_assert_double_eq(
            delta(base, text, "leadbook_auth_checks_total{kind=\"key\",result=\"ok\"}"), 6);
        ck_assert_double_eq(
            delta(base, text, "leadbook_auth_checks_total{kind=\"key\",result=\"invalid\"}"), 1);
        ck_assert_double_eq(v(text, "leadbook_workers_alive"), 4);

        char *st = stable(text);
        if (!first) {
            first = text;
            first_stable = st;
        } else {
            ck_assert_msg(strcmp(st, first_stable) == 0,
                          "worker %ld's figures differ from worker %ld's:\n%s\n---\n%s", (long)w,
                          (long)answered[0], st, first_stable);
            free(st);
            free(text);
        }
    }
    ck_assert_msg(distinct >= 2, "every scrape was answered by worker %ld", (long)answered[0]);
    free(first);
    free(first_stable);
    free(base);
}
END_TEST

static int contains(const pid_t *set, int n, pid_t p)
{
    for (int i = 0; i < n; i++)
        if (set[i] == p)
            return 1;
    return 0;
}

START_TEST(t_kill_worker_counters_survive)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Metrics kill", 0);
    e2e_lead_new(&t, NULL, "Metrics kill lead", 86400, NULL, NULL, NULL);
    /* every worker serves something, so the one killed has counted some of it */
    pid_t kids[3];
    sleepers(3, 600, kids);
    stack_sleep_ms(200);
    call_expect(&t, NULL, "GET", "/leads", 200);
    reap_all(3, kids);

    char *before;
    scrape(&before);
    pid_t w[8];
    int n = stack_workers(&e2e_stack, w, 8);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(kill(w[0], SIGKILL), 0);
    pid_t now[8];
    int m = 0;
    for (int i = 0; i < 100; i++) {
        stack_sleep_ms(50);
        m = stack_workers(&e2e_stack, now, 8);
        if (m == 4 && !contains(now, m, w[0]))
            break;
    }
    ck_assert_msg(m == 4 && !contains(now, m, w[0]), "the killed worker was not replaced");

    for (int round = 0; round < 4; round++) {
        char *after;
        scrape(&after);
        ck_assert_double_eq(delta(before, after, "leadbook_worker_restarts_total{cause=\"crash\"}"),
                            1);
        ck_assert_double_eq(v(after, "leadbook_workers_alive"), 4);
        /* no counter dropped; the requests' are unchanged (the scrapes' own aside) */
        char *sb = stable(before);
        for (const char *line = sb; *line; line = strchr(line, '\n') + 1) {
            char series[512];
            const char *sp = strchr(line, '\n');
            while (sp > line && *sp != ' ')
                sp--; /* the value follows the line's last space */
            snprintf(series, sizeof series, "%.*s", (int)(sp - line), line);
            double a = v(before, series), b = v(after, series);
            ck_assert_msg(b >= a, "%s dropped from %g to %g", series, a, b);
            if (strncmp(series, REQ "{", sizeof REQ) == 0 ||
                strncmp(series, "leadbook_http_request_duration_seconds", 38) == 0)
                ck_assert_msg(b == a, "%s moved from %g to %g", series, a, b);
        }
        free(sb);
        free(after);
    }
    free(before);
}
END_TEST

/* GET /metrics of another stack (no access-log lookup): the text, the caller's to free. */
static char *scrape_port(int port)
{
    struct httpc_resp r;
    ck_assert_int_eq(httpc(port, "GET", "/metrics", NULL, NULL, 0, &r, 10000), 200);
    char err[512];
    ck_assert_msg(promtext_check(r.body, err, sizeof err) == 0, "%s", err);
    char *text = strdup(r.body);
    httpc_free(&r);
    return text;
}

/* Counters are the pool's, not the worker's: in a pool whose workers exit after 20 requests
 * (max_requests) and are replaced, N requests spread over several generations of workers are
 * all counted, exactly, and so are the recycles. */
START_TEST(t_counters_survive_recycle)
{
    enum { MAXREQ = 20, N_OK = 90, N_401 = 30 };
    struct stack s2;
    memset(&s2, 0, sizeof s2);
    const char *extra[] = {"workers = 2", "max_requests = 20", NULL};
    ck_assert_int_eq(e2e_stack_start(&s2, extra), 0);
    pid_t first[8];
    ck_assert_int_eq(stack_workers(&s2, first, 8), 2);

    char *before = scrape_port(s2.port);
    for (int i = 0; i < N_OK + N_401; i++) {
        struct httpc_resp r;
        int want = i % 4 == 3 ? 401 : 200;
        /* a bad key: the application's 401 (nginx answers a missing one itself) */
        int st =
            httpc(s2.port, "GET", want == 401 ? "/leads" : "/healthz",
                  want == 401 ? "Authorization: Bearer lbk_nope\r\n" : NULL, NULL, 0, &r, 10000);
        httpc_free(&r);
        ck_assert_msg(st == want, "request %d: %d, want %d", i, st, want);
    }
    /* the last worker to exit is replaced before its successor counts anything */
    stack_sleep_ms(300);
    char *after = scrape_port(s2.port);
    pid_t now[8];
    int m = stack_workers(&s2, now, 8);
    ck_assert_int_eq(m, 2);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(!contains(now, m, first[i]), "worker %d was not recycled", (int)first[i]);

    ck_assert_double_eq(
        delta(before, after, REQ "{route=\"/healthz\",method=\"GET\",status=\"200\"}"), N_OK);
    ck_assert_double_eq(
        delta(before, after, REQ "{route=\"/leads\",method=\"GET\",status=\"401\"}"), N_401);
    ck_assert_double_eq(
        delta(before, after, "leadbook_http_request_duration_seconds_count{route=\"/healthz\"}"),
        N_OK);
    ck_assert_double_eq(
        delta(before, after, "leadbook_http_request_duration_seconds_count{route=\"/leads\"}"),
        N_401);
    /* 122 requests with the two scrapes, 20 per worker: at least 5 recycles, none a crash */
    double recycled = delta(before, after, "leadbook_worker_restarts_total{cause=\"recycle\"}");
    printf("metrics: %d requests, %g workers recycled\n", N_OK + N_401 + 2, recycled);
    ck_assert_msg(recycled >= (N_OK + N_401 + 2) / MAXREQ - 1, "only %g recycles", recycled);
    ck_assert_double_eq(delta(before, after, "leadbook_worker_restarts_total{cause=\"crash\"}"), 0);
    ck_assert_double_eq(v(after, "leadbook_workers_alive"), 2);
    free(before);
    free(after);
    stack_stop(&s2);
}
END_TEST

START_TEST(t_no_raw_ids_or_tokens)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Metrics secrets", 0);
    char lead[37], booking[37], token[37], path[256];
    e2e_lead_new(&t, NULL, "Metrics secret lead", 86400, lead, booking, token);
    snprintf(path, sizeof path, "/leads/%s", lead);
    call_expect(&t, NULL, "GET", path, 200);
    snprintf(path, sizeof path, "/bookings/%s/events", booking);
    call_expect(&t, NULL, "GET", path, 200);
    snprintf(path, sizeof path, "/agents/%s", t.agent_id);
    call_expect(&t, NULL, "GET", path, 200);
    snprintf(path, sizeof path, "/bookings/meeting/%s/extra", token);
    call_expect(&t, NULL, "GET", path, 404);
    struct e2e_resp r;
    e2e_meeting(&r, token, NULL);
    e2e_free(&r);
    char hdr[256];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %sX\r\n", t.key);
    call_expect(NULL, hdr, "GET", "/leads", 401);

    char *text;
    scrape(&text);
    const char *secrets[] = {lead, booking, token, t.id, t.key, t.key_id, t.agent_id, "lbk_"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        ck_assert_msg(!strstr(text, secrets[i]), "%s appears in the metrics", secrets[i]);
    /* every route label is a pattern of the route table, or "unmatched" */
    int labels = 0;
    for (const char *p = text; (p = strstr(p, "route=\"")); labels++) {
        p += 7;
        size_t len = strcspn(p, "\"");
        int known = len == 9 && strncmp(p, "unmatched", 9) == 0;
        for (size_t i = 0; i < lb_api_nroutes && !known; i++)
            known = strlen(lb_api_routes[i].pattern) == len &&
                    strncmp(lb_api_routes[i].pattern, p, len) == 0;
        ck_assert_msg(known, "route label %.*s", (int)len, p);
    }
    ck_assert_int_gt(labels, 10);
    free(text);
}
END_TEST

START_TEST(t_format_and_families)
{
    char *text;
    scrape(&text);
    static const char *const families[] = {
        "leadbook_http_requests_total counter",
        "leadbook_http_request_duration_seconds histogram",
        "leadbook_requests_deadline_dropped_total counter",
        "leadbook_workers_alive gauge",
        "leadbook_worker_restarts_total counter",
        "leadbook_db_reconnects_total counter",
        "leadbook_db_unavailable_total counter",
        "leadbook_auth_checks_total counter",
        "leadbook_auth_cache_hits_total counter",
        "leadbook_webhook_deliveries_total gauge",
        "leadbook_webhook_outbox_lag_seconds gauge",
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "\n# TYPE %s\n", families[i]);
        ck_assert_msg(strstr(text, line), "no # TYPE %s", families[i]);
    }
    static const char *const causes[] = {"crash", "recycle", "timeout", "reload"};
    for (size_t i = 0; i < 4; i++) {
        char s[96];
        double x;
        snprintf(s, sizeof s, "leadbook_worker_restarts_total{cause=\"%s\"}", causes[i]);
        ck_assert_msg(promtext_value(text, s, &x), "%s absent", s);
    }
    /* the deliverer's figures are the outbox's */
    static const char *const st[] = {"delivered", "failed", "pending"};
    for (size_t i = 0; i < 3; i++) {
        char s[96];
        double x;
        snprintf(s, sizeof s, "leadbook_webhook_deliveries_total{status=\"%s\"}", st[i]);
        ck_assert_msg(promtext_value(text, s, &x), "%s absent", s);
        ck_assert_double_eq(
            x, (double)e2e_sql_long("SELECT count(*) FROM webhook_deliveries WHERE status = $1",
                                    st[i], E2E_END));
    }
    free(text);

    /* HEAD: the headers only */
    struct e2e_resp r;
    e2e_raw(&r, NULL, "HEAD", "/metrics", NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)r.raw.body_len, 0);
    e2e_free(&r);
}
END_TEST

/* nginx's rule for the probes: this host only, not a visitor relayed by the trusted local
 * frontend, whatever X-Forwarded-For claims; what it refuses never reaches a worker. */
START_TEST(t_non_local_refused)
{
    char *before;
    scrape(&before);
    struct httpc_resp r;
    static const struct {
        const char *src, *headers;
    } refused[] = {
        {"127.0.0.1", "X-Forwarded-For: 203.0.113.5\r\n"},
        {"127.0.0.6", NULL},
        {"127.0.0.6", "X-Forwarded-For: 127.0.0.1\r\nAuthorization: Bearer x\r\n"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int st = httpc_from(refused[i].src, e2e_stack.port, "GET", "/metrics", refused[i].headers,
                            NULL, 0, &r, 10000);
        ck_assert_msg(st == 403, "from %s: %d", refused[i].src, st);
        ck_assert_ptr_null(strstr(r.body ? r.body : "", "leadbook_"));
        httpc_free(&r);
    }
    char *after;
    scrape(&after);
    /* only the first scrape was counted in between */
    ck_assert_double_eq(
        delta(before, after, REQ "{route=\"/metrics\",method=\"GET\",status=\"200\"}"), 1);
    ck_assert_double_eq(
        delta(before, after, REQ "{route=\"/metrics\",method=\"GET\",status=\"403\"}"), 0);
    free(before);
    free(after);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = e2e_tcase("metrics", 180);
    tcase_add_test(tc, t_format_and_families);
    tcase_add_test(tc, t_totals_exact_whichever_worker);
    tcase_add_test(tc, t_no_raw_ids_or_tokens);
    tcase_add_test(tc, t_non_local_refused);
    tcase_add_test(tc, t_kill_worker_counters_survive);
    tcase_add_test(tc, t_counters_survive_recycle);
    suite_add_tcase(s, tc);
    return e2e_main("metrics", s);
}
