/* check_webhook_deliveries: the deliverer's fan-out (sql/010_webhook_fanout.sql,
 * store_whd_fanout): the deliveries of an event are written once, only after its transaction
 * committed, never for one that rolled back, and never skipped for one that committed after a
 * later transaction's event had been fanned out; one deliverer fans out at a time; the limit
 * bounds a statement but never splits a transaction; receivers are the ones the change saw. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/pgtest.h"
#include "store/leads.h"
#include "store/webhook_deliveries.h"

static const struct lb_db_stmt_set *const whd[] = {&store_webhook_deliveries_statements, NULL};
static char tenant[37], ep[37];

static struct lb_db *whd_db(void)
{
    struct lb_db_options opt = {pgtest_conninfo(), 5, 10000, NULL, 0};
    struct lb_db *db = lb_db_new(&opt);
    ck_assert_ptr_nonnull(db);
    lb_db_set_statements(db, whd);
    return db;
}

static PGconn *conn(void)
{
    PGconn *c = PQconnectdb(pgtest_conninfo());
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    return c;
}

static void run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* An event of the test tenant for the test endpoint, written on c (in its transaction, if one
 * is open); its id to id. */
static void event(PGconn *c, char id[37])
{
    const char *v[] = {tenant, ep};
    PGresult *r =
        PQexecParams(c,
                     "INSERT INTO webhook_events (tenant_id, type, payload, endpoint_ids) "
                     "VALUES ($1, 'booking.created', '{}', ARRAY[$2::uuid]) RETURNING id",
                     2, NULL, v, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static long deliveries_of(const char *event_id)
{
    char n[24];
    const char *v[] = {event_id};
    pgtest_sql_value("SELECT count(*) FROM webhook_deliveries WHERE event_id = $1", 1, v, n,
                     sizeof n);
    return atol(n);
}

static const char *stmt_sql(const struct lb_db_stmt_set *set, const char *name)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->stmts[i].name, name) == 0)
            return set->stmts[i].sql;
    ck_abort_msg("no statement %s", name);
    return NULL;
}

static struct store_whd_fanout fanout(struct lb_db *db, int limit)
{
    struct store_whd_fanout f;
    ck_assert_int_eq(store_whd_fanout(db, limit, &f), LB_OK);
    return f;
}

/* A fresh tenant and endpoint, and nothing of an earlier test waiting. */
static void setup(void)
{
    struct lb_db *db = pgtest_db();
    pgtest_tenant(db, tenant);
    lb_db_free(db);
    const char *v[] = {tenant};
    pgtest_sql_value("INSERT INTO webhook_endpoints (tenant_id, url, events, secret) VALUES "
                     "($1, 'https://example.com/h', ARRAY['booking.created'], "
                     "'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=') RETURNING id",
                     1, v, ep, sizeof ep);
    pgtest_fanout();
}

/* The commit-order case an id or time cursor gets wrong: A writes its event first but commits
 * last, B's event commits meanwhile. Nothing is fanned out while A is open (B's event waits
 * behind it: held), and after A commits both get their delivery, once. */
START_TEST(test_waits_for_open_transaction)
{
    struct lb_db *db = whd_db();
    PGconn *a = conn(), *b = conn();
    char ea[37], eb[37];
    run(a, "BEGIN");
    event(a, ea);
    event(b, eb); /* committed (autocommit), with a later transaction id */
    struct store_whd_fanout f = fanout(db, 500);
    ck_assert_int_eq(f.locked, 1);
    ck_assert_int_eq(f.deliveries, 0);
    ck_assert_int_eq(f.held, 1); /* B's event waits for A */
    ck_assert_int_eq(deliveries_of(eb), 0);
    run(a, "COMMIT");
    f = fanout(db, 500);
    ck_assert_int_eq(f.events, 2);
    ck_assert_int_eq(f.deliveries, 2);
    ck_assert_int_eq(f.held, 0);
    ck_assert_int_eq(f.more, 0);
    ck_assert_int_eq(deliveries_of(ea), 1);
    ck_assert_int_eq(deliveries_of(eb), 1);
    f = fanout(db, 500); /* nothing twice */
    ck_assert_int_eq(f.events, 0);
    ck_assert_int_eq(deliveries_of(ea) + deliveries_of(eb), 2);
    PQfinish(a);
    PQfinish(b);
    lb_db_free(db);
}
END_TEST

