/* check_jsonx_dto: the endpoint body validators (POST /leads, PATCH /bookings/:id/status,
 * POST and PATCH /agents). Every case asserts the exact status and the exact message list
 * (rendered as the JSON array the client receives). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "jsonx_support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 2025-06-01T00:00:00Z */
#define NOW_US INT64_C(1748736000000000)
#define AGENT "3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60"

/* ---- POST /leads ---- */

static const struct {
    const char *body;
    const char *msgs; /* "[]": valid */
} leads[] = {
    {"{\"agentId\":\"" AGENT "\",\"name\":\"Jane\",\"email\":\"jane@example.com\","
     "\"scheduledAt\":\"2025-06-02T10:00:00Z\"}",
     "[]"},
    {"{}", "[\"agentId must be a UUID\",\"agentId should not be empty\",\"name must be a string\","
           "\"name should not be empty\",\"email must be an email\",\"email should not be empty\","
           "\"scheduledAt must be a valid ISO 8601 date string\",\"scheduledAt should not be "
           "empty\"]"},
    {"{\"agentId\":null,\"name\":null,\"email\":null,\"scheduledAt\":null}",
     "[\"agentId must be a UUID\",\"agentId should not be empty\",\"name must be a string\","
     "\"name should not be empty\",\"email must be an email\",\"email should not be empty\","
     "\"scheduledAt must be a valid ISO 8601 date string\",\"scheduledAt should not be "
     "empty\"]"},
    {"{\"agentId\":\"\",\"name\":\"\",\"email\":\"\",\"scheduledAt\":\"\"}",
     "[\"agentId must be a UUID\",\"agentId should not be empty\",\"name should not be "
     "empty\",\"email must be an email\",\"email should not be empty\","
     "\"scheduledAt must be a valid ISO 8601 date string\",\"scheduledAt should not be "
     "empty\"]"},
    {"{\"agentId\":123,\"name\":123,\"email\":true,\"scheduledAt\":[]}",
     "[\"agentId must be a UUID\",\"name must be a string\",\"email must be an email\","
     "\"scheduledAt must be a valid ISO 8601 date string\"]"},
    {"{\"agentId\":[\"" AGENT "\"],\"name\":{},\"email\":[\"a@b.co\"],\"scheduledAt\":"
     "1767175200000}",
     "[\"agentId must be a UUID\",\"name must be a string\",\"email must be an email\","
     "\"scheduledAt must be a valid ISO 8601 date string\"]"},
    {"{\"agentId\":\"not-a-uuid\",\"name\":\"   \",\"email\":\"jane@\",\"scheduledAt\":"
     "\"2025-06-02T10:00:00\"}",
     "[\"agentId must be a UUID\",\"name should not be empty\",\"email must be an email\","
     "\"scheduledAt must be a valid ISO 8601 date string\"]"},
    {"{\"zz\":1,\"agentId\":\"" AGENT "\",\"name\":\"Jane\",\"email\":\"jane@example.com\","
     "\"scheduledAt\":\"2025-06-02T10:00:00Z\",\"tenantId\":\"" AGENT "\",\"Name\":\"x\"}",
     "[\"property zz should not exist\",\"property tenantId should not exist\","
     "\"property Name should not exist\"]"},
    {"{\"a\\nb\\u0001\\\"c\\u00e9\":1,\"agentId\":\"" AGENT "\",\"name\":\"J\",\"email\":"
     "\"j@example.com\",\"scheduledAt\":\"2025-06-02T10:00:00Z\"}",
     "[\"property a?b?\\\"c\xc3\xa9 should not exist\"]"},
    /* past: 5 minutes of skew allowed, not a microsecond more */
    {"{\"agentId\":\"" AGENT "\",\"name\":\"J\",\"email\":\"j@example.com\","
     "\"scheduledAt\":\"2025-05-31T23:55:00Z\"}",
     "[]"},
    {"{\"agentId\":\"" AGENT "\",\"name\":\"J\",\"email\":\"j@example.com\","
     "\"scheduledAt\":\"2025-05-31T23:54:59.999999Z\"}",
     "[\"scheduledAt must not be in the past\"]"},
    {"{\"agentId\":\"" AGENT "\",\"name\":\"J\",\"email\":\"j@example.com\","
     "\"scheduledAt\":\"2025-06-01T01:54:59+02:00\"}",
     "[\"scheduledAt must not be in the past\"]"},
    {"{\"agentId\":\"" AGENT "\",\"name\":\"J\",\"email\":\"j@example.com\","
     "\"scheduledAt\":\"2025-02-29T10:00:00Z\"}",
     "[\"scheduledAt must be a valid ISO 8601 date string\"]"},
    /* NUL characters */
    {"{\"agentId\":\"" AGENT "\\u0000\",\"name\":\"J\\u0000\",\"email\":\"j@example.com"
     "\\u0000\",\"scheduledAt\":\"2025-06-02T10:00:00Z\\u0000\"}",
     "[\"agentId must be a UUID\",\"name must not contain null characters\","
     "\"email must be an email\",\"scheduledAt must be a valid ISO 8601 date string\"]"},
};

