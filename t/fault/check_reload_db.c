/* check_reload_db: a reload cannot take the service down, and no write commits after its client
 * was told it failed (API.md "Deadlines").
 * - SIGHUP with a config whose database cannot be reached: the old workers keep serving (>= 99%
 *   of a continuous load answered 200: the new workers accept nothing before they have reached
 *   the database), the log says why the new config was given up, and a later good reload does
 *   take effect (its worker count).
 * - POSTs in flight while PostgreSQL is frozen (SIGSTOP, 20 s, then SIGCONT; 8 workers, so 8
 *   are sent to the frozen server): each gets a 503 at its deadline, and when the server wakes
 *   up and runs what was sent to it, the write is rolled back (its guard: no commit later than
 *   the worker waits); every POST answered 201 is in the database, none of the others (looked
 *   up by its unique email).
 * - POSTs that finish only after their deadline (behind a row lock held almost as long as the
 *   request may take, request_deadline short): rolled back, never committed after a 503. */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fenv.h"
#include "httpc.h"
#include "stack.h"

static struct fenv E;
static struct stack S;
static char json_hdr[400], auth_hdr[300];

static void start(const char *const *extra)
{
    ck_assert_msg(fenv_cluster_start(&E) == 0, "own PostgreSQL cluster");
    ck_assert_msg(fenv_provision(&E, "Reload tenant") == 0, "tenant/key/agent");
    ck_assert_msg(fenv_stack_start(&E, &S, extra) == 0, "stack");
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s\r\n", E.key);
    snprintf(json_hdr, sizeof json_hdr, "%sContent-Type: application/json\r\n", auth_hdr);
}

static void stop(void)
{
    stack_stop(&S);
    fenv_destroy(&E);
}

/* How many leads have this email (0 or 1: each POST of these tests has its own). */
static int leads_with_email(PGconn *c, const char *email)
{
    const char *v[] = {email};
    PGresult *r =
        PQexecParams(c, "SELECT count(*) FROM leads WHERE email = $1", 1, NULL, v, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* ---- reload with an unreachable database ---- */

static volatile int load_on;
static int load_total, load_ok;
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

static void *load_loop(void *arg)
{
    (void)arg;
    while (load_on) {
        struct httpc_resp r;
        int st = httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 10000);
        httpc_free(&r);
        pthread_mutex_lock(&load_mu);
        load_total++;
        load_ok += st == 200;
        pthread_mutex_unlock(&load_mu);
        if (st != 200 && load_total - load_ok <= 5)
            fprintf(stderr, "during the reload: %d\n", st);
    }
    return NULL;
}

static void write_conf(const char *extra_line)
{
    char path[400], body[4096];
    snprintf(path, sizeof path, "%s/leadbook.conf.orig", S.dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    body[n] = '\0';
    snprintf(path, sizeof path, "%s/leadbook.conf", S.dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s%s\n", body, extra_line);
    fclose(f);
}

static int wait_log(const char *needle, int want, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        if (stack_log_count(&S, needle) >= want)
            return 1;
        stack_sleep_ms(50);
    }
    return stack_log_count(&S, needle) >= want;
}

START_TEST(t_reload_unreachable_database)
{
    const char *extra[] = {"workers = 4", "db_connect_timeout = 2", NULL};
    start(extra);
    char a[400], b[400];
    snprintf(a, sizeof a, "%s/leadbook.conf", S.dir);
    snprintf(b, sizeof b, "%s/leadbook.conf.orig", S.dir);
    ck_assert_int_eq(link(a, b), 0);
    ck_assert_int_eq(unlink(a), 0);

    load_on = 1;
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, load_loop, NULL), 0);
    stack_sleep_ms(500);
    /* nothing listens on port 1: every new worker's connect is refused */
    write_conf("db = host=127.0.0.1 port=1 dbname=leadbook user=leadbook");
    int64_t t0 = fenv_now_us();
    ck_assert_int_eq(kill(S.master, SIGHUP), 0);
    /* the load threads run until joined below: no assertion in between (CK_NOFORK) */
    int gave_up = wait_log("event=reload_failed", 1, 20000);
    long gave_up_ms = (long)((fenv_now_us() - t0) / 1000);
    stack_sleep_ms(1000);
    /* a good config again (the original, with 3 workers): it does take effect */
    write_conf("workers = 3");
    int hup = kill(S.master, SIGHUP);
    int live = wait_log("event=generation_live", 1, 20000);
    pid_t w[16];
    int nw = 0;
    for (int i = 0; i < 100 && (nw = stack_workers(&S, w, 16)) != 3; i++)
        stack_sleep_ms(50);
    stack_sleep_ms(500);
    load_on = 0;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);

    int failed_lines = stack_log_count(&S, "event=reload_failed");
    int why = stack_log_count(&S, "new workers reached the database within");
    int refused = stack_log_count(&S, "Connection refused");
    fprintf(stderr,
            "reload to an unreachable database: %d of %d requests 200 (%.2f%%), given up after %ld "
            "ms; then a good reload: %d workers\n",
            load_ok, load_total, load_total ? 100.0 * load_ok / load_total : 0.0, gave_up_ms, nw);
    ck_assert_msg(gave_up, "no reload_failed in the log");
    ck_assert_int_eq(hup, 0);
    ck_assert_msg(live, "the good reload did not go live");
    ck_assert_int_eq(failed_lines, 1);
    ck_assert_msg(why == 1 && refused >= 1, "the log does not say why");
    ck_assert_int_gt(load_total, 100);
    ck_assert_msg(load_ok * 100 >= load_total * 99, "%d of %d answered 200", load_ok, load_total);
    ck_assert_int_eq(nw, 3);
    stop();
}
END_TEST

