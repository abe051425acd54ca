/* e2e: the fixture (database + stack + leadbookctl) and the helpers of the API suites. */
#include "e2e.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pgtest.h"
#include "validate.h"

struct stack e2e_stack;
static const char *conninfo;

const char *e2e_conninfo(void)
{
    return conninfo;
}

/* Copies lines to out (NULL-terminated) and adds, from the environment of t/scale's scripts:
 * LEADBOOK_TEST_PGBOUNCER="host=... port=..." (a PgBouncer in transaction pooling in front of
 * the cluster): db through it, db_pool_mode = transaction, db_listen direct;
 * LEADBOOK_TEST_REPLICA="host=... port=..." (a streaming standby of the cluster): db_read. */
static int scale_lines(const char **lines, const char **out, int max, char buf[3][1200])
{
    int n = 0;
    for (; n < max - 5 && lines[n]; n++)
        out[n] = lines[n];
    const char *db = strstr(conninfo, "dbname=");
    const char *pgb = getenv("LEADBOOK_TEST_PGBOUNCER"), *rep = getenv("LEADBOOK_TEST_REPLICA");
    if ((pgb || rep) && !db) {
        fprintf(stderr, "e2e: no dbname in %s\n", conninfo);
        return -1;
    }
    if (pgb && *pgb) {
        snprintf(buf[0], sizeof buf[0], "db = %s user=postgres %s", pgb, db);
        snprintf(buf[1], sizeof buf[1], "db_listen = %s", conninfo);
        out[n++] = buf[0];
        out[n++] = buf[1];
        out[n++] = "db_pool_mode = transaction";
    }
    if (rep && *rep) {
        snprintf(buf[2], sizeof buf[2], "db_read = %s user=postgres %s", rep, db);
        out[n++] = buf[2];
    }
    out[n] = NULL;
    return 0;
}

int e2e_main(const char *prog, Suite *suite)
{
    conninfo = pgtest_setup(prog);
    if (!conninfo) {
        fprintf(stderr, "%s: no test database\n", prog);
        return EXIT_FAILURE;
    }
    char dbline[1200];
    snprintf(dbline, sizeof dbline, "db = %s", conninfo);
    /* webhook receivers of the tests listen on loopback (check_api_webhooks) */
    const char *lines[8] = {dbline, "workers = 4", "webhook_allow_hosts = 127.0.0.1 localhost",
                            NULL};
    int n = e2e_jwt_setup(lines + 3, 3);
    if (n < 0) {
        fprintf(stderr, "%s: could not make the sign-in token keys\n", prog);
        pgtest_teardown();
        return EXIT_FAILURE;
    }
    lines[3 + n] = NULL;
    /* t/scale/pgbouncer and t/scale/replica run the suites beyond one database server */
    char scale[3][1200];
    const char *lines_scale[16];
    if (scale_lines(lines, lines_scale, 16, scale) != 0) {
        pgtest_teardown();
        return EXIT_FAILURE;
    }
    if (stack_start(&e2e_stack, lines_scale) != 0) {
        fprintf(stderr, "%s: the stack did not start\n", prog);
        pgtest_teardown();
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    stack_stop(&e2e_stack);
    e2e_jwt_teardown();
    pgtest_teardown();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int e2e_stack_start(struct stack *s, const char *const *extra)
{
    char dbline[1200];
    snprintf(dbline, sizeof dbline, "db = %s", conninfo);
    const char *lines[24] = {dbline, "workers = 4", "webhook_allow_hosts = 127.0.0.1 localhost"};
    int n = 3;
    for (const char *const *l = extra; l && *l && n < 23; l++)
        lines[n++] = *l;
    lines[n] = NULL;
    return stack_start(s, lines);
}

TCase *e2e_tcase(const char *name, double timeout_s)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout_s);
    return tc;
}

/* ---- leadbookctl ------------------------------------------------------------------------ */

static json_object *ctl_argv(char **args, int nargs)
{
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)pgtest_ctl_path();
    argv[n++] = "--db";
    argv[n++] = (char *)conninfo;
    for (int i = 0; i < nargs && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct lb_buf out, err;
    lb_buf_init(&out);
    lb_buf_init(&err);
    int rc = pgtest_run(argv, &out, &err);
    ck_assert_msg(rc == 0, "leadbookctl %s %s exited %d: %s", args[0], nargs > 1 ? args[1] : "", rc,
                  err.data ? err.data : "");
    json_object *o = out.data ? json_tokener_parse(out.data) : NULL;
    ck_assert_msg(o != NULL, "leadbookctl printed no JSON: %s", out.data ? out.data : "");
    lb_buf_free(&out);
    lb_buf_free(&err);
    return o;
}

