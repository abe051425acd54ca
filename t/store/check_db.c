/* check_db: the connection layer: SQLSTATE mapping, ping/generation, LISTEN/NOTIFY, statement
 * timeout, a killed backend, and a whole server going away and coming back (private cluster). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/pgtest.h"
#include "store/keys.h"
#include "store/tenants.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_sqlstate_map)
{
    ck_assert_int_eq(lb_db_status_from_sqlstate("23505"), LB_CONFLICT);
    ck_assert_int_eq(lb_db_status_from_sqlstate("23503"), LB_NOT_FOUND);
    ck_assert_int_eq(lb_db_status_from_sqlstate("23514"), LB_INVALID);
    ck_assert_int_eq(lb_db_status_from_sqlstate("22P02"), LB_INVALID);
    ck_assert_int_eq(lb_db_status_from_sqlstate("22007"), LB_INVALID);
    ck_assert_int_eq(lb_db_status_from_sqlstate("08006"), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_status_from_sqlstate("57P01"), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_status_from_sqlstate("57014"), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_status_from_sqlstate("42P01"), LB_INTERNAL);
    ck_assert_int_eq(lb_db_status_from_sqlstate("P0001"), LB_INTERNAL);
    ck_assert_int_eq(lb_db_status_from_sqlstate(NULL), LB_INTERNAL);
    ck_assert_int_eq(lb_db_status_from_sqlstate("235"), LB_INTERNAL);
}
END_TEST

START_TEST(test_new_does_not_connect)
{
    struct lb_db_options opt = {"host=/nonexistent/dir dbname=x", 2, 1000, NULL, 0};
    struct lb_db *db = lb_db_new(&opt);
    ck_assert_ptr_nonnull(db);
    ck_assert_uint_eq(lb_db_generation(db), 0);
    ck_assert_int_eq(lb_db_poll_notifications(db, NULL, NULL), -1);
    double t0 = now_s();
    ck_assert_int_eq(lb_db_ready(db), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_ready(db), LB_UNAVAILABLE); /* throttled: no new attempt */
    ck_assert_int_eq(lb_db_ping(db), LB_UNAVAILABLE);
    ck_assert(now_s() - t0 < 1.0);
    ck_assert_uint_eq(lb_db_generation(db), 0);
    lb_db_free(db);
}
END_TEST

START_TEST(test_ready_ping_generation)
{
    struct lb_db *db = pgtest_db();
    ck_assert_uint_eq(lb_db_generation(db), 1);
    ck_assert_int_eq(lb_db_ping(db), LB_OK);
    ck_assert_int_eq(lb_db_ready(db), LB_OK);
    ck_assert_uint_eq(lb_db_generation(db), 1);
    ck_assert_int_eq(lb_db_poll_notifications(db, NULL, NULL), 0);
    lb_db_free(db);
}
END_TEST

struct seen {
    int n;
    char channel[64];
    char payload[64];
};

static void on_notify(void *ctx, const char *channel, const char *payload)
{
    struct seen *s = ctx;
    s->n++;
    snprintf(s->channel, sizeof s->channel, "%s", channel);
    snprintf(s->payload, sizeof s->payload, "%s", payload);
}

/* A new key of a new tenant; its id copied out. */
static void new_key(struct lb_db *db, char key_id[37])
{
    char tenant[37];
    pgtest_tenant(db, tenant);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_key_create(db, tenant, "n", &b), LB_OK);
    json_object *k = pgtest_json(&b);
    snprintf(key_id, 37, "%s", pgtest_jstr(k, "id"));
    json_object_put(k);
    lb_buf_free(&b);
}