/* ---- writes to a frozen PostgreSQL ---- */

enum { POSTS = 24 };
struct post {
    char email[80];
    int status;
    long ms;
    int delay_ms;
};
static struct post posts[POSTS];

static void *post_one(void *arg)
{
    struct post *p = arg;
    if (p->delay_ms)
        stack_sleep_ms(p->delay_ms);
    char when[40], body[512];
    time_t t = time(NULL) + 86400;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Deadline\",\"email\":\"%s\",\"scheduledAt\":\"%s\"}",
             E.agent, p->email, when);
    struct httpc_resp r;
    int64_t t0 = fenv_now_us();
    p->status = httpc(S.port, "POST", "/leads", json_hdr, body, strlen(body), &r, 40000);
    p->ms = (long)((fenv_now_us() - t0) / 1000);
    httpc_free(&r);
    return NULL;
}

/* Every POST answered 201 is in the database, every other one is not. */
static void check_posts(const char *what, int n)
{
    PGconn *c = fenv_pg(&E);
    ck_assert_ptr_nonnull(c);
    int created = 0, refused = 0, lost = 0;
    for (int i = 0; i < n; i++) {
        int in_db = leads_with_email(c, posts[i].email);
        if (getenv("LEADBOOK_TEST_VERBOSE"))
            fprintf(stderr, "%s: %s %d %ld ms\n", what, posts[i].email, posts[i].status,
                    posts[i].ms);
        if (posts[i].status == 201)
            created++;
        else
            refused++;
        if (in_db != (posts[i].status == 201)) {
            lost++;
            fprintf(stderr, "%s: POST %s answered %d after %ld ms, %d in the database\n", what,
                    posts[i].email, posts[i].status, posts[i].ms, in_db);
        }
    }
    PQfinish(c);
    fprintf(stderr,
            "%s: %d POSTs, %d answered 201 (all in the database), %d not (none in it); "
            "%d inconsistent\n",
            what, n, created, refused, lost);
    ck_assert_int_eq(lost, 0);
    ck_assert_int_gt(refused, 0); /* the scenario did happen */
}

