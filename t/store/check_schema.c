/* check_schema: `leadbookctl migrate` (again = no-op, changed file refused, two at once) and what
 * the database enforces by itself: tenant-scoped foreign keys, CHECK bounds, unique tokens,
 * allowed transitions, append-only history and the cascade from agents. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/pgtest.h"
#include "digest.h"
#include "store/agents.h"
#include "store/bookings.h"
#include "store/leads.h"

/* Runs sql on the test database and returns its SQLSTATE ("00000" on success). */
static const char *sqlstate(const char *sql, int n, const char *const *v)
{
    static char state[6];
    PGconn *c = PQconnectdb(pgtest_conninfo());
    ck_assert(PQstatus(c) == CONNECTION_OK);
    PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s", s ? s : "00000");
    PQclear(r);
    PQfinish(c);
    return state;
}

/* A tenant with an agent and one lead+booking; ids copied out. */
static void fixture(struct lb_db *db, char tenant[37], char agent[37], char lead[37],
                    char booking[37])
{
    pgtest_tenant(db, tenant);
    pgtest_agent(db, tenant, 0, agent);
    pgtest_lead(db, tenant, agent, "2099-01-01T10:00:00Z", lead, booking, NULL);
}

/* The migrations of sql/, in order, and the checksum migrate must have recorded for each. */
static const char *const migrations[] = {
    "001_init.sql",         "002_stats_counters.sql", "003_frontend.sql",
    "004_lifecycle.sql",    "005_webhooks.sql",       "006_write_path.sql",
    "007_agent_delete.sql", "008_webhook_notify.sql", "009_trigger_marks.sql"};
enum { NMIGRATIONS = sizeof migrations / sizeof migrations[0] };

START_TEST(test_migrate_again_is_noop)
{
    struct lb_buf out, err;
    lb_buf_init(&out);
    lb_buf_init(&err);
    ck_assert_int_eq(pgtest_ctl(pgtest_conninfo(), NULL, &out, &err, "migrate", (char *)NULL), 0);
    char expect[200];
    snprintf(expect, sizeof expect, "{\"applied\":[],\"current\":\"%s\"}\n",
             migrations[NMIGRATIONS - 1]);
    ck_assert_str_eq(out.data, expect);
    for (int i = 0; i < NMIGRATIONS; i++) {
        char path[1200], sum[80], want[2 * LB_SHA256_LEN + 1];
        snprintf(path, sizeof path, "%s/%s", pgtest_sql_dir(), migrations[i]);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        static char text[1 << 20];
        size_t n = fread(text, 1, sizeof text, f);
        fclose(f);
        lb_sha256_hex(text, n, want);
        const char *v[] = {migrations[i]};
        pgtest_sql_value("SELECT checksum FROM schema_migrations WHERE filename = $1", 1, v, sum,
                         sizeof sum);
        ck_assert_str_eq(sum, want);
    }
    char count[16];
    pgtest_sql_value("SELECT count(*) FROM schema_migrations", 0, NULL, count, sizeof count);
    ck_assert_int_eq(atoi(count), NMIGRATIONS);
    lb_buf_free(&out);
    lb_buf_free(&err);
}
END_TEST

/* Copies sql/ to a fresh temp dir (name written to dir) with `cp`. */
static void copy_sql(char *dir)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (int i = 0; i < NMIGRATIONS; i++) {
        char src[1100];
        snprintf(src, sizeof src, "%s/%s", pgtest_sql_dir(), migrations[i]);
        char *argv[] = {"/bin/cp", src, dir, NULL};
        ck_assert_int_eq(pgtest_run(argv, NULL, NULL), 0);
    }
}

static void remove_dir(const char *dir)
{
    char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
    pgtest_run(argv, NULL, NULL);
}

