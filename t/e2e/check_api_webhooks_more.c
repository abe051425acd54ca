/* check_api_webhooks_more: the second half of check_api_webhooks — two tenants and the other
 * credentials, the outbox's pending delivery for a new booking, keyset pages of deliveries
 * (rows inserted with SQL, ties in createdAt included), and Idempotency-Key replays of the three
 * writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

void webhooks_more_tests(TCase *tc);

static void hook_new(const struct e2e_tenant *t, const char *events, char id[37], char secret[64])
{
    char body[512];
    snprintf(body, sizeof body, "{\"url\":\"https://hooks.example.com/in\",\"events\":%s}", events);
    struct e2e_resp r;
    e2e_call(&r, t, "POST", "/webhooks", body);
    e2e_expect(&r, 201);
    snprintf(id, 37, "%s", e2e_str(r.json, "id"));
    if (secret)
        snprintf(secret, 64, "%s", e2e_str(r.json, "secret"));
    e2e_free(&r);
}

static void row_state(const char *id, char *out, size_t len)
{
    e2e_sql_value(out, len,
                  "SELECT url || events::text || description || secret || enabled::text || "
                  "COALESCE(previous_secret, '-') || updated_at::text FROM webhook_endpoints "
                  "WHERE id = $1",
                  id, E2E_END);
}

START_TEST(t_isolation)
{
    struct e2e_tenant a, b;
    e2e_tenant_new(&a, "Hooks A", 0);
    e2e_tenant_new(&b, "Hooks B", 0);
    char id[37], before[1024], after[1024], msg[128];
    hook_new(&a, "[\"booking.created\"]", id, NULL);
    row_state(id, before, sizeof before);
    snprintf(msg, sizeof msg, "Webhook with id %s not found", id);
    static const struct {
        const char *method, *fmt, *body;
    } calls[] = {
        {"GET", "/webhooks/%s", NULL},
        {"PATCH", "/webhooks/%s", "{\"url\":\"https://evil.example.com/\",\"enabled\":false}"},
        {"DELETE", "/webhooks/%s", NULL},
        {"POST", "/webhooks/%s/rotate-secret", NULL},
        {"GET", "/webhooks/%s/deliveries", NULL},
    };
    struct e2e_resp r;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        e2e_callf(&r, &b, calls[i].method, calls[i].body, calls[i].fmt, id);
        e2e_expect_error(&r, 404, msg); /* exactly like a missing one */
        e2e_free(&r);
    }
    /* with an Idempotency-Key too (the stored answer is the 404) */
    char hdrs[2300], path[128];
    snprintf(hdrs, sizeof hdrs, "%sIdempotency-Key: iso-1\r\n", b.auth);
    snprintf(path, sizeof path, "/webhooks/%s", id);
    e2e_raw(&r, hdrs, "PATCH", path, "{\"enabled\":false}", 17);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);
    e2e_call(&r, &b, "GET", "/webhooks", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 0);
    e2e_free(&r);
    row_state(id, after, sizeof after);
    ck_assert_str_eq(after, before);

    /* another tenant's tenantId: 403; the booking page's key: 403 */
    char q[128];
    snprintf(q, sizeof q, "/webhooks?tenantId=%s", a.id);
    e2e_call(&r, &b, "GET", q, NULL);
    e2e_expect_error(&r, 403, "tenantId does not match the tenant of the API key");
    e2e_free(&r);
    char page_auth[256], page_key[37];
    e2e_booking_key_new(page_auth, sizeof page_auth, page_key);
    e2e_raw(&r, page_auth, "GET", "/webhooks", NULL, 0);
    e2e_expect_error(&r, 403, "This key may only be used by the booking page");
    e2e_free(&r);
    const char *body = "{\"url\":\"https://hooks.example.com/\",\"events\":[\"booking.created\"]}";
    e2e_raw(&r, page_auth, "POST", "/webhooks", body, strlen(body));
    e2e_expect_error(&r, 403, "This key may only be used by the booking page");
    e2e_free(&r);
    e2e_raw(&r, NULL, "GET", "/webhooks", NULL, 0);
    e2e_expect_401(&r);
    e2e_free(&r);

    /* a signed-in user manages their tenant's endpoints */
    struct e2e_tenant u;
    e2e_user_new(&u, NULL);
    e2e_user_signup(&u, "Hooks user");
    char uid[37];
    hook_new(&u, "[\"booking.status_changed\"]", uid, NULL);
    e2e_call(&r, &u, "GET", "/webhooks", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), uid);
    e2e_free(&r);
    snprintf(msg, sizeof msg, "Webhook with id %s not found", uid);
    e2e_callf(&r, &a, "GET", NULL, "/webhooks/%s", uid);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);
}
END_TEST

