/* check_deadlines: bounded waits (API.md "Deadlines", Health). A booking row held FOR UPDATE by
 * a stuck session: changing it answers 409 "Booking … is being changed, retry" with Retry-After
 * after about lock_timeout (2 s), not after the statement timeout (and at once for a request that
 * finds another already waiting for that row), and another tenant's request meanwhile is not
 * delayed by it. A read-only database (what a standby says after a failover):
 * writes answer 503 with Retry-After (not 500), reads keep working, /readyz says 503 until
 * writes are accepted again. A frozen PostgreSQL (SIGSTOP): a request gives up at
 * statement_timeout + the margin and answers 503, instead of hanging until the watchdog. A
 * burst of 300 concurrent requests on 4 workers waits in the socket's queue: none is refused
 * (nginx's 502 for a full queue; the backlog was 128). */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fenv.h"
#include "httpc.h"
#include "stack.h"

static struct fenv E;
static struct stack S;
static char json_hdr[400], auth_hdr[300];

static void setup(void)
{
    ck_assert_msg(fenv_cluster_start(&E) == 0, "own PostgreSQL cluster");
    ck_assert_msg(fenv_provision(&E, "Deadline tenant") == 0, "tenant/key/agent");
    const char *extra[] = {"workers = 4", "db_statement_timeout = 5000", NULL};
    ck_assert_msg(fenv_stack_start(&E, &S, extra) == 0, "stack");
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s\r\n", E.key);
    snprintf(json_hdr, sizeof json_hdr, "%sContent-Type: application/json\r\n", auth_hdr);
}

static void teardown(void)
{
    stack_stop(&S);
    fenv_destroy(&E);
}

static void new_booking(char booking[37])
{
    char when[40], body[512];
    time_t t = time(NULL) + 86400;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Locked\",\"email\":\"l@example.com\","
             "\"scheduledAt\":\"%s\"}",
             E.agent, when);
    struct httpc_resp r;
    ck_assert_int_eq(httpc(S.port, "POST", "/leads", json_hdr, body, strlen(body), &r, 10000), 201);
    ck_assert_int_eq(fenv_json_str(r.body, "booking.id", booking, 37), 0);
    httpc_free(&r);
}

START_TEST(t_row_lock_is_bounded)
{
    char booking[37];
    new_booking(booking);
    /* another tenant, whose requests must not wait for this one's lock */
    struct fenv other = E;
    ck_assert_int_eq(fenv_provision(&other, "Bystander"), 0);
    char other_hdr[300];
    snprintf(other_hdr, sizeof other_hdr, "Authorization: Bearer %s\r\n", other.key);

    PGconn *stuck = fenv_pg(&E);
    ck_assert_ptr_nonnull(stuck);
    ck_assert_int_eq(fenv_sql(stuck, "BEGIN"), 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT 1 FROM bookings WHERE id = '%s' FOR UPDATE", booking);
    ck_assert_int_eq(fenv_sql(stuck, sql), 0);

    /* 4 clients change the locked booking at once (as many as there are workers) */
    enum { N = 4 };
    pid_t kids[N];
    char path[128];
    snprintf(path, sizeof path, "/bookings/%s/status", booking);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            struct httpc_resp r;
            int64_t t0 = fenv_now_us();
            int st =
                httpc(S.port, "PATCH", path, json_hdr, "{\"status\":\"CONFIRMED\"}", 22, &r, 15000);
            long ms = (long)((fenv_now_us() - t0) / 1000);
            char ra[8] = "";
            httpc_header(&r, "Retry-After", ra, sizeof ra);
            /* one waits for the row (lock_timeout, 2 s; twice at most: the tuple, then the
             * holder); the others find it waiting and answer at once (one_waiter, db.h) */
            int ok = st == 409 && ra[0] && r.body && strstr(r.body, "is being changed, retry") &&
                     ms < 4900;
            if (!ok)
                fprintf(stderr, "locked PATCH: %d after %ld ms, Retry-After '%s': %s\n", st, ms, ra,
                        r.body ? r.body : "");
            _exit(!ok ? 1 : ms >= 1500 ? 3 : 0);
        }
    }
    /* meanwhile another tenant's read: not stuck behind the lock for longer than its bound */
    stack_sleep_ms(200);
    struct httpc_resp r;
    int64_t t0 = fenv_now_us();
    ck_assert_int_eq(httpc(S.port, "GET", "/leads/stats", other_hdr, NULL, 0, &r, 15000), 200);
    long ms = (long)((fenv_now_us() - t0) / 1000);
    httpc_free(&r);
    ck_assert_msg(ms < 2500, "another tenant's GET /leads/stats took %ld ms", ms);
    int waited = 0;
    for (int i = 0; i < N; i++) {
        int ws;
        ck_assert_int_eq(waitpid(kids[i], &ws, 0), kids[i]);
        ck_assert_msg(WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 3),
                      "a locked PATCH was not a bounded 409");
        waited += WEXITSTATUS(ws) == 3;
    }
    ck_assert_int_ge(waited, 1); /* the lock bound itself: the one that waited */
    ck_assert_int_eq(fenv_sql(stuck, "ROLLBACK"), 0);
    PQfinish(stuck);
    /* and once the lock is gone, the change goes through */
    ck_assert_int_eq(
        httpc(S.port, "PATCH", path, json_hdr, "{\"status\":\"CONFIRMED\"}", 22, &r, 10000), 200);
    httpc_free(&r);
}
END_TEST