START_TEST(t_writes_to_a_frozen_database)
{
    const char *extra[] = {"workers = 8", "db_statement_timeout = 5000", NULL};
    start(extra);
    struct httpc_resp r;
    ck_assert_int_eq(httpc(S.port, "GET", "/leads/stats", auth_hdr, NULL, 0, &r, 10000), 200);
    httpc_free(&r);
    ck_assert_int_eq(fenv_pg_signal(&E, SIGSTOP), 0);
    int64_t t0 = fenv_now_us();
    pthread_t th[POSTS];
    for (int i = 0; i < POSTS; i++) {
        snprintf(posts[i].email, sizeof posts[i].email, "frozen-%d-%ld@example.com", i,
                 (long)getpid());
        posts[i].delay_ms = (i % 6) * 1000; /* in flight all along the first 6 s */
        ck_assert_int_eq(pthread_create(&th[i], NULL, post_one, &posts[i]), 0);
    }
    stack_sleep_ms(20000);
    ck_assert_int_eq(fenv_pg_signal(&E, SIGCONT), 0);
    long frozen_ms = (long)((fenv_now_us() - t0) / 1000);
    for (int i = 0; i < POSTS; i++)
        pthread_join(th[i], NULL);
    stack_sleep_ms(3000); /* what the woken server ran meanwhile has ended */
    int n5xx = 0, n201 = 0;
    long max_ms = 0;
    for (int i = 0; i < POSTS; i++) {
        n5xx += posts[i].status >= 500 || posts[i].status == 0;
        n201 += posts[i].status == 201;
        max_ms = posts[i].ms > max_ms ? posts[i].ms : max_ms;
    }
    fprintf(stderr, "frozen %ld ms: %d x 5xx/none, %d x 201, slowest answer %ld ms\n", frozen_ms,
            n5xx, n201, max_ms);
    check_posts("frozen database", POSTS);
    /* and the service works again */
    snprintf(posts[0].email, sizeof posts[0].email, "after-%ld@example.com", (long)getpid());
    posts[0].delay_ms = 0;
    int ok = 0;
    for (int i = 0; i < 50 && !ok; i++) {
        post_one(&posts[0]);
        ok = posts[0].status == 201;
        if (!ok)
            stack_sleep_ms(200);
    }
    ck_assert_msg(ok, "no 201 after the database woke up");
    stop();
}
END_TEST

/* ---- writes that finish after their deadline ---- */

START_TEST(t_late_writes_are_rolled_back)
{
    /* request_deadline 3 s: a POST may commit until about 1.5 s after nginx took it */
    const char *extra[] = {"workers = 4", "request_deadline = 3", NULL};
    start(extra);
    PGconn *stuck = fenv_pg(&E);
    ck_assert_ptr_nonnull(stuck);
    int n = 0;
    for (int round = 0; round < 3; round++) {
        /* inserts into leads held up for 1.8 s (< lock_timeout): the POSTs wait, then their
         * insert finishes, after the time they had */
        ck_assert_int_eq(fenv_sql(stuck, "BEGIN"), 0);
        ck_assert_int_eq(fenv_sql(stuck, "LOCK TABLE leads IN SHARE MODE"), 0);
        pthread_t th[8];
        for (int i = 0; i < 8; i++) {
            struct post *p = &posts[n + i];
            snprintf(p->email, sizeof p->email, "late-%d-%d-%ld@example.com", round, i,
                     (long)getpid());
            p->delay_ms = i < 4 ? 0 : 1200; /* the later ones still have the time */
            ck_assert_int_eq(pthread_create(&th[i], NULL, post_one, p), 0);
        }
        stack_sleep_ms(1800);
        ck_assert_int_eq(fenv_sql(stuck, "COMMIT"), 0);
        for (int i = 0; i < 8; i++)
            pthread_join(th[i], NULL);
        n += 8;
    }
    PQfinish(stuck);
    int late = stack_log_count(&S, "event=db_commit_too_late");
    fprintf(stderr, "late writes: %d rolled back by their guard\n", late);
    check_posts("late writes", n);
    ck_assert_int_gt(late, 0);
    stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reload_db");
    TCase *tc = tcase_create("reload_db");
    tcase_set_timeout(tc, 110);
    tcase_add_test(tc, t_reload_unreachable_database);
    tcase_add_test(tc, t_writes_to_a_frozen_database);
    tcase_add_test(tc, t_late_writes_are_rolled_back);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
