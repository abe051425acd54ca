/* check_openapi: doc/openapi.yaml against the running service. For every documented route and
 * every documented status, a real request through nginx + leadbookd + PostgreSQL produces that
 * status, and the answer is checked against the documented response (required headers, body
 * schema: types, required keys, no undocumented keys where additionalProperties is false,
 * formats, const/enum, integer bounds). A documented status this program cannot produce, and a
 * status it produces that is not documented, both fail. Every write (POST, PATCH) is also sent
 * with an Idempotency-Key: its retry must be the stored answer byte for byte (2xx, 404, a refused
 * change) with Idempotent-Replayed: true, the key on another request a 422, the request while
 * the key's first one runs a 409 with Retry-After: 1 that is not stored; no body at all must be
 * a 400 naming the missing fields. The rules of the booking changes and the history that the
 * document names are checked too, and so are the webhook endpoints' rules and the deliveries
 * of the document's "webhooks" (the real deliverer, leadbookctl webhooks run --once, posts a
 * booking's three events to a receiver here: headers, signatures and bodies as documented). The
 * document is YAML in its JSON-compatible flow style (after
 * "#" comment lines), read with json-c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "e2e.h"
#include "pgtest.h"

#define ZERO_UUID "00000000-0000-4000-8000-000000000000"

static json_object *doc;
static struct e2e_tenant T, O; /* tenants with API keys */
static struct e2e_tenant S;    /* a signed-in user with a tenant */
static struct e2e_tenant N;    /* a signed-in user without a tenant (never signs up) */
static char booking_auth[256]; /* a booking-page key's Authorization line */
static char lead_id[37], booking_id[37], token[37];
static char webhook_id[37]; /* T's webhook endpoint, subscribed to every event */
static struct stack dead;   /* a stack whose database is unreachable: the 503s */
static int dead_up;

/* ---- failures are collected, then reported together --------------------------------------- */

static char failures[16384];
static size_t nfail_bytes;
static int nfail;

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...)
{
    nfail++;
    if (nfail_bytes >= sizeof failures - 2)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(failures + nfail_bytes, sizeof failures - nfail_bytes - 1, fmt, ap);
    va_end(ap);
    if (n > 0)
        nfail_bytes += (size_t)n < sizeof failures - nfail_bytes - 1
                           ? (size_t)n
                           : sizeof failures - nfail_bytes - 2;
    failures[nfail_bytes++] = '\n';
    failures[nfail_bytes] = '\0';
}

/* ---- the document ------------------------------------------------------------------------ */

static json_object *load_doc(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/doc/openapi.yaml", stack_srcdir());
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), line[4096];
    ck_assert_ptr_nonnull(text);
    int in_header = 1;
    while (fgets(line, sizeof line, f)) {
        if (in_header && line[0] == '#')
            continue; /* YAML comments, only before the JSON value */
        in_header = 0;
        size_t l = strlen(line);
        if (len + l + 1 > cap) {
            cap *= 2;
            char *grown = realloc(text, cap);
            ck_assert_ptr_nonnull(grown);
            text = grown;
        }
        memcpy(text + len, line, l);
        len += l;
    }
    fclose(f);
    text[len] = '\0';
    json_object *o = json_tokener_parse(text);
    ck_assert_msg(o != NULL, "%s is not in YAML's JSON-compatible flow style", path);
    free(text);
    return o;
}

static json_object *jget(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v)
               ? v
               : NULL;
}

/* Follows a local "$ref" ("#/components/schemas/X"). */
static json_object *deref(json_object *o)
{
    for (int hops = 0; hops < 16; hops++) {
        json_object *ref = jget(o, "$ref");
        if (!ref)
            return o;
        const char *s = json_object_get_string(ref);
        ck_assert_msg(strncmp(s, "#/", 2) == 0, "non-local $ref %s", s);
        json_object *cur = doc;
        char part[256];
        for (const char *p = s + 2; *p;) {
            size_t n = strcspn(p, "/");
            snprintf(part, sizeof part, "%.*s", (int)n, p);
            cur = jget(cur, part);
            ck_assert_msg(cur != NULL, "dangling $ref %s", s);
            p += n;
            if (*p == '/')
                p++;
        }
        o = cur;
    }
    ck_abort_msg("$ref loop");
    return NULL;
}

/* ---- a small JSON Schema checker (the keywords the document uses) ------------------------ */

static int type_is(json_object *v, const char *t)
{
    if (strcmp(t, "object") == 0)
        return json_object_is_type(v, json_type_object);
    if (strcmp(t, "array") == 0)
        return json_object_is_type(v, json_type_array);
    if (strcmp(t, "string") == 0)
        return json_object_is_type(v, json_type_string);
    if (strcmp(t, "integer") == 0)
        return json_object_is_type(v, json_type_int);
    if (strcmp(t, "number") == 0)
        return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    if (strcmp(t, "boolean") == 0)
        return json_object_is_type(v, json_type_boolean);
    if (strcmp(t, "null") == 0)
        return v == NULL || json_object_is_type(v, json_type_null);
    return 0;
}

static void check_schema(json_object *schema, json_object *v, const char *where, const char *ctx)
{
    schema = deref(schema);
    json_object *t = jget(schema, "type");
    if (t) {
        int ok = 0;
        if (json_object_is_type(t, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(t); i++)
                ok |= type_is(v, json_object_get_string(json_object_array_get_idx(t, i)));
        } else {
            ok = type_is(v, json_object_get_string(t));
        }
        if (!ok) {
            mismatch("%s: %s: %s is not of type %s", ctx, where,
                     v ? json_object_to_json_string(v) : "null", json_object_to_json_string(t));
            return;
        }
    }
    if (!v || json_object_is_type(v, json_type_null))
        return;
    json_object *c = jget(schema, "const");
    if (c && !json_object_equal(c, v))
        mismatch("%s: %s: %s is not %s", ctx, where, json_object_to_json_string(v),
                 json_object_to_json_string(c));
    json_object *e = jget(schema, "enum");
    if (e) {
        int found = 0;
        for (size_t i = 0; i < json_object_array_length(e); i++)
            found |= json_object_equal(json_object_array_get_idx(e, i), v);
        if (!found)
            mismatch("%s: %s: %s not in the enum", ctx, where, json_object_to_json_string(v));
    }
    json_object *fmt = jget(schema, "format");
    if (fmt && json_object_is_type(v, json_type_string)) {
        const char *f = json_object_get_string(fmt), *s = json_object_get_string(v);
        if ((strcmp(f, "uuid") == 0 && !e2e_is_uuid(s)) ||
            (strcmp(f, "date-time") == 0 && !e2e_is_ts(s)) ||
            (strcmp(f, "email") == 0 && !strchr(s, '@')))
            mismatch("%s: %s: \"%s\" is not a %s", ctx, where, s, f);
    }
    if (json_object_is_type(v, json_type_string)) {
        json_object *mn = jget(schema, "minLength"), *mx = jget(schema, "maxLength");
        int64_t chars = 0; /* code points */
        for (const char *p = json_object_get_string(v); *p; p++)
            chars += ((unsigned char)*p & 0xc0) != 0x80;
        if ((mn && chars < json_object_get_int64(mn)) || (mx && chars > json_object_get_int64(mx)))
            mismatch("%s: %s: %lld characters, out of the documented length", ctx, where,
                     (long long)chars);
    }
    if (json_object_is_type(v, json_type_int)) {
        json_object *mn = jget(schema, "minimum"), *mx = jget(schema, "maximum");
        int64_t i = json_object_get_int64(v);
        if ((mn && i < json_object_get_int64(mn)) || (mx && i > json_object_get_int64(mx)))
            mismatch("%s: %s: %lld out of range", ctx, where, (long long)i);
    }
    if (json_object_is_type(v, json_type_object)) {
        json_object *req = jget(schema, "required"), *props = jget(schema, "properties");
        for (size_t i = 0; req && i < json_object_array_length(req); i++) {
            const char *k = json_object_get_string(json_object_array_get_idx(req, i));
            if (!json_object_object_get_ex(v, k, NULL))
                mismatch("%s: %s: required key %s missing", ctx, where, k);
        }
        json_object *ap = jget(schema, "additionalProperties");
        json_object_object_foreach(v, k, val)
        {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", where, k);
            json_object *ps = jget(props, k);
            if (ps)
                check_schema(ps, val, sub, ctx);
            else if (ap && json_object_is_type(ap, json_type_boolean) &&
                     !json_object_get_boolean(ap))
                mismatch("%s: %s: undocumented key", ctx, sub);
        }
    }
    if (json_object_is_type(v, json_type_array)) {
        json_object *items = jget(schema, "items");
        json_object *mn = jget(schema, "minItems"), *mx = jget(schema, "maxItems");
        int64_t count = (int64_t)json_object_array_length(v);
        if ((mn && count < json_object_get_int64(mn)) || (mx && count > json_object_get_int64(mx)))
            mismatch("%s: %s: %lld items, out of the documented count", ctx, where,
                     (long long)count);
        for (size_t i = 0; items && i < json_object_array_length(v) && i < 50; i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s[%zu]", where, i);
            check_schema(items, json_object_array_get_idx(v, i), sub, ctx);
        }
    }
}

/* The answer against the documented response object. */
static void check_response(json_object *resp, const struct e2e_resp *r, int status, const char *ctx)
{
    resp = deref(resp);
    if (r->status != status) {
        mismatch("%s: expected %d, got %d: %.200s", ctx, status, r->status,
                 r->raw.body ? r->raw.body : "(no answer)");
        return;
    }
    json_object *hs = jget(resp, "headers");
    if (hs) {
        json_object_object_foreach(hs, name, h)
        {
            h = deref(h);
            json_object *req = jget(h, "required");
            char val[1024];
            const char *got = e2e_header(r, name, val, sizeof val);
            if (!got) {
                if (req && json_object_get_boolean(req))
                    mismatch("%s: header %s missing", ctx, name);
                continue;
            }
            json_object *c = jget(jget(h, "schema"), "const");
            if (c && strcmp(json_object_get_string(c), got) != 0)
                mismatch("%s: header %s: \"%s\", documented \"%s\"", ctx, name, got,
                         json_object_get_string(c));
        }
    }
    json_object *content = jget(resp, "content");
    if (!content) {
        if (r->raw.body_len != 0)
            mismatch("%s: a body where none is documented", ctx);
        return;
    }
    char ct[256];
    if (!e2e_header(r, "Content-Type", ct, sizeof ct)) {
        mismatch("%s: no Content-Type", ctx);
        return;
    }
    json_object *media = NULL;
    json_object_object_foreach(content, type, m)
    {
        size_t tl = strcspn(type, ";");
        if (strncmp(ct, type, tl) == 0)
            media = m;
    }
    if (!media) {
        mismatch("%s: Content-Type %s is not documented", ctx, ct);
        return;
    }
    if (strncmp(ct, "text/plain", 10) == 0) { /* the Prometheus text exposition */
        if (!r->raw.body || strncmp(r->raw.body, "# HELP ", 7) != 0 ||
            !strstr(r->raw.body, "\n# TYPE leadbook_http_requests_total counter\n"))
            mismatch("%s: not a Prometheus text exposition: %.200s", ctx,
                     r->raw.body ? r->raw.body : "");
        return;
    }
    if (strncmp(ct, "text/calendar", 13) == 0) {
        if (strncmp(r->raw.body, "BEGIN:VCALENDAR\r\n", 17) != 0)
            mismatch("%s: not a VCALENDAR", ctx);
        return;
    }
    if (!r->json) {
        mismatch("%s: body is not JSON: %.200s", ctx, r->raw.body);
        return;
    }
    check_schema(jget(media, "schema"), r->json, "body", ctx);
}

/* ---- producing every status --------------------------------------------------------------- */

enum idkind { ID_OK, ID_BAD, ID_UNKNOWN };

