/* check_leads: leads and bookings in the store: exact JSON, atomic lead+booking, keyset pages,
 * statistics definitions, status transitions (also 20 at once), the public meeting view, the
 * expiry sweep, and tenant scoping of all of them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/pgtest.h"
#include "store/bookings.h"
#include "store/leads.h"
#include "store/outbox_hint.h"
#include "store/sqljson.h"

#define FUTURE "2099-01-01T12:00:00+02:00"

struct made {
    char lead[37], booking[37], token[37];
};

static void make_lead(struct lb_db *db, const char *tenant, const char *agent, struct made *m)
{
    pgtest_lead(db, tenant, agent, FUTURE, m->lead, m->booking, m->token);
}

/* Puts a booking into a state directly (status via allowed steps; times relative to now). */
static void shape(const char *booking, const char *status, const char *sched, const char *exp)
{
    const char *v[] = {booking, sched, exp};
    PQclear(pgtest_sql(NULL,
                       "UPDATE bookings SET scheduled_at = now() + $2::interval, "
                       "expires_at = now() + $3::interval WHERE id = $1",
                       3, v));
    if (strcmp(status, "PENDING") != 0) {
        const char *s[] = {booking, status};
        PQclear(pgtest_sql(NULL, "UPDATE bookings SET status = $2 WHERE id = $1", 2, s));
    }
}