json_object *e2e_ctl(const char *first, ...)
{
    char *args[36];
    int n = 0;
    args[n++] = (char *)first;
    va_list ap;
    va_start(ap, first);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && n < 35)
        args[n++] = a;
    va_end(ap);
    return ctl_argv(args, n);
}

void e2e_key_new(const struct e2e_tenant *t, char *auth, size_t authlen, char key_id[37])
{
    json_object *k = e2e_ctl("key", "create", "--tenant", t->id, "--label", "e2e", E2E_END);
    snprintf(auth, authlen, "Authorization: Bearer %s\r\n", e2e_str(k, "key"));
    snprintf(key_id, 37, "%s", e2e_str(k, "id"));
    json_object_put(k);
}

void e2e_tenant_new(struct e2e_tenant *t, const char *name, int link_expiry_hours)
{
    memset(t, 0, sizeof *t);
    json_object *o = e2e_ctl("tenant", "create", "--name", name, E2E_END);
    snprintf(t->id, sizeof t->id, "%s", e2e_str(o, "id"));
    json_object_put(o);

    o = e2e_ctl("key", "create", "--tenant", t->id, "--label", "e2e", E2E_END);
    snprintf(t->key, sizeof t->key, "%s", e2e_str(o, "key"));
    snprintf(t->key_id, sizeof t->key_id, "%s", e2e_str(o, "id"));
    snprintf(t->auth, sizeof t->auth, "Authorization: Bearer %s\r\n", t->key);
    json_object_put(o);

    char hours[16];
    snprintf(hours, sizeof hours, "%d", link_expiry_hours > 0 ? link_expiry_hours : 24);
    o = e2e_ctl("agent", "create", "--tenant", t->id, "--name", "Agent Smith", "--knowledge",
                "Knows everything about the houses for sale.", "--link-expiry-hours", hours,
                E2E_END);
    snprintf(t->agent_id, sizeof t->agent_id, "%s", e2e_str(o, "id"));
    snprintf(t->agent_link, sizeof t->agent_link, "%s", e2e_str(o, "publicLink"));
    json_object_put(o);
}

/* ---- HTTP ------------------------------------------------------------------------------- */

int e2e_raw(struct e2e_resp *r, const char *headers, const char *method, const char *path,
            const char *body, size_t body_len)
{
    char hdrs[24576];
    int has_ct = headers && strcasestr(headers, "Content-Type:") != NULL;
    snprintf(hdrs, sizeof hdrs, "%s%s", headers ? headers : "",
             body && !has_ct ? "Content-Type: application/json\r\n" : "");
    memset(r, 0, sizeof *r);
    r->status = httpc(e2e_stack.port, method, path, hdrs, body, body_len, &r->raw, 30000);
    if (r->raw.body && r->raw.body_len > 0)
        r->json = json_tokener_parse(r->raw.body);
    return r->status;
}

int e2e_call(struct e2e_resp *r, const struct e2e_tenant *t, const char *method, const char *path,
             const char *body)
{
    return e2e_raw(r, t ? t->auth : NULL, method, path, body, body ? strlen(body) : 0);
}

int e2e_callf(struct e2e_resp *r, const struct e2e_tenant *t, const char *method, const char *body,
              const char *pathfmt, ...)
{
    char path[4096];
    va_list ap;
    va_start(ap, pathfmt);
    vsnprintf(path, sizeof path, pathfmt, ap);
    va_end(ap);
    return e2e_call(r, t, method, path, body);
}

int e2e_meeting(struct e2e_resp *r, const char *token, const char *accept)
{
    char path[512], hdrs[256];
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    snprintf(hdrs, sizeof hdrs, "%s%s%s", accept ? "Accept: " : "", accept ? accept : "",
             accept ? "\r\n" : "");
    for (int i = 0; i < 100; i++) {
        e2e_raw(r, hdrs, "GET", path, NULL, 0);
        if (r->status != 429)
            return r->status;
        e2e_free(r);
        stack_sleep_ms(250);
    }
    return r->status;
}

void e2e_free(struct e2e_resp *r)
{
    if (r->json)
        json_object_put(r->json);
    httpc_free(&r->raw);
    memset(r, 0, sizeof *r);
}

const char *e2e_header(const struct e2e_resp *r, const char *name, char *out, size_t outlen)
{
    return httpc_header(&r->raw, name, out, outlen);
}