/* The path with its {param} replaced. */
static void concrete(const char *tmpl, enum idkind kind, const char *id_override, char *out,
                     size_t outlen)
{
    const char *open = strchr(tmpl, '{');
    if (!open) {
        snprintf(out, outlen, "%s", tmpl);
        return;
    }
    const char *close = strchr(open, '}');
    const char *value = "";
    if (kind == ID_BAD)
        value = "not-a-uuid";
    else if (kind == ID_UNKNOWN)
        value = ZERO_UUID;
    else if (id_override)
        value = id_override;
    else if (strncmp(tmpl, "/leads/", 7) == 0)
        value = lead_id;
    else if (strncmp(tmpl, "/bookings/meeting/", 18) == 0)
        value = token;
    else if (strncmp(tmpl, "/bookings/", 10) == 0)
        value = booking_id;
    else if (strncmp(tmpl, "/agents/by-link/", 16) == 0)
        value = T.agent_link;
    else if (strncmp(tmpl, "/agents/", 8) == 0)
        value = T.agent_id;
    else if (strncmp(tmpl, "/tenants/by-user/", 17) == 0)
        value = S.user_id;
    else if (strncmp(tmpl, "/webhooks/", 10) == 0)
        value = webhook_id;
    snprintf(out, outlen, "%.*s%s%s", (int)(open - tmpl), tmpl, value, close + 1);
}

static int is_tenants(const char *tmpl)
{
    return strncmp(tmpl, "/tenants", 8) == 0;
}

static int is_post_tenants(const char *tmpl, const char *method)
{
    return strcmp(tmpl, "/tenants") == 0 && strcmp(method, "post") == 0;
}

static int is_meeting(const char *tmpl)
{
    return strcmp(tmpl, "/bookings/meeting/{meetingToken}") == 0;
}

static int is_reschedule(const char *tmpl)
{
    return strcmp(tmpl, "/bookings/{id}") == 0;
}

/* The probes: public inside the application, served by nginx to local addresses only. */
static int is_probe(const char *tmpl)
{
    return strcmp(tmpl, "/healthz") == 0 || strcmp(tmpl, "/readyz") == 0 ||
           strcmp(tmpl, "/metrics") == 0;
}

static int is_webhooks(const char *tmpl)
{
    return strncmp(tmpl, "/webhooks", 9) == 0;
}

static int is_rotate(const char *tmpl)
{
    return strcmp(tmpl, "/webhooks/{id}/rotate-secret") == 0;
}

/* A write whose fields are all optional: no body at all is {} (a 200, not a 400). */
static int body_optional(const char *tmpl, const char *method)
{
    return (strcmp(method, "patch") == 0 &&
            (strcmp(tmpl, "/agents/{id}") == 0 || strcmp(tmpl, "/webhooks/{id}") == 0)) ||
           is_rotate(tmpl);
}

/* A write (POST or PATCH): takes an Idempotency-Key. */
static int is_write(const char *method)
{
    return strcmp(method, "post") == 0 || strcmp(method, "patch") == 0;
}

/* A change of one booking: its status, a reschedule, the prospect's change. */
static int is_booking_change(const char *tmpl, const char *method)
{
    return strcmp(method, "patch") == 0 && strncmp(tmpl, "/bookings/", 10) == 0;
}

/* The writes whose 409 is (also) a refusal of the current state, beyond the in-flight one. */
static int has_state_409(const char *tmpl, const char *method)
{
    return is_booking_change(tmpl, method) || is_post_tenants(tmpl, method);
}

/* POST /tenants's body for this user. */
static const char *tenant_body(const char *user_id, char *buf, size_t len)
{
    snprintf(buf, len, "{\"userId\":\"%s\",\"name\":\"Doc tenant\"}", user_id);
    return buf;
}

/* A valid body; for POST /tenants, S's (who has a tenant already: a fresh user's is 201). */
static const char *valid_body(const char *tmpl, const char *method, char *buf, size_t len)
{
    if (is_post_tenants(tmpl, method))
        return tenant_body(S.user_id, buf, len);
    if (strcmp(method, "post") == 0 && strcmp(tmpl, "/leads") == 0) {
        char when[40];
        e2e_iso_from_now(86400, when);
        snprintf(buf, len,
                 "{\"agentId\":\"%s\",\"name\":\"Doc lead\",\"email\":\"doc@example.com\","
                 "\"scheduledAt\":\"%s\"}",
                 T.agent_id, when);
        return buf;
    }
    if (strcmp(method, "patch") == 0 && strstr(tmpl, "/status"))
        return "{\"status\":\"CONFIRMED\"}";
    if (strcmp(method, "patch") == 0 && is_meeting(tmpl))
        return "{\"status\":\"CONFIRMED\"}";
    if (strcmp(method, "patch") == 0 && is_reschedule(tmpl)) {
        char when[40];
        e2e_iso_from_now(2 * 86400, when);
        snprintf(buf, len, "{\"scheduledAt\":\"%s\"}", when);
        return buf;
    }
    if (is_rotate(tmpl))
        return "{}";
    if (strcmp(method, "post") == 0 && is_webhooks(tmpl))
        return "{\"url\":\"https://hooks.example.com/doc\",\"events\":[\"booking.created\"],"
               "\"description\":\"Doc hook\"}";
    if (strcmp(method, "patch") == 0 && is_webhooks(tmpl))
        return "{\"description\":\"Doc renamed\"}";
    if (strcmp(method, "post") == 0)
        return "{\"name\":\"Doc agent\",\"knowledge\":\"Documented knowledge.\"}";
    if (strcmp(method, "patch") == 0)
        return "{\"name\":\"Doc renamed\"}";
    return NULL;
}

/* POST /webhooks for the tenant (asserts 201); id and secret (64 bytes) may be NULL. */
static void webhook_new(const struct e2e_tenant *t, const char *url, const char *events,
                        char id[37], char *secret)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"url\":\"%s\",\"events\":%s}", url, events);
    struct e2e_resp r;
    e2e_call(&r, t, "POST", "/webhooks", body);
    ck_assert_msg(r.status == 201, "POST /webhooks: %d %s", r.status, r.raw.body);
    if (id)
        snprintf(id, 37, "%s", e2e_str(r.json, "id"));
    if (secret)
        snprintf(secret, 64, "%s", e2e_str(r.json, "secret"));
    e2e_free(&r);
}

/* The table each status of a route needs broken to answer 500. */
static const char *table_of(const char *tmpl)
{
    if (is_tenants(tmpl))
        return "tenants";
    if (is_webhooks(tmpl))
        return "webhook_endpoints";
    if (strncmp(tmpl, "/leads/stats", 12) == 0 || strncmp(tmpl, "/bookings", 9) == 0)
        return "bookings";
    if (strncmp(tmpl, "/leads", 6) == 0)
        return "leads";
    return "agents";
}

static void upper(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++)
        out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 32) : in[i];
    out[i] = '\0';
}

/* The last request that send_req sent (resend_last sends it again). */
static struct {
    char hdrs[4096], m[16], path[1024], body[72 * 1024];
    int has_body;
} last;

/* One request; on the rate-limited public path, 429s are waited out. */
static void send_req(struct e2e_resp *r, const char *hdrs, const char *m, const char *path,
                     const char *body)
{
    if (hdrs != last.hdrs) {
        snprintf(last.hdrs, sizeof last.hdrs, "%s", hdrs ? hdrs : "");
        snprintf(last.m, sizeof last.m, "%s", m);
        snprintf(last.path, sizeof last.path, "%s", path);
        last.has_body = body != NULL;
        snprintf(last.body, sizeof last.body, "%s", body ? body : "");
    }
    int limited = strncmp(path, "/bookings/meeting/", 18) == 0;
    for (int i = 0; i < 100; i++) {
        e2e_raw(r, hdrs, m, path, body, body ? strlen(body) : 0);
        if (!limited || r->status != 429)
            return;
        e2e_free(r);
        stack_sleep_ms(250);
    }
}

/* The last request again, byte for byte. */
static void resend_last(struct e2e_resp *r)
{
    send_req(r, last.hdrs, last.m, last.path, last.has_body ? last.body : NULL);
}

/* ---- Idempotency-Key ---------------------------------------------------------------------- */

/* A key no request of this program has used. */
static void new_key(char *out, size_t len)
{
    static int n;
    snprintf(out, len, "doc-%ld-%d", (long)getpid(), ++n);
}

/* "Authorization...\r\nIdempotency-Key: key\r\n" (key NULL: the credential alone). */
static const char *with_key(char *out, size_t len, const char *auth, const char *key)
{
    snprintf(out, len, "%s%s%s%s", auth ? auth : "", key ? "Idempotency-Key: " : "", key ? key : "",
             key ? "\r\n" : "");
    return out;
}

/* A request of a write that succeeds, on a target of its own where it changes one (a fresh
 * booking, a fresh signed-in user for POST /tenants), with the scope of its credential. */
struct fresh {
    char path[1024], body[1024], auth[2048], scope[320];
    const char *bodyp; /* body, or NULL */
    char booking[37], token[37];
};

static void fresh_request(const char *tmpl, const char *method, struct fresh *f)
{
    memset(f, 0, sizeof *f);
    const char *b = valid_body(tmpl, method, f->body, sizeof f->body);
    if (b && b != f->body)
        snprintf(f->body, sizeof f->body, "%s", b);
    f->bodyp = b ? f->body : NULL;
    const struct e2e_tenant *who = is_tenants(tmpl) ? &S : &T;
    snprintf(f->auth, sizeof f->auth, "%s", who->auth);
    if (who == &S)
        snprintf(f->scope, sizeof f->scope, "user:%s", S.user_id);
    else
        snprintf(f->scope, sizeof f->scope, "key:%s", T.key_id);
    concrete(tmpl, ID_OK, NULL, f->path, sizeof f->path);
    if (is_booking_change(tmpl, method)) {
        e2e_lead_new(&T, NULL, "Doc change", 3600, NULL, f->booking, f->token);
        concrete(tmpl, ID_OK, is_meeting(tmpl) ? f->token : f->booking, f->path, sizeof f->path);
        if (is_meeting(tmpl)) { /* no credential: the meeting token is the scope */
            f->auth[0] = '\0';
            snprintf(f->scope, sizeof f->scope, "meeting:%s", f->token);
        }
    } else if (is_post_tenants(tmpl, method)) {
        struct e2e_tenant u;
        e2e_user_new(&u, NULL);
        tenant_body(u.user_id, f->body, sizeof f->body);
        snprintf(f->auth, sizeof f->auth, "%s", u.auth);
        snprintf(f->scope, sizeof f->scope, "user:%s", u.user_id);
    }
}