START_TEST(test_lead_create)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], key[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 48, a);
    const char *tv[] = {t};
    pgtest_sql_value("INSERT INTO api_keys (tenant_id, key_hash) VALUES ($1, sha256('k')) "
                     "RETURNING id",
                     1, tv, key, sizeof key);
    struct lb_buf b;
    lb_buf_init(&b);
    struct store_actor by = {"key", key};
    ck_assert_int_eq(store_lead_create(db, t, a, "Lee", "lee@example.com", FUTURE, &by, &b), LB_OK);
    json_object *o = pgtest_json(&b), *l, *bk;
    pgtest_keys(o, "lead", "booking", "meetingToken", (char *)NULL);
    json_object_object_get_ex(o, "lead", &l);
    json_object_object_get_ex(o, "booking", &bk);
    pgtest_keys(l, "id", "agentId", "tenantId", "name", "email", "bookedAt", "createdAt",
                "updatedAt", (char *)NULL);
    pgtest_keys(bk, "id", "leadId", "agentId", "tenantId", "scheduledAt", "status", "expiresAt",
                "meetingToken", "createdAt", "updatedAt", (char *)NULL);
    ck_assert_str_eq(pgtest_jstr(l, "tenantId"), t);
    ck_assert_str_eq(pgtest_jstr(l, "agentId"), a);
    ck_assert_str_eq(pgtest_jstr(l, "email"), "lee@example.com");
    ck_assert_str_eq(pgtest_jstr(bk, "leadId"), pgtest_jstr(l, "id"));
    ck_assert_str_eq(pgtest_jstr(bk, "status"), "PENDING");
    ck_assert_str_eq(pgtest_jstr(bk, "scheduledAt"), "2099-01-01T10:00:00.000Z");
    ck_assert_str_eq(pgtest_jstr(bk, "expiresAt"), "2099-01-03T10:00:00.000Z");
    ck_assert_str_eq(pgtest_jstr(bk, "meetingToken"), pgtest_jstr(o, "meetingToken"));
    ck_assert_str_eq(pgtest_jstr(l, "bookedAt"), pgtest_jstr(bk, "createdAt"));
    const char *bv[] = {pgtest_jstr(bk, "id")};
    char ev[128];
    pgtest_sql_value("SELECT coalesce(from_status::text, 'NULL') || '>' || to_status || '>' || "
                     "key_id FROM booking_events WHERE booking_id = $1",
                     1, bv, ev, sizeof ev);
    char want[128];
    snprintf(want, sizeof want, "NULL>PENDING>%s", key);
    ck_assert_str_eq(ev, want);

    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_create(db, t, a, "Lee", "l@example.com", "tomorrow-ish", NULL, &b),
                     LB_INVALID);
    ck_assert_int_eq(store_lead_create(db, t, "00000000-0000-4000-8000-000000000000", "Lee",
                                       "l@example.com", FUTURE, NULL, &b),
                     LB_NOT_FOUND);
    ck_assert_uint_eq(b.len, 0);
    json_object_put(o);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_lead_and_booking_atomic)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    char sql[512];
    PQclear(pgtest_sql(NULL,
                       "CREATE FUNCTION test_fail_booking() RETURNS trigger LANGUAGE "
                       "plpgsql AS $$BEGIN RAISE EXCEPTION 'booking insert fails'; END$$",
                       0, NULL));
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER test_fail_booking BEFORE INSERT ON bookings "
             "FOR EACH ROW WHEN (NEW.tenant_id = '%s') "
             "EXECUTE FUNCTION test_fail_booking()",
             t);
    PQclear(pgtest_sql(NULL, sql, 0, NULL));
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_lead_create(db, t, a, "Lee", "lee@example.com", FUTURE, NULL, &b),
                     LB_INTERNAL);
    PQclear(pgtest_sql(NULL, "DROP TRIGGER test_fail_booking ON bookings", 0, NULL));
    const char *tv[] = {t};
    char n[16];
    pgtest_sql_value("SELECT count(*) FROM leads WHERE tenant_id = $1", 1, tv, n, sizeof n);
    ck_assert_str_eq(n, "0"); /* the lead went with the failed booking */
    ck_assert_int_eq(store_lead_create(db, t, a, "Lee", "lee@example.com", FUTURE, NULL, &b),
                     LB_OK);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_lead_get_and_scoping)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], other[37], oa[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    pgtest_tenant(db, other);
    pgtest_agent(db, other, 0, oa);
    struct made m = {0};
    make_lead(db, t, a, &m);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_lead_get(db, t, m.lead, &b), LB_OK);
    json_object *l = pgtest_json(&b), *bks, *ag;
    pgtest_keys(l, "id", "agentId", "tenantId", "name", "email", "bookedAt", "createdAt",
                "updatedAt", "bookings", "agent", (char *)NULL);
    json_object_object_get_ex(l, "bookings", &bks);
    json_object_object_get_ex(l, "agent", &ag);
    ck_assert_int_eq(json_object_array_length(bks), 1);
    ck_assert_str_eq(pgtest_jstr(json_object_array_get_idx(bks, 0), "id"), m.booking);
    pgtest_keys(ag, "id", "name", "publicLink", (char *)NULL);
    ck_assert_str_eq(pgtest_jstr(ag, "id"), a);
    json_object_put(l);

    /* Tenant "other" reaches none of it. */
    lb_buf_reset(&b);
    char from[STORE_STATUS_LEN];
    ck_assert_int_eq(store_lead_get(db, other, m.lead, &b), LB_NOT_FOUND);
    ck_assert_int_eq(store_booking_set_status(db, other, m.booking, "CANCELLED", NULL, &b, from),
                     LB_NOT_FOUND);
    ck_assert_int_eq(store_lead_create(db, other, a, "X", "x@example.com", FUTURE, NULL, &b),
                     LB_NOT_FOUND);
    struct store_cursor next;
    int more;
    ck_assert_int_eq(store_lead_list(db, other, NULL, 10, NULL, &next, &more, &b), LB_OK);
    ck_assert_str_eq(b.data, "[]");
    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_list(db, other, a, 10, NULL, &next, &more, &b), LB_OK);
    ck_assert_str_eq(b.data, "[]");
    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_stats(db, other, NULL, &b), LB_OK);
    json_object *s = pgtest_json(&b);
    ck_assert_int_eq(pgtest_jint(s, "totalLeads"), 0);
    ck_assert_int_eq(pgtest_jint(s, "upcoming"), 0);
    json_object_put(s);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_stats(db, other, a, &b), LB_OK);
    s = pgtest_json(&b);
    ck_assert_int_eq(pgtest_jint(s, "totalLeads"), 0);
    json_object_put(s);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "PENDING", NULL, &b, from), LB_OK);
    ck_assert_str_eq(from, "PENDING"); /* still untouched */
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

/* The ids of a lead's "bookings" array, comma-separated. */
static void booking_ids(json_object *lead, char *out, size_t len)
{
    json_object *bks;
    ck_assert(json_object_object_get_ex(lead, "bookings", &bks));
    out[0] = '\0';
    for (size_t i = 0; i < json_object_array_length(bks); i++) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", i ? "," : "",
                 pgtest_jstr(json_object_array_get_idx(bks, i), "id"));
    }
}

/* A lead's bookings come oldest first, ties by id, in GET /leads/:id and in a page alike (the
 * order comes from a sorted sub-select, not from the aggregate); none is an empty array. */