START_TEST(t_outbox_delivery)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks outbox", 0);
    char created[37], rescheduled[37], disabled[37];
    hook_new(&t, "[\"booking.created\"]", created, NULL);
    hook_new(&t, "[\"booking.rescheduled\"]", rescheduled, NULL);
    hook_new(&t, "[\"booking.created\"]", disabled, NULL);
    struct e2e_resp r;
    e2e_callf(&r, &t, "PATCH", "{\"enabled\":false}", "/webhooks/%s", disabled);
    e2e_expect(&r, 200);
    e2e_free(&r);
    char booking[37];
    e2e_lead_new(&t, NULL, "Hooked Lead", 3600, NULL, booking, NULL);
    char event_id[37];
    e2e_sql_value(event_id, sizeof event_id,
                  "SELECT id FROM webhook_events WHERE tenant_id = $1 AND type = 'booking.created'",
                  t.id, E2E_END);
    ck_assert(e2e_is_uuid(event_id));

    e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s/deliveries", created);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    json_object *d = json_object_array_get_idx(r.json, 0);
    e2e_keys(d, "id", "eventId", "event", "attempt", "status", "responseStatus", "error",
             "createdAt", "nextAttemptAt", "deliveredAt", E2E_END);
    ck_assert(e2e_is_uuid(e2e_str(d, "id")));
    ck_assert_str_eq(e2e_str(d, "eventId"), event_id);
    ck_assert_str_eq(e2e_str(d, "event"), "booking.created");
    ck_assert_int_eq(e2e_int(d, "attempt"), 1);
    ck_assert_str_eq(e2e_str(d, "status"), "pending");
    ck_assert(json_object_is_type(e2e_get(d, "responseStatus"), json_type_null));
    ck_assert_ptr_null(e2e_str(d, "error"));
    ck_assert(e2e_is_ts(e2e_str(d, "createdAt")));
    ck_assert(e2e_is_ts(e2e_str(d, "nextAttemptAt")));
    ck_assert_ptr_null(e2e_str(d, "deliveredAt"));
    ck_assert_ptr_null(e2e_header(&r, "Link", (char[8]){0}, 8));
    e2e_free(&r);
    /* neither the endpoint that wants another event nor the disabled one got one */
    const char *none[] = {rescheduled, disabled};
    for (size_t i = 0; i < 2; i++) {
        e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s/deliveries", none[i]);
        e2e_expect(&r, 200);
        ck_assert_int_eq(json_object_array_length(r.json), 0);
        e2e_free(&r);
    }
    /* a status change is not booking.created: still one */
    ck_assert_int_eq(e2e_set_status(&t, booking, "CONFIRMED"), 200);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1",
                                  created, E2E_END),
                     1);
}
END_TEST

/* GET path, appending the page's ids to ids (one 37-byte slot each); returns the next path
 * from Link in next ("" when none). */
static size_t get_page(const struct e2e_tenant *t, const char *path, char (*ids)[37], size_t have,
                       int64_t *last_us, char *next, size_t next_len)
{
    struct e2e_resp r;
    e2e_call(&r, t, "GET", path, NULL);
    e2e_expect(&r, 200);
    size_t n = json_object_array_length(r.json);
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(r.json, i);
        int64_t us = e2e_ts_us(e2e_str(d, "createdAt"));
        const char *id = e2e_str(d, "id");
        /* newest first: createdAt DESC, then id DESC */
        ck_assert_msg(have + i == 0 || us < *last_us ||
                          (us == *last_us && strcmp(id, ids[have + i - 1]) < 0),
                      "row %zu out of order", have + i);
        *last_us = us;
        snprintf(ids[have + i], 37, "%s", id);
    }
    char link[512];
    next[0] = '\0';
    if (e2e_header(&r, "Link", link, sizeof link)) {
        char *lt = strchr(link, '<'), *gt = strchr(link, '>');
        ck_assert(lt && gt && gt > lt);
        ck_assert_str_eq(gt, ">; rel=\"next\"");
        snprintf(next, next_len, "%.*s", (int)(gt - lt - 1), lt + 1);
    }
    e2e_free(&r);
    return n;
}

