/* check_stats: the statistics counters of sql/002_stats_counters.sql. After every kind of write
 * (the API's own statements, the expiry sweep, bulk SQL, moves between agents, deletes, cascades,
 * concurrent writers) the counters must equal a recount of the rows, and
 * store_lead_stats must give byte for byte what the definition of API.md gives when computed by
 * scanning every row (the oracle below, the statement the store used before the counters).
 * Also: writers on different backends do not wait for each other's counter row, and the
 * migration backfills the counters of data written before it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/pgtest.h"
#include "store/agents.h"
#include "store/booking_changes.h"
#include "store/bookings.h"
#include "store/leads.h"

/* clang-format off */
/* The rows still visible: a deleted agent's rows stay until the batches of
 * store_agent_purge_deleted, out of sight and out of the statistics (sql/007_agent_delete.sql). */
#define LIVE(x)                                                                                    \
    "EXISTS (SELECT 1 FROM agents live WHERE live.tenant_id = " x ".tenant_id "                    \
    "AND live.id = " x ".agent_id)"
/* API.md's definition by brute force: every lead and booking of the tenant (or agent). */
#define ORACLE                                                                                     \
    "WITH l AS (SELECT count(*) AS n FROM leads x WHERE tenant_id = $1 "                           \
    "           AND ($2::uuid IS NULL OR agent_id = $2::uuid) AND " LIVE("x") "), "                \
    "b AS (SELECT "                                                                                \
    "  count(*) FILTER (WHERE status = 'PENDING' AND scheduled_at > now() "                        \
    "                   AND now() < expires_at) AS upcoming, "                                     \
    "  count(*) FILTER (WHERE status = 'COMPLETED') AS completed, "                                \
    "  count(*) FILTER (WHERE status = 'EXPIRED' OR (status IN ('PENDING', 'CONFIRMED') "          \
    "                   AND now() >= expires_at)) AS expired, "                                    \
    "  count(*) FILTER (WHERE status = 'CONFIRMED') AS confirmed, "                                \
    "  count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled "                                 \
    "  FROM bookings x WHERE tenant_id = $1 AND ($2::uuid IS NULL OR agent_id = $2::uuid) "        \
    "  AND " LIVE("x") ") "                                                                        \
    "SELECT json_build_object('totalLeads', l.n, 'total', l.n, 'upcoming', b.upcoming, "           \
    "  'completed', b.completed, 'expired', b.expired, 'confirmed', b.confirmed, "                 \
    "  'cancelled', b.cancelled, 'conversionRate', "                                               \
    "  CASE WHEN l.n = 0 THEN 0 ELSE (b.completed * 200 + l.n) / (2 * l.n) END) FROM l, b"

/* Rows where the counters (summed over shards) and a recount disagree, both directions. */
#define MISMATCH                                                                                   \
    "WITH c AS (SELECT tenant_id, agent_id, status::text AS k, sum(n) AS n "                       \
    "           FROM stats_booking_counts GROUP BY 1, 2, 3 HAVING sum(n) <> 0 "                    \
    "           UNION ALL SELECT tenant_id, agent_id, 'LEADS', sum(n) FROM stats_lead_counts "     \
    "           GROUP BY 1, 2 HAVING sum(n) <> 0), "                                               \
    "r AS (SELECT tenant_id, agent_id, status::text AS k, count(*) AS n FROM bookings x "          \
    "      WHERE " LIVE("x") " GROUP BY 1, 2, 3 "                                                  \
    "      UNION ALL SELECT tenant_id, agent_id, 'LEADS', count(*) FROM leads x "                  \
    "      WHERE " LIVE("x") " GROUP BY 1, 2) "                                                    \
    "SELECT count(*) || ' ' || COALESCE(string_agg(x, ' '), '') FROM "                             \
    "((SELECT 'counter:' || k || '=' || n AS x FROM (SELECT * FROM c EXCEPT SELECT * FROM r) d) "  \
    " UNION ALL (SELECT 'rows:' || k || '=' || n FROM (SELECT * FROM r EXCEPT SELECT * FROM c) "   \
    "e) "                                                                                          \
    ") m"
/* clang-format on */

