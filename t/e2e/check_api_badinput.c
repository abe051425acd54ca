/* check_api_badinput: a bad-input battery through the real nginx. Every answer is a 4xx with a
 * NestJS-shaped JSON error body (exact validation messages where API.md / jsonx.h define
 * them), never a 5xx; afterwards the service still answers and no worker has died. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "e2e.h"

static struct e2e_tenant T;
static pid_t workers_before[16];
static int nworkers_before;
static char future[40];

static void battery_begin(void)
{
    e2e_tenant_new(&T, "Bad input", 0);
    e2e_iso_from_now(86400, future);
    nworkers_before = stack_workers(&e2e_stack, workers_before, 16);
    ck_assert_int_gt(nworkers_before, 0);
}

/* The service is up and not one worker was replaced. */
static void battery_end(void)
{
    struct e2e_resp r;
    e2e_raw(&r, NULL, "GET", "/healthz", NULL, 0);
    e2e_expect(&r, 200);
    e2e_free(&r);
    pid_t now[16];
    int n = stack_workers(&e2e_stack, now, 16);
    ck_assert_int_eq(n, nworkers_before);
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < nworkers_before; j++)
            found |= now[i] == workers_before[j];
        ck_assert_msg(found, "worker %ld is new: one crashed", (long)now[i]);
    }
    ck_assert_int_eq(stack_log_count(&e2e_stack, "event=worker_exit"), 0);
}

/* Any 4xx with the NestJS shape (nginx's own errors included), never a 5xx. */
static void expect_4xx(const struct e2e_resp *r, int status, const char *what)
{
    ck_assert_msg(r->status == status, "%s: expected %d, got %d: %.300s", what, status, r->status,
                  r->raw.body ? r->raw.body : "(no answer)");
    ck_assert_msg(r->json && json_object_is_type(r->json, json_type_object), "%s: body %.300s",
                  what, r->raw.body);
    json_object *v;
    ck_assert_msg(json_object_object_length(r->json) == 3 &&
                      json_object_object_get_ex(r->json, "statusCode", &v) &&
                      json_object_get_int(v) == status &&
                      json_object_object_get_ex(r->json, "message", NULL) &&
                      json_object_object_get_ex(r->json, "error", NULL),
                  "%s: not a NestJS error: %.300s", what, r->raw.body);
}

static void post(struct e2e_resp *r, const char *path, const char *body)
{
    e2e_call(r, &T, "POST", path, body);
}

/* ---- POST /leads -------------------------------------------------------------------------- */