START_TEST(t_read_only_database)
{
    PGconn *admin = fenv_pg(&E);
    ck_assert_ptr_nonnull(admin);
    struct httpc_resp r;
    ck_assert_int_eq(httpc(S.port, "GET", "/readyz", NULL, NULL, 0, &r, 10000), 200);
    httpc_free(&r);
    /* what a standby says after a failover: every session becomes read-only */
    ck_assert_int_eq(fenv_sql(admin, "ALTER SYSTEM SET default_transaction_read_only = on"), 0);
    ck_assert_int_eq(fenv_sql(admin, "SELECT pg_reload_conf()"), 0);
    stack_sleep_ms(500);

    char when[40], body[512];
    time_t t = time(NULL) + 86400;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Read only\",\"email\":\"r@example.com\","
             "\"scheduledAt\":\"%s\"}",
             E.agent, when);
    for (int i = 0; i < 8; i++) { /* every worker */
        int st = httpc(S.port, "POST", "/leads", json_hdr, body, strlen(body), &r, 10000);
        char ra[8] = "";
        httpc_header(&r, "Retry-After", ra, sizeof ra);
        ck_assert_msg(st == 503 && ra[0], "write on a read-only database: %d %s", st,
                      r.body ? r.body : "");
        ck_assert_ptr_nonnull(strstr(r.body, "not accepting writes"));
        httpc_free(&r);
        ck_assert_int_eq(httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 10000), 200);
        httpc_free(&r);
        ck_assert_int_eq(httpc(S.port, "GET", "/readyz", NULL, NULL, 0, &r, 10000), 503);
        httpc_free(&r);
    }
    ck_assert_int_eq(fenv_sql(admin, "ALTER SYSTEM RESET default_transaction_read_only"), 0);
    ck_assert_int_eq(fenv_sql(admin, "SELECT pg_reload_conf()"), 0);
    PQfinish(admin);
    stack_sleep_ms(500);
    ck_assert_int_eq(httpc(S.port, "GET", "/readyz", NULL, NULL, 0, &r, 10000), 200);
    httpc_free(&r);
    ck_assert_int_eq(httpc(S.port, "POST", "/leads", json_hdr, body, strlen(body), &r, 10000), 201);
    httpc_free(&r);
}
END_TEST

START_TEST(t_frozen_database)
{
    struct httpc_resp r;
    ck_assert_int_eq(httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 10000), 200);
    httpc_free(&r);
    ck_assert_int_eq(fenv_pg_signal(&E, SIGSTOP), 0);
    int64_t t0 = fenv_now_us();
    int st = httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 30000);
    long ms = (long)((fenv_now_us() - t0) / 1000);
    char ra[8] = "";
    httpc_header(&r, "Retry-After", ra, sizeof ra);
    httpc_free(&r);
    ck_assert_int_eq(fenv_pg_signal(&E, SIGCONT), 0);
    /* statement_timeout (5 s) + the margin (1.5 s), far below the watchdog (30 s) */
    ck_assert_msg(st == 503 && ra[0], "a request to a frozen database: %d", st);
    ck_assert_msg(ms >= 5000 && ms < 10000, "gave up after %ld ms", ms);
    /* and the service recovers by itself once the database answers again */
    int ok = 0;
    for (int i = 0; i < 50 && !ok; i++) {
        ok = httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 10000) == 200;
        httpc_free(&r);
        if (!ok)
            stack_sleep_ms(100);
    }
    ck_assert_msg(ok, "no 200 after the database came back");
}
END_TEST

enum { BURST = 300 };
static int burst_status[BURST];

static void *burst_one(void *arg)
{
    int i = (int)(long)arg;
    /* from many visitors (the trusted frontend's X-Forwarded-For), as a real burst: nginx
     * limits the requests in progress of one address */
    char hdr[400];
    snprintf(hdr, sizeof hdr, "%sX-Forwarded-For: 198.51.100.%d\r\n", auth_hdr, 1 + i % 200);
    struct httpc_resp r;
    burst_status[i] = httpc(S.port, "GET", "/_test/sleep?ms=40", hdr, NULL, 0, &r, 30000);
    httpc_free(&r);
    return NULL;
}

START_TEST(t_burst_waits_in_the_queue)
{
    pthread_t th[BURST];
    for (long i = 0; i < BURST; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, burst_one, (void *)i), 0);
    int ok = 0, bad_gateway = 0;
    for (int i = 0; i < BURST; i++) {
        pthread_join(th[i], NULL);
        ok += burst_status[i] == 200;
        bad_gateway += burst_status[i] == 502;
    }
    fprintf(stderr, "burst: %d of %d answered 200, %d got 502\n", ok, BURST, bad_gateway);
    ck_assert_int_eq(bad_gateway, 0);
    ck_assert_int_eq(ok, BURST);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deadlines");
    TCase *tc = tcase_create("deadlines");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_row_lock_is_bounded);
    tcase_add_test(tc, t_read_only_database);
    tcase_add_test(tc, t_frozen_database);
    tcase_add_test(tc, t_burst_waits_in_the_queue);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
