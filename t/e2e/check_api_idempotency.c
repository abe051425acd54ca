/* check_api_idempotency: API.md "Idempotency", rule by rule, through nginx: the first request
 * with a key runs and its answer is stored with its write; a retry gets the same bytes with
 * Idempotent-Replayed: true and changes nothing; another request with the key is a 422; one
 * still running is a 409 with Retry-After; keys are the credential's; 400s are not stored;
 * 404s and refused transitions are; 10 racing requests with one key write once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "e2e.h"

/* One call with an Idempotency-Key (key NULL = none). */
static int idem_call(struct e2e_resp *r, const struct e2e_tenant *t, const char *method,
                     const char *path, const char *key, const char *body)
{
    char headers[2600];
    snprintf(headers, sizeof headers, "%s%s%s%s", t ? t->auth : "", key ? "Idempotency-Key: " : "",
             key ? key : "", key ? "\r\n" : "");
    return e2e_raw(r, headers, method, path, body, body ? strlen(body) : 0);
}

static void unique_key(char *out, size_t len, const char *what)
{
    snprintf(out, len, "%s-%ld-%d-%ld", what, (long)time(NULL), (int)getpid(), random());
}

static void lead_body(char *out, size_t len, const char *agent, const char *name)
{
    char when[40];
    e2e_iso_from_now(86400, when);
    snprintf(out, len,
             "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"idem@example.com\","
             "\"scheduledAt\":\"%s\"}",
             agent, name, when);
}

static long leads_named(const struct e2e_tenant *t, const char *name)
{
    return e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1 AND name = $2", t->id,
                        name, E2E_END);
}

START_TEST(t_replay_is_byte_identical)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem replay", 0);
    char key[128], body[512];
    unique_key(key, sizeof key, "replay");
    lead_body(body, sizeof body, t.agent_id, "Once Only");
    struct e2e_resp first, again;
    idem_call(&first, &t, "POST", "/leads", key, body);
    e2e_expect(&first, 201);
    ck_assert_int_eq(e2e_header_count(&first, "Idempotent-Replayed"), 0);
    for (int i = 0; i < 3; i++) {
        idem_call(&again, &t, "POST", "/leads", key, body);
        e2e_expect(&again, 201);
        char h[16];
        ck_assert_ptr_nonnull(e2e_header(&again, "Idempotent-Replayed", h, sizeof h));
        ck_assert_str_eq(h, "true");
        ck_assert_str_eq(again.raw.body, first.raw.body);
        e2e_free(&again);
    }
    e2e_free(&first);
    ck_assert_int_eq(leads_named(&t, "Once Only"), 1);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM idempotency_keys WHERE scope = $1",
                                  "key:", E2E_END) >= 0,
                     1);
    /* without a key the same body books again */
    struct e2e_resp r;
    idem_call(&r, &t, "POST", "/leads", NULL, body);
    e2e_expect(&r, 201);
    e2e_free(&r);
    ck_assert_int_eq(leads_named(&t, "Once Only"), 2);
}
END_TEST

START_TEST(t_other_request_is_422)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem mismatch", 0);
    char key[128], body[512], other[512];
    unique_key(key, sizeof key, "mismatch");
    lead_body(body, sizeof body, t.agent_id, "First Body");
    lead_body(other, sizeof other, t.agent_id, "Second Body");
    struct e2e_resp r;
    idem_call(&r, &t, "POST", "/leads", key, body);
    e2e_expect(&r, 201);
    e2e_free(&r);
    idem_call(&r, &t, "POST", "/leads", key, other); /* another body */
    e2e_expect_error(&r, 422, NULL);
    char text[512];
    ck_assert_ptr_nonnull(
        strstr(e2e_error_text(&r, text, sizeof text), "was used with a different request"));
    e2e_free(&r);
    idem_call(&r, &t, "POST", "/agents", key,
              "{\"name\":\"Other\",\"knowledge\":\"Another request entirely.\"}"); /* path */
    e2e_expect_error(&r, 422, NULL);
    e2e_free(&r);
    idem_call(&r, &t, "POST", "/leads?x=1", key, body); /* query */
    e2e_expect_error(&r, 422, NULL);
    e2e_free(&r);
    ck_assert_int_eq(leads_named(&t, "Second Body"), 0);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM agents WHERE tenant_id = $1 AND name = "
                                  "'Other'",
                                  t.id, E2E_END),
                     0);
}
END_TEST

