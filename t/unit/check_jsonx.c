/* check_jsonx: the message list, the RFC 8259 check and body parsing. Every case asserts the
 * exact status and the exact message list (rendered as the JSON array the client receives). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "jsonx_support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- messages ---- */

START_TEST(test_msgs)
{
    static struct lb_msgs m;
    lb_msgs_clear(&m);
    ck_assert_str_eq(msgs_json(&m), "[]");
    ck_assert_int_eq(lb_msgs_add(&m, "a %d", 1), 0);
    ck_assert_int_eq(lb_msgs_add(&m, "q\"b\\c\n"), 0);
    ck_assert_str_eq(msgs_json(&m), "[\"a 1\",\"q\\\"b\\\\c\\n\"]");
    ck_assert_uint_eq(lb_msgs_count(&m), 2);
    ck_assert_str_eq(lb_msgs_get(&m, 0), "a 1");
    ck_assert_ptr_null(lb_msgs_get(&m, 2));
    for (int i = 2; i < LB_MSGS_MAX; i++)
        ck_assert_int_eq(lb_msgs_add(&m, "m%d", i), 0);
    ck_assert_int_eq(lb_msgs_add(&m, "one too many"), -1);
    ck_assert_uint_eq(lb_msgs_count(&m), LB_MSGS_MAX);
    ck_assert_uint_eq(m.dropped, 1);
    lb_msgs_clear(&m);
    ck_assert_uint_eq(lb_msgs_count(&m), 0);
    ck_assert_uint_eq(m.dropped, 0);

    /* cut to 255 bytes, never inside a UTF-8 sequence */
    char *a254 = repeat("a", 254), *a300 = repeat("a", 300);
    lb_msgs_add(&m, "%s\xc3\xa9", a254);
    ck_assert_str_eq(lb_msgs_get(&m, 0), a254);
    lb_msgs_add(&m, "%s", a300);
    ck_assert_uint_eq(strlen(lb_msgs_get(&m, 1)), LB_MSG_MAX_BYTES - 1);
    lb_msgs_add(&m, "%s\xf0\x9f\x98\x80", a254 + 2); /* 252 + 4 = 256 > 255 */
    ck_assert_uint_eq(strlen(lb_msgs_get(&m, 2)), 252);
    lb_msgs_add(&m, "%s\xf0\x9f\x98\x80", a254 + 3); /* 251 + 4 = 255: fits */
    ck_assert_uint_eq(strlen(lb_msgs_get(&m, 3)), 255);
    free(a254);
    free(a300);
}
END_TEST

/* ---- syntax and body ---- */