static void append_to(const char *dir, const char *file, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_changed_migration_refused)
{
    char dir[] = "/tmp/lbtest-sql.XXXXXX";
    copy_sql(dir);
    append_to(dir, "001_init.sql", "-- an edit after release\n");
    append_to(dir, "099_more.sql", "CREATE TABLE never_created (x int);\n");
    struct lb_buf out, err;
    lb_buf_init(&out);
    lb_buf_init(&err);
    ck_assert_int_eq(pgtest_ctl(pgtest_conninfo(), dir, &out, &err, "migrate", (char *)NULL), 1);
    ck_assert_ptr_nonnull(err.data);
    ck_assert_msg(strstr(err.data, "001_init.sql was changed after it was applied"), "%s",
                  err.data);
    char v[16];
    pgtest_sql_value("SELECT count(*) FROM pg_tables WHERE tablename = 'never_created'", 0, NULL, v,
                     sizeof v);
    ck_assert_str_eq(v, "0"); /* refused before applying anything */
    remove_dir(dir);
    lb_buf_free(&out);
    lb_buf_free(&err);
}
END_TEST

START_TEST(test_new_migration_applied_once)
{
    char dir[] = "/tmp/lbtest-sql.XXXXXX";
    copy_sql(dir);
    append_to(dir, "099_more.sql", "CREATE TABLE extra_table (x int);\n");
    struct lb_buf out;
    lb_buf_init(&out);
    ck_assert_int_eq(pgtest_ctl(pgtest_conninfo(), dir, &out, NULL, "migrate", (char *)NULL), 0);
    ck_assert_str_eq(out.data, "{\"applied\":[\"099_more.sql\"],\"current\":\"099_more.sql\"}\n");
    lb_buf_reset(&out);
    ck_assert_int_eq(pgtest_ctl(pgtest_conninfo(), dir, &out, NULL, "migrate", (char *)NULL), 0);
    ck_assert_str_eq(out.data, "{\"applied\":[],\"current\":\"099_more.sql\"}\n");
    PQclear(pgtest_sql(NULL, "DROP TABLE extra_table", 0, NULL));
    PQclear(
        pgtest_sql(NULL, "DELETE FROM schema_migrations WHERE filename = '099_more.sql'", 0, NULL));
    remove_dir(dir);
    lb_buf_free(&out);
}
END_TEST

START_TEST(test_concurrent_migrate)
{
    char ci[1024];
    pgtest_scratch_create("conc", ci, sizeof ci);
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(pgtest_ctl(ci, NULL, NULL, NULL, "migrate", (char *)NULL));
    }
    for (int i = 0; i < 2; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    PGresult *r = pgtest_sql(ci, "SELECT count(*) FROM schema_migrations", 0, NULL);
    ck_assert_int_eq(atoi(PQgetvalue(r, 0, 0)), NMIGRATIONS);
    PQclear(r);
    pgtest_scratch_drop("conc");
}
END_TEST

START_TEST(test_cross_tenant_foreign_keys)
{
    struct lb_db *db = pgtest_db();
    char ta[37], aa[37], la[37], ba[37], tb[37], ab[37], lb[37], bb[37];
    fixture(db, ta, aa, la, ba);
    fixture(db, tb, ab, lb, bb);
    const char *lead_v[] = {tb, aa};
    ck_assert_str_eq(sqlstate("INSERT INTO leads (tenant_id, agent_id, name, email) "
                              "VALUES ($1, $2, 'x', 'x@example.com')",
                              2, lead_v),
                     "23503");
    const char *bk_v[] = {tb, la, ab};
    ck_assert_str_eq(sqlstate("INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, "
                              "expires_at) VALUES ($1, $2, $3, now(), now() + interval '1h')",
                              3, bk_v),
                     "23503");
    const char *ev_v[] = {tb, ba};
    ck_assert_str_eq(sqlstate("INSERT INTO booking_events (tenant_id, booking_id, to_status, "
                              "actor) VALUES ($1, $2, 'PENDING', 'system')",
                              2, ev_v),
                     "23503");
    lb_db_free(db);
}
END_TEST

/* An enabled webhook endpoint of tenant subscribed to event. */
static void add_endpoint(const char *tenant, const char *event)
{
    const char *v[] = {tenant, event};
    PQclear(pgtest_sql(pgtest_conninfo(),
                       "INSERT INTO webhook_endpoints (tenant_id, url, events, secret) VALUES "
                       "($1, 'https://example.com/h', ARRAY[$2], "
                       "'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=')",
                       2, v));
}

/* sql/009: a mark skips a trigger only for the statement that set it (its own start time):
 * set by an earlier statement of the same transaction, it skips nothing. Each statement is sent
 * as a message of its own (statements of one simple-protocol message share a start time). */
