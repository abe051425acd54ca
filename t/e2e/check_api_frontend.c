/* check_api_frontend: the product's web frontend against leadbook, through nginx, with the
 * headers it sends (API.md "Serving the web frontend"): sign-in with a new user's token,
 * provisioning its tenant, agents, the booking page of two tenants with the booking-page key,
 * the meeting page, the leads table, the stat cards and a status change; then the rules around
 * it: who may call what (403s), tenant routes, concurrent sign-ups, revocation however it
 * happens, and keys re-read on SIGHUP. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

#define VISITOR_A "X-Forwarded-For: 198.51.100.7\r\n"
#define VISITOR_B "X-Forwarded-For: 203.0.113.9\r\n"

/* The booking page's calls: the booking-page key, the visitor's address, a fresh
 * Idempotency-Key per submitted form. */
static void booking_page_book(const char *booking_auth, const char *visitor, const char *link,
                              char tenant_out[37], char booking_out[37], char token_out[37])
{
    char headers[1024];
    struct e2e_resp r;
    snprintf(headers, sizeof headers, "%s%s", booking_auth, visitor);
    char path[128];
    snprintf(path, sizeof path, "/agents/by-link/%s", link);
    e2e_raw(&r, headers, "GET", path, NULL, 0);
    e2e_expect(&r, 200);
    e2e_check_agent(r.json);
    char agent[37];
    snprintf(agent, sizeof agent, "%s", e2e_str(r.json, "id"));
    snprintf(tenant_out, 37, "%s", e2e_str(r.json, "tenantId"));
    e2e_free(&r);

    char when[40], body[512];
    e2e_iso_from_now(2 * 86400, when);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Pat Prospect\",\"email\":\"pat@example.com\","
             "\"scheduledAt\":\"%s\"}",
             agent, when);
    snprintf(headers, sizeof headers, "%s%sIdempotency-Key: 5d2f6f0e-1b7c-4a53-9a61-%012lx\r\n",
             booking_auth, visitor, (unsigned long)random());
    e2e_raw(&r, headers, "POST", "/leads", body, strlen(body));
    e2e_expect(&r, 201);
    json_object *lead = e2e_get(r.json, "lead"), *booking = e2e_get(r.json, "booking");
    ck_assert_str_eq(e2e_str(lead, "tenantId"), tenant_out);
    ck_assert_str_eq(e2e_str(booking, "tenantId"), tenant_out);
    ck_assert_str_eq(e2e_str(lead, "agentId"), agent);
    snprintf(booking_out, 37, "%s", e2e_str(booking, "id"));
    snprintf(token_out, 37, "%s", e2e_str(r.json, "meetingToken"));
    e2e_free(&r);
}

/* What the dashboard does after sign-in, for one user: tenant by user (404), create it,
 * agents (none), create one. */
static void dashboard_signup(struct e2e_tenant *u, const char *name)
{
    struct e2e_resp r;
    e2e_callf(&r, u, "GET", NULL, "/tenants/by-user/%s", u->user_id);
    e2e_expect_error(&r, 404, "Tenant not found");
    e2e_free(&r);

    char body[512];
    snprintf(body, sizeof body, "{\"userId\":\"%s\",\"name\":\"%s\"}", u->user_id, name);
    e2e_call(&r, u, "POST", "/tenants", body);
    e2e_expect(&r, 201);
    e2e_keys(r.json, "id", "name", "userId", "createdAt", "updatedAt", E2E_END);
    ck_assert_str_eq(e2e_str(r.json, "userId"), u->user_id);
    ck_assert_str_eq(e2e_str(r.json, "name"), name);
    snprintf(u->id, sizeof u->id, "%s", e2e_str(r.json, "id"));
    e2e_free(&r);

    e2e_callf(&r, u, "GET", NULL, "/tenants/by-user/%s", u->user_id);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "id"), u->id);
    e2e_free(&r);

    e2e_callf(&r, u, "GET", NULL, "/agents?tenantId=%s", u->id);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 0);
    e2e_free(&r);

    e2e_call(&r, u, "POST", "/agents",
             "{\"name\":\"Front Desk\",\"knowledge\":\"Opening hours are nine to five.\"}");
    e2e_expect(&r, 201);
    e2e_check_agent(r.json);
    ck_assert_str_eq(e2e_str(r.json, "tenantId"), u->id);
    snprintf(u->agent_id, sizeof u->agent_id, "%s", e2e_str(r.json, "id"));
    snprintf(u->agent_link, sizeof u->agent_link, "%s", e2e_str(r.json, "publicLink"));
    e2e_free(&r);

    e2e_callf(&r, u, "GET", NULL, "/agents?tenantId=%s", u->id);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    e2e_free(&r);
}

