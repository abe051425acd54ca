/* Process tests: the real leadbookd behind the real nginx (project site config): answers,
 * worker respawn after kill -9, graceful SIGTERM, SIGHUP swap without failures, body limits,
 * recycling after max_requests, crash-loop back-off, the request-timeout watchdog, and environment
 * overrides of the config file (LEADBOOKD_<KEY> wins and is logged; the scripts' LEADBOOK_* are
 * not the daemon's). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "stack.h"

#define AUTH "Authorization: Bearer not-a-real-key\r\n"

static int get_status(int port, const char *path)
{
    struct httpc_resp r;
    int st = httpc(port, "GET", path, NULL, NULL, 0, &r, 10000);
    httpc_free(&r);
    return st;
}

static int pid_in(pid_t p, const pid_t *set, int n)
{
    for (int i = 0; i < n; i++)
        if (set[i] == p)
            return 1;
    return 0;
}

START_TEST(t_answers_through_nginx)
{
    struct stack s;
    ck_assert_int_eq(stack_start(&s, NULL), 0);
    struct httpc_resp r;
    char rid[128], ct[128], allow[128], line[200];

    ck_assert_int_eq(httpc(s.port, "GET", "/healthz", NULL, NULL, 0, &r, 5000), 200);
    ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    ck_assert_str_eq(httpc_header(&r, "Content-Type", ct, sizeof ct),
                     "application/json; charset=utf-8");
    ck_assert_ptr_nonnull(httpc_header(&r, "X-Request-Id", rid, sizeof rid));
    ck_assert_uint_eq(strlen(rid), 32); /* nginx's $request_id, passed through */
    httpc_free(&r);
    /* the same id is in the access-log line of that request */
    snprintf(line, sizeof line, "rid=%s", rid);
    stack_sleep_ms(100);
    ck_assert_int_eq(stack_log_count(&s, line), 1);
    snprintf(line, sizeof line, "event=access method=GET path=/healthz status=200");
    ck_assert_int_ge(stack_log_count(&s, line), 1);

    ck_assert_int_eq(httpc(s.port, "GET", "/no/such/path", AUTH, NULL, 0, &r, 5000), 404);
    ck_assert_str_eq(r.body,
                     "{\"statusCode\":404,\"message\":\"Cannot GET /no/such/path\",\"error\":"
                     "\"Not Found\"}");
    ck_assert_ptr_nonnull(httpc_header(&r, "X-Request-Id", rid, sizeof rid));
    httpc_free(&r);

    ck_assert_int_eq(httpc(s.port, "DELETE", "/healthz", NULL, NULL, 0, &r, 5000), 405);
    ck_assert_str_eq(httpc_header(&r, "Allow", allow, sizeof allow), "GET, HEAD, OPTIONS");
    ck_assert_ptr_nonnull(strstr(r.body, "\"statusCode\":405"));
    httpc_free(&r);

    /* HEAD: headers only */
    ck_assert_int_eq(httpc(s.port, "HEAD", "/healthz", NULL, NULL, 0, &r, 5000), 200);
    ck_assert_uint_eq(r.body_len, 0);
    httpc_free(&r);
    stack_stop(&s);
}
END_TEST

START_TEST(t_kill9_worker_is_replaced)
{
    struct stack s;
    ck_assert_int_eq(stack_start(&s, NULL), 0);
    pid_t before[8], after[8];
    int nb = stack_workers(&s, before, 8);
    ck_assert_int_eq(nb, 2);
    ck_assert_int_eq(kill(before[0], SIGKILL), 0);
    int replaced = 0;
    for (int waited = 0; waited <= 1000 && !replaced; waited += 20) {
        stack_sleep_ms(20);
        int na = stack_workers(&s, after, 8);
        replaced = na == 2 && !pid_in(before[0], after, na);
    }
    ck_assert_msg(replaced, "no new worker within 1 s of kill -9");
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(get_status(s.port, "/healthz"), 200);
    ck_assert_int_eq(stack_log_count(&s, "event=worker_exit"), 1);
    stack_stop(&s);
}
END_TEST