static void assert_counters_exact(const char *conninfo)
{
    PGresult *r = pgtest_sql(conninfo, MISMATCH, 0, NULL);
    ck_assert_msg(strcmp(PQgetvalue(r, 0, 0), "0 ") == 0, "counters differ from a recount: %s",
                  PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* store_lead_stats (tenant, then every agent of it) against the oracle. */
static void assert_stats_match(struct lb_db *db, const char *tenant)
{
    assert_counters_exact(NULL);
    const char *tv[] = {tenant};
    PGresult *agents = pgtest_sql(NULL, "SELECT id FROM agents WHERE tenant_id = $1", 1, tv);
    for (int i = -1; i < PQntuples(agents); i++) {
        const char *agent = i < 0 ? NULL : PQgetvalue(agents, i, 0);
        struct lb_buf b;
        lb_buf_init(&b);
        ck_assert_int_eq(store_lead_stats(db, tenant, agent, &b), LB_OK);
        const char *v[] = {tenant, agent};
        PGresult *o = pgtest_sql(NULL, ORACLE, 2, v);
        ck_assert_msg(strcmp(b.data, PQgetvalue(o, 0, 0)) == 0, "agent %s: %s, oracle %s",
                      agent ? agent : "(all)", b.data, PQgetvalue(o, 0, 0));
        PQclear(o);
        lb_buf_free(&b);
    }
    PQclear(agents);
}

static void make_lead(struct lb_db *db, const char *tenant, const char *agent, const char *when,
                      char booking[37])
{
    pgtest_lead(db, tenant, agent, when, NULL, booking, NULL);
}

static enum lb_status set_status(struct lb_db *db, const char *t, const char *booking,
                                 const char *status)
{
    struct lb_buf b;
    lb_buf_init(&b);
    char from[STORE_STATUS_LEN];
    enum lb_status s = store_booking_set_status(db, t, booking, status, NULL, &b, from);
    lb_buf_free(&b);
    return s;
}

/* An ISO timestamp `hours` from now. */
static void in_hours(double hours, char out[40])
{
    time_t t = time(NULL) + (time_t)(hours * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

START_TEST(test_counters_follow_every_write)
{
    struct lb_db *db = pgtest_db();
    char t[37], other[37], a[3][37], oa[37];
    pgtest_tenant(db, t);
    pgtest_tenant(db, other);
    pgtest_agent(db, t, 0, a[0]);
    pgtest_agent(db, t, 1, a[1]); /* 1 h expiry window */
    pgtest_agent(db, t, 168, a[2]);
    pgtest_agent(db, other, 0, oa);
    assert_stats_match(db, t);

    /* The API's create: some upcoming, some already started (past time, inside the window). */
    char bk[30][37];
    for (int i = 0; i < 30; i++) {
        char when[40];
        in_hours(i % 3 == 0 ? -0.5 : 24 + i, when);
        make_lead(db, t, a[i % 3], when, bk[i]);
    }
    make_lead(db, other, oa, "2099-01-01T00:00:00Z", NULL);
    assert_stats_match(db, t);
    assert_stats_match(db, other);

    /* The API's status changes, a no-op, and a refused one. */
    static const char *const to[] = {"CONFIRMED", "COMPLETED", "CANCELLED", "EXPIRED"};
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(set_status(db, t, bk[i], to[i % 4]), LB_OK);
    ck_assert_int_eq(set_status(db, t, bk[0], "CONFIRMED"), LB_OK);
    ck_assert_int_eq(set_status(db, t, bk[1], "PENDING"), LB_CONFLICT);
    assert_stats_match(db, t);

    /* Time passes (direct SQL), then the expiry sweep. */
    PQclear(pgtest_sql(NULL,
                       "UPDATE bookings SET scheduled_at = now() - interval '3 days', "
                       "expires_at = now() - interval '2 days' "
                       "WHERE id IN (SELECT id FROM bookings WHERE status IN ('PENDING', "
                       "'CONFIRMED') ORDER BY id LIMIT 6)",
                       0, NULL));
    assert_stats_match(db, t);
    long n = 0;
    ck_assert_int_eq(store_booking_expire_all(db, &n), LB_OK);
    ck_assert_int_ge(n, 6);
    assert_stats_match(db, t);

    /* Bulk SQL: 300 leads and bookings in one statement each. */
    const char *av[] = {t, a[1]};
    PQclear(pgtest_sql(NULL,
                       "INSERT INTO leads (tenant_id, agent_id, name, email) "
                       "SELECT $1, $2, 'Bulk', 'b' || g || '@example.com' "
                       "FROM generate_series(1, 300) g",
                       2, av));
    PQclear(pgtest_sql(NULL,
                       "INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, status, "
                       "expires_at) SELECT l.tenant_id, l.id, l.agent_id, "
                       "now() + (row_number() OVER (ORDER BY l.id) - 150) * interval '1 hour', "
                       "(ARRAY['PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', "
                       "'EXPIRED'])[1 + row_number() OVER (ORDER BY l.id) % 5]::booking_status, "
                       "now() + (row_number() OVER (ORDER BY l.id) - 140) * interval '1 hour' "
                       "FROM leads l WHERE l.tenant_id = $1 AND l.name = 'Bulk'",
                       1, av));
    assert_stats_match(db, t);

    /* A multi-row status change, and bookings moved to another agent. */
    PQclear(pgtest_sql(NULL,
                       "UPDATE bookings SET status = 'CANCELLED' WHERE tenant_id = $1 AND "
                       "status = 'CONFIRMED' AND agent_id = $2",
                       2, av));
    const char *mv[] = {t, a[1], a[2]};
    PQclear(pgtest_sql(NULL,
                       "UPDATE bookings SET agent_id = $3 WHERE tenant_id = $1 AND agent_id = $2 "
                       "AND status = 'PENDING'",
                       3, mv));
    PQclear(pgtest_sql(NULL,
                       "UPDATE leads SET agent_id = $3 WHERE tenant_id = $1 AND "
                       "agent_id = $2 AND email LIKE 'b1%'",
                       3, mv));
    PQclear(pgtest_sql(NULL, "UPDATE leads SET name = 'Renamed' WHERE tenant_id = $1", 1, av));
    assert_stats_match(db, t);

    /* Deletes: one lead (its booking goes with it), then an agent with everything it had. */
    const char *bv[] = {bk[5]};
    PQclear(pgtest_sql(
        NULL, "DELETE FROM leads WHERE id = (SELECT lead_id FROM bookings WHERE id = $1)", 1, bv));
    assert_stats_match(db, t);
    ck_assert_int_eq(store_agent_delete(db, t, a[1]), LB_OK);
    assert_stats_match(db, t);
    const char *gone[] = {a[1]};
    char left[16];
    pgtest_sql_value("SELECT (SELECT count(*) FROM stats_lead_counts WHERE agent_id = $1) + "
                     "(SELECT count(*) FROM stats_booking_counts WHERE agent_id = $1)",
                     1, gone, left, sizeof left);
    ck_assert_str_eq(left, "0"); /* no counter rows left behind for a deleted agent */
    assert_stats_match(db, other);
    /* Its rows, deleted afterwards in batches of 7, leave the counters exact and none behind. */
    long rows = 0;
    int more = 1;
    ck_assert_int_eq(store_agent_purge_deleted(db, 7, 30.0, &rows, &more), LB_OK);
    ck_assert_int_gt(rows, 7);
    ck_assert_int_eq(more, 0);
    assert_stats_match(db, t);
    pgtest_sql_value("SELECT (SELECT count(*) FROM leads WHERE agent_id = $1) + "
                     "(SELECT count(*) FROM bookings WHERE agent_id = $1) + "
                     "(SELECT count(*) FROM stats_lead_counts WHERE agent_id = $1) + "
                     "(SELECT count(*) FROM stats_booking_counts WHERE agent_id = $1)",
                     1, gone, left, sizeof left);
    ck_assert_str_eq(left, "0");
    lb_db_free(db);
}
END_TEST

/* 6 processes, one connection each, write for the same agent at once. */
START_TEST(test_concurrent_writers)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    enum { KIDS = 6, EACH = 40 };
    pid_t pids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        pids[k] = fork();
        ck_assert_int_ge(pids[k], 0);
        if (pids[k] == 0) {
            struct lb_db *mine = pgtest_db();
            for (int i = 0; i < EACH; i++) {
                char booking[37];
                make_lead(mine, t, a, "2099-01-01T00:00:00Z", booking);
                if (i % 2 &&
                    set_status(mine, t, booking, i % 4 == 1 ? "CONFIRMED" : "COMPLETED") != LB_OK)
                    _exit(2);
            }
            lb_db_free(mine);
            _exit(0);
        }
    }
    for (int k = 0; k < KIDS; k++) {
        int st;
        ck_assert_int_eq(waitpid(pids[k], &st, 0), pids[k]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_stats_match(db, t);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_lead_stats(db, t, NULL, &b), LB_OK);
    json_object *s = pgtest_json(&b);
    ck_assert_int_eq(pgtest_jint(s, "totalLeads"), KIDS * EACH);
    ck_assert_int_eq(pgtest_jint(s, "completed"), KIDS * EACH / 4);
    ck_assert_int_eq(pgtest_jint(s, "confirmed"), KIDS * EACH / 4);
    ck_assert_int_eq(pgtest_jint(s, "upcoming"), KIDS * EACH / 2);
    json_object_put(s);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

static PGconn *connect_test_db(void)
{
    PGconn *c = PQconnectdb(pgtest_conninfo());
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    return c;
}

static void run_ok(PGconn *c, const char *sql, int n, const char *const *v)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* Two open transactions on backends of different shards, each creating a lead and booking for
 * the same agent: the second must not wait for the first to commit (one counter row per
 * agent would make it wait). */
START_TEST(test_writers_do_not_queue_on_a_counter)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    PGconn *first = connect_test_db(), *spare[8] = {0}, *second = NULL;
    for (int i = 0; i < 8 && !second; i++) {
        spare[i] = connect_test_db();
        if (PQbackendPID(spare[i]) % 8 != PQbackendPID(first) % 8)
            second = spare[i];
    }
    ck_assert_ptr_nonnull(second);
    const char *v[] = {t, a};
    static const char insert[] =
        "WITH l AS (INSERT INTO leads (tenant_id, agent_id, name, email) "
        "VALUES ($1, $2, 'Q', 'q@example.com') RETURNING *) "
        "INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, expires_at) "
        "SELECT tenant_id, id, agent_id, now() + interval '1 day', now() + interval '2 days' "
        "FROM l";
    run_ok(first, "BEGIN", 0, NULL);
    run_ok(first, insert, 2, v);
    run_ok(second, "SET statement_timeout = '2s'", 0, NULL);
    run_ok(second, insert, 2, v); /* would fail with 57014 after 2 s if it queued */
    run_ok(first, "COMMIT", 0, NULL);
    for (int i = 0; i < 8; i++)
        if (spare[i])
            PQfinish(spare[i]);
    PQfinish(first);
    assert_stats_match(db, t);
    lb_db_free(db);
}
END_TEST

/* The store's own writes count themselves (sql/006_write_path.sql, store/sqlcount.h): with the
 * insert and update triggers disabled they still leave the counters exact, and with them
 * enabled (every other test here) they are not counted twice. Every counting statement: the
 * creates (plain and idempotent, by tenant and by booking page), the status changes (plain,
 * idempotent, the prospect's both ways), reschedules and the expiry sweep. */
static void count_triggers(const char *how)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "ALTER TABLE leads %s TRIGGER stats_count_leads_ins, %s TRIGGER stats_count_leads_upd",
             how, how);
    PQclear(pgtest_sql(NULL, sql, 0, NULL));
    snprintf(sql, sizeof sql,
             "ALTER TABLE bookings %s TRIGGER stats_count_bookings_ins, "
             "%s TRIGGER stats_count_bookings_upd",
             how, how);
    PQclear(pgtest_sql(NULL, sql, 0, NULL));
}

static void idem_for(struct store_idem *idem, const char *key)
{
    static const char fp[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    *idem = (struct store_idem){"key:check_stats", key, fp, "{\"statusCode\":404}", 0, 0};
}

START_TEST(test_statements_count_themselves)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[2][37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a[0]);
    pgtest_agent(db, t, 1, a[1]);
    count_triggers("DISABLE");
    char bk[8][37], tok[8][37];
    for (int i = 0; i < 8; i++) {
        char when[40];
        in_hours(i < 2 ? -0.5 : 24 + i, when);
        pgtest_lead(db, t, a[i % 2], when, NULL, bk[i], tok[i]);
    }
    struct lb_buf b;
    lb_buf_init(&b);
    struct store_idem idem;
    idem_for(&idem, "create-1");
    ck_assert_int_eq(store_lead_create_idem(db, t, a[0], "Idem", "i@example.com",
                                            "2099-01-01T00:00:00Z", NULL, &idem, &b),
                     LB_OK);
    ck_assert_int_eq(idem.outcome, STORE_IDEM_NEW);
    lb_buf_reset(&b);
    idem_for(&idem, "create-2");
    ck_assert_int_eq(store_lead_create_idem(db, NULL, a[1], "Page", "p@example.com",
                                            "2099-01-01T00:00:00Z", NULL, &idem, &b),
                     LB_OK);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_create_for_agent(db, a[1], "Page", "q@example.com",
                                                 "2099-01-01T00:00:00Z", NULL, &b),
                     LB_OK);
    assert_stats_match(db, t);

    ck_assert_int_eq(set_status(db, t, bk[2], "CONFIRMED"), LB_OK);
    ck_assert_int_eq(set_status(db, t, bk[3], "COMPLETED"), LB_OK);
    ck_assert_int_eq(set_status(db, t, bk[3], "PENDING"), LB_CONFLICT);
    lb_buf_reset(&b);
    idem_for(&idem, "status-1");
    ck_assert_int_eq(store_booking_set_status_idem(db, t, bk[4], "CANCELLED", NULL, &idem, &b),
                     LB_OK);
    ck_assert_int_eq(idem.status, 200);
    struct store_answer ans = {"{\"statusCode\":404}", 0};
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_prospect_change(db, tok[5], "CONFIRMED", NULL, NULL, &ans, &b),
                     LB_OK);
    ck_assert_int_eq(ans.status, 200);
    lb_buf_reset(&b);
    idem_for(&idem, "prospect-1");
    ck_assert_int_eq(store_booking_prospect_change(db, tok[6], "CANCELLED", NULL, &idem, &ans, &b),
                     LB_OK);
    ck_assert_int_eq(ans.status, 200);
    lb_buf_reset(&b);
    ck_assert_int_eq(
        store_booking_prospect_change(db, tok[7], NULL, "2099-02-01T00:00:00Z", NULL, &ans, &b),
        LB_OK);
    lb_buf_reset(&b);
    ck_assert_int_eq(
        store_booking_reschedule(db, t, bk[2], "2099-03-01T00:00:00Z", NULL, NULL, &ans, &b),
        LB_OK);
    ck_assert_int_eq(ans.status, 200);
    assert_stats_match(db, t);

    /* The sweep, once the two that started half an hour ago are past their expiry. */
    PQclear(pgtest_sql(NULL,
                       "UPDATE bookings SET expires_at = now() - interval '1 minute' "
                       "WHERE tenant_id = $1 AND status IN ('PENDING', 'CONFIRMED') "
                       "AND scheduled_at < now()",
                       1, (const char *[]){t}));
    long n = 0;
    ck_assert_int_eq(store_booking_expire_all(db, &n), LB_OK);
    ck_assert_int_ge(n, 2);
    assert_stats_match(db, t);
    count_triggers("ENABLE");
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