static const struct {
    const char *in;
    size_t len; /* 0: strlen */
    enum lb_status st;
    const char *msgs;
} bodies[] = {
    {"{}", 0, LB_OK, "[]"},
    {" \r\n\t{ \"a\" : [ 1 , -2.5e+3 , true , false , null , \"x\" , { } , [ ] ] } \n", 0, LB_OK,
     "[]"},
    {"{\"a\":\"\\ud83d\\ude00\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 0, LB_OK, "[]"},
    {"{\"a\":[{\"x\":1},{\"x\":2}]}", 0, LB_OK, "[]"},
    {"{\"n\":1e999,\"m\":-1e999,\"o\":99999999999999999999,\"p\":-99999999999999999999,"
     "\"q\":1e-999,\"r\":-0,\"s\":0.0}",
     0, LB_OK, "[]"},
    {"", 0, LB_INVALID, "[\"body should not be empty\"]"},
    {" \n\t\r ", 0, LB_INVALID, "[\"body should not be empty\"]"},
    {"\xff", 0, LB_INVALID, "[\"body must be valid UTF-8\"]"},
    {"{\"a\":\"\xc0\x80\"}", 0, LB_INVALID, "[\"body must be valid UTF-8\"]"},
    {"{\"a\":\"\xed\xa0\x80\"}", 0, LB_INVALID, "[\"body must be valid UTF-8\"]"},
    {"\xef\xbb\xbf{}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 0)\"]"},
    {"[]", 0, LB_INVALID, "[\"body must be a JSON object\"]"},
    {"1", 0, LB_INVALID, "[\"body must be a JSON object\"]"},
    {"\"x\"", 0, LB_INVALID, "[\"body must be a JSON object\"]"},
    {"null", 0, LB_INVALID, "[\"body must be a JSON object\"]"},
    {" true ", 0, LB_INVALID, "[\"body must be a JSON object\"]"},
    {"{", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 1)\"]"},
    {"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 0)\"]"},
    {"{} x", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 3)\"]"},
    {"{}{}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 2)\"]"},
    {"{}\0", 3, LB_INVALID, "[\"body must be valid JSON (error at byte 2)\"]"},
    {"{\"a\":1}\0{\"b\":2}", 15, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{\"a\":NaN}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":Infinity}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":-Infinity}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{'a':1}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 1)\"]"},
    {"{a:1}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 1)\"]"},
    {"{\"a\":'x'}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":01}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":-01}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{\"a\":1.}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{\"a\":.5}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":+1}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":-}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":1e}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{\"a\":1e+}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 8)\"]"},
    {"{\"a\":0x10}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":TRUE}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":tru}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":nul}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":1,}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{,}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 1)\"]"},
    {"{\"a\":[1,]}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 8)\"]"},
    {"{\"a\":[,1]}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\" 1}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 5)\"]"},
    {"{\"a\":1 \"b\":2}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{\"a\":1]", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":[1}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{/*c*/}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 1)\"]"},
    {"{\"a\":\"\t\"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":\"x\ny\"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 7)\"]"},
    {"{\"a\":\"\\x\"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":\"\\u12\"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":\"\\ud800\"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":\"\\ud800\\u0041\"}", 0, LB_INVALID,
     "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":\"\\udc00\"}", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 6)\"]"},
    {"{\"a\":\"abc", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 9)\"]"},
    {"{\"a\":\"abc\\", 0, LB_INVALID, "[\"body must be valid JSON (error at byte 9)\"]"},
    {"{\"a\":1,\"a\":2}", 0, LB_INVALID, "[\"body must not contain duplicate property names\"]"},
    {"{\"a\":1,\"\\u0061\":2}", 0, LB_INVALID,
     "[\"body must not contain duplicate property names\"]"},
    {"{\"x\":{\"b\":1,\"b\":2}}", 0, LB_INVALID,
     "[\"body must not contain duplicate property names\"]"},
    {"{\"x\":[{\"b\":1,\"b\":2}]}", 0, LB_INVALID,
     "[\"body must not contain duplicate property names\"]"},
    {"{\"a\\u0000b\":1}", 0, LB_INVALID, "[\"property names must not contain null characters\"]"},
};

START_TEST(test_parse_body)
{
    struct lb_msgs m;
    json_object *o = (json_object *)1;
    lb_msgs_clear(&m);
    size_t len = bodies[_i].len ? bodies[_i].len : strlen(bodies[_i].in);
    enum lb_status st = lb_json_parse_body(bodies[_i].in, len, &o, &m);
    ck_assert_msg(st == bodies[_i].st, "case %d (%s): status %d, %s", _i, bodies[_i].in, st,
                  msgs_json(&m));
    ck_assert_str_eq(msgs_json(&m), bodies[_i].msgs);
    if (st == LB_OK) {
        ck_assert(json_object_is_type(o, json_type_object));
        json_object_put(o);
    } else {
        ck_assert_ptr_null(o);
    }
}
END_TEST