/* Another valid request body than body: a name, a description, a status or a time changed. */
static void other_body(const char *body, char *out, size_t len)
{
    json_object *o = json_tokener_parse(body), *v;
    ck_assert_ptr_nonnull(o);
    char text[512];
    if (json_object_object_get_ex(o, "description", &v)) {
        snprintf(text, sizeof text, "%s 2", json_object_get_string(v));
        json_object_object_add(o, "description", json_object_new_string(text));
    } else if (json_object_object_get_ex(o, "name", &v)) {
        snprintf(text, sizeof text, "%s 2", json_object_get_string(v));
        json_object_object_add(o, "name", json_object_new_string(text));
    } else if (json_object_object_get_ex(o, "status", &v)) {
        json_object_object_add(o, "status", json_object_new_string("CANCELLED"));
    } else {
        e2e_iso_from_now(3 * 86400, text);
        json_object_object_add(o, "scheduledAt", json_object_new_string(text));
    }
    snprintf(out, len, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

/* The request with the key while its first request with that key is still running: the test
 * holds the transaction-scoped advisory lock that leadbookd's statement takes for (scope, key)
 * while it runs (src/store/sqlidem.h). (?_testPauseMs cannot make that state: it holds an
 * answer after its transaction committed, and by then the answer is stored: a second request
 * is a replay.) */
static void send_in_flight(struct e2e_resp *r, const char *scope, const char *key, const char *auth,
                           const char *m, const char *path, const char *body)
{
    PGconn *c = PQconnectdb(e2e_conninfo());
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *res = PQexec(c, "BEGIN");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    const char *v[] = {scope, key};
    res = PQexecParams(c,
                       "SELECT pg_advisory_xact_lock(hashtextextended($1::text || chr(10) || "
                       "$2::text, 0))",
                       2, NULL, v, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    PQclear(res);
    char hdrs[4096];
    send_req(r, with_key(hdrs, sizeof hdrs, auth, key), m, path, body);
    PQclear(PQexec(c, "ROLLBACK"));
    PQfinish(c);
}

/* Sends the request that should answer `status` on this operation (with the Idempotency-Key
 * key, when not NULL); 0, or -1 when this program knows no way to produce that status there. */
static int produce(const char *tmpl, const char *method, int status, struct e2e_resp *r,
                   const char *key)
{
    char path[1024], m[16], bodybuf[1024], hdrs[4096];
    const char *body = valid_body(tmpl, method, bodybuf, sizeof bodybuf);
    int is_public = strncmp(tmpl, "/bookings/meeting/", 18) == 0 || is_probe(tmpl);
    const char *auth = is_public && strcmp(method, "options") != 0 ? NULL : T.auth;
    /* the tenant routes are the signed-in user's (a tenant key is tried in variants()) */
    if (is_tenants(tmpl) && strcmp(method, "options") != 0)
        auth = S.auth;
    int post_tenants = is_post_tenants(tmpl, method);
    upper(method, m, sizeof m);
    concrete(tmpl, ID_OK, NULL, path, sizeof path);
    char fresh[37];
    struct e2e_tenant u; /* a fresh signed-in user without a tenant */

    switch (status) {
    case 200:
    case 201:
    case 204:
        if (strcmp(method, "delete") == 0) {
            if (is_webhooks(tmpl))
                webhook_new(&T, "https://hooks.example.com/delete", "[\"booking.created\"]", fresh,
                            NULL);
            else
                e2e_agent_new(&T, "To delete", fresh);
            concrete(tmpl, ID_OK, fresh, path, sizeof path);
        } else if (is_booking_change(tmpl, method)) {
            char tok[37];
            e2e_lead_new(&T, NULL, "Doc change", 3600, NULL, fresh, tok);
            concrete(tmpl, ID_OK, is_meeting(tmpl) ? tok : fresh, path, sizeof path);
        } else if (post_tenants) {
            e2e_user_new(&u, NULL);
            body = tenant_body(u.user_id, bodybuf, sizeof bodybuf);
            auth = u.auth;
        }
        break;
    case 400:
        if (strcmp(tmpl, "/leads") == 0 && strcmp(method, "get") == 0)
            snprintf(path, sizeof path, "/leads?limit=0");
        else if (strcmp(tmpl, "/leads/stats") == 0)
            snprintf(path, sizeof path, "/leads/stats?agentId=bad");
        else if (strcmp(tmpl, "/webhooks") == 0 && strcmp(method, "get") == 0)
            snprintf(path, sizeof path, "/webhooks?tenantId=not-a-uuid");
        else if (is_rotate(tmpl))
            body = "{\"secret\":\"mine\"}";
        else if (strcmp(method, "post") == 0 || is_booking_change(tmpl, method))
            body = "{}";
        else if (strcmp(method, "patch") == 0)
            body = "{\"name\":\"\"}";
        else if (strchr(tmpl, '{'))
            concrete(tmpl, ID_BAD, NULL, path, sizeof path);
        else
            return -1;
        break;
    case 401:
        if (!auth)
            return -1;
        auth = "Authorization: Bearer lbk_not_a_key\r\n";
        break;
    case 403: {
        if (!auth)
            return -1;
        if (is_tenants(tmpl)) {
            /* no tenantId there; a booking-page key may call none of them (more in variants()) */
            auth = booking_auth;
            break;
        }
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "?tenantId=%s", O.id);
        break;
    }
    case 404:
        if (strcmp(tmpl, "/leads") == 0 && strcmp(method, "post") == 0) {
            char when[40];
            e2e_iso_from_now(86400, when);
            snprintf(bodybuf, sizeof bodybuf,
                     "{\"agentId\":\"" ZERO_UUID "\",\"name\":\"N\",\"email\":\"n@example.com\","
                     "\"scheduledAt\":\"%s\"}",
                     when);
            body = bodybuf;
        } else if (strcmp(tmpl, "/tenants/me") == 0 && strcmp(method, "get") == 0) {
            auth = N.auth;
        } else if (strchr(tmpl, '{')) {
            concrete(tmpl, ID_UNKNOWN, NULL, path, sizeof path);
        } else {
            return -1;
        }
        break;
    case 405:
        snprintf(m, sizeof m, "PUT");
        body = "{}";
        auth = T.auth;
        break;
    case 409:
        if (post_tenants) {
            auth = S.auth; /* a second POST /tenants of a user who has a tenant (valid_body) */
            break;
        }
        if (is_booking_change(tmpl, method)) { /* a final booking: no change of it allowed */
            char tok[37];
            e2e_lead_new(&T, NULL, "Doc conflict", 3600, NULL, fresh, tok);
            ck_assert_int_eq(e2e_set_status(&T, fresh, "COMPLETED"), 200);
            concrete(tmpl, ID_OK, is_meeting(tmpl) ? tok : fresh, path, sizeof path);
            if (strstr(tmpl, "/status"))
                body = "{\"status\":\"PENDING\"}";
            break;
        }
        if (!is_write(method))
            return -1;
        { /* the only 409 of the other writes: the key's first request is still running */
            struct fresh f;
            char k[64];
            fresh_request(tmpl, method, &f);
            new_key(k, sizeof k);
            send_in_flight(r, f.scope, k, f.auth, m, f.path, f.bodyp);
        }
        return 0;
    case 422: { /* the key again with another body */
        if (!is_write(method))
            return -1;
        struct fresh f;
        char k[64], other[1024], h[4096];
        fresh_request(tmpl, method, &f);
        new_key(k, sizeof k);
        send_req(r, with_key(h, sizeof h, f.auth, k), m, f.path, f.bodyp);
        if (r->status / 100 != 2)
            mismatch("%s %s: the first request with a key: %d %.200s", method, tmpl, r->status,
                     r->raw.body ? r->raw.body : "");
        e2e_free(r);
        if (strcmp(f.body, "{}") == 0) { /* no field to change: another path (a tenantId) */
            char p2[1100];
            snprintf(p2, sizeof p2, "%s?tenantId=%s", f.path, T.id);
            send_req(r, with_key(h, sizeof h, f.auth, k), m, p2, f.bodyp);
            return 0;
        }
        other_body(f.body, other, sizeof other);
        send_req(r, with_key(h, sizeof h, f.auth, k), m, f.path, other);
        return 0;
    }
    case 413: {
        if (!body)
            return -1;
        static char big[70002];
        memset(big, ' ', sizeof big - 1);
        big[0] = '{';
        big[sizeof big - 2] = '}';
        big[sizeof big - 1] = '\0';
        body = big;
        break;
    }
    case 415:
        if (!body)
            return -1;
        snprintf(hdrs, sizeof hdrs, "%sContent-Type: text/plain\r\n", auth ? auth : "");
        send_req(r, hdrs, m, path, body);
        return 0;
    case 429:
        if (!is_public || !is_meeting(tmpl))
            return -1;
        for (int i = 0; i < 60; i++) {
            e2e_raw(r, NULL, m, path, NULL, 0);
            if (r->status == 429)
                return 0;
            e2e_free(r);
        }
        return 0;
    case 500: {
        if (!strchr("/", tmpl[0]) || is_probe(tmpl))
            return -1;
        char sql[256], undo[256];
        if (post_tenants) {
            /* a sign-in token's tenant is looked up (by user_id) before the handler runs, and a
             * failure there is a 503: only the insert is broken */
            e2e_user_new(&u, NULL);
            body = tenant_body(u.user_id, bodybuf, sizeof bodybuf);
            auth = u.auth;
            snprintf(sql, sizeof sql, "ALTER TABLE tenants RENAME COLUMN name TO name_e2e_broken");
            snprintf(undo, sizeof undo,
                     "ALTER TABLE tenants RENAME COLUMN name_e2e_broken TO name");
        } else {
            if (is_tenants(tmpl))
                auth = T.auth; /* a key's check reads api_keys only */
            const char *table = table_of(tmpl);
            snprintf(sql, sizeof sql, "ALTER TABLE %s RENAME TO %s_e2e_broken", table, table);
            snprintf(undo, sizeof undo, "ALTER TABLE %s_e2e_broken RENAME TO %s", table, table);
        }
        e2e_sql(sql, E2E_END);
        send_req(r, auth, m, path, body);
        e2e_sql(undo, E2E_END);
        return 0;
    }
    case 503: {
        ck_assert_msg(dead_up, "the stack without a database did not start");
        if (strcmp(tmpl, "/healthz") == 0 || strcmp(tmpl, "/metrics") == 0)
            return -1; /* no database call (metrics: without the deliverer's lines) */
        if (is_tenants(tmpl))
            auth = T.auth; /* a key: checked in the (unreachable) database */
        snprintf(hdrs, sizeof hdrs, "%s%s", auth ? auth : "",
                 body ? "Content-Type: application/json\r\n" : "");
        memset(r, 0, sizeof *r);
        r->status = httpc(dead.port, m, path, hdrs, body, body ? strlen(body) : 0, &r->raw, 30000);
        if (r->raw.body && r->raw.body_len)
            r->json = json_tokener_parse(r->raw.body);
        return 0;
    }
    default:
        return -1;
    }
    send_req(r, with_key(hdrs, sizeof hdrs, auth, key), m, path, body);
    return 0;
}

/* Whether the error message (a string, or one element of an array) starts with msg. */
static int message_has(const struct e2e_resp *r, const char *msg)
{
    json_object *jm = jget(r->json, "message");
    if (json_object_is_type(jm, json_type_string))
        return strncmp(json_object_get_string(jm), msg, strlen(msg)) == 0;
    for (size_t i = 0; json_object_is_type(jm, json_type_array) && i < json_object_array_length(jm);
         i++) {
        const char *e = json_object_get_string(json_object_array_get_idx(jm, i));
        if (e && strncmp(e, msg, strlen(msg)) == 0)
            return 1;
    }
    return 0;
}

/* One more request that must answer `status` as documented by resp; msg non-NULL: the error
 * message (or an element of it) starts so. */
static void variant(json_object *resp, int status, const char *auth, const char *extra_hdrs,
                    const char *m, const char *path, const char *body, const char *msg,
                    const char *ctx, const char *what)
{
    char hdrs[4096], vctx[512];
    snprintf(hdrs, sizeof hdrs, "%s%s", auth ? auth : "", extra_hdrs ? extra_hdrs : "");
    snprintf(vctx, sizeof vctx, "%s (%s)", ctx, what);
    struct e2e_resp r;
    send_req(&r, hdrs, m, path, body);
    check_response(resp, &r, status, vctx);
    if (msg && r.status == status && !message_has(&r, msg))
        mismatch("%s: message %s, expected \"%s...\"", vctx,
                 json_object_to_json_string(jget(r.json, "message")), msg);
    e2e_free(&r);
}

/* The other ways to the same status that the document names (credential kinds, orders of
 * checks), beyond the one request of produce(); returns how many were checked. */
static int variants(const char *tmpl, const char *method, int status, json_object *resp,
                    const char *ctx)
{
    char path[1024], m[16], bodybuf[1024];
    const char *body = valid_body(tmpl, method, bodybuf, sizeof bodybuf);
    int is_public = strncmp(tmpl, "/bookings/meeting/", 18) == 0 || is_probe(tmpl);
    if (is_public || strcmp(method, "options") == 0)
        return 0;
    upper(method, m, sizeof m);
    concrete(tmpl, ID_OK, NULL, path, sizeof path);
    int post_tenants = is_post_tenants(tmpl, method);
    int get = strcmp(method, "get") == 0;
    int n = 0;
    switch (status) {
    case 401: {
        char expired[2048];
        e2e_token(expired, sizeof expired - 32, "ES256", S.user_id, -3600);
        char hdr[2100];
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", expired);
        variant(resp, 401, hdr, NULL, m, path, body, NULL, ctx, "an expired sign-in token");
        n++;
        break;
    }
    case 403: {
        int booking_page = (strcmp(tmpl, "/agents/by-link/{publicLink}") == 0 && get) ||
                           (strcmp(tmpl, "/leads") == 0 && strcmp(method, "post") == 0);
        int no_tenant_ok = post_tenants || (strcmp(tmpl, "/tenants/me") == 0 && get) ||
                           strncmp(tmpl, "/tenants/by-user/", 17) == 0;
        if (!booking_page && !is_tenants(tmpl)) { /* the tenant routes' produce() did that */
            variant(resp, 403, booking_auth, NULL, m, path, body,
                    "This key may only be used by the booking page", ctx, "a booking-page key");
            n++;
        }
        if (!no_tenant_ok) {
            variant(resp, 403, N.auth, NULL, m, path, body, "No tenant for user ", ctx,
                    "a signed-in user without a tenant");
            n++;
        }
        if (post_tenants) {
            variant(resp, 403, T.auth, NULL, m, path, body,
                    "Tenants are created by signed-in users", ctx, "a tenant API key");
            struct e2e_tenant u;
            e2e_user_new(&u, NULL);
            variant(resp, 403, u.auth, NULL, m, path, body,
                    "userId does not match the signed-in user", ctx, "another user's userId");
            /* the credential's kind is judged before the body for a booking-page key */
            variant(resp, 403, booking_auth, NULL, m, path, "{}",
                    "This key may only be used by the booking page", ctx,
                    "a booking-page key, invalid body");
            n += 3;
        }
        break;
    }
    case 400:
        if (post_tenants) { /* the body is judged before a tenant key's 403 */
            variant(resp, 400, T.auth, NULL, m, path, "{}", NULL, ctx, "a tenant API key");
            n++;
        }
        break;
    case 415:
        if (post_tenants) {
            variant(resp, 415, T.auth, "Content-Type: text/plain\r\n", m, path, body, NULL, ctx,
                    "a tenant API key");
            n++;
        }
        break;
    case 404:
        if (strncmp(tmpl, "/tenants/by-user/", 17) == 0) {
            variant(resp, 404, T.auth, NULL, m, path, NULL, "Tenant not found", ctx,
                    "a tenant API key, a userId not its tenant's");
            char own[1024];
            snprintf(own, sizeof own, "/tenants/by-user/%s", N.user_id);
            variant(resp, 404, N.auth, NULL, m, own, NULL, "Tenant not found", ctx,
                    "a signed-in user without a tenant, their own id");
            n += 2;
        }
        break;
    default:
        break;
    }
    return n;
}

/* again must be first replayed: the same status and body, byte for byte, with
 * Idempotent-Replayed: true, as documented by resp. */
static void check_replay(json_object *resp, int status, const struct e2e_resp *first,
                         const struct e2e_resp *again, const char *ctx)
{
    char v[64];
    if (e2e_header_count(first, "Idempotent-Replayed") != 0)
        mismatch("%s: Idempotent-Replayed on the first answer", ctx);
    check_response(resp, again, status, ctx);
    const char *replayed = e2e_header(again, "Idempotent-Replayed", v, sizeof v);
    if (!replayed || strcmp(replayed, "true") != 0)
        mismatch("%s: the retry has no Idempotent-Replayed: true", ctx);
    if (again->status != first->status || again->raw.body_len != first->raw.body_len ||
        (first->raw.body_len && memcmp(again->raw.body, first->raw.body, first->raw.body_len) != 0))
        mismatch("%s: the retry is not the first answer byte for byte: %d %.200s, first %d %.200s",
                 ctx, again->status, again->raw.body ? again->raw.body : "", first->status,
                 first->raw.body ? first->raw.body : "");
}

/* Whether op documents the query parameter name. */
static int has_query_param(json_object *op, const char *name)
{
    json_object *ps = jget(op, "parameters");
    for (size_t i = 0; ps && i < json_object_array_length(ps); i++) {
        json_object *p = deref(json_object_array_get_idx(ps, i));
        if (strcmp(json_object_get_string(jget(p, "in")), "query") == 0 &&
            strcmp(json_object_get_string(jget(p, "name")), name) == 0)
            return 1;
    }
    return 0;
}

/* An Idempotency-Key and a missing body on the writes (every POST and PATCH): a retry is a
 * replay, a malformed key a 400, another request with the key a 422, a request while the
 * key's first one runs a 409 that is not stored; no body at all is a 400 naming the missing
 * fields. Returns how many answers were checked. */
static int write_variants(const char *tmpl, const char *method, int status, json_object *resp,
                          json_object *op, const char *ctx)
{
    if (!is_write(method))
        return 0;
    char m[16], k[64], h[4096], vctx[512], extra[400], keytext[300];
    upper(method, m, sizeof m);
    struct fresh f;
    struct e2e_resp a, b;
    int n = 0;
    switch (status) {
    case 200:
    case 201:
        fresh_request(tmpl, method, &f);
        new_key(k, sizeof k);
        with_key(h, sizeof h, f.auth, k);
        send_req(&a, h, m, f.path, f.bodyp);
        snprintf(vctx, sizeof vctx, "%s (the first request with a key)", ctx);
        check_response(resp, &a, status, vctx);
        resend_last(&b);
        snprintf(vctx, sizeof vctx, "%s (its retry)", ctx);
        check_replay(resp, status, &a, &b, vctx);
        e2e_free(&a);
        e2e_free(&b);
        new_key(keytext, sizeof keytext); /* unique, padded to 255 characters */
        memset(keytext + strlen(keytext), 'k', 255 - strlen(keytext));
        keytext[255] = '\0';
        snprintf(extra, sizeof extra, "Idempotency-Key: %s\r\n", keytext);
        fresh_request(tmpl, method, &f);
        variant(resp, status, f.auth, extra, m, f.path, f.bodyp, NULL, ctx,
                "a key of 255 characters");
        n += 3;
        if (body_optional(tmpl, method)) { /* no field is required: no body is {} */
            variant(resp, status, T.auth, NULL, m, f.path, NULL, NULL, ctx, "no body at all");
            n++;
        }
        break;
    case 400:
        memset(keytext, 'k', 256);
        keytext[256] = '\0';
        snprintf(extra, sizeof extra, "Idempotency-Key: %s\r\n", keytext);
        fresh_request(tmpl, method, &f);
        variant(resp, 400, f.auth, extra, m, f.path, f.bodyp,
                "Idempotency-Key must be 1 to 255 printable ASCII characters", ctx,
                "a key of 256 characters, a valid body");
        n++;
        if (!body_optional(tmpl, method)) {
            /* no body at all: a 400 naming what is missing (not a 415) */
            send_req(&a, f.auth, m, f.path, NULL);
            snprintf(vctx, sizeof vctx, "%s (no body at all)", ctx);
            check_response(resp, &a, 400, vctx);
            json_object *schema = deref(
                jget(jget(jget(deref(jget(op, "requestBody")), "content"), "application/json"),
                     "schema"));
            json_object *req = jget(schema, "required");
            if (!req && a.status == 400 &&
                !message_has(&a, "body must have exactly one of status and scheduledAt"))
                mismatch("%s: %.200s", vctx, a.raw.body);
            for (size_t i = 0; req && a.status == 400 && i < json_object_array_length(req); i++) {
                char want[128];
                snprintf(want, sizeof want, "%s ",
                         json_object_get_string(json_object_array_get_idx(req, i)));
                if (!message_has(&a, want))
                    mismatch("%s: the missing %s is not named: %.300s", vctx, want, a.raw.body);
            }
            e2e_free(&a);
            n++;
        }
        break;
    case 404: {
        /* a 404 of a write that ran is stored (documented so): its retry is a replay */
        json_object *ref = jget(resp, "$ref");
        if (!ref || !strstr(json_object_get_string(ref), "Replayable"))
            break;
        new_key(k, sizeof k);
        produce(tmpl, method, 404, &a, k);
        resend_last(&b);
        snprintf(vctx, sizeof vctx, "%s (with a key, and its retry)", ctx);
        check_response(resp, &a, 404, vctx);
        check_replay(resp, 404, &a, &b, vctx);
        e2e_free(&a);
        e2e_free(&b);
        n += 2;
        break;
    }
    case 409:
        if (has_state_409(tmpl, method)) { /* a refusal is stored: its retry is a replay */
            new_key(k, sizeof k);
            produce(tmpl, method, 409, &a, k);
            resend_last(&b);
            snprintf(vctx, sizeof vctx, "%s (a refusal with a key, and its retry)", ctx);
            check_response(resp, &a, 409, vctx);
            check_replay(resp, 409, &a, &b, vctx);
            e2e_free(&a);
            e2e_free(&b);
            n += 2;
        }
        /* while the key's first request runs: 409 with Retry-After: 1, not stored */
        fresh_request(tmpl, method, &f);
        new_key(k, sizeof k);
        send_in_flight(&a, f.scope, k, f.auth, m, f.path, f.bodyp);
        snprintf(vctx, sizeof vctx, "%s (the key's first request still running)", ctx);
        check_response(resp, &a, 409, vctx);
        if (a.status == 409) {
            char ra[16];
            const char *got = e2e_header(&a, "Retry-After", ra, sizeof ra);
            if (!got || strcmp(got, "1") != 0)
                mismatch("%s: Retry-After %s, expected 1", vctx, got ? got : "missing");
            if (!message_has(&a, "A request with Idempotency-Key "))
                mismatch("%s: %.200s", vctx, a.raw.body);
        }
        e2e_free(&a);
        send_req(&a, with_key(h, sizeof h, f.auth, k), m, f.path, f.bodyp);
        if (a.status / 100 != 2 || e2e_header_count(&a, "Idempotent-Replayed") != 0)
            mismatch("%s: then the request with the key did not run: %d %.200s", vctx, a.status,
                     a.raw.body ? a.raw.body : "");
        e2e_free(&a);
        n += 2;
        break;
    case 422:
        /* the message; and another path (the same body) is another request too */
        fresh_request(tmpl, method, &f);
        new_key(k, sizeof k);
        with_key(h, sizeof h, f.auth, k);
        send_req(&a, h, m, f.path, f.bodyp);
        e2e_free(&a);
        if (has_query_param(op, "tenantId")) {
            char other[1100];
            snprintf(other, sizeof other, "%s?tenantId=%s", f.path, T.id);
            send_req(&a, h, m, other, f.bodyp);
        } else {
            char body2[1024];
            other_body(f.body, body2, sizeof body2);
            send_req(&a, h, m, f.path, body2);
        }
        snprintf(vctx, sizeof vctx, "%s (the key on another request)", ctx);
        check_response(resp, &a, 422, vctx);
        {
            json_object *jm = jget(a.json, "message");
            const char *msg = jm ? json_object_get_string(jm) : "";
            if (a.status == 422 && (strncmp(msg, "Idempotency-Key ", 16) != 0 ||
                                    !strstr(msg, " was used with a different request")))
                mismatch("%s: message \"%s\"", vctx, msg);
        }
        e2e_free(&a);
        n++;
        break;
    default:
        break;
    }
    return n;
}

/* A PENDING booking of T's past its expiry (not yet marked EXPIRED). */
static void expired_booking(char booking[37], char tok[37])
{
    e2e_lead_new(&T, NULL, "Doc expired", 3600, NULL, booking, tok);
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '2 hours', "
            "expires_at = now() - interval '1 hour' WHERE id = $1",
            booking, E2E_END);
}

/* A fresh booking of T's in that status (NULL: PENDING, past its expiry). */
static void booking_in(const char *status, char booking[37], char tok[37])
{
    if (!status) {
        expired_booking(booking, tok);
        return;
    }
    e2e_lead_new(&T, NULL, "Doc booking", 3600, NULL, booking, tok);
    if (strcmp(status, "PENDING") != 0)
        ck_assert_int_eq(e2e_set_status(&T, booking, status), 200);
}

static const char *jstr(const struct e2e_resp *r, const char *k)
{
    json_object *v = jget(r->json, k);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* Every kind of event and of actor in one booking's history: made by a signed-in user,
 * rescheduled with a key of its tenant, confirmed by the prospect, expired by leadbookctl. */
static int check_history(json_object *resp, const char *ctx)
{
    char kauth[256], kid[37], agent[37], b[37], tok[37], path[256], body[128], when[40];
    char first_at[40];
    e2e_agent_new(&S, "History agent", agent);
    e2e_lead_new(&S, agent, "Doc history", 3600, NULL, b, tok);
    e2e_key_new(&S, kauth, sizeof kauth, kid);
    e2e_sql_value(first_at, sizeof first_at,
                  "SELECT to_char(scheduled_at AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM bookings WHERE id = $1",
                  b, E2E_END);
    e2e_iso_from_now(2 * 86400, when);
    snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
    snprintf(path, sizeof path, "/bookings/%s", b);
    struct e2e_resp r;
    send_req(&r, kauth, "PATCH", path, body);
    ck_assert_int_eq(r.status, 200);
    e2e_free(&r);
    snprintf(path, sizeof path, "/bookings/meeting/%s", tok);
    send_req(&r, NULL, "PATCH", path, "{\"status\":\"CONFIRMED\"}");
    ck_assert_int_eq(r.status, 200);
    e2e_free(&r);
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '2 hours', "
            "expires_at = now() - interval '1 hour' WHERE id = $1",
            b, E2E_END);
    json_object_put(e2e_ctl("expire", E2E_END));

    snprintf(path, sizeof path, "/bookings/%s/events", b);
    send_req(&r, S.auth, "GET", path, NULL);
    char vctx[300];
    snprintf(vctx, sizeof vctx, "%s (a history of every kind)", ctx);
    check_response(resp, &r, 200, vctx);
    static const struct {
        const char *kind, *from, *to, *by;
        int moved;
    } want[] = {{"status", NULL, "PENDING", "user", 0},
                {"rescheduled", NULL, NULL, "key", 1},
                {"status", "PENDING", "CONFIRMED", "prospect", 0},
                {"status", "CONFIRMED", "EXPIRED", "system", 0}};
    size_t nwant = sizeof want / sizeof want[0];
    if (!json_object_is_type(r.json, json_type_array) ||
        json_object_array_length(r.json) != nwant) {
        mismatch("%s: not %zu events: %.400s", vctx, nwant, r.raw.body ? r.raw.body : "");
        e2e_free(&r);
        return 1;
    }
    const char *prev_at = "";
    for (size_t i = 0; i < nwant; i++) {
        json_object *e = json_object_array_get_idx(r.json, i), *by = jget(e, "by");
        const char *kind = json_object_get_string(jget(e, "kind"));
        const char *from = json_object_get_string(jget(e, "fromStatus"));
        const char *to = json_object_get_string(jget(e, "toStatus"));
        const char *fa = json_object_get_string(jget(e, "fromScheduledAt"));
        const char *ta = json_object_get_string(jget(e, "toScheduledAt"));
        const char *at = json_object_get_string(jget(e, "at"));
        const char *bykind = json_object_get_string(jget(by, "kind"));
        const char *byid = json_object_get_string(jget(by, "id"));
        const char *want_id = strcmp(want[i].by, "user") == 0  ? S.user_id
                              : strcmp(want[i].by, "key") == 0 ? kid
                                                               : NULL;
#define SAME(a, b) ((a) == NULL ? (b) == NULL : (b) != NULL && strcmp((a), (b)) == 0)
        if (!SAME(kind, want[i].kind) || !SAME(from, want[i].from) || !SAME(to, want[i].to) ||
            !SAME(bykind, want[i].by) || !SAME(byid, want_id) ||
            (want[i].moved ? !SAME(fa, first_at) || !SAME(ta, when) : fa != NULL || ta != NULL))
            mismatch("%s: event %zu is %s", vctx, i, json_object_to_json_string(e));
#undef SAME
        if (at && strcmp(at, prev_at) < 0)
            mismatch("%s: event %zu is older than the one before it", vctx, i);
        prev_at = at ? at : prev_at;
    }
    e2e_free(&r);
    return 1;
}

/* The rules of the booking changes (reschedule, the prospect's changes) and of the history
 * that the document names. Returns how many answers were checked. */
static int booking_variants(const char *tmpl, const char *method, int status, json_object *resp,
                            const char *ctx)
{
    int meeting = is_meeting(tmpl) && strcmp(method, "patch") == 0;
    int resched = is_reschedule(tmpl) && strcmp(method, "patch") == 0;
    int events = strcmp(tmpl, "/bookings/{id}/events") == 0 && strcmp(method, "get") == 0;
    if (!meeting && !resched && !events)
        return 0;
    char b[37], tok[37], path[256], body[256], when[40], msg[256];
    const char *auth = meeting ? NULL : T.auth;
    const char *m = events ? "GET" : "PATCH";
    int n = 0;
#define TARGET()                                                                                   \
    snprintf(path, sizeof path, meeting ? "/bookings/meeting/%s" : "/bookings/%s",                 \
             meeting ? tok : b)
    switch (status) {
    case 200:
        if (events) {
            n += check_history(resp, ctx);
            break;
        }
        { /* the time it already has, or the status it already has: nothing changes */
            struct e2e_resp r1, r2;
            booking_in("CONFIRMED", b, tok);
            TARGET();
            e2e_iso_from_now(5 * 86400, when);
            snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
            send_req(&r1, auth, m, path, body);
            check_response(resp, &r1, 200, ctx);
            if (r1.status == 200) {
                int64_t d = e2e_ts_us(jstr(&r1, "expiresAt")) - e2e_ts_us(jstr(&r1, "scheduledAt"));
                if (strcmp(jstr(&r1, "scheduledAt"), when) != 0 ||
                    strcmp(jstr(&r1, "status"), "CONFIRMED") != 0 ||
                    d != (int64_t)24 * 3600 * 1000000)
                    mismatch("%s (a CONFIRMED booking rescheduled): %.400s", ctx, r1.raw.body);
            }
            send_req(&r2, auth, m, path, body);
            check_response(resp, &r2, 200, ctx);
            if (strcmp(jstr(&r1, "updatedAt"), jstr(&r2, "updatedAt")) != 0)
                mismatch("%s (the time it already has): updatedAt changed", ctx);
            e2e_free(&r2);
            if (meeting) {
                send_req(&r2, NULL, m, path, "{\"status\":\"CONFIRMED\"}");
                check_response(resp, &r2, 200, ctx);
                if (strcmp(jstr(&r1, "updatedAt"), jstr(&r2, "updatedAt")) != 0)
                    mismatch("%s (the status it already has): updatedAt changed", ctx);
                e2e_free(&r2);
                send_req(&r2, NULL, m, path, "{\"status\":\"CANCELLED\"}");
                check_response(resp, &r2, 200, ctx);
                if (strcmp(jstr(&r2, "status"), "CANCELLED") != 0)
                    mismatch("%s (CONFIRMED -> CANCELLED): %.300s", ctx, r2.raw.body);
                e2e_free(&r2);
                booking_in("PENDING", b, tok);
                TARGET();
                variant(resp, 200, NULL, NULL, m, path, "{\"status\":\"CANCELLED\"}", NULL, ctx,
                        "PENDING -> CANCELLED");
                n += 4;
            }
            e2e_free(&r1);
            n += 2;
        }
        break;
    case 400:
        if (events)
            break;
        booking_in("PENDING", b, tok);
        TARGET();
        e2e_iso_from_now(731 * 86400, when);
        snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
        variant(resp, 400, auth, NULL, m, path, body, "scheduledAt must be within 730 days", ctx,
                "731 days ahead");
        e2e_iso_from_now(-86400, when);
        snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
        variant(resp, 400, auth, NULL, m, path, body, "scheduledAt must not be in the past", ctx,
                "yesterday");
        variant(resp, 400, auth, NULL, m, path, "{\"scheduledAt\":\"tomorrow\"}",
                "scheduledAt must be a valid ISO 8601 date string", ctx, "not a date");
        n += 3;
        if (meeting) {
            variant(resp, 400, NULL, NULL, m, path, "{\"status\":\"COMPLETED\"}",
                    "status must be one of the following values: CONFIRMED, CANCELLED", ctx,
                    "COMPLETED");
            snprintf(body, sizeof body, "{\"status\":\"CONFIRMED\",\"scheduledAt\":\"%s\"}", when);
            variant(resp, 400, NULL, NULL, m, path, body,
                    "body must have exactly one of status and scheduledAt", ctx, "both");
            booking_in("COMPLETED", b, tok); /* a 400 is judged before a 409 */
            TARGET();
            variant(resp, 400, NULL, NULL, m, path, "{\"status\":\"PENDING\"}",
                    "status must be one of the following values: CONFIRMED, CANCELLED", ctx,
                    "PENDING of a final booking");
            n += 3;
        }
        break;
    case 404: {
        if (meeting) { /* a malformed token: the same answer as GET's */
            struct e2e_resp g, p;
            e2e_meeting(&g, "not-a-uuid", NULL);
            send_req(&p, NULL, m, "/bookings/meeting/not-a-uuid", "{\"status\":\"CONFIRMED\"}");
            check_response(resp, &p, 404, ctx);
            if (g.status != 404 || !p.raw.body || !g.raw.body ||
                strcmp(p.raw.body, g.raw.body) != 0)
                mismatch("%s (a malformed token): %.200s, GET: %d %.200s", ctx,
                         p.raw.body ? p.raw.body : "", g.status, g.raw.body ? g.raw.body : "");
            if (!message_has(&p, "Meeting not found"))
                mismatch("%s (a malformed token): %.200s", ctx, p.raw.body ? p.raw.body : "");
            e2e_free(&g);
            e2e_free(&p);
            n++;
            break;
        }
        const char *bodyp = NULL;
        if (resched) {
            e2e_iso_from_now(86400, when);
            snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
            bodyp = body;
        }
        snprintf(path, sizeof path, "/bookings/%s%s", ZERO_UUID, events ? "/events" : "");
        variant(resp, 404, T.auth, NULL, m, path, bodyp, "Booking with id " ZERO_UUID " not found",
                ctx, "an unknown id");
        char ob[37]; /* another tenant's booking is answered the same way */
        e2e_lead_new(&O, NULL, "Doc other", 3600, NULL, ob, NULL);
        snprintf(path, sizeof path, "/bookings/%s%s", ob, events ? "/events" : "");
        snprintf(msg, sizeof msg, "Booking with id %s not found", ob);
        variant(resp, 404, T.auth, NULL, m, path, bodyp, msg, ctx, "another tenant's booking");
        n += 2;
        break;
    }
    case 409: {
        if (events)
            break;
        static const char *const finals[] = {"CANCELLED", "EXPIRED", NULL};
        e2e_iso_from_now(86400, when);
        snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
        for (int i = 0; i < 3; i++) { /* two final statuses, and past its expiry */
            booking_in(finals[i], b, tok);
            TARGET();
            if (meeting && finals[i])
                snprintf(msg, sizeof msg, "This booking cannot be rescheduled: it is %s",
                         finals[i]);
            else if (meeting)
                snprintf(msg, sizeof msg, "This booking cannot be rescheduled: it has expired");
            else if (finals[i])
                snprintf(msg, sizeof msg, "Booking %s cannot be rescheduled: it is %s", b,
                         finals[i]);
            else
                snprintf(msg, sizeof msg, "Booking %s cannot be rescheduled: it has expired", b);
            variant(resp, 409, auth, NULL, m, path, body, msg, ctx,
                    finals[i] ? finals[i] : "past its expiry");
            n++;
        }
        if (meeting) {
            booking_in("CANCELLED", b, tok);
            TARGET();
            variant(resp, 409, NULL, NULL, m, path, "{\"status\":\"CONFIRMED\"}",
                    "Cannot change booking status from CANCELLED to CONFIRMED", ctx,
                    "CANCELLED -> CONFIRMED");
            booking_in("CONFIRMED", b, tok);
            TARGET();
            e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '2 hours', "
                    "expires_at = now() - interval '1 hour' WHERE id = $1",
                    b, E2E_END);
            variant(resp, 409, NULL, NULL, m, path, "{\"status\":\"CANCELLED\"}",
                    "This booking has expired", ctx, "CONFIRMED past its expiry -> CANCELLED");
            n += 2;
        }
        break;
    }
    default:
        break;
    }
#undef TARGET
    return n;
}