START_TEST(test_lead_bookings_order)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    struct made m = {0};
    make_lead(db, t, a, &m);
    /* Inserted newest first, with two at the same created_at whose ids sort the other way. */
    const char *v[] = {t, m.lead, a};
    PQclear(pgtest_sql(NULL,
                       "INSERT INTO bookings (id, tenant_id, lead_id, agent_id, scheduled_at, "
                       "expires_at, created_at) SELECT x.id::uuid, $1, $2, $3, now() + "
                       "interval '1 day', now() + interval '2 days', x.c FROM (VALUES "
                       "('ffffffff-0000-4000-8000-000000000001', now() + interval '2 hours'), "
                       "('eeeeeeee-0000-4000-8000-000000000001', '2030-01-01T00:00:00Z'), "
                       "('11111111-0000-4000-8000-000000000001', '2030-01-01T00:00:00Z'), "
                       "('00000000-0000-4000-8000-000000000001', now() - interval '1 hour')) "
                       "AS x(id, c)",
                       3, v));
    char want[256], got[256], sql[256];
    snprintf(want, sizeof want,
             "00000000-0000-4000-8000-000000000001,%s,ffffffff-0000-4000-8000-000000000001,"
             "11111111-0000-4000-8000-000000000001,eeeeeeee-0000-4000-8000-000000000001",
             m.booking);
    const char *w[] = {m.lead};
    pgtest_sql_value("SELECT string_agg(id::text, ',' ORDER BY created_at, id) FROM bookings "
                     "WHERE lead_id = $1",
                     1, w, sql, sizeof sql);
    ck_assert_str_eq(sql, want); /* the fixture is what the test means */

    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_lead_get(db, t, m.lead, &b), LB_OK);
    json_object *l = pgtest_json(&b);
    booking_ids(l, got, sizeof got);
    ck_assert_str_eq(got, want);
    json_object_put(l);

    struct store_cursor next;
    int more;
    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_list(db, t, a, 10, NULL, &next, &more, &b), LB_OK);
    json_object *page = pgtest_json(&b);
    ck_assert_int_eq(json_object_array_length(page), 1);
    booking_ids(json_object_array_get_idx(page, 0), got, sizeof got);
    ck_assert_str_eq(got, want);
    json_object_put(page);

    /* No bookings: an empty array, not null. */
    PQclear(pgtest_sql(NULL, "DELETE FROM bookings WHERE lead_id = $1", 1, w));
    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_get(db, t, m.lead, &b), LB_OK);
    l = pgtest_json(&b);
    json_object *bks;
    ck_assert(json_object_object_get_ex(l, "bookings", &bks));
    ck_assert(json_object_is_type(bks, json_type_array));
    ck_assert_int_eq(json_object_array_length(bks), 0);
    json_object_put(l);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_keyset_pages)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], a2[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    pgtest_agent(db, t, 0, a2);
    enum { N = 25, LIMIT = 7 };
    struct made m[N] = {0};
    for (int i = 0; i < N; i++)
        make_lead(db, t, i % 5 == 0 ? a2 : a, &m[i]);
    char seen[2 * N][37];
    int nseen = 0, pages = 0, more = 1;
    struct store_cursor cur, next;
    struct lb_buf b;
    lb_buf_init(&b);
    while (more) {
        lb_buf_reset(&b);
        ck_assert_int_eq(store_lead_list(db, t, NULL, LIMIT, pages ? &cur : NULL, &next, &more, &b),
                         LB_OK);
        json_object *arr = pgtest_json(&b);
        int len = (int)json_object_array_length(arr);
        ck_assert_int_le(len, LIMIT);
        ck_assert(more ? len == LIMIT : 1);
        for (int i = 0; i < len; i++) {
            json_object *l = json_object_array_get_idx(arr, i);
            ck_assert_int_lt(nseen, 2 * N);
            snprintf(seen[nseen++], 37, "%s", pgtest_jstr(l, "id"));
        }
        json_object_put(arr);
        cur = next;
        pages++;
        struct made extra = {0}; /* rows arriving meanwhile must not shift the pages */
        make_lead(db, t, a, &extra);
    }
    ck_assert_int_eq(pages, (N + LIMIT - 1) / LIMIT);
    for (int i = 0; i < N; i++) {
        int hits = 0;
        for (int j = 0; j < nseen; j++)
            hits += strcmp(seen[j], m[i].lead) == 0;
        ck_assert_msg(hits == 1, "lead %d seen %d times", i, hits);
    }
    ck_assert_int_eq(nseen, N);
    /* Newest first: the first row is the last one created before the walk. */
    ck_assert_str_eq(seen[0], m[N - 1].lead);

    lb_buf_reset(&b);
    ck_assert_int_eq(store_lead_list(db, t, a2, 5, NULL, &next, &more, &b), LB_OK);
    json_object *arr = pgtest_json(&b);
    ck_assert_int_eq(json_object_array_length(arr), 5);
    ck_assert_int_eq(more, 0); /* exactly a full page: nothing more */
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(pgtest_jstr(json_object_array_get_idx(arr, (size_t)i), "agentId"), a2);
    json_object_put(arr);
    ck_assert_int_eq(store_lead_list(db, t, NULL, 0, NULL, &next, &more, &b), LB_INVALID);
    ck_assert_int_eq(store_lead_list(db, t, NULL, 1001, NULL, &next, &more, &b), LB_INVALID);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

static void assert_stats(struct lb_db *db, const char *t, const char *agent, const long want[7])
{
    static const char *const keys[] = {"totalLeads", "upcoming",  "completed",      "expired",
                                       "confirmed",  "cancelled", "conversionRate", "total"};
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_lead_stats(db, t, agent, &b), LB_OK);
    json_object *s = pgtest_json(&b);
    pgtest_keys(s, keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7],
                (char *)NULL);
    ck_assert_int_eq(pgtest_jint(s, "total"), pgtest_jint(s, "totalLeads"));
    for (int i = 0; i < 7; i++)
        ck_assert_msg(pgtest_jint(s, keys[i]) == want[i], "%s: %ld, want %ld (%s)", keys[i],
                      pgtest_jint(s, keys[i]), want[i], b.data);
    json_object_put(s);
    lb_buf_free(&b);
}