START_TEST(test_lead_create)
{
    struct lb_msgs m;
    struct lb_lead_input in;
    lb_msgs_clear(&m);
    json_object *o = body_of(leads[_i].body);
    enum lb_status st = lb_parse_lead_create(o, &in, &m, NOW_US);
    ck_assert_str_eq(msgs_json(&m), leads[_i].msgs);
    ck_assert_int_eq(st, strcmp(leads[_i].msgs, "[]") == 0 ? LB_OK : LB_INVALID);
    json_object_put(o);
}
END_TEST

START_TEST(test_lead_create_values)
{
    struct lb_msgs m;
    struct lb_lead_input in;
    lb_msgs_clear(&m);
    json_object *o = body_of("{\"scheduledAt\":\"2025-06-02T12:00:00.1234567+02:00\","
                             "\"email\":\"Jane.Doe@Example.com\",\"name\":\" \\u00a0 J\\u00e9 "
                             "D \\t\",\"agentId\":\"3F0E5C1A-9B2D-4C3E-8F4A-1B2C3D4E5F60\"}");
    ck_assert_int_eq(lb_parse_lead_create(o, &in, &m, NOW_US), LB_OK);
    ck_assert_str_eq(in.agent_id, AGENT);
    ck_assert_str_eq(in.name, "J\xc3\xa9 D");
    ck_assert_str_eq(in.email, "Jane.Doe@Example.com");
    ck_assert(in.scheduled_at_us == INT64_C(1748858400123456));
    json_object_put(o);
    ck_assert_int_eq(lb_parse_lead_create(NULL, &in, &m, NOW_US), LB_INVALID);
    ck_assert_str_eq(msgs_json(&m), "[\"body must be a JSON object\"]");
}
END_TEST

static void lead_with_name(const char *name_json, const char *expect_msgs, const char *expect_name)
{
    size_t size = strlen(name_json) + 200;
    char *text = malloc(size);
    snprintf(text, size,
             "{\"agentId\":\"" AGENT "\",\"name\":\"%s\",\"email\":\"j@example.com\","
             "\"scheduledAt\":\"2025-06-02T10:00:00Z\"}",
             name_json);
    struct lb_msgs m;
    struct lb_lead_input in;
    lb_msgs_clear(&m);
    json_object *o = body_of(text);
    enum lb_status st = lb_parse_lead_create(o, &in, &m, NOW_US);
    ck_assert_str_eq(msgs_json(&m), expect_msgs);
    if (expect_name) {
        ck_assert_int_eq(st, LB_OK);
        ck_assert_str_eq(in.name, expect_name);
    } else {
        ck_assert_int_eq(st, LB_INVALID);
    }
    json_object_put(o);
    free(text);
}

START_TEST(test_lead_name_limits)
{
    static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t u = 0; u < N(units); u++) {
        char *n200 = repeat(units[u], 200), *n201 = repeat(units[u], 201);
        lead_with_name(n200, "[]", n200);
        lead_with_name(n201, "[\"name must be shorter than or equal to 200 characters\"]", NULL);
        /* whitespace around does not count */
        char *padded = malloc(strlen(n200) + 10);
        snprintf(padded, strlen(n200) + 10, "  %s \\t", n200);
        lead_with_name(padded, "[]", n200);
        free(padded);
        free(n200);
        free(n201);
    }
    lead_with_name("x", "[]", "x");
    lead_with_name("\\u00a0\\u3000", "[\"name should not be empty\"]", NULL);
}
END_TEST

