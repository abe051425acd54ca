/* check_api_isolation: tenancy and authentication end to end. Tenant B's key can neither read,
 * nor change, nor count anything of tenant A's, on every endpoint; a tenantId naming another
 * tenant is a 403; unknown, revoked and malformed credentials are 401 with WWW-Authenticate.
 * The matrix runs twice: with the tenants' API keys, and with signed-in users of two tenants
 * (sign-in tokens, their tenants made by POST /tenants). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

struct world {
    struct e2e_tenant a, b;
    char a_agent2[37], a_lead[37], a_booking[37], a_token[37], b_lead[37];
};

/* A signed-in user with a tenant and an agent, as e2e_tenant_new makes them with keys. */
static void user_tenant_new(struct e2e_tenant *u, const char *name)
{
    e2e_user_new(u, NULL);
    e2e_user_signup(u, name);
    struct e2e_resp r;
    e2e_call(&r, u, "POST", "/agents",
             "{\"name\":\"Agent Smith\",\"knowledge\":\"Knows everything about the houses for "
             "sale.\"}");
    e2e_expect(&r, 201);
    snprintf(u->agent_id, sizeof u->agent_id, "%s", e2e_str(r.json, "id"));
    snprintf(u->agent_link, sizeof u->agent_link, "%s", e2e_str(r.json, "publicLink"));
    e2e_free(&r);
}

static void world_new(struct world *w, int users)
{
    if (users) {
        user_tenant_new(&w->a, "Isolation A");
        user_tenant_new(&w->b, "Isolation B");
    } else {
        e2e_tenant_new(&w->a, "Isolation A", 0);
        e2e_tenant_new(&w->b, "Isolation B", 0);
    }
    e2e_agent_new(&w->a, "A second agent", w->a_agent2);
    e2e_lead_new(&w->a, NULL, "A lead", 3600, w->a_lead, w->a_booking, w->a_token);
    e2e_lead_new(&w->a, w->a_agent2, "A lead 2", 7200, NULL, NULL, NULL);
    ck_assert_int_eq(e2e_set_status(&w->a, w->a_booking, "CONFIRMED"), 200);
    e2e_lead_new(&w->b, NULL, "B lead", 3600, w->b_lead, NULL, NULL);
}

/* Everything of tenant A, as text, to prove that nothing changed. */
static void snapshot(const char *tenant, char *out, size_t len)
{
    e2e_sql_value(out, len,
                  "SELECT concat_ws('|', "
                  "(SELECT json_agg(x ORDER BY x.id)::text FROM agents x WHERE tenant_id = $1), "
                  "(SELECT json_agg(x ORDER BY x.id)::text FROM leads x WHERE tenant_id = $1), "
                  "(SELECT json_agg(x ORDER BY x.id)::text FROM bookings x WHERE tenant_id = $1), "
                  "(SELECT json_agg(x ORDER BY x.seq)::text FROM booking_events x "
                  "WHERE tenant_id = $1))",
                  tenant, E2E_END);
}

/* No string value anywhere in o equals one of A's ids. */
static void assert_mentions_none(const struct e2e_resp *r, const struct world *w)
{
    const char *ids[] = {w->a.id,   w->a.agent_id, w->a.agent_link, w->a_agent2,
                         w->a_lead, w->a_booking,  w->a_token};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        ck_assert_msg(strstr(r->raw.body, ids[i]) == NULL, "B sees A's %s in %s", ids[i],
                      r->raw.body);
}

