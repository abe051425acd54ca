/* Restart PostgreSQL under a running leadbookd (issue 4): while it is down every database
 * route answers 503 with Retry-After and a JSON body, at once (no hanging); within a second of
 * it being back the same workers answer 200 again: no restart of leadbookd (same master and
 * worker pids), nothing half-written by the POSTs that got 503.
 *
 * Built twice: check_pg_restart (requests reach every worker during the outage) and, with
 * LB_IDLE_RESTART, check_pg_restart_idle (no request during the outage: the workers hold a
 * connection the server closed; the first request after the restart must not be a 503).
 * The second is listed in XFAIL_TESTS in t/fault.mk until src/db.c notices a connection closed
 * by the server before it uses it (see the report of issue 8). */
#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fenv.h"
#include "httpc.h"
#include "stack.h"

#define WORKERS 2

static struct fenv E;
static struct stack S;
static char auth_hdr[256], post_hdr[320];
static char lead_id[37], token[37];

static void setup(void)
{
    ck_assert_msg(fenv_cluster_start(&E) == 0, "own PostgreSQL cluster");
    ck_assert_msg(fenv_provision(&E, "Restart tenant") == 0, "tenant/key/agent");
    const char *extra[] = {"workers = 2", "retry_after = 2", NULL};
    ck_assert_msg(fenv_stack_start(&E, &S, extra) == 0, "stack");
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s\r\n", E.key);
    snprintf(post_hdr, sizeof post_hdr, "%sContent-Type: application/json\r\n", auth_hdr);
}

static void teardown(void)
{
    stack_stop(&S);
    fenv_destroy(&E);
}

static int post_lead(const char *name, struct httpc_resp *r)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"restart@example.com\","
             "\"scheduledAt\":\"2028-01-01T09:00:00Z\"}",
             E.agent, name);
    return httpc(S.port, "POST", "/leads", post_hdr, body, strlen(body), r, 10000);
}

static void create_lead(void)
{
    struct httpc_resp r;
    ck_assert_int_eq(post_lead("Before the restart", &r), 201);
    ck_assert_int_eq(fenv_json_str(r.body, "lead.id", lead_id, sizeof lead_id), 0);
    ck_assert_int_eq(fenv_json_str(r.body, "meetingToken", token, sizeof token), 0);
    httpc_free(&r);
}

static int sorted_workers(pid_t *w)
{
    int n = stack_workers(&S, w, 8);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && w[j - 1] > w[j]; j--) {
            pid_t t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
    return n;
}

#ifndef LB_IDLE_RESTART
struct probe {
    const char *method, *path, *hdr;
    int post;
};

static int send_probe(const struct probe *p, struct httpc_resp *r)
{
    if (p->post)
        return post_lead("During the outage", r);
    return httpc(S.port, p->method, p->path, p->hdr, NULL, 0, r, 10000);
}