/* ---- PATCH /bookings/:id/status ---- */

#define ENUM_MSG                                                                                   \
    "\"status must be one of the following values: PENDING, CONFIRMED, COMPLETED, EXPIRED, "       \
    "CANCELLED\""

static const struct {
    const char *body, *msgs;
    enum lb_booking_status st;
} statuses[] = {
    {"{\"status\":\"PENDING\"}", "[]", LB_BOOKING_PENDING},
    {"{\"status\":\"CONFIRMED\"}", "[]", LB_BOOKING_CONFIRMED},
    {"{\"status\":\"COMPLETED\"}", "[]", LB_BOOKING_COMPLETED},
    {"{\"status\":\"EXPIRED\"}", "[]", LB_BOOKING_EXPIRED},
    {"{\"status\":\"CANCELLED\"}", "[]", LB_BOOKING_CANCELLED},
    {"{}", "[" ENUM_MSG ",\"status should not be empty\"]", 0},
    {"{\"status\":null}", "[" ENUM_MSG ",\"status should not be empty\"]", 0},
    {"{\"status\":\"\"}", "[" ENUM_MSG ",\"status should not be empty\"]", 0},
    {"{\"status\":\"confirmed\"}", "[" ENUM_MSG "]", 0},
    {"{\"status\":\"CONFIRMED \"}", "[" ENUM_MSG "]", 0},
    {"{\"status\":\"CONFIRMED\\u0000\"}", "[" ENUM_MSG "]", 0},
    {"{\"status\":1}", "[" ENUM_MSG "]", 0},
    {"{\"status\":[\"PENDING\"]}", "[" ENUM_MSG "]", 0},
    {"{\"status\":\"PENDING\",\"at\":1}", "[\"property at should not exist\"]", 0},
};

START_TEST(test_status_change)
{
    struct lb_msgs m;
    struct lb_status_input in;
    lb_msgs_clear(&m);
    json_object *o = body_of(statuses[_i].body);
    enum lb_status st = lb_parse_status_change(o, &in, &m);
    ck_assert_str_eq(msgs_json(&m), statuses[_i].msgs);
    if (strcmp(statuses[_i].msgs, "[]") == 0) {
        ck_assert_int_eq(st, LB_OK);
        ck_assert_int_eq(in.status, statuses[_i].st);
    } else {
        ck_assert_int_eq(st, LB_INVALID);
    }
    json_object_put(o);
}
END_TEST

/* ---- agents ---- */

#define K10 "\"knowledge\":\"0123456789\""