int e2e_header_count(const struct e2e_resp *r, const char *name)
{
    int n = 0;
    size_t nl = strlen(name);
    if (!r->raw.head)
        return 0;
    for (const char *l = strstr(r->raw.head, "\r\n"); l; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':')
            n++;
    return n;
}

/* ---- assertions -------------------------------------------------------------------------- */

void e2e_expect_at(const char *file, int line, const struct e2e_resp *r, int status)
{
    char ct[128], rid[128];
    ck_assert_msg(r->status == status, "%s:%d: expected HTTP %d, got %d: %s", file, line, status,
                  r->status, r->raw.body ? r->raw.body : "(no answer)");
    const char *got = httpc_header(&r->raw, "Content-Type", ct, sizeof ct);
    ck_assert_msg(got && strcmp(got, E2E_JSON_CT) == 0, "%s:%d: Content-Type %s", file, line,
                  got ? got : "(none)");
    ck_assert_msg(httpc_header(&r->raw, "X-Request-Id", rid, sizeof rid) && rid[0],
                  "%s:%d: no X-Request-Id", file, line);
    ck_assert_msg(r->json != NULL, "%s:%d: body is not JSON: %s", file, line, r->raw.body);
}

void e2e_expect_error_at(const char *file, int line, const struct e2e_resp *r, int status,
                         const char *msg)
{
    e2e_expect_at(file, line, r, status);
    json_object *o = r->json, *v;
    ck_assert_msg(json_object_is_type(o, json_type_object) && json_object_object_length(o) == 3,
                  "%s:%d: not a NestJS error body: %s", file, line, r->raw.body);
    ck_assert_msg(json_object_object_get_ex(o, "statusCode", &v) &&
                      json_object_is_type(v, json_type_int) && json_object_get_int(v) == status,
                  "%s:%d: statusCode in %s", file, line, r->raw.body);
    ck_assert_msg(json_object_object_get_ex(o, "error", &v) &&
                      json_object_is_type(v, json_type_string),
                  "%s:%d: error in %s", file, line, r->raw.body);
    static const struct {
        int code;
        const char *reason;
    } reasons[] = {
        {400, "Bad Request"},       {401, "Unauthorized"},           {403, "Forbidden"},
        {404, "Not Found"},         {405, "Method Not Allowed"},     {409, "Conflict"},
        {413, "Payload Too Large"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Entity"},
        {429, "Too Many Requests"}, {503, "Service Unavailable"}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status)
            ck_assert_msg(strcmp(json_object_get_string(v), reasons[i].reason) == 0,
                          "%s:%d: error \"%s\", expected \"%s\"", file, line,
                          json_object_get_string(v), reasons[i].reason);
    ck_assert_msg(
        json_object_object_get_ex(o, "message", &v) &&
            (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_array)),
        "%s:%d: message in %s", file, line, r->raw.body);
    if (msg)
        ck_assert_msg(json_object_is_type(v, json_type_string) &&
                          strcmp(json_object_get_string(v), msg) == 0,
                      "%s:%d: message: expected \"%s\", got %s", file, line, msg, r->raw.body);
}

void e2e_expect_messages_at(const char *file, int line, const struct e2e_resp *r, ...)
{
    e2e_expect_error_at(file, line, r, 400, NULL);
    json_object *m = json_object_object_get(r->json, "message");
    ck_assert_msg(json_object_is_type(m, json_type_array), "%s:%d: message is not an array: %s",
                  file, line, r->raw.body);
    va_list ap;
    va_start(ap, r);
    size_t i = 0;
    const char *want;
    while ((want = va_arg(ap, const char *)) != NULL) {
        json_object *e = json_object_array_get_idx(m, i);
        ck_assert_msg(e && json_object_is_type(e, json_type_string) &&
                          strcmp(json_object_get_string(e), want) == 0,
                      "%s:%d: message[%zu]: expected \"%s\" in %s", file, line, i, want,
                      r->raw.body);
        i++;
    }
    va_end(ap);
    ck_assert_msg(json_object_array_length(m) == i, "%s:%d: expected %zu messages in %s", file,
                  line, i, r->raw.body);
}

const char *e2e_error_text(const struct e2e_resp *r, char *out, size_t outlen)
{
    out[0] = '\0';
    json_object *m;
    if (!r->json || !json_object_object_get_ex(r->json, "message", &m))
        return out;
    if (json_object_is_type(m, json_type_array)) {
        size_t used = 0;
        for (size_t i = 0; i < json_object_array_length(m) && used < outlen; i++) {
            int n = snprintf(out + used, outlen - used, "%s%s", i ? " | " : "",
                             json_object_get_string(json_object_array_get_idx(m, i)));
            if (n < 0)
                break;
            used += (size_t)n;
        }
    } else {
        snprintf(out, outlen, "%s", json_object_get_string(m));
    }
    return out;
}

