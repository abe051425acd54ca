/* check_api_webhooks: the webhook endpoints API (API.md "Webhooks") through nginx: every route's
 * answer and shape, the secret shown once and rotated (the old one kept for 24 hours), every URL
 * rule (each refused IP-literal class, the webhook_allow_hosts exception for loopback that
 * e2e_main configures), events and description rules, two tenants that cannot see or change
 * each other's endpoints, the outbox writing one pending delivery for a new booking, keyset
 * pages of deliveries, and Idempotency-Key replays. Delivery itself: check_webhooks_deliver. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define VIEW_KEYS                                                                                  \
    "id", "url", "events", "description", "enabled", "createdAt", "updatedAt", "disabledReason",   \
        "failingSince", "previousSecretExpiresAt", E2E_END

static void check_secret(const char *s)
{
    ck_assert_msg(s && strlen(s) == 50 && strncmp(s, "whsec_", 6) == 0, "secret %s", s);
    unsigned char raw[40];
    /* 44 characters of standard base64 with one '=': 32 bytes (EVP counts the pad too) */
    ck_assert_int_eq(EVP_DecodeBlock(raw, (const unsigned char *)s + 6, 44), 33);
    ck_assert_int_eq(s[49], '=');
}

static void check_view(json_object *w)
{
    e2e_keys(w, VIEW_KEYS);
    ck_assert(e2e_is_v4_uuid(e2e_str(w, "id")));
    ck_assert(json_object_is_type(e2e_get(w, "events"), json_type_array));
    ck_assert(json_object_is_type(e2e_get(w, "enabled"), json_type_boolean));
    e2e_str(w, "description");
    ck_assert(e2e_is_ts(e2e_str(w, "createdAt")) && e2e_is_ts(e2e_str(w, "updatedAt")));
    const char *f = e2e_str(w, "failingSince"), *p = e2e_str(w, "previousSecretExpiresAt");
    ck_assert(!f || e2e_is_ts(f));
    ck_assert(!p || e2e_is_ts(p));
}

/* POST /webhooks (asserts 201 and the created shape); id and secret may be NULL. */
static void webhook_new(const struct e2e_tenant *t, const char *url, const char *events,
                        char id[37], char secret[64])
{
    char body[4096];
    snprintf(body, sizeof body, "{\"url\":\"%s\",\"events\":%s}", url, events);
    struct e2e_resp r;
    e2e_call(&r, t, "POST", "/webhooks", body);
    e2e_expect(&r, 201);
    e2e_keys(r.json, "id", "url", "events", "description", "secret", "enabled", "createdAt",
             E2E_END);
    check_secret(e2e_str(r.json, "secret"));
    if (id)
        snprintf(id, 37, "%s", e2e_str(r.json, "id"));
    if (secret)
        snprintf(secret, 64, "%s", e2e_str(r.json, "secret"));
    e2e_free(&r);
}