static const char *in_tx_after_mark(PGconn *c, const char *mark, const char *sql, int n,
                                    const char *const *v)
{
    static char state[6];
    PQclear(PQexec(c, "BEGIN"));
    char set[160];
    snprintf(set, sizeof set, "SELECT set_config('%s', statement_timestamp()::text, true)", mark);
    PGresult *r = PQexec(c, set);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    usleep(2000); /* a later start time, whatever the clock's resolution */
    r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s", st ? st : "00000");
    PQclear(r);
    return state;
}

START_TEST(test_marks_skip_only_their_statement)
{
    struct lb_db *db = pgtest_db();
    char ta[37], aa[37], la[37], ba[37], tb[37], ab[37], lb[37], bb[37];
    fixture(db, ta, aa, la, ba);
    fixture(db, tb, ab, lb, bb);
    PGconn *c = PQconnectdb(pgtest_conninfo());
    ck_assert(PQstatus(c) == CONNECTION_OK);
    /* agent_in_tenant still refuses another tenant's agent after a stale counted mark */
    const char *lead_v[] = {tb, aa};
    ck_assert_str_eq(in_tx_after_mark(c, "leadbook.counted",
                                      "INSERT INTO leads (tenant_id, agent_id, name, email) "
                                      "VALUES ($1, $2, 'x', 'x@example.com')",
                                      2, lead_v),
                     "23503");
    PQclear(PQexec(c, "ROLLBACK"));
    /* the outbox still writes an event for a tenant with an endpoint after a stale quiet mark */
    const char *ep_v[] = {tb};
    add_endpoint(tb, "booking.status_changed");
    const char *ev_v[] = {tb, bb};
    ck_assert_str_eq(in_tx_after_mark(c, "leadbook.quiet",
                                      "INSERT INTO booking_events (tenant_id, booking_id, "
                                      "from_status, to_status, actor) "
                                      "VALUES ($1, $2, 'PENDING', 'CONFIRMED', 'system')",
                                      2, ev_v),
                     "00000");
    PGresult *r = PQexecParams(c, "SELECT count(*) FROM webhook_events WHERE tenant_id = $1", 1,
                               NULL, ep_v, NULL, NULL, 0);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    PQclear(PQexec(c, "ROLLBACK"));
    PQfinish(c);
    lb_db_free(db);
}
END_TEST

/* The SQL of the catalog statement called name of set. */
static const char *catalog_sql(const struct lb_db_stmt_set *set, const char *name)
{
    const char *sql = NULL;
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->stmts[i].name, name) == 0)
            sql = set->stmts[i].sql;
    ck_assert_ptr_nonnull(sql);
    return sql;
}

/* The triggers that fire when the catalog's lead_create (name: a variant) runs (EXPLAIN ANALYZE
 * lists each trigger that fired; one skipped by its WHEN is not listed), as one string. */
static void lead_create_triggers(PGconn *c, const char *name, const char *tenant, const char *agent,
                                 char *out, size_t len)
{
    const char *sql = catalog_sql(&store_leads_statements, name);
    char *explain = malloc(strlen(sql) + 64);
    ck_assert_ptr_nonnull(explain);
    sprintf(explain, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) %s", sql);
    const char *v[] = {tenant, agent, "N", "n@example.com", "2099-01-02T10:00:00Z", "system", NULL};
    PGresult *r = PQexecParams(c, explain, 7, NULL, v, NULL, NULL, 0);
    free(explain);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    out[0] = '\0';
    for (int i = 0; i < PQntuples(r); i++)
        if (strncmp(PQgetvalue(r, i, 0), "Trigger ", 8) == 0) {
            strncat(out, PQgetvalue(r, i, 0), len - strlen(out) - 2);
            strncat(out, ";", len - strlen(out) - 1);
        }
    PQclear(r);
}