START_TEST(t_frontend_sequence)
{
    struct e2e_tenant ua, ub;
    e2e_user_new(&ua, "ES256");
    e2e_user_new(&ub, "RS256");
    dashboard_signup(&ua, "Acme Realty");
    dashboard_signup(&ub, "Bolt Homes");

    char booking_auth[256];
    e2e_booking_key_new(booking_auth, sizeof booking_auth, NULL);
    char tenant[37], booking_a[37], token_a[37], booking_b[37], token_b[37];
    booking_page_book(booking_auth, VISITOR_A, ua.agent_link, tenant, booking_a, token_a);
    ck_assert_str_eq(tenant, ua.id);
    booking_page_book(booking_auth, VISITOR_B, ub.agent_link, tenant, booking_b, token_b);
    ck_assert_str_eq(tenant, ub.id);

    /* the meeting page: no credential */
    struct e2e_resp r;
    e2e_meeting(&r, token_a, NULL);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "id"), booking_a);
    e2e_free(&r);

    /* the leads table and the stat cards of each tenant show its own booking only */
    const struct e2e_tenant *users[] = {&ua, &ub};
    const char *bookings[] = {booking_a, booking_b};
    for (int i = 0; i < 2; i++) {
        const struct e2e_tenant *u = users[i];
        e2e_callf(&r, u, "GET", NULL, "/leads?tenantId=%s&agentId=%s", u->id, u->agent_id);
        e2e_expect(&r, 200);
        ck_assert_int_eq(json_object_array_length(r.json), 1);
        json_object *lead = json_object_array_get_idx(r.json, 0);
        e2e_check_lead_full(lead);
        json_object *b = json_object_array_get_idx(e2e_get(lead, "bookings"), 0);
        ck_assert_str_eq(e2e_str(b, "id"), bookings[i]);
        e2e_free(&r);

        e2e_callf(&r, u, "GET", NULL, "/leads/stats?tenantId=%s&agentId=%s", u->id, u->agent_id);
        e2e_expect(&r, 200);
        ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 1);
        ck_assert_int_eq(e2e_int(r.json, "total"), 1);
        ck_assert_int_eq(e2e_int(r.json, "upcoming"), 1);
        e2e_free(&r);
    }

    /* a status change from the dashboard, recorded as the user's */
    ck_assert_int_eq(e2e_set_status(&ua, booking_a, "CONFIRMED"), 200);
    char actor[300];
    e2e_sql_value(actor, sizeof actor,
                  "SELECT actor || ' ' || actor_id FROM booking_events WHERE booking_id = $1 "
                  "AND to_status = 'CONFIRMED'",
                  booking_a, E2E_END);
    char want[300];
    snprintf(want, sizeof want, "user %s", ua.user_id);
    ck_assert_str_eq(actor, want);
    /* and the creation as the booking-page key's */
    e2e_sql_value(actor, sizeof actor,
                  "SELECT e.actor || ' ' || k.scope FROM booking_events e JOIN api_keys k ON "
                  "k.id::text = e.actor_id WHERE e.booking_id = $1 AND e.from_status IS NULL",
                  booking_a, E2E_END);
    ck_assert_str_eq(actor, "key booking_page");

    /* the other user cannot touch it */
    ck_assert_int_eq(e2e_set_status(&ub, booking_a, "CANCELLED"), 404);
    e2e_callf(&r, &ua, "GET", NULL, "/leads/stats?tenantId=%s", ub.id);
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);
}
END_TEST