START_TEST(t_create_get_list)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks", 0);
    struct e2e_resp r;
    e2e_call(&r, &t, "POST", "/webhooks",
             "{\"url\":\"https://hooks.example.com/leadbook?src=1\",\"events\":"
             "[\"booking.rescheduled\",\"booking.created\"],\"description\":\"CRM sync\"}");
    e2e_expect(&r, 201);
    e2e_keys(r.json, "id", "url", "events", "description", "secret", "enabled", "createdAt",
             E2E_END);
    char id[37], secret[64], created[40];
    snprintf(id, sizeof id, "%s", e2e_str(r.json, "id"));
    snprintf(secret, sizeof secret, "%s", e2e_str(r.json, "secret"));
    snprintf(created, sizeof created, "%s", e2e_str(r.json, "createdAt"));
    ck_assert(e2e_is_v4_uuid(id) && e2e_is_ts(created));
    check_secret(secret);
    ck_assert_str_eq(e2e_str(r.json, "url"), "https://hooks.example.com/leadbook?src=1");
    ck_assert_str_eq(json_object_to_json_string_ext(e2e_get(r.json, "events"), 0),
                     "[\"booking.rescheduled\",\"booking.created\"]");
    ck_assert_str_eq(e2e_str(r.json, "description"), "CRM sync");
    ck_assert(json_object_get_boolean(e2e_get(r.json, "enabled")));
    e2e_free(&r);
    char db[128];
    e2e_sql_value(db, sizeof db, "SELECT secret FROM webhook_endpoints WHERE id = $1", id, E2E_END);
    ck_assert_str_eq(db, secret);

    /* GET: the view, never the secret */
    e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s", id);
    e2e_expect(&r, 200);
    check_view(r.json);
    ck_assert_str_eq(e2e_str(r.json, "id"), id);
    ck_assert_str_eq(e2e_str(r.json, "createdAt"), created);
    ck_assert_ptr_null(e2e_str(r.json, "disabledReason"));
    ck_assert_ptr_null(e2e_str(r.json, "previousSecretExpiresAt"));
    ck_assert_ptr_null(strstr(r.raw.body, secret));
    ck_assert_ptr_null(strstr(r.raw.body, "whsec_"));
    e2e_free(&r);

    /* a second one, without description: "" */
    char id2[37];
    webhook_new(&t, "https://other.example.com/h", "[\"booking.status_changed\"]", id2, NULL);
    e2e_call(&r, &t, "GET", "/webhooks", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 2);
    json_object *first = json_object_array_get_idx(r.json, 0);
    check_view(first);
    check_view(json_object_array_get_idx(r.json, 1));
    ck_assert_str_eq(e2e_str(first, "id"), id2); /* newest first */
    ck_assert_str_eq(e2e_str(first, "description"), "");
    ck_assert_ptr_null(strstr(r.raw.body, "whsec_"));
    e2e_free(&r);

    /* a bad id is the uuid 400; a missing one the 404 */
    e2e_call(&r, &t, "GET", "/webhooks/nope", NULL);
    e2e_expect_error(&r, 400, "Validation failed (uuid is expected)");
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/webhooks/00000000-0000-4000-8000-000000000000", NULL);
    e2e_expect_error(&r, 404, "Webhook with id 00000000-0000-4000-8000-000000000000 not found");
    e2e_free(&r);
}
END_TEST

START_TEST(t_update_delete)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks update", 0);
    char id[37];
    webhook_new(&t, "https://a.example.com/h", "[\"booking.created\"]", id, NULL);
    char path[128];
    snprintf(path, sizeof path, "/webhooks/%s", id);
    struct e2e_resp r;
    e2e_call(&r, &t, "PATCH", path,
             "{\"url\":\"https://b.example.com/h2\",\"events\":[\"booking.status_changed\","
             "\"booking.rescheduled\"],\"description\":\"new\"}");
    e2e_expect(&r, 200);
    check_view(r.json);
    ck_assert_str_eq(e2e_str(r.json, "url"), "https://b.example.com/h2");
    ck_assert_str_eq(json_object_to_json_string_ext(e2e_get(r.json, "events"), 0),
                     "[\"booking.status_changed\",\"booking.rescheduled\"]");
    ck_assert_str_eq(e2e_str(r.json, "description"), "new");
    ck_assert_int_ge(e2e_ts_us(e2e_str(r.json, "updatedAt")),
                     e2e_ts_us(e2e_str(r.json, "createdAt")));
    e2e_free(&r);
    e2e_call(&r, &t, "PATCH", path, "{}"); /* nothing to change: valid */
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "url"), "https://b.example.com/h2");
    e2e_free(&r);

    /* disabled (as the deliverer would after a 410), then re-enabled: reason and run cleared */
    e2e_call(&r, &t, "PATCH", path, "{\"enabled\":false}");
    e2e_expect(&r, 200);
    ck_assert(!json_object_get_boolean(e2e_get(r.json, "enabled")));
    e2e_free(&r);
    e2e_sql("UPDATE webhook_endpoints SET disabled_reason = 'HTTP 410', failing_since = now() "
            "WHERE id = $1",
            id, E2E_END);
    e2e_call(&r, &t, "GET", path, NULL);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "disabledReason"), "HTTP 410");
    ck_assert(e2e_is_ts(e2e_str(r.json, "failingSince")));
    e2e_free(&r);
    e2e_call(&r, &t, "PATCH", path, "{\"enabled\":true}");
    e2e_expect(&r, 200);
    ck_assert(json_object_get_boolean(e2e_get(r.json, "enabled")));
    ck_assert_ptr_null(e2e_str(r.json, "disabledReason"));
    ck_assert_ptr_null(e2e_str(r.json, "failingSince"));
    e2e_free(&r);
    /* an enabled endpoint's run of failures is another receiver's once the url changes */
    e2e_sql("UPDATE webhook_endpoints SET failing_since = now() WHERE id = $1", id, E2E_END);
    e2e_call(&r, &t, "PATCH", path, "{\"enabled\":true}");
    ck_assert(e2e_is_ts(e2e_str(r.json, "failingSince")));
    e2e_free(&r);
    e2e_call(&r, &t, "PATCH", path, "{\"url\":\"https://c.example.com/\"}");
    ck_assert_ptr_null(e2e_str(r.json, "failingSince"));
    e2e_free(&r);

    /* PATCH refusals */
    e2e_call(&r, &t, "PATCH", path, "{\"enabled\":\"yes\",\"secret\":\"whsec_x\"}");
    e2e_expect_messages(&r, "property secret should not exist", "enabled must be a boolean value",
                        E2E_END);
    e2e_free(&r);
    e2e_call(&r, &t, "PATCH", path, "{\"url\":\"http://c.example.com/\",\"events\":[]}");
    e2e_expect_messages(&r, "url must use https", "events should not be empty", E2E_END);
    e2e_free(&r);
    e2e_call(&r, &t, "PATCH", "/webhooks/00000000-0000-4000-8000-000000000000", "{}");
    e2e_expect_error(&r, 404, "Webhook with id 00000000-0000-4000-8000-000000000000 not found");
    e2e_free(&r);

    /* delete: the message, then 404 everywhere */
    e2e_call(&r, &t, "DELETE", path, NULL);
    e2e_expect(&r, 200);
    e2e_keys(r.json, "message", E2E_END);
    char msg[128];
    snprintf(msg, sizeof msg, "Webhook %s successfully deleted", id);
    ck_assert_str_eq(e2e_str(r.json, "message"), msg);
    e2e_free(&r);
    snprintf(msg, sizeof msg, "Webhook with id %s not found", id);
    e2e_call(&r, &t, "DELETE", path, NULL);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);
    e2e_call(&r, &t, "GET", path, NULL);
    e2e_expect_error(&r, 404, msg);
    e2e_free(&r);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM webhook_endpoints WHERE id = $1", id, E2E_END), 0);
}
END_TEST