static const struct {
    int update;
    const char *body, *msgs;
    unsigned present;
    long hours;
} agents[] = {
    {0, "{\"name\":\"Ada\"," K10 "}", "[]", LB_AGENT_HAS_NAME | LB_AGENT_HAS_KNOWLEDGE, 24},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":1}", "[]", 7, 1},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":168}", "[]", 7, 168},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":24.0}", "[]", 7, 24},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":2.4e1}", "[]", 7, 24},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":1680e-1}", "[]", 7, 168},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":0}",
     "[\"linkExpiryHours must not be less than 1\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":-0}",
     "[\"linkExpiryHours must not be less than 1\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":169}",
     "[\"linkExpiryHours must not be greater than 168\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":24.5}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":0.5}",
     "[\"linkExpiryHours must be an integer number\",\"linkExpiryHours must not be less than "
     "1\"]",
     0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":168.5}",
     "[\"linkExpiryHours must be an integer number\",\"linkExpiryHours must not be greater "
     "than 168\"]",
     0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":\"24\"}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":null}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":true}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":[24]}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":1e999}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":-1e999}",
     "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":1e300}",
     "[\"linkExpiryHours must not be greater than 168\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":99999999999999999999}",
     "[\"linkExpiryHours must not be greater than 168\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":-99999999999999999999}",
     "[\"linkExpiryHours must not be less than 1\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"linkExpiryHours\":4294967320}",
     "[\"linkExpiryHours must not be greater than 168\"]", 0, 0}, /* 2^32 + 24: no wrap */
    {0, "{\"name\":\"Ada\"," K10 ",\"tenantId\":\"3F0E5C1A-9B2D-4C3E-8F4A-1B2C3D4E5F60\"}", "[]",
     LB_AGENT_HAS_NAME | LB_AGENT_HAS_KNOWLEDGE | LB_AGENT_HAS_TENANT_ID, 24},
    {0, "{\"name\":\"Ada\"," K10 ",\"tenantId\":\"t1\"}", "[\"tenantId must be a UUID\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"tenantId\":null}", "[\"tenantId must be a UUID\"]", 0, 0},
    {0, "{\"name\":\"Ada\"," K10 ",\"tenantId\":\"\"}", "[\"tenantId must be a UUID\"]", 0, 0},
    {0, "{}",
     "[\"name must be a string\",\"name should not be empty\",\"knowledge must be a string\","
     "\"knowledge should not be empty\"]",
     0, 0},
    {0, "{\"name\":\"\",\"knowledge\":\"\"}",
     "[\"name should not be empty\",\"knowledge should not be empty\",\"knowledge must be "
     "longer than or equal to 10 characters\"]",
     0, 0},
    {0, "{\"name\":\"Ada\",\"knowledge\":\"012345678\"}",
     "[\"knowledge must be longer than or equal to 10 characters\"]", 0, 0},
    {0, "{\"name\":\"Ada\",\"knowledge\":\"  012345678  \"}",
     "[\"knowledge must be longer than or equal to 10 characters\"]", 0, 0},
    {0,
     "{\"name\":\"Ada\",\"knowledge\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
     "\\u00e9\\u00e9\\u00e9\"}",
     "[]", 3, 24},
    {0, "{\"name\":\"Ada\",\"knowledge\":\"0123456789\\u0000\"}",
     "[\"knowledge must not contain null characters\"]", 0, 0},
    {0, "{\"name\":7,\"knowledge\":false,\"linkExpiryHours\":\"x\",\"tenantId\":1,\"id\":2}",
     "[\"property id should not exist\",\"name must be a string\",\"knowledge must be a "
     "string\",\"linkExpiryHours must be an integer number\",\"tenantId must be a UUID\"]",
     0, 0},
    /* update */
    {1, "{}", "[]", 0, 24},
    {1, "{\"linkExpiryHours\":48}", "[]", LB_AGENT_HAS_LINK_EXPIRY, 48},
    {1, "{\"name\":\" Bob \"}", "[]", LB_AGENT_HAS_NAME, 24},
    {1, "{\"name\":null}", "[\"name must be a string\"]", 0, 0},
    {1, "{\"name\":\"\"}", "[\"name should not be empty\"]", 0, 0},
    {1, "{\"knowledge\":null}", "[\"knowledge must be a string\"]", 0, 0},
    {1, "{\"knowledge\":\"short\"}",
     "[\"knowledge must be longer than or equal to 10 characters\"]", 0, 0},
    {1, "{\"linkExpiryHours\":null}", "[\"linkExpiryHours must be an integer number\"]", 0, 0},
    {1, "{\"publicLink\":\"x\"}", "[\"property publicLink should not exist\"]", 0, 0},
};

START_TEST(test_agent)
{
    struct lb_msgs m;
    struct lb_agent_input in;
    lb_msgs_clear(&m);
    json_object *o = body_of(agents[_i].body);
    enum lb_status st =
        agents[_i].update ? lb_parse_agent_update(o, &in, &m) : lb_parse_agent_create(o, &in, &m);
    ck_assert_str_eq(msgs_json(&m), agents[_i].msgs);
    if (strcmp(agents[_i].msgs, "[]") == 0) {
        ck_assert_int_eq(st, LB_OK);
        ck_assert_uint_eq(in.present, agents[_i].present);
        ck_assert_int_eq(in.link_expiry_hours, agents[_i].hours);
        ck_assert_int_eq(in.knowledge != NULL, (in.present & LB_AGENT_HAS_KNOWLEDGE) != 0);
        if (in.present & LB_AGENT_HAS_TENANT_ID)
            ck_assert_str_eq(in.tenant_id, AGENT);
        else
            ck_assert_str_eq(in.tenant_id, "");
        if (in.present & LB_AGENT_HAS_NAME)
            ck_assert(strcmp(in.name, "Ada") == 0 || strcmp(in.name, "Bob") == 0);
    } else {
        ck_assert_int_eq(st, LB_INVALID);
        ck_assert_ptr_null(in.knowledge);
    }
    lb_agent_input_free(&in);
    lb_agent_input_free(&in); /* idempotent */
    json_object_put(o);
}
END_TEST