/* The booking-page key may call only the booking page's two routes (and the public path). */
START_TEST(t_booking_page_scope)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Scope", 0);
    char lead[37], booking[37];
    e2e_lead_new(&t, NULL, "Scoped", 3600, lead, booking, NULL);
    struct e2e_tenant bp;
    memset(&bp, 0, sizeof bp);
    e2e_booking_key_new(bp.auth, sizeof bp.auth, NULL);
    const char *paths[][2] = {
        {"GET", "/leads"},   {"GET", "/leads/stats"}, {"GET", "/agents"},   {"POST", "/agents"},
        {"GET", "/tenants"}, {"GET", "/tenants/me"},  {"POST", "/tenants"}, {"GET", NULL},
        {"PATCH", NULL},     {"DELETE", NULL},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct e2e_resp r;
        const char *body = strcmp(paths[i][0], "GET") && strcmp(paths[i][0], "DELETE")
                               ? "{\"status\":\"CANCELLED\"}"
                               : NULL;
        if (paths[i][1])
            e2e_call(&r, &bp, paths[i][0], paths[i][1], body);
        else if (strcmp(paths[i][0], "GET") == 0)
            e2e_callf(&r, &bp, "GET", NULL, "/leads/%s", lead);
        else if (strcmp(paths[i][0], "PATCH") == 0)
            e2e_callf(&r, &bp, "PATCH", body, "/bookings/%s/status", booking);
        else
            e2e_callf(&r, &bp, "DELETE", NULL, "/agents/%s", t.agent_id);
        e2e_expect_error(&r, 403, "This key may only be used by the booking page");
        e2e_free(&r);
    }
    /* nothing changed */
    char status[16];
    e2e_sql_value(status, sizeof status, "SELECT status FROM bookings WHERE id = $1", booking,
                  E2E_END);
    ck_assert_str_eq(status, "PENDING");
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM agents WHERE id = $1", t.agent_id, E2E_END),
                     1);
    /* an unknown agent or link: 404 */
    struct e2e_resp r;
    e2e_call(&r, &bp, "GET", "/agents/by-link/00000000-0000-4000-8000-000000000000", NULL);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    char when[40], body[512];
    e2e_iso_from_now(3600, when);
    snprintf(body, sizeof body,
             "{\"agentId\":\"00000000-0000-4000-8000-000000000000\",\"name\":\"N\","
             "\"email\":\"n@example.com\",\"scheduledAt\":\"%s\"}",
             when);
    e2e_call(&r, &bp, "POST", "/leads", body);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
}
END_TEST