START_TEST(test_revocation_notifies)
{
    struct lb_db_options opt = {pgtest_conninfo(), 5, 5000, STORE_KEYS_CHANNEL, 0};
    struct lb_db *listener = lb_db_new(&opt);
    ck_assert_int_eq(lb_db_ready(listener), LB_OK);
    struct lb_db *db = pgtest_db();
    char key_id[37];
    new_key(db, key_id);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_key_revoke(db, key_id, &b), LB_OK);

    struct seen s = {0};
    for (int i = 0; i < 100 && s.n == 0; i++) {
        ck_assert_int_ge(lb_db_poll_notifications(listener, on_notify, &s), 0);
        if (s.n == 0)
            usleep(10000);
    }
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.channel, STORE_KEYS_CHANNEL);
    ck_assert_str_eq(s.payload, key_id);
    lb_buf_free(&b);
    lb_db_free(db);
    lb_db_free(listener);
}
END_TEST

/* lb_db_sync_notifications: a revocation committed before the call is delivered by that one
 * call, even when the listening backend could not run between the commit and the call (it was
 * stopped: the notify signal was still pending when the call's query reached it). A
 * non-blocking poll at that moment finds nothing: what let a revoked key through under load. */
START_TEST(test_sync_delivers_what_committed_before)
{
    struct lb_db_options opt = {pgtest_conninfo(), 5, 5000, STORE_KEYS_CHANNEL, 0};
    struct lb_db *listener = lb_db_new(&opt);
    ck_assert_int_eq(lb_db_ready(listener), LB_OK);
    PGresult *r = NULL;
    ck_assert_int_eq(lb_db_exec_once(listener, "SELECT pg_backend_pid()", 0, NULL, &r), LB_OK);
    pid_t backend = (pid_t)atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    ck_assert_int_gt(backend, 0);
    struct lb_db *db = pgtest_db();
    char key_id[37];
    new_key(db, key_id);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_ge(lb_db_sync_notifications(listener, NULL, NULL), 0); /* anything before */

    ck_assert_int_eq(kill(backend, SIGSTOP), 0);
    ck_assert_int_eq(store_key_revoke(db, key_id, &b), LB_OK);
    ck_assert_int_eq(kill(backend, SIGCONT), 0);
    struct seen s = {0};
    ck_assert_int_ge(lb_db_sync_notifications(listener, on_notify, &s), 1);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.channel, STORE_KEYS_CHANNEL);
    ck_assert_str_eq(s.payload, key_id);
    /* broken: -1, and the next call reconnects */
    lb_db_free(listener);
    struct lb_db_options none = {"host=/nonexistent port=1 connect_timeout=1", 1, 1000, NULL, 0};
    struct lb_db *down = lb_db_new(&none);
    ck_assert_int_eq(lb_db_sync_notifications(down, NULL, NULL), -1);
    lb_db_free(down);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_statement_timeout)
{
    struct lb_db_options opt = {pgtest_conninfo(), 5, 100, NULL, 0};
    struct lb_db *db = lb_db_new(&opt);
    ck_assert_int_eq(lb_db_ready(db), LB_OK);
    double t0 = now_s();
    ck_assert_int_eq(lb_db_exec_once(db, "SELECT pg_sleep(2)", 0, NULL, NULL), LB_UNAVAILABLE);
    ck_assert(now_s() - t0 < 1.5);
    ck_assert_int_eq(lb_db_ping(db), LB_OK);
    ck_assert_uint_eq(lb_db_generation(db), 1); /* a timeout does not cost the connection */
    lb_db_free(db);
}
END_TEST

/* The session settings of src/db.h reach the server, with or without a statement timeout. */
START_TEST(test_session_options)
{
    for (int with_timeout = 0; with_timeout < 2; with_timeout++) {
        struct lb_db_options opt = {pgtest_conninfo(), 5, with_timeout ? 1500 : 0, NULL, 0};
        struct lb_db *db = lb_db_new(&opt);
        ck_assert_int_eq(lb_db_ready(db), LB_OK);
        PGresult *r = NULL;
        ck_assert_int_eq(lb_db_exec_once(db,
                                         "SELECT current_setting('plan_cache_mode') || ' ' || "
                                         "current_setting('max_parallel_workers_per_gather') || "
                                         "' ' || current_setting('jit') || ' ' || "
                                         "current_setting('statement_timeout')",
                                         0, NULL, &r),
                         LB_OK);
        ck_assert_str_eq(PQgetvalue(r, 0, 0), with_timeout ? "force_generic_plan 0 off 1500ms"
                                                           : "force_generic_plan 0 off 0");
        PQclear(r);
        lb_db_free(db);
    }
}
END_TEST