START_TEST(test_agent_limits)
{
    char *n100 = repeat("\xf0\x9f\x98\x80", 100), *n101 = repeat("\xf0\x9f\x98\x80", 101);
    char *k = repeat("k", 60000);
    char *text = malloc(70000);
    struct lb_msgs m;
    struct lb_agent_input in;

    snprintf(text, 70000, "{\"name\":\"%s\",\"knowledge\":\"%s\"}", n100, k);
    json_object *o = body_of(text);
    lb_msgs_clear(&m);
    ck_assert_int_eq(lb_parse_agent_create(o, &in, &m), LB_OK);
    ck_assert_str_eq(in.name, n100);
    ck_assert_str_eq(in.knowledge, k);
    ck_assert_uint_eq(in.knowledge_len, 60000);
    lb_agent_input_free(&in);
    json_object_put(o);

    snprintf(text, 70000, "{\"name\":\"%s\",\"knowledge\":\"%s\"}", n101, k);
    o = body_of(text);
    lb_msgs_clear(&m);
    ck_assert_int_eq(lb_parse_agent_create(o, &in, &m), LB_INVALID);
    ck_assert_str_eq(msgs_json(&m), "[\"name must be shorter than or equal to 100 characters\"]");
    lb_agent_input_free(&in);
    json_object_put(o);
    free(n100);
    free(n101);
    free(k);
    free(text);
}
END_TEST

START_TEST(test_many_unknown_and_long_names)
{
    /* 40 unknown members: 32 messages kept, the rest counted */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "{");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "\"u%d\":%d,", i, i);
    snprintf(text + o, sizeof text - o, "\"status\":\"PENDING\"}");
    json_object *obj = body_of(text);
    struct lb_msgs m;
    struct lb_status_input in;
    lb_msgs_clear(&m);
    ck_assert_int_eq(lb_parse_status_change(obj, &in, &m), LB_INVALID);
    ck_assert_uint_eq(lb_msgs_count(&m), LB_MSGS_MAX);
    ck_assert_uint_eq(m.dropped, 8);
    ck_assert_str_eq(lb_msgs_get(&m, 0), "property u0 should not exist");
    ck_assert_str_eq(lb_msgs_get(&m, 31), "property u31 should not exist");
    json_object_put(obj);

    /* a 10000-byte name is shown cut to 64 bytes, on a character boundary */
    char *big = repeat("k", 10000);
    char *t2 = malloc(10100);
    snprintf(t2, 10100, "{\"%s\":1,\"status\":\"PENDING\"}", big);
    obj = body_of(t2);
    lb_msgs_clear(&m);
    ck_assert_int_eq(lb_parse_status_change(obj, &in, &m), LB_INVALID);
    char expect[200];
    snprintf(expect, sizeof expect, "property %.64s... should not exist", big);
    ck_assert_str_eq(lb_msgs_get(&m, 0), expect);
    json_object_put(obj);
    free(big);

    char *euro = repeat("\xe2\x82\xac", 30); /* 90 bytes; 64 would split the 22nd */
    snprintf(t2, 10100, "{\"%s\":1,\"status\":\"PENDING\"}", euro);
    obj = body_of(t2);
    lb_msgs_clear(&m);
    lb_parse_status_change(obj, &in, &m);
    snprintf(expect, sizeof expect, "property %.63s... should not exist", euro);
    ck_assert_str_eq(lb_msgs_get(&m, 0), expect);
    json_object_put(obj);
    free(euro);
    free(t2);
}
END_TEST

static Suite *dto_suite(void)
{
    Suite *s = suite_create("jsonx_dto");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_lead_create, 0, (int)N(leads));
    tcase_add_test(tc, test_lead_create_values);
    tcase_add_test(tc, test_lead_name_limits);
    tcase_add_loop_test(tc, test_status_change, 0, (int)N(statuses));
    tcase_add_loop_test(tc, test_agent, 0, (int)N(agents));
    tcase_add_test(tc, test_agent_limits);
    tcase_add_test(tc, test_many_unknown_and_long_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