/* A signed-in user without a tenant: only the three sign-up routes. */
START_TEST(t_user_without_tenant)
{
    struct e2e_tenant u, other;
    e2e_user_new(&u, NULL);
    e2e_user_new(&other, NULL);
    struct e2e_resp r;
    e2e_call(&r, &u, "GET", "/tenants/me", NULL);
    e2e_expect_error(&r, 404, "Tenant not found");
    e2e_free(&r);
    const char *forbidden[][2] = {{"GET", "/agents"},       {"GET", "/leads"},
                                  {"GET", "/leads/stats"},  {"GET", "/tenants"},
                                  {"PATCH", "/tenants/me"}, {"POST", "/agents"}};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        e2e_call(&r, &u, forbidden[i][0], forbidden[i][1],
                 strcmp(forbidden[i][0], "GET") ? "{\"name\":\"X\"}" : NULL);
        char want[200];
        snprintf(want, sizeof want, "No tenant for user %s: create it with POST /tenants",
                 u.user_id);
        e2e_expect_error(&r, 403, want);
        e2e_free(&r);
    }
    /* POST /tenants: validation first, then the userId must be the caller's own */
    e2e_call(&r, &u, "POST", "/tenants", "{\"userId\":\"\",\"name\":\"  \"}");
    e2e_expect_messages(&r, "userId should not be empty", "name should not be empty", E2E_END);
    e2e_free(&r);
    char body[512];
    snprintf(body, sizeof body, "{\"userId\":\"%s\",\"name\":\"Not mine\"}", other.user_id);
    e2e_call(&r, &u, "POST", "/tenants", body);
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);
    snprintf(body, sizeof body, "{\"userId\":\"%s\",\"name\":\"x\",\"plan\":\"pro\"}", u.user_id);
    e2e_call(&r, &u, "POST", "/tenants", body);
    e2e_expect_messages(&r, "property plan should not exist", E2E_END);
    e2e_free(&r);
    /* another user's id: not one of the three sign-up calls (403) */
    e2e_callf(&r, &u, "GET", NULL, "/tenants/by-user/%s", other.user_id);
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);

    e2e_user_signup(&u, "  Trimmed Name  ");
    e2e_call(&r, &u, "GET", "/tenants/me", NULL);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "name"), "Trimmed Name");
    e2e_free(&r);
    /* the same user again: 409 as the old service answered, and still one tenant */
    snprintf(body, sizeof body, "{\"userId\":\"%s\",\"name\":\"Twice\"}", u.user_id);
    e2e_call(&r, &u, "POST", "/tenants", body);
    e2e_expect_error(&r, 409, "Tenant already exists for this user");
    e2e_free(&r);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM tenants WHERE user_id = $1", u.user_id, E2E_END), 1);
    /* with a tenant now, another user's id is answered like a stranger's (404) */
    e2e_callf(&r, &u, "GET", NULL, "/tenants/by-user/%s", other.user_id);
    e2e_expect_error(&r, 404, "Tenant not found");
    e2e_free(&r);
    /* a tenantId of another tenant: 403, as on every route */
    e2e_callf(&r, &u, "GET", NULL, "/tenants/me?tenantId=%s",
              "00000000-0000-4000-8000-000000000000");
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);
    /* GET /tenants: only the caller's; PATCH /tenants/me renames it */
    e2e_call(&r, &u, "GET", "/tenants", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), u.id);
    e2e_free(&r);
    e2e_call(&r, &u, "PATCH", "/tenants/me", "{\"name\":\"Renamed\"}");
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "name"), "Renamed");
    e2e_free(&r);
}
END_TEST

/* A tenant key on the tenant routes: its own tenant only; POST /tenants is for users. */
START_TEST(t_tenant_routes_with_key)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Keyed", 0);
    e2e_sql("UPDATE tenants SET user_id = 'keyed-user-' || id::text WHERE id = $1", t.id, E2E_END);
    struct e2e_resp r;
    e2e_callf(&r, &t, "GET", NULL, "/tenants/by-user/keyed-user-%s", t.id);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "id"), t.id);
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/tenants/by-user/someone-else", NULL);
    e2e_expect_error(&r, 404, "Tenant not found");
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/tenants/me", NULL);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "id"), t.id);
    e2e_free(&r);
    e2e_call(&r, &t, "POST", "/tenants", "{\"userId\":\"u-1\",\"name\":\"By key\"}");
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM tenants WHERE user_id = 'u-1'", E2E_END),
                     0);
}
END_TEST

/* Two (and more) concurrent POST /tenants for one user create one tenant. */
START_TEST(t_concurrent_signup)
{
    for (int round = 0; round < 5; round++) {
        struct e2e_tenant u;
        e2e_user_new(&u, NULL);
        char body[512];
        snprintf(body, sizeof body, "{\"userId\":\"%s\",\"name\":\"Race %d\"}", u.user_id, round);
        enum { N = 8 };
        pid_t kids[N];
        for (int i = 0; i < N; i++) {
            kids[i] = fork();
            ck_assert_int_ge(kids[i], 0);
            if (kids[i] == 0) {
                struct e2e_resp r;
                int st = e2e_call(&r, &u, "POST", "/tenants", body);
                _exit(st == 201 ? 1 : st == 409 ? 2 : 3);
            }
        }
        int created = 0, conflicts = 0;
        for (int i = 0; i < N; i++) {
            int ws;
            ck_assert_int_eq(waitpid(kids[i], &ws, 0), kids[i]);
            ck_assert(WIFEXITED(ws));
            created += WEXITSTATUS(ws) == 1;
            conflicts += WEXITSTATUS(ws) == 2;
        }
        ck_assert_int_eq(created, 1);
        ck_assert_int_eq(conflicts, N - 1);
        ck_assert_int_eq(
            e2e_sql_long("SELECT count(*) FROM tenants WHERE user_id = $1", u.user_id, E2E_END), 1);
    }
}
END_TEST