START_TEST(t_delivery_pages)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks pages", 0);
    char id[37], other[37], ev[37];
    hook_new(&t, "[\"booking.created\"]", id, NULL);
    hook_new(&t, "[\"booking.created\"]", other, NULL);
    e2e_sql_value(ev, sizeof ev,
                  "INSERT INTO webhook_events (tenant_id, type, payload) "
                  "VALUES ($1, 'booking.created', '{}') RETURNING id",
                  t.id, E2E_END);
    /* 250 attempts, two at a time sharing a createdAt, of every status; 3 of another endpoint */
    e2e_sql("INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, attempt, status, "
            "response_status, error, created_at, delivered_at) "
            "SELECT $1, $2, $3, 1 + g % 3, (ARRAY['pending', 'failed', 'delivered'])[1 + g % 3], "
            "CASE g % 3 WHEN 1 THEN 500 WHEN 2 THEN 204 END, "
            "CASE g % 3 WHEN 1 THEN 'HTTP 500' END, now() - (g / 2) * interval '1 second', "
            "CASE g % 3 WHEN 2 THEN now() END FROM generate_series(1, 250) g",
            t.id, id, ev, E2E_END);
    e2e_sql("INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id) "
            "SELECT $1, $2, $3 FROM generate_series(1, 3)",
            t.id, other, ev, E2E_END);
    static char ids[300][37];
    char path[512], next[512], want[160];
    int64_t last = 0;
    size_t total = 0;
    int pages = 0;
    snprintf(path, sizeof path, "/webhooks/%s/deliveries", id);
    while (path[0]) {
        size_t n = get_page(&t, path, ids, total, &last, next, sizeof next);
        ck_assert_int_eq(n, pages < 2 ? 100 : 50); /* the default limit is 100 */
        if (next[0]) {
            snprintf(want, sizeof want, "/webhooks/%s/deliveries?limit=100&cursor=", id);
            ck_assert_msg(strncmp(next, want, strlen(want)) == 0, "Link %s", next);
        }
        total += n;
        pages++;
        snprintf(path, sizeof path, "%s", next);
    }
    ck_assert_int_eq(pages, 3);
    ck_assert_int_eq(total, 250);
    for (size_t i = 1; i < total; i++) /* strictly ordered, so no row twice */
        ck_assert_str_ne(ids[i], ids[i - 1]);
    /* all in one page: no Link; a failed attempt's fields */
    snprintf(path, sizeof path, "/webhooks/%s/deliveries?limit=1000", id);
    last = 0;
    ck_assert_int_eq(get_page(&t, path, ids, 0, &last, next, sizeof next), 250);
    ck_assert_str_eq(next, "");
    struct e2e_resp r;
    e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s/deliveries?limit=1", id);
    e2e_expect(&r, 200);
    json_object *d = json_object_array_get_idx(r.json, 0);
    ck_assert_str_eq(e2e_str(d, "status"), "failed"); /* g = 1: the newest */
    ck_assert_int_eq(e2e_int(d, "responseStatus"), 500);
    ck_assert_str_eq(e2e_str(d, "error"), "HTTP 500");
    ck_assert_int_eq(e2e_int(d, "attempt"), 2);
    e2e_free(&r);
    /* bad pages */
    static const struct {
        const char *query, *msg;
    } bad[] = {
        {"limit=0", "limit must be an integer between 1 and 1000"},
        {"limit=1001", "limit must be an integer between 1 and 1000"},
        {"limit=-1", "limit must be an integer between 1 and 1000"},
        {"limit=ten", "limit must be an integer between 1 and 1000"},
        {"limit=1&limit=2", "limit must be given at most once"},
        {"cursor=AAAA", "cursor is not a valid page cursor"},
        {"cursor=AQAGKpm6DkJAPw4cKlttTn-KmwwdLj9KW!", "cursor is not a valid page cursor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s/deliveries?%s", id, bad[i].query);
        e2e_expect_messages(&r, bad[i].msg, E2E_END);
        e2e_free(&r);
    }
}
END_TEST