START_TEST(test_lead_create_skips_redundant_triggers)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], l[37], b[37];
    fixture(db, t, a, l, b);
    PGconn *c = PQconnectdb(pgtest_conninfo());
    ck_assert(PQstatus(c) == CONNECTION_OK);
    char fired[2000];
    lead_create_triggers(c, "lead_create", t, a, fired, sizeof fired);
    ck_assert_msg(strstr(fired, "agent_in_tenant") == NULL, "fired: %s", fired);
    ck_assert_msg(strstr(fired, "webhook_outbox") == NULL, "fired: %s", fired);
    ck_assert_msg(strstr(fired, "bookings_tenant_id_lead_id_fkey") != NULL, "fired: %s", fired);
    /* with an endpoint: the quiet variant leaves the event to the outbox trigger; the outbox
     * variant writes it itself (sqloutbox.h), no outbox trigger */
    const char *ep_v[] = {t};
    add_endpoint(t, "booking.created");
    lead_create_triggers(c, "lead_create", t, a, fired, sizeof fired);
    ck_assert_msg(strstr(fired, "agent_in_tenant") == NULL, "fired: %s", fired);
    ck_assert_msg(strstr(fired, "webhook_outbox") != NULL, "fired: %s", fired);
    lead_create_triggers(c, "lead_create_outbox", t, a, fired, sizeof fired);
    ck_assert_msg(strstr(fired, "agent_in_tenant") == NULL, "fired: %s", fired);
    ck_assert_msg(strstr(fired, "webhook_outbox") == NULL, "fired: %s", fired);
    PGresult *r = PQexecParams(c,
                               "SELECT (SELECT count(*) FROM webhook_events WHERE tenant_id = $1 "
                               "AND type = 'booking.created') || ' ' || (SELECT count(*) FROM "
                               "webhook_deliveries WHERE tenant_id = $1 AND status = 'pending')",
                               1, NULL, ep_v, NULL, NULL, 0);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "2 2");
    PQclear(r);
    PQfinish(c);
    lb_db_free(db);
}
END_TEST

/* The catalog statement called name of set, with the n values v. */
static PGresult *catalog_exec(PGconn *c, const struct lb_db_stmt_set *set, const char *name, int n,
                              const char *const *v)
{
    return PQexecParams(c, catalog_sql(set, name), n, NULL, v, NULL, NULL, 0);
}

/* A statement's own outbox rows are the trigger's (sqloutbox.h). For tenant t, with endpoints
 * subscribed to type (two, one of them disabled) and to another type, in one transaction: the
 * catalog statement name (n values v: one change of one booking), then by_hand (which inserts
 * the history row of the same change by hand, $1 the tenant, so that the outbox trigger
 * announces it). The two payloads must be byte for byte the same apart from the event id, and
 * contain piece; each event gets one delivery, for the one enabled endpoint of type; and the
 * statement's event wakes the deliverers (the queue was empty). */
static void outbox_as_trigger(const char *t, const char *type, const char *other_type,
                              const struct lb_db_stmt_set *set, const char *name, int n,
                              const char *const *v, const char *by_hand, const char *piece)
{
    add_endpoint(t, type);
    add_endpoint(t, other_type);
    add_endpoint(t, type);
    const char *tv[] = {t}, *ttv[] = {t, type};
    PQclear(pgtest_sql(pgtest_conninfo(),
                       "UPDATE webhook_endpoints SET enabled = false WHERE id = (SELECT id FROM "
                       "webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC "
                       "LIMIT 1)",
                       1, tv));
    PGconn *c = PQconnectdb(pgtest_conninfo());
    ck_assert(PQstatus(c) == CONNECTION_OK);
    PQclear(PQexec(c, "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL "
                      "WHERE status = 'pending'"));
    PQclear(PQexec(c, "LISTEN leadbook_webhooks"));
    PQclear(PQexec(c, "BEGIN"));
    PGresult *r = catalog_exec(c, set, name, n, v);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    ck_assert_int_eq(PQntuples(r), 1);
    PQclear(r);
    r = PQexecParams(c, by_hand, 1, NULL, tv, NULL, NULL, 0);
    ck_assert_msg(strcmp(PQcmdTuples(r), "1") == 0, "%s", PQerrorMessage(c));
    PQclear(r);
    r = PQexecParams(c,
                     "SELECT count(*), count(DISTINCT replace(payload, id::text, '')), "
                     "min(payload), "
                     "(SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e "
                     " ON e.id = d.event_id WHERE e.tenant_id = $1), "
                     "(SELECT count(DISTINCT d.endpoint_id) FROM webhook_deliveries d "
                     " WHERE d.tenant_id = $1) "
                     "FROM webhook_events WHERE tenant_id = $1 AND type = $2",
                     2, NULL, ttv, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "2");
    ck_assert_msg(strcmp(PQgetvalue(r, 0, 1), "1") == 0, "payloads differ: %s",
                  PQgetvalue(r, 0, 2));
    ck_assert_msg(strstr(PQgetvalue(r, 0, 2), piece) != NULL, "%s", PQgetvalue(r, 0, 2));
    ck_assert_str_eq(PQgetvalue(r, 0, 3), "2"); /* one delivery per event */
    ck_assert_str_eq(PQgetvalue(r, 0, 4), "1"); /* to the one enabled endpoint of type */
    PQclear(r);
    PQclear(PQexec(c, "COMMIT"));
    PQconsumeInput(c);
    PGnotify *note = PQnotifies(c);
    ck_assert_ptr_nonnull(note);
    ck_assert_str_eq(note->relname, "leadbook_webhooks");
    PQfreemem(note);
    PQfinish(c);
}