START_TEST(test_stats)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], a2[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    pgtest_agent(db, t, 0, a2);
    const long none[7] = {0, 0, 0, 0, 0, 0, 0};
    assert_stats(db, t, NULL, none);
    struct made m[9] = {0};
    for (int i = 0; i < 9; i++)
        make_lead(db, t, i == 8 ? a2 : a, &m[i]);
    shape(m[0].booking, "PENDING", "1 day", "2 days");     /* upcoming */
    shape(m[1].booking, "PENDING", "-2 days", "-1 day");   /* expired */
    shape(m[2].booking, "CONFIRMED", "-2 days", "-1 day"); /* confirmed and expired */
    shape(m[3].booking, "COMPLETED", "-2 days", "-1 day"); /* completed, NOT expired */
    shape(m[4].booking, "CANCELLED", "-2 days", "-1 day"); /* cancelled, not expired */
    shape(m[5].booking, "EXPIRED", "1 day", "2 days");     /* expired by status */
    shape(m[6].booking, "CONFIRMED", "1 day", "2 days");   /* confirmed */
    shape(m[7].booking, "PENDING", "-1 hour", "1 hour");   /* started, not yet expired */
    shape(m[8].booking, "COMPLETED", "-2 days", "-1 day"); /* the other agent's */
    const long agent1[7] = {8, 1, 1, 3, 2, 1, 13};         /* 12.5 rounds half up */
    assert_stats(db, t, a, agent1);
    const long agent2[7] = {1, 0, 1, 0, 0, 0, 100};
    assert_stats(db, t, a2, agent2);
    const long all[7] = {9, 1, 2, 3, 2, 1, 22}; /* 22.2 */
    assert_stats(db, t, NULL, all);
    lb_db_free(db);
}
END_TEST

static int event_chain_ok(const char *booking, int *changes, char *final, size_t len)
{
    const char *v[] = {booking};
    PGresult *r = pgtest_sql(NULL,
                             "SELECT coalesce(from_status::text, ''), to_status::text "
                             "FROM booking_events WHERE booking_id = $1 ORDER BY seq",
                             1, v);
    int ok = PQntuples(r) >= 1 && strcmp(PQgetvalue(r, 0, 0), "") == 0 &&
             strcmp(PQgetvalue(r, 0, 1), "PENDING") == 0;
    for (int i = 1; ok && i < PQntuples(r); i++)
        ok = strcmp(PQgetvalue(r, i, 0), PQgetvalue(r, i - 1, 1)) == 0;
    *changes = PQntuples(r) - 1;
    snprintf(final, len, "%s", PQgetvalue(r, PQntuples(r) - 1, 1));
    PQclear(r);
    return ok;
}