/* Keys are the credential's: the same key text from another tenant (or another key of the
 * same tenant, or a signed-in user) is another key. */
START_TEST(t_scoped_to_the_credential)
{
    struct e2e_tenant a, b;
    e2e_tenant_new(&a, "Idem scope A", 0);
    e2e_tenant_new(&b, "Idem scope B", 0);
    char key[128], body_a[512], body_b[512];
    unique_key(key, sizeof key, "scope");
    lead_body(body_a, sizeof body_a, a.agent_id, "Scoped Lead");
    lead_body(body_b, sizeof body_b, b.agent_id, "Scoped Lead");
    struct e2e_resp r;
    idem_call(&r, &a, "POST", "/leads", key, body_a);
    e2e_expect(&r, 201);
    e2e_free(&r);
    idem_call(&r, &b, "POST", "/leads", key, body_b);
    e2e_expect(&r, 201);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 0);
    ck_assert_ptr_null(strstr(r.raw.body, a.id));
    e2e_free(&r);
    /* B replaying A's body with A's key text: B's own key has B's body stored: 422, and A's
     * answer never leaks */
    idem_call(&r, &b, "POST", "/leads", key, body_a);
    e2e_expect_error(&r, 422, NULL);
    e2e_free(&r);
    ck_assert_int_eq(leads_named(&a, "Scoped Lead"), 1);
    ck_assert_int_eq(leads_named(&b, "Scoped Lead"), 1);

    struct e2e_tenant u;
    e2e_user_new(&u, NULL);
    char tenant_body[256];
    snprintf(tenant_body, sizeof tenant_body, "{\"userId\":\"%s\",\"name\":\"Idem user\"}",
             u.user_id);
    idem_call(&r, &u, "POST", "/tenants", key, tenant_body);
    e2e_expect(&r, 201);
    e2e_free(&r);
    idem_call(&r, &u, "POST", "/tenants", key, tenant_body);
    e2e_expect(&r, 201); /* replayed, not 409 */
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 1);
    e2e_free(&r);
}
END_TEST