START_TEST(t_rotate_secret)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks rotate", 0);
    char id[37], old[64];
    webhook_new(&t, "https://a.example.com/h", "[\"booking.created\"]", id, old);
    struct e2e_resp r;
    e2e_callf(&r, &t, "POST", NULL, "/webhooks/%s/rotate-secret", id);
    e2e_expect(&r, 200);
    e2e_keys(r.json, "secret", "previousSecretExpiresAt", E2E_END);
    char fresh[64], expires[40];
    snprintf(fresh, sizeof fresh, "%s", e2e_str(r.json, "secret"));
    snprintf(expires, sizeof expires, "%s", e2e_str(r.json, "previousSecretExpiresAt"));
    check_secret(fresh);
    ck_assert_str_ne(fresh, old);
    char in24h[40];
    e2e_iso_from_now(86400, in24h);
    ck_assert_int_lt(llabs((long long)(e2e_ts_us(expires) - e2e_ts_us(in24h))), 60 * 1000000LL);
    e2e_free(&r);
    char db[128];
    e2e_sql_value(db, sizeof db, "SELECT secret FROM webhook_endpoints WHERE id = $1", id, E2E_END);
    ck_assert_str_eq(db, fresh);
    e2e_sql_value(db, sizeof db, "SELECT previous_secret FROM webhook_endpoints WHERE id = $1", id,
                  E2E_END);
    ck_assert_str_eq(db, old);
    /* the view says until when the old one signs, and shows neither */
    e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s", id);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "previousSecretExpiresAt"), expires);
    ck_assert_ptr_null(strstr(r.raw.body, "whsec_"));
    e2e_free(&r);
    /* past its expiry, it is not shown */
    e2e_sql("UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 s' "
            "WHERE id = $1",
            id, E2E_END);
    e2e_callf(&r, &t, "GET", NULL, "/webhooks/%s", id);
    ck_assert_ptr_null(e2e_str(r.json, "previousSecretExpiresAt"));
    e2e_free(&r);
    /* it takes no fields; a missing endpoint is the 404 */
    e2e_callf(&r, &t, "POST", "{\"secret\":\"mine\"}", "/webhooks/%s/rotate-secret", id);
    e2e_expect_messages(&r, "property secret should not exist", E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "POST", "{}", "/webhooks/%s/rotate-secret", id);
    e2e_expect(&r, 200);
    e2e_free(&r);
    e2e_call(&r, &t, "POST", "/webhooks/00000000-0000-4000-8000-000000000000/rotate-secret", NULL);
    e2e_expect_error(&r, 404, "Webhook with id 00000000-0000-4000-8000-000000000000 not found");
    e2e_free(&r);
}
END_TEST