/* Every worker must refuse the credential on the very next request: the stack has 4 workers,
 * and 20 requests in a row reach them all. */
static void expect_refused_everywhere(const struct e2e_tenant *who, const char *path, int status)
{
    for (int i = 0; i < 20; i++) {
        struct e2e_resp r;
        e2e_call(&r, who, "GET", path, NULL);
        if (status == 401)
            e2e_expect_401(&r);
        else
            e2e_expect_error(&r, status, NULL);
        e2e_free(&r);
    }
}

static void warm_every_worker(const struct e2e_tenant *who, const char *path)
{
    for (int i = 0; i < 20; i++) {
        struct e2e_resp r;
        e2e_call(&r, who, "GET", path, NULL);
        e2e_expect(&r, 200);
        e2e_free(&r);
    }
}

START_TEST(t_revocation_however_it_happens)
{
    /* a tenant key revoked by a plain UPDATE */
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Revoked by SQL", 0);
    warm_every_worker(&t, "/agents");
    e2e_sql("UPDATE api_keys SET revoked_at = now() WHERE id = $1", t.key_id, E2E_END);
    expect_refused_everywhere(&t, "/agents", 401);

    /* a key deleted by SQL (it has made a booking: the history keeps its id) */
    struct e2e_tenant d;
    e2e_tenant_new(&d, "Deleted by SQL", 0);
    e2e_lead_new(&d, NULL, "Booked before deletion", 3600, NULL, NULL, NULL);
    warm_every_worker(&d, "/agents");
    e2e_sql("DELETE FROM api_keys WHERE id = $1", d.key_id, E2E_END);
    expect_refused_everywhere(&d, "/agents", 401);

    /* the booking-page key revoked by SQL */
    struct e2e_tenant bp, owner;
    memset(&bp, 0, sizeof bp);
    char bp_id[37];
    e2e_booking_key_new(bp.auth, sizeof bp.auth, bp_id);
    e2e_tenant_new(&owner, "Booking page owner", 0);
    char path[128];
    snprintf(path, sizeof path, "/agents/by-link/%s", owner.agent_link);
    warm_every_worker(&bp, path);
    e2e_sql("UPDATE api_keys SET revoked_at = now() WHERE id = $1", bp_id, E2E_END);
    expect_refused_everywhere(&bp, path, 401);

    /* a tenant deleted: its key is refused, its signed-in user has no tenant any more */
    struct e2e_tenant u;
    e2e_user_new(&u, NULL);
    e2e_user_signup(&u, "Short-lived");
    struct e2e_tenant k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "%s", u.id);
    e2e_key_new(&k, k.auth, sizeof k.auth, k.key_id);
    warm_every_worker(&u, "/agents");
    warm_every_worker(&k, "/agents");
    e2e_sql("DELETE FROM tenants WHERE id = $1", u.id, E2E_END);
    expect_refused_everywhere(&k, "/agents", 401);
    expect_refused_everywhere(&u, "/agents", 403);
    struct e2e_resp r;
    e2e_call(&r, &u, "GET", "/tenants/me", NULL);
    e2e_expect_error(&r, 404, "Tenant not found");
    e2e_free(&r);
}
END_TEST

/* Refused tokens get 401 with error="invalid_token"; all three algorithms are accepted. */
START_TEST(t_token_kinds)
{
    const char *algs[] = {"ES256", "RS256", "HS256"};
    for (size_t i = 0; i < 3; i++) {
        struct e2e_tenant u;
        e2e_user_new(&u, algs[i]);
        struct e2e_resp r;
        e2e_call(&r, &u, "GET", "/tenants/me", NULL);
        e2e_expect_error(&r, 404, "Tenant not found");
        e2e_free(&r);
    }
    struct e2e_tenant u;
    e2e_user_new(&u, NULL);
    char token[1900];
    e2e_token(token, sizeof token, "ES256", u.user_id, -60); /* expired beyond the leeway */
    snprintf(u.auth, sizeof u.auth, "Authorization: Bearer %s\r\n", token);
    struct e2e_resp r;
    e2e_call(&r, &u, "GET", "/tenants/me", NULL);
    e2e_expect_401(&r);
    char h[256];
    ck_assert_ptr_nonnull(e2e_header(&r, "WWW-Authenticate", h, sizeof h));
    ck_assert_ptr_nonnull(strstr(h, "error=\"invalid_token\""));
    e2e_free(&r);
    /* an anon key of the provider (no sub, role anon) is not a user */
    long long now = (long long)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"iss\":\"%s\",\"role\":\"anon\",\"aud\":\"authenticated\",\"iat\":%lld,"
             "\"exp\":%lld}",
             E2E_JWT_ISSUER, now, now + 3600);
    e2e_token_claims(token, sizeof token, "HS256", NULL, NULL, claims);
    snprintf(u.auth, sizeof u.auth, "Authorization: Bearer %s\r\n", token);
    e2e_call(&r, &u, "GET", "/tenants/me", NULL);
    e2e_expect_401(&r);
    e2e_free(&r);
}
END_TEST