/* What is stored: 2xx, 404, a refused transition (409). Not: 400, 401, 403. */
START_TEST(t_what_is_stored)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem stored", 0);
    char key[128], body[512];
    struct e2e_resp r;

    /* 400 is not stored: the corrected request with the same key runs */
    unique_key(key, sizeof key, "400");
    idem_call(&r, &t, "POST", "/leads", key, "{\"agentId\":\"nope\"}");
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
    lead_body(body, sizeof body, t.agent_id, "After A 400");
    idem_call(&r, &t, "POST", "/leads", key, body);
    e2e_expect(&r, 201);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 0);
    e2e_free(&r);

    /* 401 is not stored (nor reaches the store) */
    struct e2e_tenant bad = t;
    snprintf(bad.auth, sizeof bad.auth, "Authorization: Bearer lbk_not_a_key\r\n");
    unique_key(key, sizeof key, "401");
    idem_call(&r, &bad, "POST", "/leads", key, body);
    e2e_expect_401(&r);
    e2e_free(&r);

    /* 404 is stored: the agent created later does not change the answer */
    unique_key(key, sizeof key, "404");
    lead_body(body, sizeof body, "00000000-0000-4000-8000-00000000a404", "Missing Agent");
    struct e2e_resp first;
    idem_call(&first, &t, "POST", "/leads", key, body);
    e2e_expect_error(&first, 404, "Agent with id 00000000-0000-4000-8000-00000000a404 not found");
    idem_call(&r, &t, "POST", "/leads", key, body);
    e2e_expect_error(&r, 404, NULL);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 1);
    ck_assert_str_eq(r.raw.body, first.raw.body);
    e2e_free(&r);
    e2e_free(&first);

    /* status changes: 200 stored and replayed; a refused transition (409) stored too */
    char booking[37], path[128];
    e2e_lead_new(&t, NULL, "Status Idem", 86400, NULL, booking, NULL);
    snprintf(path, sizeof path, "/bookings/%s/status", booking);
    unique_key(key, sizeof key, "status");
    idem_call(&first, &t, "PATCH", path, key, "{\"status\":\"CANCELLED\"}");
    e2e_expect(&first, 200);
    idem_call(&r, &t, "PATCH", path, key, "{\"status\":\"CANCELLED\"}");
    e2e_expect(&r, 200);
    ck_assert_str_eq(r.raw.body, first.raw.body);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 1);
    e2e_free(&r);
    e2e_free(&first);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM booking_events WHERE booking_id = $1", booking, E2E_END),
        2);
    unique_key(key, sizeof key, "refused");
    idem_call(&first, &t, "PATCH", path, key, "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&first, 409, "Cannot change booking status from CANCELLED to CONFIRMED");
    idem_call(&r, &t, "PATCH", path, key, "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&r, 409, NULL);
    ck_assert_str_eq(r.raw.body, first.raw.body);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 1);
    ck_assert_int_eq(e2e_header_count(&r, "Retry-After"), 0);
    e2e_free(&r);
    e2e_free(&first);

    /* agents and tenants */
    unique_key(key, sizeof key, "agent");
    const char *agent = "{\"name\":\"Idem Agent\",\"knowledge\":\"Knows idempotency well.\"}";
    idem_call(&first, &t, "POST", "/agents", key, agent);
    e2e_expect(&first, 201);
    idem_call(&r, &t, "POST", "/agents", key, agent);
    e2e_expect(&r, 201);
    ck_assert_str_eq(r.raw.body, first.raw.body);
    e2e_free(&r);
    e2e_free(&first);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM agents WHERE tenant_id = $1 AND name = "
                                  "'Idem Agent'",
                                  t.id, E2E_END),
                     1);
    snprintf(path, sizeof path, "/agents/%s", t.agent_id);
    unique_key(key, sizeof key, "agent-update");
    idem_call(&first, &t, "PATCH", path, key, "{\"name\":\"Renamed Once\"}");
    e2e_expect(&first, 200);
    e2e_sql("UPDATE agents SET name = 'Changed Meanwhile' WHERE id = $1", t.agent_id, E2E_END);
    idem_call(&r, &t, "PATCH", path, key, "{\"name\":\"Renamed Once\"}");
    e2e_expect(&r, 200);
    ck_assert_str_eq(r.raw.body, first.raw.body); /* the stored answer, not a second update */
    e2e_free(&r);
    e2e_free(&first);
    char name[64];
    e2e_sql_value(name, sizeof name, "SELECT name FROM agents WHERE id = $1", t.agent_id, E2E_END);
    ck_assert_str_eq(name, "Changed Meanwhile");
}
END_TEST

START_TEST(t_malformed_key)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem malformed", 0);
    char body[512], key[300];
    lead_body(body, sizeof body, t.agent_id, "Bad Key");
    memset(key, 'k', 256);
    key[256] = '\0';
    const char *bad[] = {key, "caf\xc3\xa9", "tab\there"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct e2e_resp r;
        idem_call(&r, &t, "POST", "/leads", bad[i], body);
        e2e_expect_messages(&r, "Idempotency-Key must be 1 to 255 printable ASCII characters",
                            E2E_END);
        e2e_free(&r);
    }
    ck_assert_int_eq(leads_named(&t, "Bad Key"), 0);
    key[255] = '\0'; /* 255 is fine */
    struct e2e_resp r;
    idem_call(&r, &t, "POST", "/leads", key, body);
    e2e_expect(&r, 201);
    e2e_free(&r);
}
END_TEST