/* A POST /webhooks body with this url and one event. */
static int post_url(struct e2e_resp *r, const struct e2e_tenant *t, const char *url)
{
    char body[4200];
    snprintf(body, sizeof body, "{\"url\":\"%s\",\"events\":[\"booking.created\"]}", url);
    return e2e_call(r, t, "POST", "/webhooks", body);
}

START_TEST(t_url_rules)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks urls", 0);
    static const char not_url[] = "url must be a URL address",
                      not_public[] = "url must not point to a loopback, private or otherwise "
                                     "non-public address";
    static const struct {
        const char *url, *msg;
    } refused[] = {
        {"http://hooks.example.com/", "url must use https"},
        {"http://127.0.0.2:9000/", "url must use https"},
        {"ftp://hooks.example.com/", "url must use https"},
        {"hooks.example.com/x", not_url},
        {"https://", not_url},
        {"https:///x", not_url},
        {"https://exa mple.com/", not_url},
        {"https://example.com./", not_url},
        {"https://example.com:0/", not_url},
        {"https://127.1/", not_url},          /* read as 127.0.0.1 by other parsers */
        {"https://2130706433/", not_url},     /* the same */
        {"https://0x7f.0.0.1/", not_url},     /* the same */
        {"https://[fe80::1%25lo]/", not_url}, /* zone id */
        {"https://user:pw@hooks.example.com/", "url must not contain credentials"},
        {"https://token@hooks.example.com/", "url must not contain credentials"},
        {"https://hooks.example.com/#top", "url must not contain a fragment"},
        /* every refused class of IP literal */
        {"https://127.0.0.2/", not_public},          /* loopback (not the listed 127.0.0.1) */
        {"https://10.1.2.3/", not_public},           /* private */
        {"https://172.16.0.1/", not_public},         /* private */
        {"https://192.168.1.1/", not_public},        /* private */
        {"https://100.64.0.1/", not_public},         /* CGNAT */
        {"https://169.254.169.254/", not_public},    /* link-local (cloud metadata) */
        {"https://224.0.0.1/", not_public},          /* multicast */
        {"https://0.0.0.0/", not_public},            /* unspecified */
        {"https://255.255.255.255/", not_public},    /* broadcast */
        {"https://240.0.0.1/", not_public},          /* reserved */
        {"https://192.0.2.1/", not_public},          /* documentation */
        {"https://198.51.100.1/", not_public},       /* documentation */
        {"https://203.0.113.1/", not_public},        /* documentation */
        {"https://198.18.0.1/", not_public},         /* benchmarking */
        {"https://192.0.0.8/", not_public},          /* IETF protocol assignments */
        {"https://[::1]/", not_public},              /* loopback */
        {"https://[::]/", not_public},               /* unspecified */
        {"https://[fe80::1]/", not_public},          /* link-local */
        {"https://[fc00::1]/", not_public},          /* unique local */
        {"https://[fd12:3456::1]/", not_public},     /* unique local */
        {"https://[ff02::1]/", not_public},          /* multicast */
        {"https://[2001:db8::1]/", not_public},      /* documentation */
        {"https://[::ffff:127.0.0.1]/", not_public}, /* IPv4-mapped loopback */
        {"https://[::ffff:10.0.0.1]/", not_public},  /* IPv4-mapped private */
        {"https://[::ffff:a9fe:a9fe]/", not_public}, /* IPv4-mapped link-local, hex */
        {"https://[::127.0.0.1]/", not_public},      /* IPv4-compatible loopback */
        {"https://[64:ff9b::a00:1]/", not_public},   /* NAT64 of 10.0.0.1 */
        {"https://app.localhost/", not_public},
        {"https://localhost.localdomain/", not_public},
        {"https://ip6-localhost/", not_public},
    };
    struct e2e_resp r;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        post_url(&r, &t, refused[i].url);
        ck_assert_msg(r.status == 400, "%s: %d", refused[i].url, r.status);
        e2e_expect_messages(&r, refused[i].msg, E2E_END);
        e2e_free(&r);
    }
    /* 2048 characters are fine, 2049 are not */
    char url[2100];
    int n = snprintf(url, sizeof url, "https://hooks.example.com/");
    memset(url + n, 'p', (size_t)(2048 - n));
    url[2048] = '\0';
    post_url(&r, &t, url);
    e2e_expect(&r, 201);
    e2e_free(&r);
    url[2048] = 'p';
    url[2049] = '\0';
    post_url(&r, &t, url);
    e2e_expect_messages(&r, "url must be shorter than or equal to 2048 characters", E2E_END);
    e2e_free(&r);
    /* public literals and names are fine; the listed loopback hosts too, with plain http */
    const char *ok[] = {"https://93.184.216.34/h",
                        "https://[2606:4700:4700::1111]:8443/h",
                        "https://HOOKS.Example.com/A?b",
                        "http://127.0.0.1:9/h",
                        "https://127.0.0.1/h",
                        "http://localhost:8080/h",
                        "http://LOCALHOST/h"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        post_url(&r, &t, ok[i]);
        e2e_expect(&r, 201);
        ck_assert_str_eq(e2e_str(r.json, "url"), ok[i]); /* kept as given */
        e2e_free(&r);
    }
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1", t.id, E2E_END),
        8);
}
END_TEST