/* A write with an Idempotency-Key; the caller frees r. */
static void idem_call(struct e2e_resp *r, const struct e2e_tenant *t, const char *key,
                      const char *method, const char *path, const char *body)
{
    char hdrs[2300];
    snprintf(hdrs, sizeof hdrs, "%sIdempotency-Key: %s\r\n", t->auth, key);
    e2e_raw(r, hdrs, method, path, body, body ? strlen(body) : 0);
}

static void expect_replay(const struct e2e_tenant *t, const char *key, const char *method,
                          const char *path, const char *body, int status, char *first,
                          size_t first_len)
{
    struct e2e_resp r;
    char v[16];
    idem_call(&r, t, key, method, path, body);
    e2e_expect(&r, status);
    ck_assert_ptr_null(e2e_header(&r, "Idempotent-Replayed", v, sizeof v));
    snprintf(first, first_len, "%s", r.raw.body);
    e2e_free(&r);
    idem_call(&r, t, key, method, path, body);
    e2e_expect(&r, status);
    ck_assert_str_eq(r.raw.body, first); /* byte for byte */
    ck_assert_ptr_nonnull(e2e_header(&r, "Idempotent-Replayed", v, sizeof v));
    ck_assert_str_eq(v, "true");
    e2e_free(&r);
}

START_TEST(t_idempotency)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks idem", 0);
    const char *body = "{\"url\":\"https://hooks.example.com/i\",\"events\":[\"booking.created\"]}";
    char first[4096];
    expect_replay(&t, "wh-create-1", "POST", "/webhooks", body, 201, first, sizeof first);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1", t.id, E2E_END),
        1);
    json_object *o = json_tokener_parse(first);
    char id[37], secret[64], db[128];
    snprintf(id, sizeof id, "%s", e2e_str(o, "id"));
    snprintf(secret, sizeof secret, "%s", e2e_str(o, "secret"));
    json_object_put(o);
    e2e_sql_value(db, sizeof db, "SELECT secret FROM webhook_endpoints WHERE id = $1", id, E2E_END);
    ck_assert_str_eq(db, secret); /* the replayed secret is the one that signs */
    struct e2e_resp r;
    idem_call(&r, &t, "wh-create-1", "POST", "/webhooks",
              "{\"url\":\"https://hooks.example.com/j\",\"events\":[\"booking.created\"]}");
    e2e_expect_error(&r, 422, "Idempotency-Key wh-create-1 was used with a different request");
    e2e_free(&r);
    /* a 400 is not stored: the key still runs a valid request */
    idem_call(&r, &t, "wh-create-2", "POST", "/webhooks", "{\"url\":\"http://x.example.com/\"}");
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
    idem_call(&r, &t, "wh-create-2", "POST", "/webhooks", body);
    e2e_expect(&r, 201);
    e2e_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/webhooks/%s", id);
    expect_replay(&t, "wh-patch-1", "PATCH", path, "{\"description\":\"once\"}", 200, first,
                  sizeof first);
    snprintf(path, sizeof path, "/webhooks/%s/rotate-secret", id);
    expect_replay(&t, "wh-rotate-1", "POST", path, NULL, 200, first, sizeof first);
    o = json_tokener_parse(first);
    e2e_sql_value(db, sizeof db, "SELECT secret FROM webhook_endpoints WHERE id = $1", id, E2E_END);
    ck_assert_str_eq(db, e2e_str(o, "secret"));
    json_object_put(o);
    /* rotated once: the previous secret is still the first one */
    e2e_sql_value(db, sizeof db, "SELECT previous_secret FROM webhook_endpoints WHERE id = $1", id,
                  E2E_END);
    ck_assert_str_eq(db, secret);
    /* a missing endpoint's 404 is stored and replayed */
    expect_replay(&t, "wh-rotate-2", "POST",
                  "/webhooks/00000000-0000-4000-8000-000000000000/rotate-secret", NULL, 404, first,
                  sizeof first);
}
END_TEST

void webhooks_more_tests(TCase *tc)
{
    tcase_add_test(tc, t_isolation);
    tcase_add_test(tc, t_outbox_delivery);
    tcase_add_test(tc, t_delivery_pages);
    tcase_add_test(tc, t_idempotency);
}