START_TEST(t_sigterm_finishes_in_flight_request)
{
    struct stack s;
    ck_assert_int_eq(stack_start(&s, NULL), 0);
    pid_t client = fork();
    if (client == 0) {
        struct httpc_resp r;
        int st = httpc(s.port, "GET", "/_test/sleep?ms=1500", AUTH, NULL, 0, &r, 10000);
        int ok = st == 200 && strcmp(r.body, "{\"slept\":1500}") == 0;
        _exit(ok ? 0 : 1);
    }
    stack_sleep_ms(400); /* the request is now inside a worker */
    ck_assert_int_eq(kill(s.master, SIGTERM), 0);
    int cst;
    waitpid(client, &cst, 0);
    ck_assert_msg(WIFEXITED(cst) && WEXITSTATUS(cst) == 0, "in-flight request did not complete");
    ck_assert_int_eq(stack_wait_master(&s, 5000), 0);
    ck_assert(WIFEXITED(s.master_status));
    ck_assert_int_eq(WEXITSTATUS(s.master_status), 0);
    ck_assert_int_eq(stack_log_count(&s, "event=master_exit status=0"), 1);
    stack_stop(&s);
}
END_TEST

START_TEST(t_sighup_swaps_workers_without_failures)
{
    struct stack s;
    ck_assert_int_eq(stack_start(&s, NULL), 0);
    pid_t before[8], after[8];
    int nb = stack_workers(&s, before, 8);
    ck_assert_int_eq(nb, 2);
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t client = fork();
    if (client == 0) {
        int total = 0, failed = 0;
        time_t end = time(NULL) + 3;
        while (time(NULL) < end) {
            total++;
            if (get_status(s.port, "/healthz") != 200)
                failed++;
        }
        int res[2] = {total, failed};
        ssize_t w = write(pipefd[1], res, sizeof res);
        _exit(w == sizeof res ? 0 : 1);
    }
    stack_sleep_ms(500);
    ck_assert_int_eq(kill(s.master, SIGHUP), 0);
    stack_sleep_ms(800);
    ck_assert_int_eq(kill(s.master, SIGHUP), 0);
    int res[2] = {0, 0};
    ck_assert_int_eq(read(pipefd[0], res, sizeof res), (ssize_t)sizeof res);
    waitpid(client, NULL, 0);
    int na = stack_workers(&s, after, 8);
    ck_assert_int_eq(na, 2);
    for (int i = 0; i < na; i++)
        ck_assert_msg(!pid_in(after[i], before, nb), "worker %d survived the reload", after[i]);
    ck_assert_int_gt(res[0], 50);
    ck_assert_msg(res[1] == 0, "%d of %d requests failed during SIGHUP", res[1], res[0]);
    ck_assert_int_eq(stack_log_count(&s, "event=reload"), 2);
    stack_stop(&s);
}
END_TEST

START_TEST(t_body_over_limit_is_413)
{
    const char *conf[] = {"max_body_bytes = 1024", NULL};
    struct stack s;
    ck_assert_int_eq(stack_start(&s, conf), 0);
    static char big[70000];
    memset(big, 'x', sizeof big);
    struct httpc_resp r;
    /* over the application's limit: the application answers */
    ck_assert_int_eq(httpc(s.port, "POST", "/leads", AUTH "Content-Type: application/json\r\n", big,
                           2000, &r, 5000),
                     413);
    ck_assert_str_eq(r.body, "{\"statusCode\":413,\"message\":\"Request body exceeds 1024 bytes\","
                             "\"error\":\"Payload Too Large\"}");
    httpc_free(&r);
    /* exactly at the limit is not refused for its size */
    ck_assert_int_ne(httpc(s.port, "POST", "/leads", AUTH "Content-Type: application/json\r\n", big,
                           1024, &r, 5000),
                     413);
    httpc_free(&r);
    /* over nginx's client_max_body_size: nginx answers, in the same JSON shape */
    ck_assert_int_eq(httpc(s.port, "POST", "/leads", AUTH "Content-Type: application/json\r\n", big,
                           sizeof big, &r, 5000),
                     413);
    ck_assert_ptr_nonnull(strstr(r.body, "\"statusCode\":413"));
    httpc_free(&r);
    ck_assert_int_eq(get_status(s.port, "/healthz"), 200);
    stack_stop(&s);
}
END_TEST

