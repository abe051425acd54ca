/* check_replica: the lag-tolerant reads on a streaming replica (db_read, src/db_read.c), run by
 * t/scale/replica (a standby made with pg_basebackup; LEADBOOK_TEST_REPLICA is its conninfo
 * without dbname, LEADBOOK_TEST_REPLICA_DIR its t/lib/pgctl directory). In order:
 * - reads follow the replica within db_read_max_lag (2 s) and the primary beyond it (replay
 *   paused with pg_wal_replay_pause()); a meeting token the replica does not know yet is looked
 *   up on the primary before any 404;
 * - the replica stopped (and started again) under a read load: the reads fall back to the
 *   primary with no 5xx;
 * - the primary stopped, the replica promoted: writes are 503 + Retry-After meanwhile, the
 *   lag-tolerant reads keep being served, and once the operator points db at the promoted
 *   server and reloads (SIGHUP) the service is writable again. */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One statement on the replica's maintenance database; its first value into out. */
static void replica_sql(const char *sql, char *out, size_t outlen)
{
    char ci[1024];
    snprintf(ci, sizeof ci, "%s user=postgres dbname=postgres", getenv("LEADBOOK_TEST_REPLICA"));
    PGconn *c = PQconnectdb(ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "replica: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(r));
    if (out)
        snprintf(out, outlen, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
}

static void pgctl(const char *cmd, const char *dir)
{
    char line[1024];
    snprintf(line, sizeof line, "%s/t/lib/pgctl %s '%s' >/dev/null", stack_srcdir(), cmd, dir);
    ck_assert_msg(system(line) == 0, "%s failed", line);
}

static long total_leads(const struct e2e_tenant *t)
{
    struct e2e_resp r;
    e2e_call(&r, t, "GET", "/leads/stats", NULL);
    e2e_expect(&r, 200);
    long n = (long)e2e_int(r.json, "totalLeads");
    e2e_free(&r);
    return n;
}

/* Waits until the replica has replayed everything the primary has written so far. */
static void replica_catch_up(void)
{
    char lsn[64], ok[8];
    e2e_sql_value(lsn, sizeof lsn, "SELECT pg_current_wal_lsn()::text", E2E_END);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn);
    for (int i = 0; i < 100; i++) {
        replica_sql(sql, ok, sizeof ok);
        if (ok[0] == 't')
            return;
        stack_sleep_ms(50);
    }
    ck_abort_msg("the replica did not catch up with %s", lsn);
}

START_TEST(t_lag_bound)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Replica lag", 0);
    e2e_lead_new(&t, NULL, "Before Pause", 3600, NULL, NULL, NULL);
    replica_catch_up();
    stack_sleep_ms(600); /* every worker's next measurement sees a caught-up replica */
    ck_assert_int_eq(total_leads(&t), 1);

    replica_sql("SELECT pg_wal_replay_pause()", NULL, 0);
    char token[37];
    e2e_lead_new(&t, NULL, "During Pause", 7200, NULL, NULL, token);
    long long wrote = now_ms();
    /* within the bound: the replica answers, without the new lead */
    int stale = 0, n = 0;
    while (now_ms() - wrote < 800) {
        stale += total_leads(&t) == 1;
        n++;
    }
    printf("lag_bound: %d of %d reads within 0.8 s of the write came from the paused replica\n",
           stale, n);
    ck_assert_msg(stale > 0, "no read came from the replica (%d reads)", n);
    /* the replica does not have this booking yet: the primary has the last word, no 404 */
    struct e2e_resp r;
    e2e_meeting(&r, token, NULL);
    e2e_expect(&r, 200);
    e2e_free(&r);

    /* beyond db_read_max_lag (2 s, measured to within 0.5 s): every read is the primary's */
    while (now_ms() - wrote < 3200)
        stack_sleep_ms(50);
    for (int i = 0; i < 20; i++)
        ck_assert_msg(total_leads(&t) == 2, "read %d beyond the lag bound was stale", i);
    ck_assert_int_gt(stack_log_count(&e2e_stack, "db_read_primary reason=lag "), 0);

    replica_sql("SELECT pg_wal_replay_resume()", NULL, 0);
    replica_catch_up();
    stack_sleep_ms(600);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(total_leads(&t), 2);
    ck_assert_int_gt(stack_log_count(&e2e_stack, "db_read_replica reason=lag_ok"), 0);
}
END_TEST

/* A reader for t_replica_stopped: GET /leads/stats and the meeting page for ms; writes
 * "requests 5xx other" to fd. */
static void reader(const struct e2e_tenant *t, const char *token, int ms, int fd)
{
    long long end = now_ms() + ms;
    int total = 0, fivexx = 0, other = 0;
    while (now_ms() < end) {
        struct e2e_resp r;
        if (total % 32 == 31) /* the public path is rate-limited per client by nginx */
            e2e_meeting(&r, token, NULL);
        else
            e2e_call(&r, t, "GET", "/leads/stats", NULL);
        total++;
        if (r.status >= 500)
            fivexx++;
        else if (r.status != 200)
            other++;
        e2e_free(&r);
    }
    char line[64];
    int len = snprintf(line, sizeof line, "%d %d %d\n", total, fivexx, other);
    ck_assert_int_eq(write(fd, line, (size_t)len), len);
}