START_TEST(t_body_rules)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Hooks bodies", 0);
    char long_desc[600], body[1024];
    memset(long_desc, 'd', 501);
    long_desc[501] = '\0';
    struct e2e_resp r;
    e2e_call(&r, &t, "POST", "/webhooks", NULL); /* no body: what is missing */
    e2e_expect_messages(&r, "url must be a URL address", "url should not be empty",
                        "events must be an array", "events should not be empty", E2E_END);
    e2e_free(&r);
    e2e_call(&r, &t, "POST", "/webhooks",
             "{\"enabled\":true,\"url\":null,\"events\":\"booking.created\",\"description\":7}");
    e2e_expect_messages(&r, "property enabled should not exist", "url must be a URL address",
                        "url should not be empty", "events must be an array",
                        "description must be a string", E2E_END);
    e2e_free(&r);
    static const struct {
        const char *events, *msg;
    } bad_events[] = {
        {"[]", "events should not be empty"},
        {"[\"booking.deleted\"]",
         "events must contain only booking.created, booking.status_changed, booking.rescheduled"},
        {"[\"booking.created\",1]",
         "events must contain only booking.created, booking.status_changed, booking.rescheduled"},
        {"[\"Booking.Created\"]",
         "events must contain only booking.created, booking.status_changed, booking.rescheduled"},
        {"[\"booking.created\\u0000\"]",
         "events must contain only booking.created, booking.status_changed, booking.rescheduled"},
        {"[\"booking.created\",\"booking.created\"]", "events must not contain duplicates"},
        {"{}", "events must be an array"},
    };
    for (size_t i = 0; i < sizeof bad_events / sizeof bad_events[0]; i++) {
        snprintf(body, sizeof body, "{\"url\":\"https://x.example.com/\",\"events\":%s}",
                 bad_events[i].events);
        e2e_call(&r, &t, "POST", "/webhooks", body);
        e2e_expect_messages(&r, bad_events[i].msg, E2E_END);
        e2e_free(&r);
    }
    snprintf(body, sizeof body,
             "{\"url\":\"https://x.example.com/\",\"events\":[\"booking.created\"],"
             "\"description\":\"%s\"}",
             long_desc);
    e2e_call(&r, &t, "POST", "/webhooks", body);
    e2e_expect_messages(&r, "description must be shorter than or equal to 500 characters", E2E_END);
    e2e_free(&r);
    long_desc[500] = '\0';
    snprintf(body, sizeof body,
             "{\"url\":\"https://x.example.com/\",\"events\":[\"booking.created\","
             "\"booking.status_changed\",\"booking.rescheduled\"],\"description\":\"%s\"}",
             long_desc);
    e2e_call(&r, &t, "POST", "/webhooks", body);
    e2e_expect(&r, 201);
    ck_assert_int_eq(json_object_array_length(e2e_get(r.json, "events")), 3);
    e2e_free(&r);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1", t.id, E2E_END),
        1);
}
END_TEST

/* Tenancy, deliveries and idempotent writes (check_api_webhooks_more.c). */
void webhooks_more_tests(TCase *tc);

int main(void)
{
    Suite *s = suite_create("api_webhooks");
    TCase *tc = e2e_tcase("webhooks", 180);
    tcase_add_test(tc, t_create_get_list);
    tcase_add_test(tc, t_update_delete);
    tcase_add_test(tc, t_rotate_secret);
    tcase_add_test(tc, t_url_rules);
    tcase_add_test(tc, t_body_rules);
    webhooks_more_tests(tc);
    suite_add_tcase(s, tc);
    return e2e_main("webhooks", s);
}