START_TEST(t_lead_rules)
{
    battery_begin();
    struct e2e_resp r;
    char body[4096];

    post(&r, "/leads", "{}");
    e2e_expect_messages(&r, "agentId must be a UUID", "agentId should not be empty",
                        "name must be a string", "name should not be empty",
                        "email must be an email", "email should not be empty",
                        "scheduledAt must be a valid ISO 8601 date string",
                        "scheduledAt should not be empty", E2E_END);
    e2e_free(&r);

    post(&r, "/leads", "{\"agentId\":null,\"name\":null,\"email\":null,\"scheduledAt\":null}");
    e2e_expect_messages(&r, "agentId must be a UUID", "agentId should not be empty",
                        "name must be a string", "name should not be empty",
                        "email must be an email", "email should not be empty",
                        "scheduledAt must be a valid ISO 8601 date string",
                        "scheduledAt should not be empty", E2E_END);
    e2e_free(&r);

    post(&r, "/leads",
         "{\"agentId\":\"x\",\"name\":\"\",\"email\":\"nope\",\"scheduledAt\":\"tomorrow\"}");
    e2e_expect_messages(&r, "agentId must be a UUID", "name should not be empty",
                        "email must be an email",
                        "scheduledAt must be a valid ISO 8601 date string", E2E_END);
    e2e_free(&r);

    /* wrong types */
    post(&r, "/leads", "{\"agentId\":5,\"name\":7,\"email\":true,\"scheduledAt\":[]}");
    e2e_expect_messages(&r, "agentId must be a UUID", "name must be a string",
                        "email must be an email",
                        "scheduledAt must be a valid ISO 8601 date string", E2E_END);
    e2e_free(&r);

    /* whitespace-only name, past date, date without zone */
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\" \\t \",\"email\":\"a@example.com\","
             "\"scheduledAt\":\"2020-01-01T00:00:00Z\"}",
             T.agent_id);
    post(&r, "/leads", body);
    e2e_expect_messages(&r, "name should not be empty", "scheduledAt must not be in the past",
                        E2E_END);
    e2e_free(&r);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"N\",\"email\":\"a@example.com\","
             "\"scheduledAt\":\"2031-01-01T10:00:00\"}",
             T.agent_id);
    post(&r, "/leads", body);
    e2e_expect_messages(&r, "scheduledAt must be a valid ISO 8601 date string", E2E_END);
    e2e_free(&r);

    /* name: 200 characters are fine (in code points), 201 are not */
    char name[1024];
    size_t o = 0;
    for (int i = 0; i < 201; i++) {
        name[o++] = (char)0xc3; /* é */
        name[o++] = (char)0xa9;
    }
    name[o] = '\0';
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"a@example.com\","
             "\"scheduledAt\":\"%s\"}",
             T.agent_id, name, future);
    post(&r, "/leads", body);
    e2e_expect_messages(&r, "name must be shorter than or equal to 200 characters", E2E_END);
    e2e_free(&r);
    name[400] = '\0';
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"a@example.com\","
             "\"scheduledAt\":\"%s\"}",
             T.agent_id, name, future);
    post(&r, "/leads", body);
    e2e_expect(&r, 201);
    e2e_free(&r);

    /* e-mail: too long, malformed */
    char local[300];
    memset(local, 'a', 250);
    local[250] = '\0';
    const char *emails[] = {
        "a@b", "a b@example.com", "@example.com", "a@@example.com", "a..b@example.com", local};
    for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"agentId\":\"%s\",\"name\":\"N\",\"email\":\"%s%s\","
                 "\"scheduledAt\":\"%s\"}",
                 T.agent_id, emails[i], i == 5 ? "@example.com" : "", future);
        post(&r, "/leads", body);
        e2e_expect_messages(&r, "email must be an email", E2E_END);
        e2e_free(&r);
    }

    /* unknown properties first, in body order */
    snprintf(body, sizeof body,
             "{\"tenantId\":\"%s\",\"agentId\":\"bad\",\"name\":\"N\",\"email\":\"a@example.com\","
             "\"scheduledAt\":\"%s\",\"extra\":1}",
             T.id, future);
    post(&r, "/leads", body);
    e2e_expect_messages(&r, "property tenantId should not exist", "property extra should not exist",
                        "agentId must be a UUID", E2E_END);
    e2e_free(&r);

    /* a NUL character in the name */
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"a\\u0000b\",\"email\":\"a@example.com\","
             "\"scheduledAt\":\"%s\"}",
             T.agent_id, future);
    post(&r, "/leads", body);
    e2e_expect_messages(&r, "name must not contain null characters", E2E_END);
    e2e_free(&r);

    /* an unknown agent of a valid shape */
    snprintf(body, sizeof body,
             "{\"agentId\":\"00000000-0000-4000-8000-000000000000\",\"name\":\"N\","
             "\"email\":\"a@example.com\",\"scheduledAt\":\"%s\"}",
             future);
    post(&r, "/leads", body);
    e2e_expect_error(&r, 404, "Agent with id 00000000-0000-4000-8000-000000000000 not found");
    e2e_free(&r);

    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", T.id, E2E_END),
                     1);
    battery_end();
}
END_TEST

/* ---- agents --------------------------------------------------------------------------------- */