static void reads_are_isolated(int users)
{
    struct world w;
    world_new(&w, users);
    struct e2e_resp r;

    e2e_callf(&r, &w.b, "GET", NULL, "/leads/%s", w.a_lead);
    char msg[128];
    snprintf(msg, sizeof msg, "Lead with id %s not found", w.a_lead);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);

    e2e_call(&r, &w.b, "GET", "/leads", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), w.b_lead);
    assert_mentions_none(&r, &w);
    e2e_free(&r);

    /* filtering by A's agent shows nothing of A (an empty list or a 404) */
    e2e_callf(&r, &w.b, "GET", NULL, "/leads?agentId=%s", w.a.agent_id);
    ck_assert_msg(r.status == 200 || r.status == 404, "HTTP %d", r.status);
    if (r.status == 200)
        ck_assert_int_eq(json_object_array_length(r.json), 0);
    assert_mentions_none(&r, &w);
    e2e_free(&r);

    e2e_call(&r, &w.b, "GET", "/leads/stats", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 1);
    ck_assert_int_eq(e2e_int(r.json, "upcoming"), 1);
    ck_assert_int_eq(e2e_int(r.json, "confirmed"), 0);
    e2e_free(&r);
    e2e_callf(&r, &w.b, "GET", NULL, "/leads/stats?agentId=%s", w.a.agent_id);
    ck_assert_msg(r.status == 200 || r.status == 404, "HTTP %d", r.status);
    if (r.status == 200) {
        ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 0);
        ck_assert_int_eq(e2e_int(r.json, "upcoming"), 0);
        ck_assert_int_eq(e2e_int(r.json, "confirmed"), 0);
    }
    e2e_free(&r);

    e2e_call(&r, &w.b, "GET", "/agents", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), w.b.agent_id);
    assert_mentions_none(&r, &w);
    e2e_free(&r);

    e2e_callf(&r, &w.b, "GET", NULL, "/agents/%s", w.a.agent_id);
    snprintf(msg, sizeof msg, "Agent with id %s not found", w.a.agent_id);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);
    /* the same answer as for an id that does not exist at all */
    struct e2e_resp u;
    e2e_call(&u, &w.b, "GET", "/agents/00000000-0000-4000-8000-000000000000", NULL);
    e2e_expect_error(&u, 404, "Agent with id 00000000-0000-4000-8000-000000000000 not found");
    e2e_free(&u);

    e2e_callf(&r, &w.b, "GET", NULL, "/agents/by-link/%s", w.a.agent_link);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);

    e2e_callf(&r, &w.b, "GET", NULL, "/bookings/%s/events", w.a_booking);
    snprintf(msg, sizeof msg, "Booking with id %s not found", w.a_booking);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);

    /* the tenant routes show B's own tenant only */
    e2e_call(&r, &w.b, "GET", "/tenants", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), w.b.id);
    assert_mentions_none(&r, &w);
    e2e_free(&r);
    e2e_call(&r, &w.b, "GET", "/tenants/me", NULL);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "id"), w.b.id);
    e2e_free(&r);
    if (users) {
        e2e_callf(&r, &w.b, "GET", NULL, "/tenants/by-user/%s", w.a.user_id);
        e2e_expect_error(&r, 404, "Tenant not found");
        e2e_free(&r);
    }

    /* A sees its own, of course */
    e2e_callf(&r, &w.a, "GET", NULL, "/leads/%s", w.a_lead);
    e2e_expect(&r, 200);
    e2e_free(&r);
    e2e_call(&r, &w.a, "GET", "/leads/stats", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 2);
    ck_assert_int_eq(e2e_int(r.json, "confirmed"), 1);
    e2e_free(&r);
}

START_TEST(t_reads_are_isolated_keys)
{
    reads_are_isolated(0);
}
END_TEST

START_TEST(t_reads_are_isolated_users)
{
    reads_are_isolated(1);
}
END_TEST

static void writes_are_isolated(int users)
{
    struct world w;
    world_new(&w, users);
    char before[65536], after[65536];
    snapshot(w.a.id, before, sizeof before);
    long b_leads = e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", w.b.id, E2E_END);
    struct e2e_resp r;

    /* a lead for A's agent */
    char body[512], when[40], msg[128];
    e2e_iso_from_now(3600, when);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Intruder\",\"email\":\"x@example.com\","
             "\"scheduledAt\":\"%s\"}",
             w.a.agent_id, when);
    e2e_call(&r, &w.b, "POST", "/leads", body);
    snprintf(msg, sizeof msg, "Agent with id %s not found", w.a.agent_id);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);

    e2e_callf(&r, &w.b, "PATCH", "{\"status\":\"CANCELLED\"}", "/bookings/%s/status", w.a_booking);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);

    e2e_callf(&r, &w.b, "PATCH", "{\"name\":\"Hijacked\"}", "/agents/%s", w.a.agent_id);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);

    char move[128];
    e2e_iso_from_now(7200, when);
    snprintf(move, sizeof move, "{\"scheduledAt\":\"%s\"}", when);
    e2e_callf(&r, &w.b, "PATCH", move, "/bookings/%s", w.a_booking);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);

    /* with an Idempotency-Key that A used: B's own key space, so B's request is judged on
     * its own and A's stored answer never shows */
    char headers[2600];
    snprintf(headers, sizeof headers, "%sIdempotency-Key: shared-key-%s\r\n", w.a.auth, w.a.id);
    char path[128];
    snprintf(path, sizeof path, "/bookings/%s/status", w.a_booking);
    e2e_raw(&r, headers, "PATCH", path, "{\"status\":\"CONFIRMED\"}", 22);
    e2e_expect(&r, 200);
    e2e_free(&r);
    snprintf(headers, sizeof headers, "%sIdempotency-Key: shared-key-%s\r\n", w.b.auth, w.a.id);
    e2e_raw(&r, headers, "PATCH", path, "{\"status\":\"CONFIRMED\"}", 22);
    e2e_expect_error(&r, 404, NULL);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 0);
    e2e_free(&r);

    e2e_callf(&r, &w.b, "DELETE", NULL, "/agents/%s", w.a.agent_id);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_callf(&r, &w.b, "DELETE", NULL, "/agents/%s", w.a_agent2);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);

    snapshot(w.a.id, after, sizeof after);
    ck_assert_str_eq(after, before);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", w.b.id, E2E_END), b_leads);
}