START_TEST(t_replica_stopped)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Replica stop", 0);
    char token[37];
    e2e_lead_new(&t, NULL, "Under Load", 3600, NULL, NULL, token);
    replica_catch_up();
    const char *rdir = getenv("LEADBOOK_TEST_REPLICA_DIR");
    int before = stack_log_count(&e2e_stack, "db_read_replica ");
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    enum { READERS = 3, LOAD_MS = 6000 };
    pid_t kids[READERS];
    for (int i = 0; i < READERS; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(fds[0]);
            reader(&t, token, LOAD_MS, fds[1]);
            _exit(0);
        }
    }
    close(fds[1]);
    stack_sleep_ms(1500);
    pgctl("stop", rdir); /* a fast shutdown under load */
    long long stopped = now_ms();
    stack_sleep_ms(2000);
    pgctl("start", rdir);
    printf("replica_stopped: down for %lld ms under load\n", now_ms() - stopped);
    int total = 0, fivexx = 0, other = 0;
    FILE *f = fdopen(fds[0], "r");
    for (int i = 0; i < READERS; i++) {
        int a, b, c;
        ck_assert_int_eq(fscanf(f, "%d %d %d", &a, &b, &c), 3);
        total += a, fivexx += b, other += c;
    }
    fclose(f);
    for (int i = 0; i < READERS; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader %d failed", i);
    }
    printf("replica_stopped: %d reads, %d 5xx, %d other non-200\n", total, fivexx, other);
    ck_assert_int_gt(total, 100);
    ck_assert_int_eq(fivexx, 0);
    ck_assert_int_eq(other, 0);
    ck_assert_int_gt(stack_log_count(&e2e_stack, "db_read_primary reason=replica_"), 0);
    /* and back to the replica once it answers again */
    replica_catch_up();
    for (int i = 0; i < 40 && stack_log_count(&e2e_stack, "db_read_replica ") <= before; i++) {
        ck_assert_int_eq(total_leads(&t), 1);
        stack_sleep_ms(100);
    }
    ck_assert_int_gt(stack_log_count(&e2e_stack, "db_read_replica "), before);
}
END_TEST

static int post_lead(const struct e2e_tenant *t, int64_t in_s, char *retry_after, size_t len)
{
    char when[40], body[512];
    e2e_iso_from_now(in_s, when);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Failover Lead\",\"email\":\"lead@example.com\","
             "\"scheduledAt\":\"%s\"}",
             t->agent_id, when);
    struct e2e_resp r;
    e2e_call(&r, t, "POST", "/leads", body);
    int st = r.status;
    if (retry_after && !e2e_header(&r, "Retry-After", retry_after, len))
        retry_after[0] = '\0';
    e2e_free(&r);
    return st;
}

START_TEST(t_promotion)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Replica promote", 0);
    char token[37];
    e2e_lead_new(&t, NULL, "Before Failover", 3600, NULL, NULL, token);
    replica_catch_up();
    stack_sleep_ms(600);
    const char *pdir = getenv("LEADBOOK_TEST_PGDIR");
    pgctl("stop", pdir);

    /* the primary is gone: writes are 503 with Retry-After; the public meeting page (no
     * credential to look up on the primary) goes on from the replica */
    char ra[16];
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(post_lead(&t, 10800 + i, ra, sizeof ra), 503);
        ck_assert_msg(ra[0], "503 without Retry-After");
    }
    struct e2e_resp r;
    for (int i = 0; i < 5; i++) {
        e2e_meeting(&r, token, NULL);
        e2e_expect(&r, 200);
        e2e_free(&r);
    }

    char promoted[8];
    replica_sql("SELECT pg_promote(true, 30)", promoted, sizeof promoted);
    ck_assert_str_eq(promoted, "t");
    ck_assert_int_eq(post_lead(&t, 14400, ra, sizeof ra), 503); /* db still names the old one */
    ck_assert_msg(ra[0], "503 without Retry-After");

    /* the operator points db at the promoted server and reloads */
    char conf[400], line[1200];
    snprintf(conf, sizeof conf, "%s/leadbook.conf", e2e_stack.dir);
    const char *db = strstr(e2e_conninfo(), "dbname=");
    FILE *f = fopen(conf, "a");
    ck_assert_ptr_nonnull(f);
    snprintf(line, sizeof line, "%s user=postgres %s", getenv("LEADBOOK_TEST_REPLICA"), db);
    fprintf(f, "db = %s\n", line);
    if (getenv("LEADBOOK_TEST_PGBOUNCER"))
        fprintf(f, "db_listen = %s\n", line);
    fclose(f);
    long long reload = now_ms();
    ck_assert_int_eq(kill(e2e_stack.master, SIGHUP), 0);
    int st = 0;
    for (int i = 0; i < 150 && (st = post_lead(&t, 18000 + i, NULL, 0)) != 201; i++)
        stack_sleep_ms(100);
    ck_assert_int_eq(st, 201);
    printf("promotion: writable %lld ms after the reload\n", now_ms() - reload);
    e2e_call(&r, NULL, "GET", "/readyz", NULL);
    ck_assert_int_eq(r.status, 200);
    e2e_free(&r);
    ck_assert_int_eq(total_leads(&t), 2);

    /* the old primary back, only so that the test database can be dropped on it */
    pgctl("start", pdir);
}
END_TEST

int main(void)
{
    if (!getenv("LEADBOOK_TEST_REPLICA") || !getenv("LEADBOOK_TEST_REPLICA_DIR")) {
        fprintf(stderr, "check_replica: run it with t/scale/replica\n");
        return EXIT_FAILURE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    Suite *s = suite_create("replica");
    TCase *tc = e2e_tcase("replica", 90);
    tcase_add_test(tc, t_lag_bound);
    tcase_add_test(tc, t_replica_stopped);
    tcase_add_test(tc, t_promotion);
    suite_add_tcase(s, tc);
    return e2e_main("replica", s);
}