/* Whether s is a signing secret as documented: whsec_ + standard base64 of 32 bytes. */
static int is_secret(const char *s)
{
    if (!s || strlen(s) != 50 || strncmp(s, "whsec_", 6) != 0 || s[49] != '=')
        return 0;
    for (int i = 6; i < 49; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i]))
            return 0;
    return 1;
}

/* The rules of the webhook endpoints that the document names (messages, what each view shows,
 * pages of deliveries). Returns how many answers were checked. */
static int webhook_variants(const char *tmpl, const char *method, int status, json_object *resp,
                            const char *ctx)
{
    if (!is_webhooks(tmpl))
        return 0;
    char m[16], path[1024], body[3000], msg[256], id[37];
    upper(method, m, sizeof m);
    int n = 0;
    struct e2e_resp r;
    int post = strcmp(method, "post") == 0, patch = strcmp(method, "patch") == 0;
    int get = strcmp(method, "get") == 0, del = strcmp(method, "delete") == 0;
    int collection = strcmp(tmpl, "/webhooks") == 0, one = strcmp(tmpl, "/webhooks/{id}") == 0;
    int deliveries = strcmp(tmpl, "/webhooks/{id}/deliveries") == 0;
    static const char url_ok[] = "\"url\":\"https://hooks.example.com/v\"";
    switch (status) {
    case 200:
    case 201:
        if (collection && post) { /* the order of events, the default description, the secret */
            snprintf(body, sizeof body,
                     "{%s,\"events\":[\"booking.rescheduled\",\"booking.created\"]}", url_ok);
            send_req(&r, T.auth, m, tmpl, body);
            check_response(resp, &r, 201, ctx);
            json_object *ev = jget(r.json, "events");
            if (r.status == 201 &&
                (strcmp(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN),
                        "[\"booking.rescheduled\",\"booking.created\"]") != 0 ||
                 strcmp(jstr(&r, "description"), "") != 0 || !is_secret(jstr(&r, "secret"))))
                mismatch("%s (events kept in order, description \"\", the secret): %.300s", ctx,
                         r.raw.body);
            snprintf(id, sizeof id, "%s", jstr(&r, "id"));
            e2e_free(&r);
            snprintf(path, sizeof path, "/webhooks/%s", id); /* never the secret again */
            send_req(&r, T.auth, "GET", path, NULL);
            if (r.status != 200 || !r.raw.body || strstr(r.raw.body, "whsec_"))
                mismatch("%s (GET of a new endpoint): %d %.300s", ctx, r.status,
                         r.raw.body ? r.raw.body : "");
            e2e_free(&r);
            n += 2;
        }
        if (collection && get) { /* a signed-in user with a tenant manages its endpoints too */
            webhook_new(&S, "https://hooks.example.com/user", "[\"booking.created\"]", id, NULL);
            send_req(&r, S.auth, m, tmpl, NULL);
            check_response(resp, &r, 200, ctx);
            if (r.status == 200 &&
                (json_object_array_length(r.json) != 1 ||
                 strcmp(json_object_get_string(jget(json_object_array_get_idx(r.json, 0), "id")),
                        id) != 0))
                mismatch("%s (a signed-in user's endpoints): %.300s", ctx, r.raw.body);
            if (r.raw.body && strstr(r.raw.body, "whsec_"))
                mismatch("%s: a secret in the list", ctx);
            e2e_free(&r);
            n++;
        }
        if (one && patch) { /* disabled and enabled again; {} changes nothing */
            webhook_new(&T, "https://hooks.example.com/p", "[\"booking.created\"]", id, NULL);
            snprintf(path, sizeof path, "/webhooks/%s", id);
            const char *bodies[] = {"{\"enabled\":false}", "{}", "{\"enabled\":true}"};
            const int want[] = {0, 0, 1};
            for (int i = 0; i < 3; i++) {
                send_req(&r, T.auth, m, path, bodies[i]);
                check_response(resp, &r, 200, ctx);
                json_object *en = jget(r.json, "enabled");
                if (r.status == 200 &&
                    (!en || json_object_get_boolean(en) != want[i] || strstr(r.raw.body, "whsec_")))
                    mismatch("%s (%s): %.300s", ctx, bodies[i], r.raw.body);
                e2e_free(&r);
            }
            n += 3;
        }
        if (is_rotate(tmpl)) { /* a new secret; the old one signs for 24 hours, as GET says */
            char before[64], after[64], in24h[40];
            webhook_new(&T, "https://hooks.example.com/r", "[\"booking.created\"]", id, before);
            snprintf(path, sizeof path, "/webhooks/%s/rotate-secret", id);
            send_req(&r, T.auth, m, path, NULL);
            check_response(resp, &r, 200, ctx);
            snprintf(after, sizeof after, "%s", jstr(&r, "secret"));
            e2e_iso_from_now(86400, in24h);
            int64_t d = e2e_ts_us(jstr(&r, "previousSecretExpiresAt")) - e2e_ts_us(in24h);
            if (r.status == 200 &&
                (!is_secret(after) || strcmp(after, before) == 0 || d > 60000000 || d < -60000000))
                mismatch("%s (no body): %.300s", ctx, r.raw.body);
            char expires[40];
            snprintf(expires, sizeof expires, "%s", jstr(&r, "previousSecretExpiresAt"));
            e2e_free(&r);
            snprintf(path, sizeof path, "/webhooks/%s", id);
            send_req(&r, T.auth, "GET", path, NULL);
            if (r.status != 200 || strcmp(jstr(&r, "previousSecretExpiresAt"), expires) != 0 ||
                strstr(r.raw.body, "whsec_"))
                mismatch("%s (GET after a rotation): %.300s", ctx, r.raw.body);
            e2e_free(&r);
            n += 2;
        }
        if (one && del) { /* the message, then it is gone */
            webhook_new(&T, "https://hooks.example.com/d", "[\"booking.created\"]", id, NULL);
            snprintf(path, sizeof path, "/webhooks/%s", id);
            snprintf(msg, sizeof msg, "Webhook %s successfully deleted", id);
            send_req(&r, T.auth, m, path, NULL);
            check_response(resp, &r, 200, ctx);
            if (r.status == 200 && strcmp(jstr(&r, "message"), msg) != 0)
                mismatch("%s: %.300s", ctx, r.raw.body);
            e2e_free(&r);
            send_req(&r, T.auth, "GET", path, NULL);
            if (r.status != 404)
                mismatch("%s: a deleted endpoint is %d", ctx, r.status);
            e2e_free(&r);
            n++;
        }
        if (deliveries) { /* pages: Link names the next one, with the tenantId asked with */
            const char *qs[] = {"?limit=1", "?limit=1&tenantId="};
            for (int i = 0; i < 2; i++) {
                snprintf(path, sizeof path, "/webhooks/%s/deliveries%s%s", webhook_id, qs[i],
                         i ? T.id : "");
                send_req(&r, T.auth, m, path, NULL);
                check_response(resp, &r, 200, ctx);
                char link[1024], want[512];
                const char *got = e2e_header(&r, "Link", link, sizeof link);
                snprintf(want, sizeof want, "</webhooks/%s/deliveries?limit=1&cursor=", webhook_id);
                size_t gl = got ? strlen(got) : 0;
                const char *tail = ">; rel=\"next\"";
                if (r.status != 200 || json_object_array_length(r.json) != 1 || !got ||
                    strncmp(got, want, strlen(want)) != 0 || gl < strlen(tail) ||
                    strcmp(got + gl - strlen(tail), tail) != 0 || (i && !strstr(got, T.id)) ||
                    (!i && strstr(got, "tenantId")))
                    mismatch("%s (%s): Link %s, %.200s", ctx, qs[i], got ? got : "missing",
                             r.raw.body ? r.raw.body : "");
                e2e_free(&r);
                n++;
                if (!got || i)
                    continue;
                char next[1024]; /* the next page */
                snprintf(next, sizeof next, "%.*s", (int)(strchr(got, '>') - got - 1), got + 1);
                send_req(&r, T.auth, m, next, NULL);
                check_response(resp, &r, 200, ctx);
                e2e_free(&r);
                n++;
            }
        }
        break;
    case 400: {
        if (collection && get)
            break;
        if (deliveries) {
            static const struct {
                const char *q, *msg;
            } bad[] = {{"limit=0", "limit must be an integer between 1 and 1000"},
                       {"limit=1001", "limit must be an integer between 1 and 1000"},
                       {"cursor=AAAA", "cursor is not a valid page cursor"}};
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(path, sizeof path, "/webhooks/%s/deliveries?%s", webhook_id, bad[i].q);
                variant(resp, 400, T.auth, NULL, m, path, NULL, bad[i].msg, ctx, bad[i].q);
                n++;
            }
        }
        if (!collection) { /* a malformed id */
            snprintf(path, sizeof path, "/webhooks/not-a-uuid%s",
                     is_rotate(tmpl) ? "/rotate-secret"
                     : deliveries    ? "/deliveries"
                                     : "");
            variant(resp, 400, T.auth, NULL, m, path, post || patch ? "{}" : NULL,
                    "Validation failed (uuid is expected)", ctx, "a malformed id");
            n++;
        }
        if (is_rotate(tmpl)) {
            snprintf(path, sizeof path, "/webhooks/%s/rotate-secret", webhook_id);
            variant(resp, 400, T.auth, NULL, m, path, "{\"secret\":\"mine\"}",
                    "property secret should not exist", ctx, "a field");
            n++;
        }
        if (!(collection && post) && !(one && patch))
            break;
        snprintf(path, sizeof path, "/webhooks%s%s", one ? "/" : "", one ? webhook_id : "");
        char long_url[2100], long_desc[520];
        int l = snprintf(long_url, sizeof long_url, "https://hooks.example.com/");
        memset(long_url + l, 'p', (size_t)(2049 - l));
        long_url[2049] = '\0';
        memset(long_desc, 'd', 501);
        long_desc[501] = '\0';
        static const char events_only[] =
            "events must contain only booking.created, booking.status_changed, "
            "booking.rescheduled";
        struct {
            const char *field, *msg;
        } cases[] = {
            {"\"url\":\"hooks.example.com/x\"", "url must be a URL address"},
            {"\"url\":\"\"", "url must be a URL address"},
            {NULL, "url must be shorter than or equal to 2048 characters"},
            {"\"url\":\"http://hooks.example.com/\"", "url must use https"},
            {"\"url\":\"https://user:pw@hooks.example.com/\"", "url must not contain credentials"},
            {"\"url\":\"https://hooks.example.com/#top\"", "url must not contain a fragment"},
            {"\"url\":\"https://10.1.2.3/\"",
             "url must not point to a loopback, private or otherwise non-public address"},
            {"\"url\":\"https://[::1]/\"",
             "url must not point to a loopback, private or otherwise non-public address"},
            {"\"events\":\"booking.created\"", "events must be an array"},
            {"\"events\":[]", "events should not be empty"},
            {"\"events\":[\"booking.deleted\"]", events_only},
            {"\"events\":[\"booking.created\",\"booking.created\"]",
             "events must not contain duplicates"},
            {"\"description\":7", "description must be a string"},
            {"\"description\":\"a\\u0000b\"", "description must not contain null characters"},
            {"", "description must be shorter than or equal to 500 characters"},
            {"\"enabled\":\"yes\"",
             post ? "property enabled should not exist" : "enabled must be a boolean value"},
            {"\"secret\":\"whsec_x\"", "property secret should not exist"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char field[2200];
            if (!cases[i].field)
                snprintf(field, sizeof field, "\"url\":\"%s\"", long_url);
            else if (!cases[i].field[0])
                snprintf(field, sizeof field, "\"description\":\"%s\"", long_desc);
            else
                snprintf(field, sizeof field, "%s", cases[i].field);
            int has_url = strncmp(field, "\"url\"", 5) == 0;
            int has_events = strncmp(field, "\"events\"", 8) == 0;
            snprintf(body, sizeof body, "{%s%s%s%s%s}", field, post && !has_url ? "," : "",
                     post && !has_url ? url_ok : "", post && !has_events ? "," : "",
                     post && !has_events ? "\"events\":[\"booking.created\"]" : "");
            variant(resp, 400, T.auth, NULL, m, path, body, cases[i].msg, ctx, cases[i].msg);
            n++;
        }
        if (post) {
            variant(resp, 400, T.auth, NULL, m, path, "{\"url\":null}", "url should not be empty",
                    ctx, "a null url");
            n++;
        }
        break;
    }
    case 404:
        if (collection)
            break;
        snprintf(path, sizeof path, "/webhooks/%s%s", ZERO_UUID,
                 is_rotate(tmpl) ? "/rotate-secret"
                 : deliveries    ? "/deliveries"
                                 : "");
        variant(resp, 404, T.auth, NULL, m, path, post || patch ? "{}" : NULL,
                "Webhook with id " ZERO_UUID " not found", ctx, "an unknown id");
        { /* another tenant's endpoint is answered the same way */
            char other[37];
            webhook_new(&O, "https://hooks.example.com/o", "[\"booking.created\"]", other, NULL);
            snprintf(path, sizeof path, "/webhooks/%s%s", other,
                     is_rotate(tmpl) ? "/rotate-secret"
                     : deliveries    ? "/deliveries"
                                     : "");
            snprintf(msg, sizeof msg, "Webhook with id %s not found", other);
            variant(resp, 404, T.auth, NULL, m, path, post || patch ? "{}" : NULL, msg, ctx,
                    "another tenant's endpoint");
        }
        n += 2;
        break;
    default:
        break;
    }
    return n;
}