START_TEST(t_agent_rules)
{
    battery_begin();
    struct e2e_resp r;
    char body[2048];

    post(&r, "/agents", "{}");
    e2e_expect_messages(&r, "name must be a string", "name should not be empty",
                        "knowledge must be a string", "knowledge should not be empty", E2E_END);
    e2e_free(&r);

    post(&r, "/agents", "{\"name\":\"\",\"knowledge\":\"short\"}");
    e2e_expect_messages(&r, "name should not be empty",
                        "knowledge must be longer than or equal to 10 characters", E2E_END);
    e2e_free(&r);

    char longname[128];
    memset(longname, 'n', 101);
    longname[101] = '\0';
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"knowledge\":\"Long enough text.\",\"linkExpiryHours\":0}",
             longname);
    post(&r, "/agents", body);
    e2e_expect_messages(&r, "name must be shorter than or equal to 100 characters",
                        "linkExpiryHours must not be less than 1", E2E_END);
    e2e_free(&r);

    struct {
        const char *value;
        const char *msg1, *msg2;
    } hours[] = {
        {"169", "linkExpiryHours must not be greater than 168", NULL},
        {"-5", "linkExpiryHours must not be less than 1", NULL},
        {"24.5", "linkExpiryHours must be an integer number", NULL},
        {"\"24\"", "linkExpiryHours must be an integer number", NULL},
        {"null", "linkExpiryHours must be an integer number", NULL},
        {"true", "linkExpiryHours must be an integer number", NULL},
        {"[24]", "linkExpiryHours must be an integer number", NULL},
        {"1e999", "linkExpiryHours must be an integer number", NULL},
        {"99999999999999999999999", "linkExpiryHours must not be greater than 168", NULL},
        {"-99999999999999999999999", "linkExpiryHours must not be less than 1", NULL},
        {"0.5", "linkExpiryHours must be an integer number",
         "linkExpiryHours must not be less than 1"},
    };
    for (size_t i = 0; i < sizeof hours / sizeof hours[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"name\":\"N\",\"knowledge\":\"Long enough text.\",\"linkExpiryHours\":%s}",
                 hours[i].value);
        post(&r, "/agents", body);
        e2e_expect_messages(&r, hours[i].msg1, hours[i].msg2, E2E_END);
        e2e_free(&r);
    }
    /* 24.0 and 2.4e1 are the integer 24 (JavaScript numbers) */
    post(&r, "/agents",
         "{\"name\":\"N\",\"knowledge\":\"Long enough text.\",\"linkExpiryHours\":2.4e1}");
    e2e_expect(&r, 201);
    ck_assert_int_eq(e2e_int(r.json, "linkExpiryHours"), 24);
    e2e_free(&r);

    post(&r, "/agents", "{\"name\":\"N\",\"knowledge\":\"abc\\u0000defghijkl\",\"x\":1}");
    e2e_expect_messages(&r, "property x should not exist",
                        "knowledge must not contain null characters", E2E_END);
    e2e_free(&r);
    post(&r, "/agents", "{\"name\":\"N\",\"knowledge\":\"Long enough text.\",\"tenantId\":\"t\"}");
    e2e_expect_messages(&r, "tenantId must be a UUID", E2E_END);
    e2e_free(&r);

    /* PATCH: every field optional, the same rules */
    char path[128];
    snprintf(path, sizeof path, "/agents/%s", T.agent_id);
    e2e_call(&r, &T, "PATCH", path, "{\"name\":\"\"}");
    e2e_expect_messages(&r, "name should not be empty", E2E_END);
    e2e_free(&r);
    e2e_call(&r, &T, "PATCH", path, "{\"linkExpiryHours\":null,\"foo\":1}");
    e2e_expect_messages(&r, "property foo should not exist",
                        "linkExpiryHours must be an integer number", E2E_END);
    e2e_free(&r);
    e2e_call(&r, &T, "PATCH", path, "{\"knowledge\":\"tiny\"}");
    e2e_expect_messages(&r, "knowledge must be longer than or equal to 10 characters", E2E_END);
    e2e_free(&r);
    char name[64];
    e2e_sql_value(name, sizeof name, "SELECT name FROM agents WHERE id = $1", T.agent_id, E2E_END);
    ck_assert_str_eq(name, "Agent Smith");
    battery_end();
}
END_TEST