START_TEST(test_set_status)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    struct made m = {0};
    make_lead(db, t, a, &m);
    struct lb_buf b;
    lb_buf_init(&b);
    char from[STORE_STATUS_LEN];
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "CONFIRMED", NULL, &b, from),
                     LB_OK);
    ck_assert_str_eq(from, "PENDING");
    json_object *c = pgtest_json(&b);
    pgtest_keys(c, "id", "leadId", "agentId", "tenantId", "scheduledAt", "status", "expiresAt",
                "meetingToken", "createdAt", "updatedAt", (char *)NULL);
    ck_assert_str_eq(pgtest_jstr(c, "status"), "CONFIRMED");
    lb_buf_reset(&b);
    usleep(2000);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "CONFIRMED", NULL, &b, from),
                     LB_OK); /* no-op */
    json_object *same = pgtest_json(&b);
    ck_assert(json_object_equal(c, same));
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "PENDING", NULL, &b, from),
                     LB_CONFLICT);
    ck_assert_str_eq(from, "CONFIRMED");
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "LOST", NULL, &b, from),
                     LB_INVALID);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "COMPLETED", NULL, &b, from),
                     LB_OK);
    lb_buf_reset(&b);
    const char *finals[] = {"PENDING", "CONFIRMED", "CANCELLED", "EXPIRED"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(store_booking_set_status(db, t, m.booking, finals[i], NULL, &b, from),
                         LB_CONFLICT);
        ck_assert_str_eq(from, "COMPLETED");
    }
    ck_assert_int_eq(store_booking_set_status(db, t, "00000000-0000-4000-8000-000000000000",
                                              "CONFIRMED", NULL, &b, from),
                     LB_NOT_FOUND);
    int changes;
    char final[16];
    ck_assert(event_chain_ok(m.booking, &changes, final, sizeof final));
    ck_assert_int_eq(changes, 2);
    ck_assert_str_eq(final, "COMPLETED");
    json_object_put(same);
    json_object_put(c);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_concurrent_status_changes)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    struct made m = {0};
    make_lead(db, t, a, &m);
    enum { KIDS = 20 };
    static const char *const targets[] = {"CONFIRMED", "CONFIRMED", "COMPLETED", "CANCELLED",
                                          "EXPIRED"};
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t pids[KIDS];
    for (int i = 0; i < KIDS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(gate[1]);
            struct lb_db_options opt = {pgtest_conninfo(), 5, 10000, NULL, 0};
            struct lb_db *kid = lb_db_new(&opt);
            if (lb_db_ready(kid) != LB_OK)
                _exit(1);
            char c;
            if (read(gate[0], &c, 1) != 0) /* wait until the parent opens the gate */
                _exit(1);
            struct lb_buf out;
            lb_buf_init(&out);
            char from[STORE_STATUS_LEN];
            const char *to = targets[i % 5];
            enum lb_status s = store_booking_set_status(kid, t, m.booking, to, NULL, &out, from);
            /* LB_BUSY (13): "being changed, retry", for one that found another waiting for the
             * row longer than LB_DB_QUEUE_WAIT_MS (db.h): it changed nothing */
            int code = s == LB_BUSY       ? 13
                       : s == LB_CONFLICT ? 12
                       : s != LB_OK       ? 1
                       : strcmp(from, to) ? 10
                                          : 11;
            lb_buf_free(&out);
            lb_db_free(kid);
            _exit(code);
        }
    }
    close(gate[0]);
    usleep(300 * 1000); /* let every child connect */
    close(gate[1]);
    int changed = 0;
    for (int i = 0; i < KIDS; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert(WIFEXITED(st));
        int code = WEXITSTATUS(st);
        ck_assert_msg(code >= 10 && code <= 13, "child %d exited %d", i, code);
        changed += code == 10;
    }
    int changes;
    char final[16], now_status[16];
    ck_assert(event_chain_ok(m.booking, &changes, final, sizeof final));
    ck_assert_int_eq(changes, changed);
    ck_assert_int_ge(changes, 1);
    ck_assert_int_le(changes, 2); /* at most PENDING -> CONFIRMED -> final */
    const char *v[] = {m.booking};
    pgtest_sql_value("SELECT status FROM bookings WHERE id = $1", 1, v, now_status,
                     sizeof now_status);
    ck_assert_str_eq(now_status, final);
    lb_db_free(db);
}
END_TEST