START_TEST(t_restart_while_requests_arrive)
{
    create_lead();
    pid_t master = S.master, w0[8], w1[8];
    int n0 = sorted_workers(w0);
    ck_assert_int_eq(n0, WORKERS);

    char lead_path[80], meeting_path[80];
    snprintf(lead_path, sizeof lead_path, "/leads/%s", lead_id);
    snprintf(meeting_path, sizeof meeting_path, "/bookings/meeting/%s", token);
    const struct probe probes[] = {
        {"GET", lead_path, auth_hdr, 0},        {"GET", "/leads/stats", auth_hdr, 0},
        {"GET", "/leads?limit=5", auth_hdr, 0}, {"POST", "/leads", post_hdr, 1},
        {"GET", meeting_path, NULL, 0},         {"GET", "/readyz", NULL, 0},
        {"GET", "/agents", auth_hdr, 0},
    };
    const int nprobes = (int)(sizeof probes / sizeof probes[0]);

    ck_assert_int_eq(fenv_pg_stop(&E), 0);
    /* twice round, so that every worker meets the outage */
    for (int round = 0; round < 2 * WORKERS; round++) {
        for (int i = 0; i < nprobes; i++) {
            struct httpc_resp r;
            int64_t t0 = fenv_now_us();
            int st = send_probe(&probes[i], &r);
            int64_t us = fenv_now_us() - t0;
            char ra[32], ct[128];
            ck_assert_msg(st == 503, "%s %s while PostgreSQL is down: %d", probes[i].method,
                          probes[i].path, st);
            ck_assert_msg(us < 1000000, "%s took %lld ms: a dead database must not hang it",
                          probes[i].path, (long long)us / 1000);
            ck_assert_ptr_nonnull(httpc_header(&r, "Retry-After", ra, sizeof ra));
            ck_assert_str_eq(ra, "2"); /* the configured retry_after */
            ck_assert_str_eq(httpc_header(&r, "Content-Type", ct, sizeof ct),
                             "application/json; charset=utf-8");
            json_object *o = json_tokener_parse(r.body), *v;
            ck_assert_msg(o != NULL, "503 body is not JSON: %s", r.body);
            ck_assert(json_object_object_get_ex(o, "statusCode", &v));
            ck_assert_int_eq(json_object_get_int(v), 503);
            ck_assert(json_object_object_get_ex(o, "error", &v));
            ck_assert_str_eq(json_object_get_string(v), "Service Unavailable");
            json_object_put(o);
            httpc_free(&r);
        }
    }
    /* the liveness probe needs no database */
    struct httpc_resp r;
    ck_assert_int_eq(httpc(S.port, "GET", "/healthz", NULL, NULL, 0, &r, 5000), 200);
    httpc_free(&r);

    ck_assert_int_eq(fenv_pg_start(&E), 0);
    int64_t up = fenv_now_us(), first_ok = -1;
    while (fenv_now_us() - up < 3000000 && first_ok < 0) {
        int st = httpc(S.port, "GET", lead_path, auth_hdr, NULL, 0, &r, 5000);
        httpc_free(&r);
        if (st == 200)
            first_ok = fenv_now_us() - up;
        else
            stack_sleep_ms(20);
    }
    printf("pg_restart: first 200 %lld ms after PostgreSQL was back\n", (long long)first_ok / 1000);
    fflush(stdout);
    ck_assert_msg(first_ok >= 0 && first_ok <= 1000000,
                  "no 200 within 1 s after PostgreSQL was back (%lld ms)",
                  (long long)first_ok / 1000);
    /* every worker is back, not only the first one asked */
    for (int round = 0; round < 3 * WORKERS; round++)
        for (int i = 0; i < nprobes; i++) {
            int st = send_probe(&probes[i], &r);
            httpc_free(&r);
            ck_assert_msg(st == (probes[i].post ? 201 : 200), "%s %s after the restart: %d",
                          probes[i].method, probes[i].path, st);
        }

    /* no restart of leadbookd */
    ck_assert_int_eq(S.master, master);
    ck_assert_int_eq(kill(master, 0), 0);
    ck_assert_int_eq(sorted_workers(w1), WORKERS);
    ck_assert_mem_eq(w0, w1, sizeof(pid_t) * WORKERS);

    /* the POSTs answered 503 wrote nothing */
    PGconn *pg = fenv_pg(&E);
    ck_assert_ptr_nonnull(pg);
    PGresult *res = PQexec(pg, "SELECT (SELECT count(*) FROM leads WHERE name = 'During the "
                               "outage'), (SELECT count(*) FROM leads l WHERE NOT EXISTS "
                               "(SELECT 1 FROM bookings b WHERE b.lead_id = l.id))");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    /* 3 * WORKERS rounds after the restart each POSTed one "During the outage" lead */
    ck_assert_int_eq(atoi(PQgetvalue(res, 0, 0)), 3 * WORKERS);
    ck_assert_str_eq(PQgetvalue(res, 0, 1), "0");
    PQclear(res);
    PQfinish(pg);
}
END_TEST
#else
START_TEST(t_restart_while_idle)
{
    create_lead();
    pid_t master = S.master, w0[8], w1[8];
    ck_assert_int_eq(sorted_workers(w0), WORKERS);
    char meeting_path[80];
    snprintf(meeting_path, sizeof meeting_path, "/bookings/meeting/%s", token);

    /* nobody asks anything while PostgreSQL restarts */
    ck_assert_int_eq(fenv_pg_stop(&E), 0);
    stack_sleep_ms(500);
    ck_assert_int_eq(fenv_pg_start(&E), 0);
    stack_sleep_ms(200);

    /* each worker's first request after the restart, public and authenticated routes */
    int bad = 0;
    for (int i = 0; i < 2 * WORKERS; i++) {
        struct httpc_resp r;
        int st1 = httpc(S.port, "GET", meeting_path, NULL, NULL, 0, &r, 5000);
        httpc_free(&r);
        int st2 = httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 5000);
        httpc_free(&r);
        printf("pg_restart_idle: after the restart: meeting %d, stats %d\n", st1, st2);
        fflush(stdout);
        bad += (st1 != 200) + (st2 != 200);
    }
    ck_assert_int_eq(S.master, master);
    ck_assert_int_eq(sorted_workers(w1), WORKERS);
    ck_assert_mem_eq(w0, w1, sizeof(pid_t) * WORKERS);
    ck_assert_msg(bad == 0,
                  "%d requests failed although PostgreSQL was up again: the workers used the "
                  "connection the server had closed",
                  bad);
}
END_TEST
#endif

int main(void)
{
    Suite *s = suite_create("pg_restart");
    TCase *tc = tcase_create("restart");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
#ifndef LB_IDLE_RESTART
    tcase_add_test(tc, t_restart_while_requests_arrive);
#else
    tcase_add_test(tc, t_restart_while_idle);
#endif
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