/* ---- bodies -------------------------------------------------------------------------------- */

START_TEST(t_bodies)
{
    battery_begin();
    struct e2e_resp r;

    /* no body at all: the missing fields (API.md: 400, not 415), with or without a type */
    e2e_raw(&r, T.auth, "POST", "/agents", "", 0);
    e2e_expect_messages(&r, "name must be a string", "name should not be empty",
                        "knowledge must be a string", "knowledge should not be empty", E2E_END);
    e2e_free(&r);
    e2e_raw(&r, T.auth, "POST", "/leads", NULL, 0);
    e2e_expect_messages(&r, "agentId must be a UUID", "agentId should not be empty",
                        "name must be a string", "name should not be empty",
                        "email must be an email", "email should not be empty",
                        "scheduledAt must be a valid ISO 8601 date string",
                        "scheduledAt should not be empty", E2E_END);
    e2e_free(&r);
    /* whitespace is a body, and not JSON */
    e2e_raw(&r, T.auth, "POST", "/agents", " \r\n\t ", 5);
    e2e_expect_messages(&r, "body should not be empty", E2E_END);
    e2e_free(&r);

    /* malformed JSON */
    const char *broken[] = {"{\"name\":",  "{name:1}",         "{'name':'x'}",
                            "{\"a\":NaN}", "{\"a\":01}",       "{\"a\":1.}",
                            "{} {}",       "{\"a\":\"\x01\"}", "{\"a\":\"\\ud800\"}"};
    char msg[256];
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        e2e_raw(&r, T.auth, "POST", "/agents", broken[i], strlen(broken[i]));
        expect_4xx(&r, 400, broken[i]);
        e2e_error_text(&r, msg, sizeof msg);
        ck_assert_msg(strncmp(msg, "body must be valid JSON", 23) == 0, "%s: %s", broken[i], msg);
        e2e_free(&r);
    }
    e2e_raw(&r, T.auth, "POST", "/agents", "{\"name\":\"\xff\xfe\"}", 12);
    e2e_expect_messages(&r, "body must be valid UTF-8", E2E_END);
    e2e_free(&r);
    e2e_raw(&r, T.auth, "POST", "/agents", "{\"name\":\"\xc0\xaf\"}", 12); /* overlong '/' */
    e2e_expect_messages(&r, "body must be valid UTF-8", E2E_END);
    e2e_free(&r);
    e2e_raw(&r, T.auth, "POST", "/agents", "{\"name\":\"\xed\xa0\x80\"}", 13); /* surrogate */
    e2e_expect_messages(&r, "body must be valid UTF-8", E2E_END);
    e2e_free(&r);

    /* not an object; duplicates */
    const char *notobj[] = {"[]", "\"x\"", "42", "null", "true"};
    for (size_t i = 0; i < 5; i++) {
        e2e_raw(&r, T.auth, "POST", "/agents", notobj[i], strlen(notobj[i]));
        e2e_expect_messages(&r, "body must be a JSON object", E2E_END);
        e2e_free(&r);
    }
    const char *dup = "{\"name\":\"A\",\"name\":\"B\",\"knowledge\":\"Long enough text.\"}";
    e2e_raw(&r, T.auth, "POST", "/agents", dup, strlen(dup));
    e2e_expect_messages(&r, "body must not contain duplicate property names", E2E_END);
    e2e_free(&r);

    /* 10000 levels of nesting */
    size_t depth = 10000, n = 0;
    char *deep = malloc(depth * 2 + 64);
    n += (size_t)snprintf(deep, 64, "{\"name\":");
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    e2e_raw(&r, T.auth, "POST", "/agents", deep, n);
    e2e_expect_messages(&r, "body must not be nested deeper than 16 levels", E2E_END);
    e2e_free(&r);
    /* an unclosed 10000 levels */
    e2e_raw(&r, T.auth, "POST", "/agents", deep, 8 + depth);
    expect_4xx(&r, 400, "unclosed nesting");
    e2e_free(&r);
    free(deep);

    /* a huge number as a value of a string field */
    const char *huge = "{\"name\":1e999999,\"knowledge\":-0.0000000000000000000000000001e-99999}";
    e2e_raw(&r, T.auth, "POST", "/agents", huge, strlen(huge));
    e2e_expect_messages(&r, "name must be a string", "knowledge must be a string", E2E_END);
    e2e_free(&r);

    /* content types */
    const char *body = "{\"name\":\"N\",\"knowledge\":\"Long enough text.\"}";
    const char *types[] = {
        "Content-Type: text/plain\r\n", "Content-Type: application/x-www-form-urlencoded\r\n",
        "Content-Type: application/jsonp\r\n", "Content-Type: multipart/form-data; boundary=x\r\n"};
    char hdrs[2600];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        snprintf(hdrs, sizeof hdrs, "%s%s", T.auth, types[i]);
        e2e_raw(&r, hdrs, "POST", "/agents", body, strlen(body));
        e2e_expect_error(&r, 415, NULL);
        e2e_free(&r);
    }
    snprintf(hdrs, sizeof hdrs, "%sContent-Type: application/json; charset=utf-8\r\n", T.auth);
    e2e_raw(&r, hdrs, "POST", "/agents", body, strlen(body));
    e2e_expect(&r, 201);
    e2e_free(&r);

    /* sizes: 64 KiB is read and validated; one byte more is 413 */
    size_t limit = 65536;
    char *big = malloc(limit + 2);
    int pre = snprintf(big, limit, "{\"name\":\"");
    memset(big + pre, 'x', limit - (size_t)pre - 2);
    memcpy(big + limit - 2, "\"}", 2);
    e2e_raw(&r, T.auth, "POST", "/agents", big, limit);
    e2e_expect_messages(&r, "name must be shorter than or equal to 100 characters",
                        "knowledge must be a string", "knowledge should not be empty", E2E_END);
    e2e_free(&r);
    memset(big + pre, 'x', limit + 1 - (size_t)pre - 2);
    memcpy(big + limit - 1, "\"}", 2);
    e2e_raw(&r, T.auth, "POST", "/agents", big, limit + 1);
    expect_4xx(&r, 413, "65537 bytes");
    e2e_free(&r);
    free(big);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM agents WHERE tenant_id = $1", T.id, E2E_END), 2);
    battery_end();
}
END_TEST