/* ---- the deliveries of the document's "webhooks" ------------------------------------------ */

#define RX_MAX 4

struct rx_req {
    char head[8192]; /* request line and header lines */
    char body[16384];
    size_t body_len;
};

/* A receiver in a child process: answers n requests 204, each request written to out_fd
 * (length, then the bytes). Returns the port; *pid the child's. */
static int rx_start(int n, int out_fd, pid_t *pid)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    ck_assert(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 8) == 0 &&
              getsockname(s, (struct sockaddr *)&a, &alen) == 0);
    fflush(NULL);
    *pid = fork();
    ck_assert_int_ge(*pid, 0);
    if (*pid == 0) {
        static char buf[32768];
        static const char ans[] =
            "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        for (int i = 0; i < n; i++) {
            int c = accept(s, NULL, NULL);
            if (c < 0)
                _exit(1);
            size_t len = 0;
            for (;;) {
                ssize_t got = read(c, buf + len, sizeof buf - 1 - len);
                if (got <= 0)
                    break;
                len += (size_t)got;
                buf[len] = '\0';
                char *end = strstr(buf, "\r\n\r\n");
                if (!end)
                    continue;
                size_t body = 0;
                for (const char *line = strstr(buf, "\r\n"); line && line < end;
                     line = strstr(line + 2, "\r\n"))
                    if (strncasecmp(line + 2, "content-length:", 15) == 0)
                        body = strtoul(line + 17, NULL, 10);
                if (len >= (size_t)(end + 4 - buf) + body)
                    break;
            }
            uint32_t l32 = (uint32_t)len;
            if (write(out_fd, &l32, sizeof l32) != (ssize_t)sizeof l32 ||
                write(out_fd, buf, len) != (ssize_t)len ||
                write(c, ans, sizeof ans - 1) != (ssize_t)(sizeof ans - 1))
                _exit(1);
            close(c);
        }
        _exit(0);
    }
    close(s);
    return ntohs(a.sin_port);
}