START_TEST(test_meeting)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    struct made m = {0}, done = {0};
    make_lead(db, t, a, &m);
    make_lead(db, t, a, &done);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_booking_meeting(db, m.token, &b), LB_OK);
    json_object *o = pgtest_json(&b), *l, *ag, *x;
    pgtest_keys(o, "id", "leadId", "agentId", "scheduledAt", "status", "expiresAt", "meetingToken",
                "createdAt", "updatedAt", "isExpired", "lead", "agent", (char *)NULL);
    json_object_object_get_ex(o, "lead", &l);
    json_object_object_get_ex(o, "agent", &ag);
    pgtest_keys(l, "id", "name", "email", (char *)NULL);
    pgtest_keys(ag, "id", "name", "knowledge", (char *)NULL);
    ck_assert(strstr(b.data, t) == NULL); /* nothing of the tenant */
    json_object_object_get_ex(o, "isExpired", &x);
    ck_assert(!json_object_get_boolean(x));
    json_object_put(o);

    shape(m.booking, "CONFIRMED", "-2 days", "-1 day");
    shape(done.booking, "COMPLETED", "-2 days", "-1 day");
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_meeting(db, m.token, &b), LB_OK);
    o = pgtest_json(&b);
    json_object_object_get_ex(o, "isExpired", &x);
    ck_assert(json_object_get_boolean(x));
    json_object_put(o);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_meeting(db, done.token, &b), LB_OK);
    o = pgtest_json(&b);
    json_object_object_get_ex(o, "isExpired", &x);
    ck_assert(!json_object_get_boolean(x));
    json_object_put(o);
    ck_assert_int_eq(store_booking_meeting(db, "00000000-0000-4000-8000-000000000000", &b),
                     LB_NOT_FOUND);
    ck_assert_int_eq(store_booking_meeting(db, "nonsense", &b), LB_NOT_FOUND);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_expire_all)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    enum { DUE = 60, SWEEPERS = 3 };
    struct made m[DUE + 2] = {0};
    for (int i = 0; i < DUE + 2; i++)
        make_lead(db, t, a, &m[i]);
    for (int i = 0; i < DUE; i++)
        shape(m[i].booking, i % 2 ? "CONFIRMED" : "PENDING", "-2 days", "-1 day");
    shape(m[DUE].booking, "COMPLETED", "-2 days", "-1 day");
    /* m[DUE + 1] stays PENDING in the future. */
    char due_text[16];
    pgtest_sql_value("SELECT count(*) FROM bookings WHERE status IN ('PENDING', 'CONFIRMED') "
                     "AND expires_at <= now()",
                     0, NULL, due_text, sizeof due_text);
    long due = strtol(due_text, NULL, 10);
    ck_assert_int_ge(due, DUE);
    ck_assert_int_lt(due, 250);

    pid_t pids[SWEEPERS];
    for (int i = 0; i < SWEEPERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            struct lb_db_options opt = {pgtest_conninfo(), 5, 10000, NULL, 0};
            struct lb_db *kid = lb_db_new(&opt);
            long n = -1;
            enum lb_status s = store_booking_expire_all(kid, &n);
            lb_db_free(kid);
            _exit(s == LB_OK ? (int)n : 255);
        }
    }
    long total = 0;
    for (int i = 0; i < SWEEPERS; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 255);
        total += WEXITSTATUS(st);
    }
    ck_assert_int_eq(total, due); /* each expired exactly once */
    const char *tv[] = {t};
    char n[64];
    pgtest_sql_value("SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT status || ':' || count(*) "
                     "AS x FROM bookings WHERE tenant_id = $1 GROUP BY status) s",
                     1, tv, n, sizeof n);
    ck_assert_str_eq(n, "COMPLETED:1,EXPIRED:60,PENDING:1");
    pgtest_sql_value("SELECT count(*) FROM booking_events WHERE tenant_id = $1 AND "
                     "to_status = 'EXPIRED' AND key_id IS NULL AND from_status IN "
                     "('PENDING', 'CONFIRMED')",
                     1, tv, n, sizeof n);
    ck_assert_str_eq(n, "60");
    long again = -1;
    ck_assert_int_eq(store_booking_expire_all(db, &again), LB_OK);
    ck_assert_int_eq(again, 0);
    lb_db_free(db);
}
END_TEST

/* The JSON of the list and of one lead, built in leadbookd (store/leadjson.c), is the JSON the
 * database built before (SQL_LEAD_FULL_JSON of sqljson.h, kept as the oracle), byte for byte
 * once the oracle's insignificant whitespace is gone: keys, order, escapes, timestamps (a whole
 * second, trailing zeros, microseconds truncated to milliseconds, NULL), no booking, several. */