/* Data written before 002 existed (as on an upgrade) gets its counters from the migration. */
START_TEST(test_migration_backfills)
{
    char ci[1024], dir[] = "/tmp/lbtest-sql.XXXXXX";
    pgtest_scratch_create("backfill", ci, sizeof ci);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char src[1100];
    snprintf(src, sizeof src, "%s/001_init.sql", pgtest_sql_dir());
    char *cp[] = {"/bin/cp", src, dir, NULL};
    ck_assert_int_eq(pgtest_run(cp, NULL, NULL), 0);
    ck_assert_int_eq(pgtest_ctl(ci, dir, NULL, NULL, "migrate", (char *)NULL), 0);
    PQclear(pgtest_sql(ci,
                       "WITH t AS (INSERT INTO tenants (name) VALUES ('Old') RETURNING id), "
                       "a AS (INSERT INTO agents (tenant_id, name, knowledge) "
                       "      SELECT id, 'Agent ' || g, 'Knows about houses.' "
                       "      FROM t, generate_series(1, 3) g RETURNING *), "
                       "l AS (INSERT INTO leads (tenant_id, agent_id, name, email) "
                       "      SELECT a.tenant_id, a.id, 'L', 'l@example.com' "
                       "      FROM a, generate_series(1, 50) RETURNING *) "
                       "INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, "
                       "status, expires_at) SELECT tenant_id, id, agent_id, now(), "
                       "(ARRAY['PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'EXPIRED'])"
                       "[1 + (random() * 4)::int]::booking_status, now() + interval '1 hour' "
                       "FROM l",
                       0, NULL));
    ck_assert_int_eq(pgtest_ctl(ci, NULL, NULL, NULL, "migrate", (char *)NULL), 0);
    assert_counters_exact(ci);
    char rows[16];
    PGresult *r = pgtest_sql(ci, "SELECT sum(n) FROM stats_lead_counts", 0, NULL);
    snprintf(rows, sizeof rows, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    ck_assert_str_eq(rows, "150");
    char *rm[] = {"/bin/rm", "-rf", dir, NULL};
    pgtest_run(rm, NULL, NULL);
    pgtest_scratch_drop("backfill");
}
END_TEST

int main(void)
{
    if (!pgtest_setup("stats"))
        return EXIT_FAILURE;
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("counters");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_counters_follow_every_write);
    tcase_add_test(tc, test_concurrent_writers);
    tcase_add_test(tc, test_writers_do_not_queue_on_a_counter);
    tcase_add_test(tc, test_migration_backfills);
    tcase_add_test(tc, test_statements_count_themselves);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
