/* check_idem_kill: the retry that Idempotency-Key exists for. A worker is killed (SIGKILL)
 * after the transaction of a POST /leads committed and before a byte of its answer was sent
 * (LEADBOOK_TEST_HOOKS' ?_testPauseMs holds it there); nginx answers the client 502. The
 * client retries with the same key and gets the stored answer (201, Idempotent-Replayed:
 * true, the lead that was committed), and there is still exactly one lead. The same for a
 * PATCH of a booking's status. And without a key the retry books twice: what the key is for. */
#include <check.h>
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
static char auth_hdr[300];

static void setup(void)
{
    ck_assert_msg(fenv_cluster_start(&E) == 0, "own PostgreSQL cluster");
    ck_assert_msg(fenv_provision(&E, "Kill tenant") == 0, "tenant/key/agent");
    const char *extra[] = {"workers = 2", NULL};
    ck_assert_msg(fenv_stack_start(&E, &S, extra) == 0, "stack");
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s\r\n", E.key);
}

static void teardown(void)
{
    stack_stop(&S);
    fenv_destroy(&E);
}

static long sql_long(const char *sql, const char *param)
{
    PGconn *c = fenv_pg(&E);
    ck_assert_ptr_nonnull(c);
    const char *v[] = {param};
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, v, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return n;
}

/* Sends the request from a child (its answer, a 502, is written to a pipe), waits until the
 * write is committed (committed() > 0), then kills every worker. Returns the child's status. */
static int request_and_kill(const char *method, const char *path, const char *headers,
                            const char *body, long (*committed)(void))
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid == 0) {
        close(p[0]);
        struct httpc_resp r;
        int st = httpc(S.port, method, path, headers, body, strlen(body), &r, 20000);
        if (write(p[1], &st, sizeof st) != (ssize_t)sizeof st)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    int64_t deadline = fenv_now_us() + 10 * 1000000LL;
    while (committed() == 0 && fenv_now_us() < deadline)
        stack_sleep_ms(20);
    ck_assert_msg(committed() > 0, "the write did not commit");
    pid_t workers[64];
    int n = stack_workers(&S, workers, 64);
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++)
        kill(workers[i], SIGKILL);
    int st = 0;
    ck_assert_int_eq(read(p[0], &st, sizeof st), (ssize_t)sizeof st);
    close(p[0]);
    int ws;
    waitpid(kid, &ws, 0);
    return st;
}

/* Retries until the master has respawned workers (a 502 or 503 meanwhile is what a real client
 * sees too). */
static int retry(const char *method, const char *path, const char *headers, const char *body,
                 struct httpc_resp *r)
{
    int st = 0;
    for (int i = 0; i < 100; i++) {
        st = httpc(S.port, method, path, headers, body, strlen(body), r, 10000);
        if (st != 502 && st != 503 && st != 0)
            return st;
        httpc_free(r);
        stack_sleep_ms(50);
    }
    return st;
}

static char lead_name[64];
static long lead_committed(void)
{
    return sql_long("SELECT count(*) FROM leads WHERE name = $1", lead_name);
}

static char booking_id[37];
static long status_committed(void)
{
    return sql_long("SELECT count(*) FROM bookings WHERE id = $1 AND status = 'CONFIRMED'",
                    booking_id);
}

START_TEST(t_killed_after_commit)
{
    char when[40], body[512], headers[600];
    time_t t = time(NULL) + 86400;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));

    for (int round = 0; round < 3; round++) {
        snprintf(lead_name, sizeof lead_name, "Killed %d", round);
        snprintf(body, sizeof body,
                 "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"kill@example.com\","
                 "\"scheduledAt\":\"%s\"}",
                 E.agent, lead_name, when);
        snprintf(headers, sizeof headers,
                 "%sContent-Type: application/json\r\nIdempotency-Key: form-%d-%ld\r\n", auth_hdr,
                 round, (long)getpid());
        int st =
            request_and_kill("POST", "/leads?_testPauseMs=2000", headers, body, lead_committed);
        ck_assert_msg(st == 502, "the killed request got %d (want nginx's 502)", st);
        struct httpc_resp r;
        ck_assert_int_eq(retry("POST", "/leads?_testPauseMs=1", headers, body, &r), 422);
        httpc_free(&r); /* another path (query) with the key: refused, not run */
        ck_assert_int_eq(retry("POST", "/leads?_testPauseMs=2000", headers, body, &r), 201);
        char replayed[16], lead[37];
        ck_assert_ptr_nonnull(httpc_header(&r, "Idempotent-Replayed", replayed, sizeof replayed));
        ck_assert_str_eq(replayed, "true");
        ck_assert_int_eq(fenv_json_str(r.body, "lead.id", lead, sizeof lead), 0);
        ck_assert_int_eq(fenv_json_str(r.body, "booking.id", booking_id, sizeof booking_id), 0);
        httpc_free(&r);
        ck_assert_int_eq(lead_committed(), 1);
        ck_assert_int_eq(sql_long("SELECT count(*) FROM leads WHERE id = $1", lead), 1);

        /* the status change: killed after commit, retried, one history row */
        char path[128];
        snprintf(path, sizeof path, "/bookings/%s/status?_testPauseMs=2000", booking_id);
        snprintf(headers, sizeof headers,
                 "%sContent-Type: application/json\r\nIdempotency-Key: status-%d-%ld\r\n", auth_hdr,
                 round, (long)getpid());
        st = request_and_kill("PATCH", path, headers, "{\"status\":\"CONFIRMED\"}",
                              status_committed);
        ck_assert_int_eq(st, 502);
        ck_assert_int_eq(retry("PATCH", path, headers, "{\"status\":\"CONFIRMED\"}", &r), 200);
        ck_assert_ptr_nonnull(httpc_header(&r, "Idempotent-Replayed", replayed, sizeof replayed));
        httpc_free(&r);
        ck_assert_int_eq(sql_long("SELECT count(*) FROM booking_events WHERE booking_id = $1 AND "
                                  "to_status = 'CONFIRMED'",
                                  booking_id),
                         1);
    }

    /* without a key, the same retry books twice: the defect the key fixes */
    snprintf(lead_name, sizeof lead_name, "Killed without a key");
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"kill@example.com\","
             "\"scheduledAt\":\"%s\"}",
             E.agent, lead_name, when);
    snprintf(headers, sizeof headers, "%sContent-Type: application/json\r\n", auth_hdr);
    ck_assert_int_eq(
        request_and_kill("POST", "/leads?_testPauseMs=2000", headers, body, lead_committed), 502);
    struct httpc_resp r;
    ck_assert_int_eq(retry("POST", "/leads", headers, body, &r), 201);
    httpc_free(&r);
    ck_assert_int_eq(lead_committed(), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idem_kill");
    TCase *tc = tcase_create("idem_kill");
    tcase_set_timeout(tc, 180);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_killed_after_commit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