void e2e_expect_401_at(const char *file, int line, const struct e2e_resp *r)
{
    char wa[256];
    e2e_expect_error_at(file, line, r, 401, NULL);
    ck_assert_msg(httpc_header(&r->raw, "WWW-Authenticate", wa, sizeof wa) &&
                      strncmp(wa, "Bearer", 6) == 0,
                  "%s:%d: 401 without WWW-Authenticate: Bearer", file, line);
}

void e2e_keys(json_object *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    int n = 0;
    const char *k;
    ck_assert_msg(json_object_is_type(obj, json_type_object), "not an object: %s",
                  json_object_to_json_string(obj));
    while ((k = va_arg(ap, const char *)) != NULL) {
        ck_assert_msg(json_object_object_get_ex(obj, k, NULL), "no key %s in %s", k,
                      json_object_to_json_string(obj));
        n++;
    }
    va_end(ap);
    ck_assert_msg(json_object_object_length(obj) == n, "expected exactly %d keys in %s", n,
                  json_object_to_json_string(obj));
}

json_object *e2e_get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(obj && json_object_object_get_ex(obj, key, &v), "no key %s in %s", key,
                  obj ? json_object_to_json_string(obj) : "(null)");
    return v;
}

const char *e2e_str(json_object *obj, const char *key)
{
    json_object *v = e2e_get(obj, key);
    if (!v)
        return NULL;
    ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string in %s", key,
                  json_object_to_json_string(obj));
    return json_object_get_string(v);
}

int64_t e2e_int(json_object *obj, const char *key)
{
    json_object *v = e2e_get(obj, key);
    ck_assert_msg(v && json_object_is_type(v, json_type_int), "%s is not an integer in %s", key,
                  json_object_to_json_string(obj));
    return json_object_get_int64(v);
}

int e2e_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

int e2e_is_v4_uuid(const char *s)
{
    return e2e_is_uuid(s) && s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

int e2e_is_ts(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (!s || strlen(s) != sizeof pat - 1)
        return 0;
    for (size_t i = 0; i < sizeof pat - 1; i++) {
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    }
    int64_t us;
    return lb_time_parse_iso8601(s, &us) == 0;
}

int64_t e2e_ts_us(const char *s)
{
    int64_t us = 0;
    ck_assert_msg(s && lb_time_parse_iso8601(s, &us) == 0, "not a timestamp: %s", s ? s : "(null)");
    return us;
}

#define CHECK_UUID(o, k) ck_assert_msg(e2e_is_uuid(e2e_str(o, k)), "%s not a UUID", k)
#define CHECK_TS(o, k) ck_assert_msg(e2e_is_ts(e2e_str(o, k)), "%s not a timestamp", k)

void e2e_check_agent(json_object *a)
{
    e2e_keys(a, "id", "tenantId", "name", "knowledge", "publicLink", "linkExpiryHours", "createdAt",
             "updatedAt", E2E_END);
    ck_assert(e2e_is_v4_uuid(e2e_str(a, "id")));
    CHECK_UUID(a, "tenantId");
    ck_assert(e2e_is_v4_uuid(e2e_str(a, "publicLink")));
    e2e_str(a, "name");
    e2e_str(a, "knowledge");
    int64_t h = e2e_int(a, "linkExpiryHours");
    ck_assert(h >= 1 && h <= 168);
    CHECK_TS(a, "createdAt");
    CHECK_TS(a, "updatedAt");
}

static void check_lead_fields(json_object *l)
{
    ck_assert(e2e_is_v4_uuid(e2e_str(l, "id")));
    CHECK_UUID(l, "agentId");
    CHECK_UUID(l, "tenantId");
    e2e_str(l, "name");
    e2e_str(l, "email");
    const char *booked = e2e_str(l, "bookedAt");
    ck_assert(booked == NULL || e2e_is_ts(booked));
    CHECK_TS(l, "createdAt");
    CHECK_TS(l, "updatedAt");
}

void e2e_check_lead(json_object *l)
{
    e2e_keys(l, "id", "agentId", "tenantId", "name", "email", "bookedAt", "createdAt", "updatedAt",
             E2E_END);
    check_lead_fields(l);
}

void e2e_check_lead_full(json_object *l)
{
    e2e_keys(l, "id", "agentId", "tenantId", "name", "email", "bookedAt", "createdAt", "updatedAt",
             "bookings", "agent", E2E_END);
    check_lead_fields(l);
    json_object *bs = e2e_get(l, "bookings");
    ck_assert(json_object_is_type(bs, json_type_array));
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < json_object_array_length(bs); i++) {
        json_object *b = json_object_array_get_idx(bs, i);
        e2e_check_booking(b);
        ck_assert_str_eq(e2e_str(b, "leadId"), e2e_str(l, "id"));
        int64_t c = e2e_ts_us(e2e_str(b, "createdAt"));
        ck_assert_msg(c >= prev, "bookings not oldest first");
        prev = c;
    }
    json_object *a = e2e_get(l, "agent");
    e2e_keys(a, "id", "name", "publicLink", E2E_END);
    ck_assert_str_eq(e2e_str(a, "id"), e2e_str(l, "agentId"));
    CHECK_UUID(a, "publicLink");
    e2e_str(a, "name");
}