/* ---- paths and methods ---------------------------------------------------------------------- */

START_TEST(t_paths_and_methods)
{
    battery_begin();
    struct e2e_resp r;
    char path[12000], allow[128];

    e2e_call(&r, &T, "GET", "/leads/not-a-uuid", NULL);
    expect_4xx(&r, 400, "/leads/not-a-uuid");
    e2e_free(&r);
    e2e_call(&r, &T, "GET", "/leads/00000000-0000-4000-8000-00000000000", NULL); /* 35 */
    expect_4xx(&r, 400, "short uuid");
    e2e_free(&r);
    e2e_call(&r, &T, "GET", "/leads/{00000000-0000-4000-8000-000000000000}", NULL);
    expect_4xx(&r, 400, "braced uuid");
    e2e_free(&r);
    e2e_call(&r, &T, "GET", "/leads/00000000-0000-4000-8000-000000000000/x", NULL);
    e2e_expect_error(&r, 404, "Cannot GET /leads/00000000-0000-4000-8000-000000000000/x");
    e2e_free(&r);
    e2e_call(&r, &T, "GET", "/agents/not-a-uuid", NULL);
    ck_assert_msg(r.status == 400 || r.status == 404, "got %d", r.status);
    expect_4xx(&r, r.status, "/agents/not-a-uuid");
    e2e_free(&r);
    e2e_call(&r, &T, "PATCH", "/bookings/not-a-uuid/status", "{\"status\":\"CONFIRMED\"}");
    ck_assert_msg(r.status == 400 || r.status == 404, "got %d", r.status);
    expect_4xx(&r, r.status, "/bookings/not-a-uuid/status");
    e2e_free(&r);
    e2e_call(&r, &T, "GET", "/agents/by-link/not-a-uuid", NULL);
    ck_assert_msg(r.status == 400 || r.status == 404, "got %d", r.status);
    expect_4xx(&r, r.status, "/agents/by-link/not-a-uuid");
    e2e_free(&r);

    /* percent-encoded garbage, NUL, "..", very long paths: 4xx, never 5xx */
    const char *odd[] = {"/leads/%zz",
                         "/leads/%",
                         "/leads/%00",
                         "/leads/%c0%af",
                         "/leads/%ff%fe",
                         "/leads/..",
                         "/leads/../agents/x",
                         "/leads/%2e%2e/%2e%2e/etc/passwd",
                         "/../../etc/passwd",
                         "/leads/a%2Fb",
                         "/leads//",
                         "/nothing/here",
                         "/leads/00000000-0000-4000-8000-000000000000%0d%0aX-Evil:%201"};
    char failures[4096] = "";
    size_t fl = 0;
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        e2e_call(&r, &T, "GET", odd[i], NULL);
        json_object *sc = NULL;
        int ok = r.status >= 400 && r.status < 500 && r.json &&
                 json_object_object_get_ex(r.json, "statusCode", &sc) &&
                 json_object_get_int(sc) == r.status && e2e_header_count(&r, "X-Evil") == 0;
        if (!ok && fl < sizeof failures)
            fl += (size_t)snprintf(failures + fl, sizeof failures - fl, " [%s -> %d %.60s]", odd[i],
                                   r.status, r.raw.body ? r.raw.body : "");
        e2e_free(&r);
    }
    for (size_t len = 2100; len <= 7900; len += 5800) {
        size_t o = (size_t)snprintf(path, sizeof path, "/leads/");
        while (o < len)
            path[o++] = 'a';
        path[o] = '\0';
        e2e_call(&r, &T, "GET", path, NULL);
        ck_assert_msg(r.status >= 400 && r.status < 500, "%zu-byte path -> %d", len, r.status);
        expect_4xx(&r, r.status, "long path");
        e2e_free(&r);
    }

    /* methods */
    e2e_call(&r, &T, "PUT", "/leads", "{}");
    e2e_expect_error(&r, 405, NULL);
    ck_assert_ptr_nonnull(e2e_header(&r, "Allow", allow, sizeof allow));
    ck_assert_msg(strstr(allow, "GET") && strstr(allow, "POST") && !strstr(allow, "PUT"),
                  "Allow: %s", allow);
    e2e_free(&r);
    e2e_call(&r, &T, "DELETE", "/leads/stats", NULL);
    e2e_expect_error(&r, 405, NULL);
    ck_assert_str_eq(e2e_header(&r, "Allow", allow, sizeof allow), "GET, HEAD, OPTIONS");
    e2e_free(&r);
    e2e_call(&r, &T, "POST", "/leads/00000000-0000-4000-8000-000000000000", "{}");
    e2e_expect_error(&r, 405, NULL);
    ck_assert_ptr_nonnull(e2e_header(&r, "Allow", allow, sizeof allow));
    e2e_free(&r);
    e2e_call(&r, &T, "GET", "/bookings/00000000-0000-4000-8000-000000000000/status", NULL);
    e2e_expect_error(&r, 405, NULL);
    ck_assert_ptr_nonnull(strstr(e2e_header(&r, "Allow", allow, sizeof allow), "PATCH"));
    e2e_free(&r);
    e2e_call(&r, &T, "PUT", "/agents/00000000-0000-4000-8000-000000000000", "{}");
    e2e_expect_error(&r, 405, NULL);
    e2e_header(&r, "Allow", allow, sizeof allow);
    ck_assert_msg(strstr(allow, "GET") && strstr(allow, "PATCH") && strstr(allow, "DELETE"),
                  "Allow: %s", allow);
    e2e_free(&r);
    e2e_call(&r, &T, "FOO", "/leads", NULL);
    ck_assert_msg(r.status == 405 || r.status == 400, "FOO -> %d", r.status);
    expect_4xx(&r, r.status, "FOO");
    e2e_free(&r);
    e2e_call(&r, &T, "TRACE", "/leads", NULL);
    ck_assert_msg(r.status == 405 || r.status == 400, "TRACE -> %d", r.status);
    expect_4xx(&r, r.status, "TRACE");
    e2e_free(&r);
    /* OPTIONS: 204 with Allow */
    e2e_call(&r, &T, "OPTIONS", "/leads", NULL);
    ck_assert_int_eq(r.status, 204);
    ck_assert_ptr_nonnull(e2e_header(&r, "Allow", allow, sizeof allow));
    ck_assert_msg(strstr(allow, "GET") && strstr(allow, "POST"), "Allow: %s", allow);
    e2e_free(&r);
    battery_end();
    /* last, so that everything above ran whatever nginx answered */
    ck_assert_msg(fl == 0, "odd paths not answered with a JSON 4xx:%s", failures);
}
END_TEST