/* One recorded request, or 0 when none came within 5 s. */
static int rx_next(int fd, struct rx_req *q)
{
    static char buf[32768];
    uint32_t l32;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0 || read(fd, &l32, sizeof l32) != (ssize_t)sizeof l32 ||
        l32 >= sizeof buf)
        return 0;
    size_t got = 0;
    while (got < l32) {
        ssize_t r = read(fd, buf + got, l32 - got);
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    buf[got] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
        return 0;
    snprintf(q->head, sizeof q->head, "%.*s", (int)(end - buf + 2), buf);
    q->body_len = got - (size_t)(end + 4 - buf);
    if (q->body_len >= sizeof q->body)
        return 0;
    memcpy(q->body, end + 4, q->body_len);
    q->body[q->body_len] = '\0';
    return 1;
}

/* The value of header name (any case) of q in out, or NULL. */
static const char *rx_header(const struct rx_req *q, const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);
    for (const char *line = strstr(q->head, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            const char *v = h + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, len, "%.*s", (int)strcspn(v, "\r"), v);
            return out;
        }
    }
    return NULL;
}

/* "v1," + base64 of HMAC-SHA256(decoded secret, id.timestamp.body). */
static void expected_signature(const char *secret, const char *id, const char *ts,
                               const struct rx_req *q, char out[64])
{
    unsigned char key[48], mac[EVP_MAX_MD_SIZE];
    int kl = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, 44) - 1; /* one '=' */
    size_t cl = strlen(id) + strlen(ts) + 2 + q->body_len;
    char *content = malloc(cl + 1);
    ck_assert_ptr_nonnull(content);
    snprintf(content, cl + 1, "%s.%s.%s", id, ts, q->body);
    unsigned int ml = 0;
    HMAC(EVP_sha256(), key, kl, (const unsigned char *)content, cl, mac, &ml);
    free(content);
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)ml);
}