START_TEST(t_max_requests_recycles_worker)
{
    const char *conf[] = {"workers = 1", "max_requests = 3", NULL};
    struct stack s;
    ck_assert_int_eq(stack_start(&s, conf), 0);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(get_status(s.port, "/healthz"), 200);
    stack_sleep_ms(200);
    ck_assert_int_ge(stack_log_count(&s, "event=worker_recycle requests=3"), 2);
    pid_t w[4];
    ck_assert_int_eq(stack_workers(&s, w, 4), 1);
    stack_stop(&s);
}
END_TEST

START_TEST(t_crash_loop_backs_off)
{
    struct stack s;
    ck_assert_int_eq(stack_start(&s, NULL), 0);
    for (int i = 0; i < 6; i++) {
        struct httpc_resp r;
        httpc(s.port, "GET", "/_test/crash", AUTH, NULL, 0, &r, 5000); /* 502 from nginx */
        httpc_free(&r);
    }
    stack_sleep_ms(300);
    ck_assert_int_ge(stack_log_count(&s, "event=respawn_backoff"), 1);
    /* no fork storm: a handful of spawns, not hundreds */
    ck_assert_int_le(stack_log_count(&s, "event=worker_spawn"), 2 + 6);
    /* and the pool comes back */
    int ok = 0;
    for (int i = 0; i < 100 && !ok; i++) {
        ok = get_status(s.port, "/healthz") == 200;
        if (!ok)
            stack_sleep_ms(100);
    }
    ck_assert(ok);
    stack_stop(&s);
}
END_TEST

START_TEST(t_request_timeout_kills_stuck_worker)
{
    const char *conf[] = {"request_timeout = 1", NULL};
    struct stack s;
    ck_assert_int_eq(stack_start(&s, conf), 0);
    struct httpc_resp r;
    int st = httpc(s.port, "GET", "/_test/sleep?ms=5000", AUTH, NULL, 0, &r, 10000);
    ck_assert_int_eq(st, 502);
    ck_assert_ptr_nonnull(strstr(r.body, "\"statusCode\":502"));
    httpc_free(&r);
    ck_assert_int_eq(stack_log_count(&s, "event=request_timeout"), 1);
    stack_sleep_ms(300);
    pid_t w[4];
    ck_assert_int_eq(stack_workers(&s, w, 4), 2);
    ck_assert_int_eq(get_status(s.port, "/healthz"), 200);
    stack_stop(&s);
}
END_TEST