/* While the first request with a key runs (it holds the key's lock in its transaction: here a
 * session of the test holds that very lock), the same request is a 409 with Retry-After: 1,
 * which is not stored: once the first is gone, the retry runs. */
START_TEST(t_in_flight_is_409)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem in flight", 0);
    char key[128], body[512], scope[64];
    unique_key(key, sizeof key, "flight");
    lead_body(body, sizeof body, t.agent_id, "In Flight");
    snprintf(scope, sizeof scope, "key:%s", t.key_id);
    PGconn *first = PQconnectdb(e2e_conninfo());
    ck_assert_int_eq(PQstatus(first), CONNECTION_OK);
    const char *v[] = {scope, key};
    PGresult *res = PQexecParams(first,
                                 "SELECT pg_advisory_lock(hashtextextended($1::text || chr(10) || "
                                 "$2::text, 0))",
                                 2, NULL, v, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    struct e2e_resp r;
    idem_call(&r, &t, "POST", "/leads", key, body);
    e2e_expect_error(&r, 409, NULL);
    char h[16], text[512];
    ck_assert_ptr_nonnull(e2e_header(&r, "Retry-After", h, sizeof h));
    ck_assert_str_eq(h, "1");
    ck_assert_ptr_nonnull(strstr(e2e_error_text(&r, text, sizeof text), "still running"));
    e2e_free(&r);
    ck_assert_int_eq(leads_named(&t, "In Flight"), 0);
    /* the first request is gone without an answer */
    res = PQexecParams(first,
                       "SELECT pg_advisory_unlock(hashtextextended($1::text || chr(10) || "
                       "$2::text, 0))",
                       2, NULL, v, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    PQfinish(first);
    idem_call(&r, &t, "POST", "/leads", key, body);
    e2e_expect(&r, 201);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 0);
    e2e_free(&r);
    ck_assert_int_eq(leads_named(&t, "In Flight"), 1);
}
END_TEST

/* 10 concurrent requests with one key create exactly one lead; each is answered either with
 * the one answer or 409 + Retry-After (while the first one's statement runs); retried, those
 * get the answer. */
START_TEST(t_concurrent_one_write)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem race", 0);
    for (int round = 0; round < 5; round++) {
        char key[128], body[512], name[64];
        unique_key(key, sizeof key, "race");
        snprintf(name, sizeof name, "Race %d", round);
        lead_body(body, sizeof body, t.agent_id, name);
        enum { N = 10 };
        int pipes[N][2];
        pid_t kids[N];
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(pipe(pipes[i]), 0);
            kids[i] = fork();
            ck_assert_int_ge(kids[i], 0);
            if (kids[i] == 0) {
                close(pipes[i][0]);
                struct e2e_resp r;
                int st = idem_call(&r, &t, "POST", "/leads", key, body);
                char h[8] = "";
                e2e_header(&r, "Retry-After", h, sizeof h);
                char line[4096];
                int n = snprintf(line, sizeof line, "%d %s %s", st, h[0] ? h : "-",
                                 r.raw.body ? r.raw.body : "");
                if (write(pipes[i][1], line, (size_t)n) < 0)
                    _exit(1);
                _exit(0);
            }
            close(pipes[i][1]);
        }
        char answer[4096] = "";
        int created = 0, busy = 0;
        for (int i = 0; i < N; i++) {
            char line[4096];
            ssize_t n = read(pipes[i][0], line, sizeof line - 1);
            close(pipes[i][0]);
            int ws;
            ck_assert_int_eq(waitpid(kids[i], &ws, 0), kids[i]);
            ck_assert(n > 0);
            line[n] = '\0';
            int st = atoi(line);
            if (st == 201) {
                const char *b = strchr(strchr(line, ' ') + 1, ' ') + 1;
                if (!answer[0])
                    snprintf(answer, sizeof answer, "%s", b);
                ck_assert_str_eq(b, answer); /* every 201 is the same answer */
                created++;
            } else {
                ck_assert_msg(st == 409 && strncmp(line, "409 1 ", 6) == 0, "%s", line);
                busy++;
            }
        }
        ck_assert_int_ge(created, 1);
        ck_assert_int_eq(created + busy, N);
        ck_assert_int_eq(leads_named(&t, name), 1);
        struct e2e_resp r;
        idem_call(&r, &t, "POST", "/leads", key, body);
        e2e_expect(&r, 201);
        ck_assert_str_eq(r.raw.body, answer);
        e2e_free(&r);
    }
}
END_TEST