void e2e_check_booking(json_object *b)
{
    e2e_keys(b, "id", "leadId", "agentId", "tenantId", "scheduledAt", "status", "expiresAt",
             "meetingToken", "createdAt", "updatedAt", E2E_END);
    ck_assert(e2e_is_v4_uuid(e2e_str(b, "id")));
    CHECK_UUID(b, "leadId");
    CHECK_UUID(b, "agentId");
    CHECK_UUID(b, "tenantId");
    ck_assert(e2e_is_v4_uuid(e2e_str(b, "meetingToken")));
    CHECK_TS(b, "scheduledAt");
    CHECK_TS(b, "expiresAt");
    CHECK_TS(b, "createdAt");
    CHECK_TS(b, "updatedAt");
    enum lb_booking_status st;
    ck_assert_msg(lb_booking_status_parse(e2e_str(b, "status"), &st) == 0, "status %s",
                  e2e_str(b, "status"));
}

/* ---- data -------------------------------------------------------------------------------- */

void e2e_iso_from_now(int64_t seconds, char out[40])
{
    char buf[LB_TIME_FMT_MS_SIZE];
    lb_time_format_ms(lb_time_now_us() + seconds * LB_TIME_US_PER_SEC, buf);
    snprintf(out, 40, "%s", buf);
}

void e2e_lead_new(const struct e2e_tenant *t, const char *agent_id, const char *name,
                  int64_t in_seconds, char lead_id[37], char booking_id[37], char token[37])
{
    char when[40], body[1024];
    e2e_iso_from_now(in_seconds, when);
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"%s\",\"email\":\"lead@example.com\","
             "\"scheduledAt\":\"%s\"}",
             agent_id ? agent_id : t->agent_id, name, when);
    struct e2e_resp r;
    e2e_call(&r, t, "POST", "/leads", body);
    e2e_expect(&r, 201);
    json_object *lead = e2e_get(r.json, "lead"), *b = e2e_get(r.json, "booking");
    if (lead_id)
        snprintf(lead_id, 37, "%s", e2e_str(lead, "id"));
    if (booking_id)
        snprintf(booking_id, 37, "%s", e2e_str(b, "id"));
    if (token)
        snprintf(token, 37, "%s", e2e_str(r.json, "meetingToken"));
    e2e_free(&r);
}

int e2e_set_status(const struct e2e_tenant *t, const char *booking_id, const char *status)
{
    char body[128];
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    struct e2e_resp r;
    int st = e2e_callf(&r, t, "PATCH", body, "/bookings/%s/status", booking_id);
    e2e_free(&r);
    return st;
}

void e2e_agent_new(const struct e2e_tenant *t, const char *name, char agent_id[37])
{
    char body[512];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"knowledge\":\"Sells flats by the river.\"}",
             name);
    struct e2e_resp r;
    e2e_call(&r, t, "POST", "/agents", body);
    e2e_expect(&r, 201);
    snprintf(agent_id, 37, "%s", e2e_str(r.json, "id"));
    e2e_free(&r);
}

static PGresult *sql_va(const char *sql, va_list ap)
{
    const char *params[16];
    int n = 0;
    const char *p;
    while ((p = va_arg(ap, const char *)) != NULL && n < 16)
        params[n++] = p;
    return pgtest_sql(conninfo, sql, n, params);
}

void e2e_sql_value(char *out, size_t outlen, const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *r = sql_va(sql, ap);
    va_end(ap);
    snprintf(out, outlen, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

long e2e_sql_long(const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *r = sql_va(sql, ap);
    va_end(ap);
    ck_assert_msg(PQntuples(r) > 0, "no row: %s", sql);
    long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

void e2e_sql(const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *r = sql_va(sql, ap);
    va_end(ap);
    PQclear(r);
}