START_TEST(test_parse_body_depth)
{
    /* 16 levels: {"a":{"a":...{"a":1}...}} is fine, as is [[...[1]...]] inside; 17 is not */
    for (int levels = 1; levels <= 18; levels++) {
        char text[512] = "";
        size_t o = 0;
        for (int i = 0; i < levels; i++)
            o += (size_t)snprintf(text + o, sizeof text - o, i ? "[" : "{\"a\":");
        o += (size_t)snprintf(text + o, sizeof text - o, "1");
        for (int i = levels - 1; i >= 0; i--)
            o += (size_t)snprintf(text + o, sizeof text - o, i ? "]" : "}");
        struct lb_msgs m;
        json_object *obj = NULL;
        lb_msgs_clear(&m);
        enum lb_status st = lb_json_parse_body(text, o, &obj, &m);
        if (levels <= LB_JSON_MAX_DEPTH) {
            ck_assert_msg(st == LB_OK, "%d levels: %s", levels, msgs_json(&m));
            json_object_put(obj);
        } else {
            ck_assert_int_eq(st, LB_INVALID);
            ck_assert_str_eq(msgs_json(&m), "[\"body must not be nested deeper than 16 levels\"]");
        }
    }
    /* 10000 levels, open and also closed, of both kinds: no crash, same answer */
    static const char *const units[][2] = {{"[", "]"}, {"{\"a\":", "}"}};
    for (size_t u = 0; u < 2; u++) {
        for (int closed = 0; closed <= 1; closed++) {
            char *open = repeat(units[u][0], 10000), *close = repeat(units[u][1], 10000);
            size_t lo = strlen(open), lc = closed ? strlen(close) : 0;
            char *text = malloc(lo + lc + 2);
            memcpy(text, open, lo);
            text[lo] = '1';
            memcpy(text + lo + 1, close, lc);
            struct lb_msgs m;
            json_object *obj = NULL;
            lb_msgs_clear(&m);
            ck_assert_int_eq(lb_json_parse_body(text, lo + 1 + lc, &obj, &m), LB_INVALID);
            ck_assert_str_eq(msgs_json(&m), "[\"body must not be nested deeper than 16 levels\"]");
            free(open);
            free(close);
            free(text);
        }
    }
}
END_TEST

START_TEST(test_check_syntax)
{
    size_t off = 99;
    ck_assert_int_eq(lb_json_check_syntax("1", 1, 16, NULL), 0);
    ck_assert_int_eq(lb_json_check_syntax(" \"x\" ", 5, 16, NULL), 0);
    ck_assert_int_eq(lb_json_check_syntax("-0.5E-3", 7, 16, NULL), 0);
    ck_assert_int_eq(lb_json_check_syntax("[[]]", 4, 2, NULL), 0);
    ck_assert_int_eq(lb_json_check_syntax("[[]]", 4, 1, &off), -1);
    ck_assert_uint_eq(off, 1);
    ck_assert_int_eq(lb_json_check_syntax("[1] [2]", 7, 16, &off), -1);
    ck_assert_uint_eq(off, 4);
    ck_assert_int_eq(lb_json_check_syntax("\"\xc3\"", 3, 16, &off), -1);
    ck_assert_uint_eq(off, 0);
    ck_assert_int_eq(lb_json_check_syntax("", 0, 16, &off), -1);
    ck_assert_int_eq(lb_json_check_syntax("[]", 2, -1, NULL), 0);
}
END_TEST

START_TEST(test_parse_body_numbers)
{
    json_object *o = body_of("{\"big\":99999999999999999999,\"neg\":-99999999999999999999,"
                             "\"inf\":1e999,\"tiny\":1e-999}");
    json_object *v;
    ck_assert(json_object_object_get_ex(o, "big", &v));
    ck_assert(json_object_is_type(v, json_type_int));
    ck_assert(json_object_get_int64(v) == INT64_MAX); /* clamped, not wrapped */
    ck_assert(json_object_object_get_ex(o, "neg", &v));
    ck_assert(json_object_get_int64(v) == INT64_MIN);
    ck_assert(json_object_object_get_ex(o, "inf", &v));
    ck_assert(json_object_is_type(v, json_type_double));
    ck_assert(json_object_object_get_ex(o, "tiny", &v));
    ck_assert(json_object_get_double(v) == 0.0);
    json_object_put(o);
}
END_TEST

static Suite *jsonx_suite(void)
{
    Suite *s = suite_create("jsonx");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_msgs);
    tcase_add_loop_test(tc, test_parse_body, 0, (int)N(bodies));
    tcase_add_test(tc, test_parse_body_depth);
    tcase_add_test(tc, test_check_syntax);
    tcase_add_test(tc, test_parse_body_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jsonx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