/* Keys are re-read on SIGHUP: a token of a key added to the JWKS file verifies only after the
 * reload, and the old key keeps working when it stays in the file. */
START_TEST(t_keys_reread_on_sighup)
{
    char pem[400];
    snprintf(pem, sizeof pem, "%s/rotated.pem", e2e_jwt_dir());
    ck_assert_int_eq(e2e_keygen_pem("EC", pem), 0);
    struct e2e_tenant u, old;
    e2e_user_new(&u, NULL);
    e2e_user_new(&old, NULL);
    long long now = (long long)time(NULL);
    char claims[512], token[1900];
    snprintf(claims, sizeof claims,
             "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":[\"authenticated\"],"
             "\"role\":\"authenticated\",\"iat\":%lld,\"exp\":%lld}",
             E2E_JWT_ISSUER, u.user_id, now, now + 3600);
    e2e_token_claims(token, sizeof token, "ES256", "e2e-ec-rotated", pem, claims);
    snprintf(u.auth, sizeof u.auth, "Authorization: Bearer %s\r\n", token);
    struct e2e_resp r;
    e2e_call(&r, &u, "GET", "/tenants/me", NULL);
    e2e_expect_401(&r);
    e2e_free(&r);

    char ec[400], rsa[400];
    snprintf(ec, sizeof ec, "%s/ec.pem", e2e_jwt_dir());
    snprintf(rsa, sizeof rsa, "%s/rsa.pem", e2e_jwt_dir());
    const char *pems[] = {ec, rsa, pem};
    const char *kids[] = {E2E_JWT_KID, E2E_JWT_RSA_KID, "e2e-ec-rotated"};
    ck_assert_int_eq(e2e_write_jwks(pems, kids, 3), 0);
    int reloads = stack_log_count(&e2e_stack, "event=reload ");
    ck_assert_int_eq(kill(e2e_stack.master, SIGHUP), 0);
    for (int i = 0; i < 100 && stack_log_count(&e2e_stack, "event=reload ") == reloads; i++)
        stack_sleep_ms(50);
    stack_sleep_ms(500); /* the old workers drain; new ones answer */
    for (int i = 0; i < 20; i++) {
        e2e_call(&r, &u, "GET", "/tenants/me", NULL);
        e2e_expect_error(&r, 404, "Tenant not found");
        e2e_free(&r);
        e2e_call(&r, &old, "GET", "/tenants/me", NULL);
        e2e_expect_error(&r, 404, "Tenant not found");
        e2e_free(&r);
    }
}
END_TEST

int main(void)
{
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    Suite *s = suite_create("api_frontend");
    TCase *tc = e2e_tcase("frontend", 120);
    tcase_add_test(tc, t_frontend_sequence);
    tcase_add_test(tc, t_booking_page_scope);
    tcase_add_test(tc, t_user_without_tenant);
    tcase_add_test(tc, t_tenant_routes_with_key);
    tcase_add_test(tc, t_concurrent_signup);
    tcase_add_test(tc, t_revocation_however_it_happens);
    tcase_add_test(tc, t_token_kinds);
    tcase_add_test(tc, t_keys_reread_on_sighup);
    suite_add_tcase(s, tc);
    return e2e_main("frontend", s);
}