/* The real deliverer (leadbookctl webhooks run --once) posts the three events of one booking
 * to a receiver here, after a rotation of the secret: each request is checked against the
 * document's "webhooks" (headers, both signatures, the body's schema by its type), the
 * outbox's stored payload is the body byte for byte, and the attempts are listed as
 * delivered. Returns how many answers were checked. */
static int check_webhook_deliveries(void)
{
    const char *ctx = "webhooks (leadbookctl webhooks run)";
    json_object *hooks = jget(doc, "webhooks");
    if (!hooks) {
        mismatch("%s: the document has no webhooks", ctx);
        return 0;
    }
    struct e2e_tenant d;
    e2e_tenant_new(&d, "OpenAPI deliveries", 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t rx;
    int port = rx_start(3, fds[1], &rx);
    close(fds[1]);
    char url[128], hook[37], old_secret[64], new_secret[64], path[256], body[128], when[40];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/doc-hook?x=1", port);
    webhook_new(&d, url, "[\"booking.created\",\"booking.status_changed\",\"booking.rescheduled\"]",
                hook, old_secret);
    struct e2e_resp r;
    snprintf(path, sizeof path, "/webhooks/%s/rotate-secret", hook);
    send_req(&r, d.auth, "POST", path, NULL);
    ck_assert_int_eq(r.status, 200);
    snprintf(new_secret, sizeof new_secret, "%s", jstr(&r, "secret"));
    e2e_free(&r);
    char b[37];
    e2e_lead_new(&d, NULL, "Doc delivered", 3600, NULL, b, NULL);
    ck_assert_int_eq(e2e_set_status(&d, b, "CONFIRMED"), 200);
    e2e_iso_from_now(2 * 86400, when);
    snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", when);
    snprintf(path, sizeof path, "/bookings/%s", b);
    send_req(&r, d.auth, "PATCH", path, body);
    ck_assert_int_eq(r.status, 200);
    e2e_free(&r);

    /* only these are due: the other endpoints of this program are not receivers */
    e2e_sql("UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL "
            "WHERE status = 'pending' AND endpoint_id <> $1",
            hook, E2E_END);
    char conf[400];
    snprintf(conf, sizeof conf, "%s/leadbook.conf", e2e_stack.dir);
    char *argv[] = {(char *)pgtest_ctl_path(),
                    "--db",
                    (char *)e2e_conninfo(),
                    "-c",
                    conf,
                    "webhooks",
                    "run",
                    "--once",
                    NULL};
    int rc = pgtest_run(argv, NULL, NULL);
    if (rc != 0)
        mismatch("%s: leadbookctl webhooks run --once exited %d", ctx, rc);

    int n = 0, seen = 0;
    struct rx_req *q = malloc(sizeof *q);
    ck_assert_ptr_nonnull(q);
    for (int i = 0; i < 3 && rx_next(fds[0], q); i++) {
        char vctx[300], v[256];
        json_object *o = json_tokener_parse(q->body);
        const char *type = json_object_get_string(jget(o, "type"));
        snprintf(vctx, sizeof vctx, "%s: %s", ctx, type ? type : "(no type)");
        if (!o || !type || !jget(hooks, type)) {
            mismatch("%s: an undocumented request: %.300s", vctx, q->body);
            json_object_put(o);
            continue;
        }
        seen |= strcmp(type, "booking.created") == 0          ? 1
                : strcmp(type, "booking.status_changed") == 0 ? 2
                                                              : 4;
        json_object *op = jget(jget(hooks, type), "post");
        if (strncmp(q->head, "POST /doc-hook?x=1 HTTP/1.1\r\n", 29) != 0)
            mismatch("%s: %.60s", vctx, q->head);
        json_object *ps = jget(op, "parameters");
        for (size_t k = 0; ps && k < json_object_array_length(ps); k++) {
            json_object *p = deref(json_object_array_get_idx(ps, k));
            const char *name = json_object_get_string(jget(p, "name"));
            json_object *sch = jget(p, "schema"), *c = jget(sch, "const");
            const char *got = rx_header(q, name, v, sizeof v);
            if (!got) {
                if (json_object_get_boolean(jget(p, "required")))
                    mismatch("%s: header %s missing", vctx, name);
                continue;
            }
            if (c && strcmp(json_object_get_string(c), got) != 0)
                mismatch("%s: header %s: %s", vctx, name, got);
            json_object *fmt = jget(sch, "format");
            if (fmt && strcmp(json_object_get_string(fmt), "uuid") == 0 && !e2e_is_uuid(got))
                mismatch("%s: header %s: %s is not a uuid", vctx, name, got);
        }
        char wid[64] = "", wts[32] = "", wsig[256] = "", ct[64] = "", ua[128] = "";
        rx_header(q, "webhook-id", wid, sizeof wid);
        rx_header(q, "webhook-timestamp", wts, sizeof wts);
        rx_header(q, "webhook-signature", wsig, sizeof wsig);
        rx_header(q, "Content-Type", ct, sizeof ct);
        rx_header(q, "User-Agent", ua, sizeof ua);
        if (strcmp(wid, json_object_get_string(jget(o, "id"))) != 0)
            mismatch("%s: webhook-id %s is not the body's id", vctx, wid);
        long long ts = atoll(wts);
        if (strspn(wts, "0123456789") != strlen(wts) || llabs(ts - (long long)time(NULL)) > 120)
            mismatch("%s: webhook-timestamp %s", vctx, wts);
        if (strcmp(ct, "application/json") != 0 || strncmp(ua, "leadbook-webhooks/", 18) != 0)
            mismatch("%s: Content-Type %s, User-Agent %s", vctx, ct, ua);
        char s1[64], s2[64], both[140];
        expected_signature(new_secret, wid, wts, q, s1);
        expected_signature(old_secret, wid, wts, q, s2);
        snprintf(both, sizeof both, "%s %s", s1, s2); /* during a rotation: new, then old */
        if (strcmp(wsig, both) != 0)
            mismatch("%s: webhook-signature %s, expected %s", vctx, wsig, both);
        json_object *schema = jget(
            jget(jget(deref(jget(op, "requestBody")), "content"), "application/json"), "schema");
        check_schema(schema, o, "body", vctx);
        json_object *data = jget(o, "data");
        if (strcmp(json_object_get_string(jget(jget(data, "booking"), "id")), b) != 0)
            mismatch("%s: not the booking's event: %.300s", vctx, q->body);
        char stored[16384];
        e2e_sql_value(stored, sizeof stored, "SELECT payload FROM webhook_events WHERE id = $1",
                      wid, E2E_END);
        if (strcmp(stored, q->body) != 0)
            mismatch("%s: the body is not the outbox's payload", vctx);
        json_object_put(o);
        n++;
    }
    free(q);
    if (seen != 7)
        mismatch("%s: not the three events of the booking (seen %d)", ctx, seen);
    close(fds[0]);
    kill(rx, SIGKILL);
    waitpid(rx, NULL, 0);

    /* the attempts, as GET /webhooks/{id}/deliveries documents them */
    json_object *resp200 =
        jget(jget(jget(jget(jget(doc, "paths"), "/webhooks/{id}/deliveries"), "get"), "responses"),
             "200");
    snprintf(path, sizeof path, "/webhooks/%s/deliveries", hook);
    send_req(&r, d.auth, "GET", path, NULL);
    check_response(resp200, &r, 200, "get /webhooks/{id}/deliveries (delivered)");
    for (size_t i = 0; r.status == 200 && i < json_object_array_length(r.json); i++) {
        json_object *e = json_object_array_get_idx(r.json, i);
        if (strcmp(json_object_get_string(jget(e, "status")), "delivered") != 0 ||
            json_object_get_int(jget(e, "responseStatus")) != 204 ||
            !e2e_is_ts(json_object_get_string(jget(e, "deliveredAt"))))
            mismatch("%s: attempt %s", ctx, json_object_to_json_string(e));
    }
    if (r.status == 200 && json_object_array_length(r.json) != 3)
        mismatch("%s: %zu attempts listed", ctx, json_object_array_length(r.json));
    e2e_free(&r);
    return n + 1;
}

/* What every operation can answer, as this program knows how to provoke it: the document must
 * list exactly these. */
static int expected_statuses(const char *tmpl, const char *method, int *out)
{
    int n = 0;
    int is_public = strncmp(tmpl, "/bookings/meeting/", 18) == 0;
    int health = is_probe(tmpl);
    int has_body = strcmp(method, "post") == 0 || strcmp(method, "patch") == 0;
    int has_param = strchr(tmpl, '{') != NULL;
    if (strcmp(method, "options") == 0) {
        out[n++] = 204;
        return n;
    }
    out[n++] = strcmp(method, "post") == 0 && !is_rotate(tmpl) ? 201 : 200;
    if (health) {
        if (strcmp(tmpl, "/readyz") == 0)
            out[n++] = 503;
        return n;
    }
    if (is_public) { /* no credential: no 401, no 403 */
        if (has_body)
            out[n++] = 400;
        out[n++] = 404;
        if (has_body) {
            out[n++] = 409;
            out[n++] = 413;
            out[n++] = 415;
            out[n++] = 422;
        }
        out[n++] = 429;
        out[n++] = 500;
        out[n++] = 503;
        return n;
    }
    int get = strcmp(method, "get") == 0;
    /* no query, no id to be malformed: GET /agents, and the tenant routes' GETs (a userId is
     * any string) */
    int no_400 = get && (strcmp(tmpl, "/agents") == 0 || is_tenants(tmpl));
    if (!no_400)
        out[n++] = 400;
    out[n++] = 401;
    out[n++] = 403;
    if (has_param || (strcmp(tmpl, "/leads") == 0 && strcmp(method, "post") == 0) ||
        (strcmp(tmpl, "/tenants/me") == 0 && get))
        out[n++] = 404;
    if (has_body) { /* 409: at least the in-flight one of an Idempotency-Key */
        out[n++] = 409;
        out[n++] = 413;
        out[n++] = 415;
        out[n++] = 422;
    }
    out[n++] = 500;
    out[n++] = 503;
    return n;
}

START_TEST(t_openapi_matches_service)
{
    doc = load_doc();
    ck_assert_str_eq(json_object_get_string(jget(doc, "openapi")), "3.1.0");
    json_object *bearer = jget(jget(jget(doc, "components"), "securitySchemes"), "bearer");
    ck_assert_str_eq(json_object_get_string(jget(bearer, "type")), "http");
    ck_assert_str_eq(json_object_get_string(jget(bearer, "scheme")), "bearer");
    json_object *global_sec = jget(doc, "security");
    ck_assert(global_sec && json_object_array_length(global_sec) == 1);

    e2e_tenant_new(&T, "OpenAPI", 0);
    e2e_tenant_new(&O, "OpenAPI other", 0);
    /* before T's first booking: its events are written, one delivery each */
    webhook_new(&T, "http://127.0.0.1:9/doc",
                "[\"booking.created\",\"booking.status_changed\",\"booking.rescheduled\"]",
                webhook_id, NULL);
    e2e_lead_new(&T, NULL, "Doc lead", 86400, lead_id, booking_id, token);
    e2e_user_new(&S, NULL);
    e2e_user_signup(&S, "OpenAPI signed-in");
    e2e_user_new(&N, NULL);
    e2e_booking_key_new(booking_auth, sizeof booking_auth, NULL);

    /* every route of the service is documented */
    const char *routes[] = {"/tenants",
                            "/tenants/me",
                            "/tenants/by-user/{userId}",
                            "/leads",
                            "/leads/stats",
                            "/leads/{id}",
                            "/bookings/meeting/{meetingToken}",
                            "/bookings/{id}/status",
                            "/bookings/{id}",
                            "/bookings/{id}/events",
                            "/agents",
                            "/agents/{id}",
                            "/agents/by-link/{publicLink}",
                            "/webhooks",
                            "/webhooks/{id}",
                            "/webhooks/{id}/rotate-secret",
                            "/webhooks/{id}/deliveries",
                            "/healthz",
                            "/readyz",
                            "/metrics"};
    json_object *paths = jget(doc, "paths");
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!jget(paths, routes[i]))
            mismatch("route %s is not documented", routes[i]);

    int ops = 0, checks = 0;
    json_object_object_foreach(paths, tmpl, item)
    {
        static const char *const methods[] = {"get",     "post", "patch", "delete",
                                              "options", "put",  "head"};
        for (size_t mi = 0; mi < sizeof methods / sizeof methods[0]; mi++) {
            json_object *op = jget(item, methods[mi]);
            if (!op)
                continue;
            ops++;
            /* security: public routes say so, the others inherit bearer */
            int public_route =
                is_probe(tmpl) || (is_meeting(tmpl) && (strcmp(methods[mi], "get") == 0 ||
                                                        strcmp(methods[mi], "patch") == 0));
            json_object *sec = jget(op, "security");
            if (public_route != (sec && json_object_array_length(sec) == 0))
                mismatch("%s %s: security %s", methods[mi], tmpl,
                         public_route ? "should be [] (public)" : "should be bearer");

            json_object *responses = jget(op, "responses");
            int want[32];
            int nwant = expected_statuses(tmpl, methods[mi], want);
            for (int w = 0; w < nwant; w++) {
                char code[8];
                snprintf(code, sizeof code, "%d", want[w]);
                if (!jget(responses, code))
                    mismatch("%s %s: the service answers %d, not documented", methods[mi], tmpl,
                             want[w]);
            }
            json_object_object_foreach(responses, code, resp)
            {
                int status = atoi(code);
                char ctx[256];
                snprintf(ctx, sizeof ctx, "%s %s -> %d", methods[mi], tmpl, status);
                struct e2e_resp r;
                memset(&r, 0, sizeof r);
                if (produce(tmpl, methods[mi], status, &r, NULL) != 0) {
                    mismatch("%s: documented, but no request here produces it", ctx);
                    continue;
                }
                check_response(resp, &r, status, ctx);
                checks++;
                if (status == 200 && strcmp(tmpl, "/leads/stats") == 0 && r.status == 200 &&
                    !json_object_equal(jget(r.json, "total"), jget(r.json, "totalLeads")))
                    mismatch("%s: total is not totalLeads", ctx);
                checks += variants(tmpl, methods[mi], status, resp, ctx);
                checks += write_variants(tmpl, methods[mi], status, resp, op, ctx);
                checks += booking_variants(tmpl, methods[mi], status, resp, ctx);
                checks += webhook_variants(tmpl, methods[mi], status, resp, ctx);
                /* a documented JSON 200 answered to Accept: text/calendar as well */
                if (status == 200 &&
                    jget(jget(deref(resp), "content"), "text/calendar; charset=utf-8")) {
                    struct e2e_resp cal;
                    e2e_meeting(&cal, token, "text/calendar");
                    check_response(resp, &cal, 200, "get meeting (text/calendar)");
                    e2e_free(&cal);
                }
                e2e_free(&r);
            }
        }
        /* any other method */
        json_object *other = jget(item, "x-other-methods");
        json_object *r405 = jget(other, "405");
        if (!r405) {
            mismatch("%s: x-other-methods 405 not documented", tmpl);
            continue;
        }
        struct e2e_resp r;
        produce(tmpl, "put", 405, &r, NULL);
        char ctx[256];
        snprintf(ctx, sizeof ctx, "PUT %s -> 405", tmpl);
        check_response(r405, &r, 405, ctx);
        checks++;
        e2e_free(&r);
    }
    checks += check_webhook_deliveries();
    if (nfail) /* also here: Check truncates (or drops) a long failure message */
        fprintf(stderr, "%d mismatches (%d checks):\n%s", nfail, checks, failures);
    ck_assert_int_ge(ops, 30);
    ck_assert_msg(nfail == 0,
                  "%d mismatches between doc/openapi.yaml and the service (%d checks):\n%.3000s",
                  nfail, checks, failures);
    json_object_put(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = e2e_tcase("openapi", 240);
    tcase_add_test(tc, t_openapi_matches_service);
    suite_add_tcase(s, tc);
    /* started here, not in the (forked) test, so that it is stopped whatever the test did */
    const char *lines[] = {"db = host=/nonexistent/leadbook-no-pg dbname=none", NULL};
    dead_up = stack_start(&dead, lines) == 0;
    int rc = e2e_main("openapi", s);
    if (dead_up)
        stack_stop(&dead);
    return rc;
}