START_TEST(test_lead_create_outbox_as_trigger)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], l[37], b[37];
    fixture(db, t, a, l, b);
    const char *v[] = {t, a, "N", "n@example.com", "2099-01-02T10:00:00Z", "system", NULL};
    outbox_as_trigger(t, "booking.created", "booking.status_changed", &store_leads_statements,
                      "lead_create_outbox", 7, v,
                      "INSERT INTO booking_events (tenant_id, booking_id, from_status, "
                      "to_status, actor) SELECT tenant_id, id, NULL, status, 'system' "
                      "FROM bookings WHERE tenant_id = $1 AND lead_id = (SELECT id FROM leads "
                      "WHERE tenant_id = $1 AND name = 'N')",
                      "\"lead\" : {\"id\" : ");
    lb_db_free(db);
}
END_TEST

START_TEST(test_set_status_outbox_as_trigger)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], l[37], b[37];
    fixture(db, t, a, l, b);
    const char *v[] = {t, b, "CONFIRMED", "system", NULL};
    outbox_as_trigger(t, "booking.status_changed", "booking.created", &store_bookings_statements,
                      "booking_set_status_outbox", 5, v,
                      "INSERT INTO booking_events (tenant_id, booking_id, from_status, "
                      "to_status, actor) SELECT tenant_id, id, 'PENDING', status, 'system' "
                      "FROM bookings WHERE tenant_id = $1",
                      "\"status\" : \"CONFIRMED\", \"expiresAt\"");
    /* and the previous status */
    char prev[8];
    const char *tv[] = {t};
    pgtest_sql_value("SELECT count(*) FROM webhook_events WHERE tenant_id = $1 AND payload LIKE "
                     "'%\"previous\" : {\"status\" : \"PENDING\"}}}'",
                     1, tv, prev, sizeof prev);
    ck_assert_str_eq(prev, "2");
    lb_db_free(db);
}
END_TEST