/* An event whose transaction rolled back gets no delivery, and holds nothing up. */
START_TEST(test_rolled_back)
{
    struct lb_db *db = whd_db();
    PGconn *a = conn();
    char ea[37], eb[37];
    run(a, "BEGIN");
    event(a, ea);
    run(a, "ROLLBACK");
    event(a, eb);
    struct store_whd_fanout f = fanout(db, 500);
    ck_assert_int_eq(f.events, 1);
    ck_assert_int_eq(f.deliveries, 1);
    ck_assert_int_eq(deliveries_of(ea), 0);
    ck_assert_int_eq(deliveries_of(eb), 1);
    PQfinish(a);
    lb_db_free(db);
}
END_TEST

/* The limit bounds one statement (more says there is more), but a transaction's events are
 * taken together, however many: the cursor is a transaction id. */
START_TEST(test_limit_never_splits_a_transaction)
{
    struct lb_db *db = whd_db();
    PGconn *a = conn();
    char id[37];
    run(a, "BEGIN");
    for (int i = 0; i < 7; i++)
        event(a, id);
    run(a, "COMMIT");
    for (int i = 0; i < 3; i++)
        event(a, id); /* three transactions of one event each */
    struct store_whd_fanout f = fanout(db, 3);
    ck_assert_int_eq(f.events, 7);
    ck_assert_int_eq(f.more, 1);
    f = fanout(db, 2);
    ck_assert_int_eq(f.events, 2);
    ck_assert_int_eq(f.more, 1);
    f = fanout(db, 2);
    ck_assert_int_eq(f.events, 1);
    ck_assert_int_eq(f.more, 0);
    const char *v[] = {tenant};
    char n[24];
    pgtest_sql_value("SELECT count(*) || ' ' || count(DISTINCT event_id) FROM webhook_deliveries "
                     "WHERE tenant_id = $1",
                     1, v, n, sizeof n);
    ck_assert_str_eq(n, "10 10");
    PQfinish(a);
    lb_db_free(db);
}
END_TEST

/* Two deliverers: while one fans out (its statement's transaction open, the cursor locked),
 * the other's fan-out skips (locked = 0) and writes nothing; each event gets one delivery. */
START_TEST(test_one_fanout_at_a_time)
{
    char e1[37], e2[37];
    PGconn *w = conn(), *a = conn();
    event(w, e1);
    event(w, e2);
    /* deliverer A: the fan-out statement inside a transaction left open */
    run(a, "BEGIN");
    const char *sql = stmt_sql(&store_webhook_deliveries_statements, "whd_fanout");
    const char *lim[] = {"500"};
    PGresult *r = PQexecParams(a, sql, 1, NULL, lim, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(a));
    ck_assert_str_eq(PQgetvalue(r, 0, 2), "2");
    PQclear(r);
    /* deliverer B meanwhile */
    struct lb_db *db = whd_db();
    struct store_whd_fanout f = fanout(db, 500);
    ck_assert_int_eq(f.locked, 0);
    ck_assert_int_eq(f.deliveries, 0);
    run(a, "COMMIT");
    f = fanout(db, 500);
    ck_assert_int_eq(f.locked, 1);
    ck_assert_int_eq(f.events, 0);
    ck_assert_int_eq(deliveries_of(e1), 1);
    ck_assert_int_eq(deliveries_of(e2), 1);
    PQfinish(w);
    PQfinish(a);
    lb_db_free(db);
}
END_TEST

/* The receivers are those the event names: an endpoint deleted before the fan-out gets
 * nothing; one disabled meanwhile still gets its delivery row (the claim records it as not
 * sent, as it did when the change wrote the row); an event from before sql/010 (no txid: its
 * deliveries came with it) is not fanned out again. */