START_TEST(t_writes_are_isolated_keys)
{
    writes_are_isolated(0);
}
END_TEST

START_TEST(t_writes_are_isolated_users)
{
    writes_are_isolated(1);
}
END_TEST

static void foreign_tenant_id_is_403(int users)
{
    struct world w;
    world_new(&w, users);
    char before[65536], after[65536];
    snapshot(w.a.id, before, sizeof before);
    struct e2e_resp r;
    char body[512], when[40];

    /* every authenticated route with ?tenantId=<A> used with B's key */
    struct {
        const char *method;
        char path[256];
        const char *body;
    } calls[16];
    int n = 0;
    e2e_iso_from_now(3600, when);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"B lead\",\"email\":\"b@example.com\","
             "\"scheduledAt\":\"%s\"}",
             w.b.agent_id, when);
#define ADD(m, b, ...)                                                                             \
    do {                                                                                           \
        calls[n].method = (m);                                                                     \
        calls[n].body = (b);                                                                       \
        snprintf(calls[n].path, sizeof calls[n].path, __VA_ARGS__);                                \
        n++;                                                                                       \
    } while (0)
    ADD("GET", NULL, "/leads?tenantId=%s", w.a.id);
    ADD("GET", NULL, "/leads/stats?tenantId=%s", w.a.id);
    ADD("GET", NULL, "/leads/%s?tenantId=%s", w.b_lead, w.a.id);
    ADD("POST", body, "/leads?tenantId=%s", w.a.id);
    ADD("GET", NULL, "/agents?tenantId=%s", w.a.id);
    ADD("GET", NULL, "/agents/%s?tenantId=%s", w.b.agent_id, w.a.id);
    ADD("GET", NULL, "/agents/by-link/%s?tenantId=%s", w.b.agent_link, w.a.id);
    ADD("PATCH", "{\"name\":\"Renamed\"}", "/agents/%s?tenantId=%s", w.b.agent_id, w.a.id);
    ADD("DELETE", NULL, "/agents/%s?tenantId=%s", w.a.agent_id, w.a.id);
    ADD("GET", NULL, "/bookings/%s/events?tenantId=%s", w.a_booking, w.a.id);
    ADD("GET", NULL, "/tenants?tenantId=%s", w.a.id);
    ADD("GET", NULL, "/tenants/me?tenantId=%s", w.a.id);
    ADD("PATCH", "{\"name\":\"Renamed\"}", "/tenants/me?tenantId=%s", w.a.id);