/* leadbookd -t -c conf with the environment as it is: exit status and stderr (in err). */
static int config_check(const char *conf, char *err, size_t errlen)
{
    char path[] = "/tmp/leadbook-cfgcheck.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        dup2(fd, 1);
        char bin[400];
        snprintf(bin, sizeof bin, "%s/leadbookd", stack_builddir());
        execl(bin, "leadbookd", "-t", "-c", conf, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    ssize_t n = pread(fd, err, errlen - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The environment of a shell that sourced .dev/env (LEADBOOK_* for the scripts) plus one
 * documented override (LEADBOOKD_WORKERS): the file wins over the scripts' variables, the
 * override wins over the file, and the log names each override applied (key and variable, never
 * the value), at start and again on reload. */
START_TEST(t_env_overrides_config_and_says_so)
{
    /* as .dev/env exports them: each would break or change the daemon if it were read */
    setenv("LEADBOOK_DB", "host=/nonexistent dbname=nothing", 1);
    setenv("LEADBOOK_WORKERS", "5", 1);
    setenv("LEADBOOK_JWT_ISSUER", "https://issuer.invalid/", 1); /* no key file: invalid */
    setenv("LEADBOOK_LISTEN", "unix:/nonexistent/dir/app.sock", 1);
    setenv("LEADBOOKD_WORKERS", "3", 1);
    setenv("LEADBOOKD_JWT_AUDIENCE", "audience-value-not-for-logs", 1);
    const char *conf[] = {"max_requests = 1000", NULL}; /* the file says workers = 2 */
    struct stack s;
    ck_assert_int_eq(stack_start(&s, conf), 0);
    pid_t w[8];
    ck_assert_int_eq(stack_workers(&s, w, 8), 3);
    ck_assert_int_eq(stack_log_count(&s, "event=config_override key=workers "
                                         "variable=LEADBOOKD_WORKERS"),
                     1);
    ck_assert_int_eq(stack_log_count(&s, "event=config_override key=jwt_audience "
                                         "variable=LEADBOOKD_JWT_AUDIENCE"),
                     1);
    ck_assert_int_eq(stack_log_count(&s, "event=config_override"), 2);
    ck_assert_int_eq(stack_log_count(&s, "variable=LEADBOOK_"), 0);
    ck_assert_int_eq(stack_log_count(&s, "audience-value-not-for-logs"), 0);
    ck_assert_int_eq(stack_log_count(&s, "event=master_start workers=3 "), 1);
    /* the file's listen was used (it answers), and LEADBOOK_DB was not the database */
    ck_assert_int_eq(get_status(s.port, "/healthz"), 200);
    ck_assert_int_eq(stack_log_count(&s, "/nonexistent"), 0);

    /* on reload the overrides are applied, and said, again */
    ck_assert_int_eq(kill(s.master, SIGHUP), 0);
    int reloaded = 0;
    for (int i = 0; i < 100 && !reloaded; i++) {
        stack_sleep_ms(20);
        reloaded = stack_log_count(&s, "event=reload generation=1 workers=3") == 1;
    }
    ck_assert_msg(reloaded, "no reload with 3 workers");
    ck_assert_int_eq(stack_log_count(&s, "event=config_override key=workers "
                                         "variable=LEADBOOKD_WORKERS"),
                     2);
    stack_sleep_ms(300);
    ck_assert_int_eq(stack_workers(&s, w, 8), 3);
    char conf_path[400];
    snprintf(conf_path, sizeof conf_path, "%s/leadbook.conf", s.dir);
    char err[2048];
    /* a bad override is refused, naming the variable */
    setenv("LEADBOOKD_WORKERS", "many", 1);
    ck_assert_int_eq(config_check(conf_path, err, sizeof err), 1);
    ck_assert_ptr_nonnull(strstr(err, "environment LEADBOOKD_WORKERS"));
    /* without the override, the scripts' variables change nothing: the file is valid as is */
    unsetenv("LEADBOOKD_WORKERS");
    unsetenv("LEADBOOKD_JWT_AUDIENCE");
    ck_assert_int_eq(config_check(conf_path, err, sizeof err), 0);
    ck_assert_ptr_null(strstr(err, "config_override"));
    stack_stop(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("process");
    TCase *tc = tcase_create("leadbookd+nginx");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_answers_through_nginx);
    tcase_add_test(tc, t_kill9_worker_is_replaced);
    tcase_add_test(tc, t_sigterm_finishes_in_flight_request);
    tcase_add_test(tc, t_sighup_swaps_workers_without_failures);
    tcase_add_test(tc, t_body_over_limit_is_413);
    tcase_add_test(tc, t_max_requests_recycles_worker);
    tcase_add_test(tc, t_crash_loop_backs_off);
    tcase_add_test(tc, t_request_timeout_kills_stuck_worker);
    tcase_add_test(tc, t_env_overrides_config_and_says_so);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