START_TEST(test_receivers_as_the_change_saw_them)
{
    struct lb_db *db = whd_db();
    PGconn *w = conn();
    char e1[37], e2[37], gone[37];
    const char *v[] = {tenant};
    pgtest_sql_value("INSERT INTO webhook_endpoints (tenant_id, url, events, secret) VALUES "
                     "($1, 'https://example.com/g', ARRAY['booking.created'], "
                     "'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=') RETURNING id",
                     1, v, gone, sizeof gone);
    const char *both[] = {tenant, ep, gone};
    PGresult *r = pgtest_sql(NULL,
                             "INSERT INTO webhook_events (tenant_id, type, payload, endpoint_ids) "
                             "VALUES ($1, 'booking.created', '{}', ARRAY[$2::uuid, $3::uuid]) "
                             "RETURNING id",
                             3, both);
    snprintf(e1, sizeof e1, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *g[] = {gone}, *e[] = {ep};
    PQclear(pgtest_sql(NULL, "DELETE FROM webhook_endpoints WHERE id = $1", 1, g));
    PQclear(pgtest_sql(NULL, "UPDATE webhook_endpoints SET enabled = false WHERE id = $1", 1, e));
    const char *old[] = {tenant, ep};
    r = pgtest_sql(NULL,
                   "INSERT INTO webhook_events (tenant_id, type, payload, endpoint_ids, txid) "
                   "VALUES ($1, 'booking.created', '{}', ARRAY[$2::uuid], NULL) RETURNING id",
                   2, old);
    snprintf(e2, sizeof e2, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    struct store_whd_fanout f = fanout(db, 500);
    ck_assert_int_eq(f.events, 1);
    ck_assert_int_eq(f.deliveries, 1);
    ck_assert_int_eq(deliveries_of(e1), 1);
    ck_assert_int_eq(deliveries_of(e2), 0);
    char due[64];
    const char *ev[] = {e1, ep};
    pgtest_sql_value("SELECT d.endpoint_id = $2::uuid "
                     "AND d.status = 'pending' AND d.next_attempt_at = e.created_at "
                     "AND d.created_at = e.created_at FROM webhook_deliveries d "
                     "JOIN webhook_events e ON e.id = d.event_id WHERE e.id = $1",
                     2, ev, due, sizeof due);
    ck_assert_str_eq(due, "t"); /* pending, due and dated at the event's time */
    PQfinish(w);
    lb_db_free(db);
}
END_TEST

/* Regression: the outbox statement's wake-up check ("does an event wait for its fan-out?")
 * must not read the backlog. Written as an EXISTS over txid >= cursor it was planned, under
 * leadbookd's session options (generic plans, enable_seqscan off), as a bitmap scan of every
 * waiting event, so that with the deliverer stopped each POST /leads of a hooked tenant cost more
 * than the last (pgbench: 1.2 ms -> 4.4 ms a statement in 50 s). With 20,000 waiting events
 * (in a transaction rolled back at the end), the plan reads the txid index backwards, one step. */
START_TEST(test_wake_check_reads_no_backlog)
{
    char agent[37];
    struct lb_db *db = pgtest_db();
    pgtest_agent(db, tenant, 0, agent);
    lb_db_free(db);
    PGconn *c = conn();
    run(c, "BEGIN");
    run(c, "SET LOCAL plan_cache_mode = force_generic_plan");
    run(c, "SET LOCAL enable_seqscan = off");
    const char *v[] = {tenant};
    PGresult *r =
        PQexecParams(c,
                     "INSERT INTO webhook_events (tenant_id, type, payload, txid) "
                     "SELECT $1, 'booking.created', '{}', "
                     "((SELECT next_txid FROM webhook_fanout)::text::bigint + g)::text::xid8 "
                     "FROM generate_series(1, 20000) g",
                     1, NULL, v, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    run(c, "ANALYZE webhook_events");
    char prep[16384];
    snprintf(prep, sizeof prep, "PREPARE p AS %s",
             stmt_sql(&store_leads_statements, "lead_create_outbox"));
    run(c, prep);
    char explain[256];
    snprintf(explain, sizeof explain,
             "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE p('%s', '%s', 'N', 'n@example.com', "
             "'2099-01-02T10:00:00Z', 'system', NULL)",
             tenant, agent);
    r = PQexec(c, explain);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    char plan[32768] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        strncat(plan, PQgetvalue(r, i, 0), sizeof plan - strlen(plan) - 2);
        strncat(plan, "\n", sizeof plan - strlen(plan) - 1);
    }
    PQclear(r);
    ck_assert_msg(strstr(plan, "Index Only Scan Backward using webhook_events_txid") != NULL,
                  "%.1500s", plan);
    ck_assert_msg(strstr(plan, "Bitmap Index Scan on webhook_events_txid") == NULL, "%.1500s",
                  plan);
    ck_assert_msg(strstr(plan, "Seq Scan on webhook_events") == NULL, "%.1500s", plan);
    run(c, "ROLLBACK");
    PQfinish(c);
}
END_TEST

int main(void)
{
    if (!pgtest_setup("whdeliveries"))
        return EXIT_FAILURE;
    Suite *s = suite_create("webhook_deliveries");
    TCase *tc = tcase_create("fanout");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_waits_for_open_transaction);
    tcase_add_test(tc, test_rolled_back);
    tcase_add_test(tc, test_limit_never_splits_a_transaction);
    tcase_add_test(tc, test_one_fanout_at_a_time);
    tcase_add_test(tc, test_receivers_as_the_change_saw_them);
    tcase_add_test(tc, test_wake_check_reads_no_backlog);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