static void strip_ws(const char *in, char *out)
{
    int str = 0;
    for (; *in; in++) {
        if (str) {
            *out++ = *in;
            if (*in == '\\' && in[1])
                *out++ = *++in;
            else if (*in == '"')
                str = 0;
        } else if (*in == '"') {
            *out++ = *in;
            str = 1;
        } else if (*in != ' ' && *in != '\n' && *in != '\t' && *in != '\r') {
            *out++ = *in;
        }
    }
    *out = '\0';
}

/* 1000 x the events of tenant t (of type, or all when type is NULL) + its deliveries. */
static long outbox_rows(const char *t, const char *type)
{
    char n[24];
    const char *v[] = {t, type};
    pgtest_sql_value("SELECT (SELECT count(*) FROM webhook_events WHERE tenant_id = $1 "
                     "AND ($2::text IS NULL OR type = $2)) * 1000 + "
                     "(SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1)",
                     2, v, n, sizeof n);
    return atol(n);
}

/* outbox_hint.h: lead creation and status changes pick the quiet or the outbox variant by
 * what the last statement for the tenant found, and either way every change is announced
 * exactly once (the statement or the trigger, never both, never neither): as the endpoint
 * comes, is disabled and comes back, across both kinds of write. */
START_TEST(test_outbox_hint_either_variant_once)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37], ep[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 48, a);
    struct store_actor by = {"system", NULL};
    struct lb_buf b;
    lb_buf_init(&b);
    struct made m;
    ck_assert_int_eq(store_lead_create(db, t, a, "Q", "q@example.com", FUTURE, &by, &b), LB_OK);
    ck_assert_int_eq(store_outbox_hint(t), 0);
    ck_assert_int_eq(outbox_rows(t, NULL), 0);
    const char *tv[] = {t};
    pgtest_sql_value("INSERT INTO webhook_endpoints (tenant_id, url, events, secret) VALUES "
                     "($1, 'https://example.com/h', "
                     "ARRAY['booking.created', 'booking.status_changed'], "
                     "'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=') RETURNING id",
                     1, tv, ep, sizeof ep);
    /* the hint says quiet: the quiet variant, whose trigger writes the event; now hooked */
    make_lead(db, t, a, &m);
    ck_assert_int_eq(outbox_rows(t, "booking.created"), 1001);
    ck_assert_int_eq(store_outbox_hint(t), 1);
    /* the hint says hooked: the outbox variant, the statement writes it */
    make_lead(db, t, a, &m);
    ck_assert_int_eq(outbox_rows(t, "booking.created"), 2002);
    char from[STORE_STATUS_LEN];
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "CONFIRMED", &by, &b, from), LB_OK);
    ck_assert_int_eq(outbox_rows(t, NULL), 3003);
    ck_assert_int_eq(store_outbox_hint(t), 1);
    /* disabled: the outbox variant writes nothing and says so; then quiet again */
    const char *ev[] = {ep};
    PQclear(pgtest_sql(NULL, "UPDATE webhook_endpoints SET enabled = false WHERE id = $1", 1, ev));
    make_lead(db, t, a, &m);
    ck_assert_int_eq(store_outbox_hint(t), 0);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "CANCELLED", &by, &b, from), LB_OK);
    ck_assert_int_eq(outbox_rows(t, NULL), 3003);
    /* enabled again while the hint says quiet: the quiet status change's trigger announces it */
    PQclear(pgtest_sql(NULL, "UPDATE webhook_endpoints SET enabled = true WHERE id = $1", 1, ev));
    make_lead(db, t, a, &m);
    ck_assert_int_eq(outbox_rows(t, NULL), 4004);
    ck_assert_int_eq(store_outbox_hint(t), 1);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "CONFIRMED", &by, &b, from), LB_OK);
    ck_assert_int_eq(outbox_rows(t, "booking.status_changed") / 1000, 2);
    ck_assert_int_eq(outbox_rows(t, NULL), 5005);
    /* a no-op status change announces nothing */
    lb_buf_reset(&b);
    ck_assert_int_eq(store_booking_set_status(db, t, m.booking, "CONFIRMED", &by, &b, from), LB_OK);
    ck_assert_int_eq(outbox_rows(t, NULL), 5005);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_lead_json_as_sql_made_it)
{
    struct lb_db *db = pgtest_db();
    char t[37], a[37];
    pgtest_tenant(db, t);
    pgtest_agent(db, t, 0, a);
    const char *v[] = {t, a};
    /* 5 leads: odd names, each time shape, 0, 1 or 3 bookings */
    PQclear(pgtest_sql(NULL,
                       "WITH l AS (INSERT INTO leads (tenant_id, agent_id, name, email, booked_at, "
                       "  created_at, updated_at) SELECT $1, $2, x.name, 'e' || x.i || '@x.org', "
                       "  x.booked, x.created, x.created + interval '1.5 seconds' FROM (VALUES "
                       "  (1, 'Quote \" back\\slash', NULL::timestamptz, "
                       "   '2030-01-01T00:00:00Z'::timestamptz), "
                       "  (2, E'Ctl \\x01\\x1f tab\\t nl\\n cr\\r ff\\f bs\\b', "
                       "   '2030-01-02T03:04:05.12Z', '2030-01-02T00:00:00.000999Z'), "
                       "  (3, 'Unicode é ü 日本 \U0001F600 / <>&', '2030-01-03T00:00:00.5Z', "
                       "   '2030-01-03T00:00:00.123456Z'), "
                       "  (4, 'Plain', now(), now()), "
                       "  (5, 'Year 0999', '0999-12-31T23:59:59.999999Z', '2030-01-05T00:00:00Z')) "
                       "  AS x(i, name, booked, created) RETURNING *) "
                       "INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, status, "
                       "  expires_at, created_at) SELECT l.tenant_id, l.id, l.agent_id, "
                       "  l.created_at + g * interval '1 day', 'CONFIRMED', "
                       "  l.created_at + g * interval '1 day' + interval '0.1 seconds', "
                       "  l.created_at + g * interval '1 millisecond' "
                       "FROM l, generate_series(1, 3) g WHERE l.name <> 'Plain' "
                       "  AND (g = 1 OR l.name LIKE 'Unicode%')",
                       2, v));
    struct lb_buf b;
    lb_buf_init(&b);
    struct store_cursor next;
    int more;
    ck_assert_int_eq(store_lead_list(db, t, NULL, 100, NULL, &next, &more, &b), LB_OK);
    ck_assert_int_eq(more, 0);
    PGresult *o = pgtest_sql(NULL,
                             "SELECT json_agg(" SQL_LEAD_FULL_JSON(
                                 "l") " ORDER BY l.created_at "
                                      "DESC, l.id DESC) FROM leads l WHERE l.tenant_id = $1",
                             1, v);
    char *want = malloc(strlen(PQgetvalue(o, 0, 0)) + 1);
    strip_ws(PQgetvalue(o, 0, 0), want);
    ck_assert_str_eq(b.data, want);
    free(want);
    PQclear(o);

    /* each lead alone, and pages of 2 that end exactly where the next begins */
    PGresult *ids =
        pgtest_sql(NULL,
                   "SELECT id, " SQL_LEAD_FULL_JSON(
                       "l") " FROM leads l "
                            "WHERE l.tenant_id = $1 ORDER BY l.created_at DESC, l.id DESC",
                   1, v);
    ck_assert_int_eq(PQntuples(ids), 5);
    struct store_cursor at, *after = NULL;
    for (int i = 0; i < 5; i++) {
        char one[2048];
        strip_ws(PQgetvalue(ids, i, 1), one);
        lb_buf_reset(&b);
        ck_assert_int_eq(store_lead_get(db, t, PQgetvalue(ids, i, 0), &b), LB_OK);
        ck_assert_str_eq(b.data, one);
        if (i % 2 == 0) {
            lb_buf_reset(&b);
            ck_assert_int_eq(store_lead_list(db, t, a, 2, after, &next, &more, &b), LB_OK);
            ck_assert_int_eq(more, i < 4);
            ck_assert_int_eq(strncmp(b.data + 1, one, strlen(one)), 0);
            if (more) {
                ck_assert_str_eq(next.id, PQgetvalue(ids, i + 1, 0));
                at = next;
                after = &at;
            }
        }
    }
    PQclear(ids);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

int main(void)
{
    if (!pgtest_setup("leads"))
        return EXIT_FAILURE;
    Suite *s = suite_create("leads");
    TCase *tc = tcase_create("leads-bookings");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lead_create);
    tcase_add_test(tc, test_lead_and_booking_atomic);
    tcase_add_test(tc, test_lead_get_and_scoping);
    tcase_add_test(tc, test_lead_bookings_order);
    tcase_add_test(tc, test_keyset_pages);
    tcase_add_test(tc, test_lead_json_as_sql_made_it);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_set_status);
    tcase_add_test(tc, test_concurrent_status_changes);
    tcase_add_test(tc, test_meeting);
    tcase_add_test(tc, test_expire_all);
    tcase_add_test(tc, test_outbox_hint_either_variant_once);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