#undef ADD
    for (int i = 0; i < n; i++) {
        e2e_call(&r, &w.b, calls[i].method, calls[i].path, calls[i].body);
        ck_assert_msg(r.status == 403, "%s %s: expected 403, got %d: %s", calls[i].method,
                      calls[i].path, r.status, r.raw.body);
        e2e_expect_error(&r, 403, NULL);
        e2e_free(&r);
    }
    /* PATCH of a booking with ?tenantId=<A> */
    e2e_callf(&r, &w.b, "PATCH", "{\"status\":\"CANCELLED\"}", "/bookings/%s/status?tenantId=%s",
              w.a_booking, w.a.id);
    ck_assert_msg(r.status == 403 || r.status == 404, "got %d", r.status);
    e2e_free(&r);
    snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
    e2e_callf(&r, &w.b, "PATCH", body, "/bookings/%s?tenantId=%s", w.a_booking, w.a.id);
    ck_assert_msg(r.status == 403 || r.status == 404, "got %d", r.status);
    e2e_free(&r);

    /* a tenantId in the POST /agents body */
    snprintf(body, sizeof body,
             "{\"name\":\"Spy\",\"knowledge\":\"Knows nothing useful.\",\"tenantId\":\"%s\"}",
             w.a.id);
    e2e_call(&r, &w.b, "POST", "/agents", body);
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);

    snapshot(w.a.id, after, sizeof after);
    ck_assert_str_eq(after, before);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM agents WHERE tenant_id = $1", w.b.id, E2E_END), 1);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", w.b.id, E2E_END), 1);
    char name[128];
    e2e_sql_value(name, sizeof name, "SELECT name FROM agents WHERE id = $1", w.b.agent_id,
                  E2E_END);
    ck_assert_str_eq(name, "Agent Smith");

    /* the caller's own tenantId is fine */
    e2e_callf(&r, &w.b, "GET", NULL, "/leads?tenantId=%s", w.b.id);
    e2e_expect(&r, 200);
    e2e_free(&r);
    /* a malformed tenantId is a 400 or a 403, never data */
    e2e_call(&r, &w.b, "GET", "/leads?tenantId=not-a-uuid", NULL);
    ck_assert_msg(r.status == 400 || r.status == 403, "got %d", r.status);
    e2e_free(&r);
}

START_TEST(t_foreign_tenant_id_is_403_keys)
{
    foreign_tenant_id_is_403(0);
}
END_TEST

START_TEST(t_foreign_tenant_id_is_403_users)
{
    foreign_tenant_id_is_403(1);
}
END_TEST

START_TEST(t_unknown_and_malformed_credentials)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Isolation creds", 0);
    struct e2e_resp r;
    char h[512];
    const char *bad[] = {
        "Authorization: Bearer lbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n",
        "Authorization: Bearer\r\n",
        "Authorization: Token %s\r\n",
        "Authorization: Bearer  %s\r\n", /* two spaces */
        "Authorization: Bearer%s\r\n",
        "Authorization: Bearer %s extra\r\n",
        "Authorization: Bearer %s,%s\r\n",
        "Authorization: Bearer \"%s\"\r\n",
        "Authorization: %s\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(h, sizeof h, bad[i], t.key, t.key);
        e2e_raw(&r, h, "GET", "/agents", NULL, 0);
        ck_assert_msg(r.status == 401, "%s -> %d", h, r.status);
        e2e_expect_401(&r);
        e2e_free(&r);
    }
    /* the scheme is case-insensitive (RFC 9110 11.1) */
    const char *schemes[] = {"bearer", "BEARER", "Bearer"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(h, sizeof h, "Authorization: %s %s\r\n", schemes[i], t.key);
        e2e_raw(&r, h, "GET", "/agents", NULL, 0);
        e2e_expect(&r, 200);
        e2e_free(&r);
    }
    /* a key differing in one character */
    char other[128];
    snprintf(other, sizeof other, "%s", t.key);
    size_t kl = strlen(other);
    other[kl - 1] = other[kl - 1] == 'A' ? 'B' : 'A';
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", other);
    e2e_raw(&r, h, "GET", "/agents", NULL, 0);
    e2e_expect_401(&r);
    e2e_free(&r);
}
END_TEST

/* nginx's own 401: status, WWW-Authenticate: Bearer, X-Request-Id, the exact NestJS body. */
static void expect_nginx_401(const struct e2e_resp *r)
{
    char v[256];
    ck_assert_msg(r->status == 401, "expected 401, got %d: %s", r->status, r->raw.body);
    ck_assert_ptr_nonnull(e2e_header(r, "WWW-Authenticate", v, sizeof v));
    ck_assert_msg(strncmp(v, "Bearer", 6) == 0, "WWW-Authenticate: %s", v);
    ck_assert_ptr_nonnull(e2e_header(r, "X-Request-Id", v, sizeof v));
    ck_assert_ptr_nonnull(e2e_header(r, "Content-Type", v, sizeof v));
    ck_assert_msg(strncmp(v, "application/json", 16) == 0, "Content-Type %s", v);
    ck_assert_str_eq(r->raw.body, "{\"statusCode\":401,\"message\":\"Unauthorized\",\"error\":"
                                  "\"Unauthorized\"}");
}