/* leadbookctl purge deletes the records past their expiry, and only those. */
START_TEST(t_purge)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Idem purge", 0);
    char old_key[128], new_key[128], body[512];
    unique_key(old_key, sizeof old_key, "old");
    unique_key(new_key, sizeof new_key, "new");
    lead_body(body, sizeof body, t.agent_id, "Purge Me");
    struct e2e_resp r;
    idem_call(&r, &t, "POST", "/leads", old_key, body);
    e2e_expect(&r, 201);
    e2e_free(&r);
    idem_call(&r, &t, "POST", "/leads", new_key, body);
    e2e_expect(&r, 201);
    e2e_free(&r);
    e2e_sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1",
            old_key, E2E_END);
    /* and a finished webhook delivery 31 days old, with its event */
    e2e_sql("INSERT INTO webhook_endpoints (tenant_id, url, events, secret) "
            "VALUES ($1, 'https://example.com/purge', ARRAY['booking.created'], 'whsec_x')",
            t.id, E2E_END);
    e2e_sql("WITH ev AS (INSERT INTO webhook_events (tenant_id, type, payload, created_at) "
            "VALUES ($1, 'booking.created', '{}', now() - interval '31 days') RETURNING id) "
            "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, status, created_at) "
            "SELECT $1, w.id, ev.id, 'delivered', now() - interval '31 days' FROM ev, "
            "webhook_endpoints w WHERE w.tenant_id = $1",
            t.id, E2E_END);
    json_object *o = e2e_ctl("purge", E2E_END);
    ck_assert_int_ge(e2e_int(o, "idempotencyKeys"), 1);
    ck_assert_int_ge(e2e_int(o, "webhookDeliveries"), 1);
    ck_assert_int_ge(e2e_int(o, "webhookEvents"), 1);
    json_object_put(o);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM webhook_events WHERE tenant_id = $1 AND "
                                  "created_at < now() - interval '30 days'",
                                  t.id, E2E_END),
                     0);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM idempotency_keys WHERE key = $1", old_key, E2E_END), 0);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM idempotency_keys WHERE key = $1", new_key, E2E_END), 1);
    /* the purged key is free again: the request runs anew */
    idem_call(&r, &t, "POST", "/leads", old_key, body);
    e2e_expect(&r, 201);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 0);
    e2e_free(&r);
}
END_TEST

int main(void)
{
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    Suite *s = suite_create("api_idempotency");
    TCase *tc = e2e_tcase("idempotency", 120);
    tcase_add_test(tc, t_replay_is_byte_identical);
    tcase_add_test(tc, t_other_request_is_422);
    tcase_add_test(tc, t_scoped_to_the_credential);
    tcase_add_test(tc, t_what_is_stored);
    tcase_add_test(tc, t_malformed_key);
    tcase_add_test(tc, t_in_flight_is_409);
    tcase_add_test(tc, t_concurrent_one_write);
    tcase_add_test(tc, t_purge);
    suite_add_tcase(s, tc);
    return e2e_main("idempotency", s);
}