START_TEST(test_check_constraints)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], l[37], b[37];
    fixture(db, t, a, l, b);
    char long101[102], long201[202], long255[256];
    memset(long101, 'n', 101);
    long101[101] = '\0';
    memset(long201, 'n', 201);
    long201[201] = '\0';
    memset(long255, 'e', 255);
    long255[255] = '\0';
    const char *agent_sql = "INSERT INTO agents (tenant_id, name, knowledge, link_expiry_hours) "
                            "VALUES ($1, $2, $3, $4::int)";
    const char *ok[] = {t, "A", "0123456789", "1"};
    ck_assert_str_eq(sqlstate(agent_sql, 4, ok), "00000");
    const char *max_h[] = {t, "A", "0123456789", "168"};
    ck_assert_str_eq(sqlstate(agent_sql, 4, max_h), "00000");
    const char *bad[][4] = {{t, "", "0123456789", "24"},
                            {t, long101, "0123456789", "24"},
                            {t, "A", "012345678", "24"},
                            {t, "A", "0123456789", "0"},
                            {t, "A", "0123456789", "169"}};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(strcmp(sqlstate(agent_sql, 4, bad[i]), "23514") == 0, "agent case %d", i);
    char def[8];
    const char *tv[] = {t};
    pgtest_sql_value("INSERT INTO agents (tenant_id, name, knowledge) VALUES ($1, 'D', "
                     "'0123456789') RETURNING link_expiry_hours",
                     1, tv, def, sizeof def);
    ck_assert_str_eq(def, "24");

    const char *lead_sql =
        "INSERT INTO leads (tenant_id, agent_id, name, email) VALUES ($1, $2, $3, $4)";
    const char *lbad[][4] = {{t, a, "", "x@example.com"},
                             {t, a, long201, "x@example.com"},
                             {t, a, "N", ""},
                             {t, a, "N", long255}};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(strcmp(sqlstate(lead_sql, 4, lbad[i]), "23514") == 0, "lead case %d", i);

    const char *tok[] = {b};
    ck_assert_str_eq(sqlstate("INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, "
                              "expires_at, meeting_token) SELECT tenant_id, lead_id, agent_id, "
                              "scheduled_at, expires_at, meeting_token FROM bookings WHERE id = $1",
                              1, tok),
                     "23505");
    ck_assert_str_eq(sqlstate("UPDATE bookings SET status = 'LOST' WHERE id = $1", 1, tok),
                     "22P02");
    ck_assert_str_eq(sqlstate("UPDATE bookings SET status = 'COMPLETED' WHERE id = $1", 1, tok),
                     "00000");
    ck_assert_str_eq(sqlstate("UPDATE bookings SET status = 'PENDING' WHERE id = $1", 1, tok),
                     "23514"); /* COMPLETED is final, even outside the store */
    lb_db_free(db);
}
END_TEST

START_TEST(test_history_append_only_and_cascade)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], l[37], b[37];
    fixture(db, t, a, l, b);
    const char *bv[] = {b};
    ck_assert_str_eq(sqlstate("UPDATE booking_events SET to_status = 'CANCELLED' "
                              "WHERE booking_id = $1",
                              1, bv),
                     "42501");
    ck_assert_str_eq(sqlstate("DELETE FROM booking_events WHERE booking_id = $1", 1, bv), "42501");
    ck_assert_str_eq(sqlstate("TRUNCATE booking_events CASCADE", 0, NULL), "42501");
    char n[16];
    pgtest_sql_value("SELECT count(*) FROM booking_events WHERE booking_id = $1", 1, bv, n,
                     sizeof n);
    ck_assert_str_eq(n, "1");
    const char *av[] = {a};
    ck_assert_str_eq(sqlstate("DELETE FROM agents WHERE id = $1", 1, av), "00000");
    /* The agent's rows go afterwards, in batches (sql/007_agent_delete.sql). */
    long rows = 0;
    int more = 1;
    ck_assert_int_eq(store_agent_purge_deleted(db, 100, 10.0, &rows, &more), LB_OK);
    ck_assert_int_eq(rows, 1);
    ck_assert_int_eq(more, 0);
    const char *lv[] = {l};
    pgtest_sql_value("SELECT (SELECT count(*) FROM booking_events WHERE booking_id = $1) + "
                     "(SELECT count(*) FROM bookings WHERE id = $1) + "
                     "(SELECT count(*) FROM leads WHERE id = $2)",
                     2, (const char *[]){b, lv[0]}, n, sizeof n);
    ck_assert_str_eq(n, "0");
    lb_db_free(db);
}
END_TEST

int main(void)
{
    if (!pgtest_setup("schema"))
        return EXIT_FAILURE;
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("schema");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_migrate_again_is_noop);
    tcase_add_test(tc, test_changed_migration_refused);
    tcase_add_test(tc, test_new_migration_applied_once);
    tcase_add_test(tc, test_concurrent_migrate);
    tcase_add_test(tc, test_cross_tenant_foreign_keys);
    tcase_add_test(tc, test_marks_skip_only_their_statement);
    tcase_add_test(tc, test_lead_create_skips_redundant_triggers);
    tcase_add_test(tc, test_lead_create_outbox_as_trigger);
    tcase_add_test(tc, test_set_status_outbox_as_trigger);
    tcase_add_test(tc, test_check_constraints);
    tcase_add_test(tc, test_history_append_only_and_cascade);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