START_TEST(test_terminated_backend_reconnects)
{
    struct lb_db *db = pgtest_db();
    PGresult *r = NULL;
    ck_assert_int_eq(lb_db_exec_once(db, "SELECT pg_backend_pid()::text", 0, NULL, &r), LB_OK);
    const char *v[] = {PQgetvalue(r, 0, 0)};
    PQclear(pgtest_sql(NULL, "SELECT pg_terminate_backend($1::int)", 1, v));
    PQclear(r);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_tenant_create(db, "after kill", NULL, &b), LB_UNAVAILABLE);
    usleep(150 * 1000); /* past the reconnect throttle */
    ck_assert_int_eq(store_tenant_create(db, "after kill", NULL, &b), LB_OK);
    ck_assert_uint_eq(lb_db_generation(db), 2);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

static int pgctl(const char *cmd, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/t/lib/pgctl", getenv("top_srcdir"));
    char *argv[] = {"/bin/sh", path, (char *)cmd, (char *)dir, NULL};
    return pgtest_run(argv, NULL, NULL);
}

START_TEST(test_server_restart)
{
    char dir[] = "/tmp/lbtest-restart.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("PGCTL_FSYNC", "off", 1);
    ck_assert_int_eq(pgctl("start", dir), 0);
    char ci[1024];
    snprintf(ci, sizeof ci, "host=%s port=5432 user=postgres dbname=postgres", dir);
    ck_assert_int_eq(pgtest_ctl(ci, NULL, NULL, NULL, "migrate", (char *)NULL), 0);

    struct lb_db_options opt = {ci, 2, 5000, STORE_KEYS_CHANNEL, 0};
    struct lb_db *db = lb_db_new(&opt);
    ck_assert_int_eq(lb_db_ready(db), LB_OK);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_tenant_create(db, "before", NULL, &b), LB_OK);

    ck_assert_int_eq(pgctl("stop", dir), 0);
    double t0 = now_s();
    ck_assert_int_eq(store_tenant_create(db, "while down", NULL, &b), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_ready(db), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_ping(db), LB_UNAVAILABLE);
    ck_assert_int_eq(lb_db_poll_notifications(db, NULL, NULL), -1);
    ck_assert_msg(now_s() - t0 < 1.0, "calls while down took %.3fs", now_s() - t0);

    ck_assert_int_eq(pgctl("start", dir), 0);
    t0 = now_s();
    enum lb_status s = LB_UNAVAILABLE;
    while (s != LB_OK && now_s() - t0 < 1.0) {
        s = lb_db_ready(db);
        if (s != LB_OK)
            usleep(20000);
    }
    ck_assert_msg(s == LB_OK, "not reconnected within a second");
    ck_assert_uint_eq(lb_db_generation(db), 2);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_tenant_create(db, "after", NULL, &b), LB_OK); /* re-prepared */
    ck_assert_int_eq(lb_db_poll_notifications(db, NULL, NULL), 0);
    lb_buf_free(&b);
    lb_db_free(db);
    pgctl("destroy", dir);
}
END_TEST

int main(void)
{
    if (!pgtest_setup("db"))
        return EXIT_FAILURE;
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("connection");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sqlstate_map);
    tcase_add_test(tc, test_new_does_not_connect);
    tcase_add_test(tc, test_ready_ping_generation);
    tcase_add_test(tc, test_revocation_notifies);
    tcase_add_test(tc, test_sync_delivers_what_committed_before);
    tcase_add_test(tc, test_statement_timeout);
    tcase_add_test(tc, test_session_options);
    tcase_add_test(tc, test_terminated_backend_reconnects);
    tcase_add_test(tc, test_server_restart);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