/* ---- query parameters ------------------------------------------------------------------------ */

START_TEST(t_query_params)
{
    battery_begin();
    struct e2e_resp r;
    const char *bad[] = {"/leads?limit=0",
                         "/leads?limit=-1",
                         "/leads?limit=1001",
                         "/leads?limit=abc",
                         "/leads?limit=1.5",
                         "/leads?limit=",
                         "/leads?limit=10abc",
                         "/leads?limit=%2B5",
                         "/leads?limit=0x10",
                         "/leads?limit=99999999999999999999999",
                         "/leads?limit=1&limit=2",
                         "/leads?cursor=garbage",
                         "/leads?cursor=",
                         "/leads?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "/leads?cursor=%zz",
                         "/leads?agentId=not-a-uuid",
                         "/leads?agentId=",
                         "/leads?agentId=1&agentId=2",
                         "/leads/stats?agentId=not-a-uuid",
                         "/leads/stats?agentId=00000000-0000-4000-8000-00000000000g",
                         "/leads?tenantId=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e2e_call(&r, &T, "GET", bad[i], NULL);
        expect_4xx(&r, 400, bad[i]);
        e2e_free(&r);
    }
    char many[2048];
    size_t o = (size_t)snprintf(many, sizeof many, "/leads?");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "p%d=%d&", i, i);
    e2e_call(&r, &T, "GET", many, NULL);
    expect_4xx(&r, 400, "40 parameters");
    e2e_free(&r);

    /* the edges that are fine */
    const char *good[] = {
        "/leads?limit=1000",
        "/leads?limit=1",
        "/leads?limit=007",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        e2e_call(&r, &T, "GET", good[i], NULL);
        e2e_expect(&r, 200);
        e2e_free(&r);
    }
    battery_end();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_badinput");
    TCase *tc = e2e_tcase("badinput", 120);
    tcase_add_test(tc, t_lead_rules);
    tcase_add_test(tc, t_agent_rules);
    tcase_add_test(tc, t_bodies);
    tcase_add_test(tc, t_paths_and_methods);
    tcase_add_test(tc, t_query_params);
    suite_add_tcase(s, tc);
    return e2e_main("badinput", s);
}