START_TEST(t_missing_authorization_nginx)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Isolation missing", 0);
    char lead[37], bid[37];
    e2e_lead_new(&t, NULL, "L", 3600, lead, bid, NULL);
    struct e2e_resp r;
    char path[256];
    const char *paths[] = {"/leads", "/leads/stats", "/agents", "/leads/%s", "/agents/%s"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        snprintf(path, sizeof path, paths[i], i == 3 ? lead : t.agent_id);
        e2e_raw(&r, NULL, "GET", path, NULL, 0);
        expect_nginx_401(&r);
        ck_assert_str_eq(r.raw.body, "{\"statusCode\":401,\"message\":\"Unauthorized\",\"error\":"
                                     "\"Unauthorized\"}");
        e2e_free(&r);
    }
    snprintf(path, sizeof path, "/bookings/%s/status", bid);
    e2e_raw(&r, NULL, "PATCH", path, "{\"status\":\"CONFIRMED\"}", 22);
    expect_nginx_401(&r);
    e2e_free(&r);
    e2e_raw(&r, "Authorization: \r\n", "GET", "/agents", NULL, 0);
    expect_nginx_401(&r);
    e2e_free(&r);
    /* the meeting path is public for GET/HEAD only */
    snprintf(path, sizeof path, "/bookings/meeting/%s", bid);
    e2e_raw(&r, NULL, "DELETE", path, NULL, 0);
    expect_nginx_401(&r);
    e2e_free(&r);
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", bid, E2E_END);
    ck_assert_str_eq(st, "PENDING");
}
END_TEST

/* API.md: every JSON answer is "application/json; charset=utf-8", nginx's own errors too. */
START_TEST(t_nginx_401_content_type)
{
    struct e2e_resp r;
    e2e_raw(&r, NULL, "GET", "/leads", NULL, 0);
    e2e_expect_401(&r);
    e2e_free(&r);
}
END_TEST

START_TEST(t_revoked_key)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Isolation revoke", 0);
    char auth2[200], key2[37];
    e2e_key_new(&t, auth2, sizeof auth2, key2);
    struct e2e_resp r;
    /* warm every worker's cache with the key */
    for (int i = 0; i < 24; i++) {
        e2e_raw(&r, auth2, "GET", "/agents", NULL, 0);
        e2e_expect(&r, 200);
        e2e_free(&r);
    }
    json_object *o = e2e_ctl("key", "revoke", key2, E2E_END);
    json_object_put(o);
    /* the very next request, and every one after it, in whichever worker */
    for (int i = 0; i < 24; i++) {
        e2e_raw(&r, auth2, "GET", "/agents", NULL, 0);
        ck_assert_msg(r.status == 401, "request %d after revoke: %d", i, r.status);
        e2e_expect_401(&r);
        e2e_free(&r);
    }
    /* the tenant's other key still works */
    e2e_call(&r, &t, "GET", "/agents", NULL);
    e2e_expect(&r, 200);
    e2e_free(&r);
    /* a revoked key cannot write either */
    char path[128];
    snprintf(path, sizeof path, "/agents/%s", t.agent_id);
    e2e_raw(&r, auth2, "DELETE", path, NULL, 0);
    e2e_expect_401(&r);
    e2e_free(&r);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM agents WHERE id = $1", t.agent_id, E2E_END),
                     1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_isolation");
    TCase *tc = e2e_tcase("isolation", 120);
    tcase_add_test(tc, t_reads_are_isolated_keys);
    tcase_add_test(tc, t_reads_are_isolated_users);
    tcase_add_test(tc, t_writes_are_isolated_keys);
    tcase_add_test(tc, t_writes_are_isolated_users);
    tcase_add_test(tc, t_foreign_tenant_id_is_403_keys);
    tcase_add_test(tc, t_foreign_tenant_id_is_403_users);
    tcase_add_test(tc, t_unknown_and_malformed_credentials);
    tcase_add_test(tc, t_missing_authorization_nginx);
    tcase_add_test(tc, t_nginx_401_content_type);
    tcase_add_test(tc, t_revoked_key);
    suite_add_tcase(s, tc);
    return e2e_main("isolation", s);
}
