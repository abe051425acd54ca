/* Unit tests: query-string decoding, request building from FastCGI params, response and
 * NestJS-shaped error bodies, and the dispatcher's answers for bad request lines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "http.h"

static struct lb_arena arena;
static void setup(void)
{
    lb_arena_init(&arena, 0);
}
static void teardown(void)
{
    lb_arena_free(&arena);
}

START_TEST(t_query_basic)
{
    struct lb_kv kv[8];
    int n = lb_query_decode(&arena, "a=1&b=two+words&c=%41%2f%3D&d", kv, 8);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].value, "two words");
    ck_assert_str_eq(kv[2].value, "A/=");
    ck_assert_str_eq(kv[3].key, "d");
    ck_assert_str_eq(kv[3].value, "");
}
END_TEST

START_TEST(t_query_repeated_and_empty_segments)
{
    struct lb_kv kv[8];
    int n = lb_query_decode(&arena, "&x=1&&x=2&=3&", kv, 8);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].value, "2");
    ck_assert_str_eq(kv[2].key, "");
    ck_assert_str_eq(kv[2].value, "3");
    ck_assert_int_eq(lb_query_decode(&arena, "", kv, 8), 0);
    ck_assert_int_eq(lb_query_decode(&arena, "a%20b=c%2Bd", kv, 8), 1);
    ck_assert_str_eq(kv[0].key, "a b");
    ck_assert_str_eq(kv[0].value, "c+d");
}
END_TEST

START_TEST(t_query_malformed)
{
    struct lb_kv kv[4];
    const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a=%00", "a=1&b=%G1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(lb_query_decode(&arena, bad[i], kv, 4) == -1, "%s", bad[i]);
    ck_assert_int_eq(lb_query_decode(&arena, "a&b&c&d&e", kv, 4), -1); /* too many */
}
END_TEST

START_TEST(t_request_from_params)
{
    struct lb_request req;
    lb_request_init(&req);
    char *env[] = {"REQUEST_METHOD=PATCH",
                   "REQUEST_URI=/bookings/ab%2Dc/status?tenantId=t1&limit=5",
                   "QUERY_STRING=tenantId=t1&limit=5",
                   "CONTENT_TYPE=application/json",
                   "CONTENT_LENGTH=17",
                   "HTTP_AUTHORIZATION=Bearer xyz",
                   "REQUEST_ID=0123456789abcdef0123456789abcdef",
                   "BROKEN",
                   NULL};
    ck_assert_int_eq(lb_request_from_params(&req, env, "fresh"), 0);
    ck_assert_int_eq(req.method, LB_METHOD_PATCH);
    ck_assert_str_eq(req.path, "/bookings/ab-c/status");
    ck_assert_str_eq(req.request_id, "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(req.authorization, "Bearer xyz");
    ck_assert_str_eq(req.content_type, "application/json");
    ck_assert_int_eq(req.content_length, 17);
    size_t count;
    ck_assert_str_eq(lb_request_query(&req, "limit", &count), "5");
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_null(lb_request_query(&req, "cursor", &count));
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(req.path_error, 0);
    ck_assert_int_eq(req.query_error, 0);

    /* a request id that could inject a header is replaced by a fresh one */
    lb_request_reset(&req);
    char *env2[] = {"REQUEST_METHOD=BREW", "REQUEST_URI=/x%zz", "REQUEST_ID=a\r\nSet-Cookie: x",
                    "CONTENT_LENGTH=-5",   "QUERY_STRING=a=%",  NULL};
    ck_assert_int_eq(lb_request_from_params(&req, env2, "fresh"), 0);
    ck_assert_int_eq(req.method, LB_METHOD_OTHER);
    ck_assert_str_eq(req.method_name, "BREW");
    ck_assert_str_eq(req.request_id, "fresh");
    ck_assert_int_eq(req.path_error, 1);
    ck_assert_int_eq(req.query_error, 1);
    ck_assert_int_eq(req.content_length, -1);

    lb_request_reset(&req);
    char *env3[] = {NULL};
    ck_assert_int_eq(lb_request_from_params(&req, env3, "id2"), 0);
    ck_assert_str_eq(req.path, "/");
    ck_assert_str_eq(req.request_id, "id2");
    lb_request_free(&req);
}
END_TEST

START_TEST(t_error_body_shape)
{
    struct lb_response res;
    lb_response_init(&res);
    lb_response_error(&res, 404, "Lead with id %s not found", "a\"b");
    ck_assert_int_eq(res.status, 404);
    ck_assert_str_eq(res.body.data,
                     "{\"statusCode\":404,\"message\":\"Lead with id a\\\"b not found\","
                     "\"error\":\"Not Found\"}");
    lb_response_error_array(&res, 400, "[\"email must be an email\"]");
    ck_assert_str_eq(res.body.data, "{\"statusCode\":400,\"message\":[\"email must be an email\"],"
                                    "\"error\":\"Bad Request\"}");
    lb_response_reset(&res);
    lb_response_status_error(&res, LB_UNAVAILABLE, 3, NULL);
    ck_assert_int_eq(res.status, 503);
    ck_assert_ptr_nonnull(strstr(res.headers.data, "Retry-After: 3\r\n"));
    lb_response_reset(&res);
    lb_response_status_error(&res, LB_INTERNAL, 1, "secret detail");
    ck_assert_int_eq(res.status, 500);
    ck_assert_ptr_null(strstr(res.body.data, "secret"));
    lb_response_free(&res);
}
END_TEST

START_TEST(t_serialize)
{
    struct lb_response res;
    struct lb_buf out;
    lb_response_init(&res);
    lb_buf_init(&out);
    lb_response_json(&res, 201);
    lb_buf_puts(&res.body, "{}");
    ck_assert_int_eq(lb_response_header(&res, "Location", "/leads/%d", 1), 0);
    ck_assert_int_eq(lb_response_header(&res, "X-Evil", "a\r\nb"), -1);
    ck_assert_int_eq(lb_response_serialize(&res, "rid", &out), 0);
    ck_assert_str_eq(out.data, "Status: 201 Created\r\nContent-Type: application/json; "
                               "charset=utf-8\r\nContent-Length: 2\r\nX-Request-Id: rid\r\n"
                               "Location: /leads/1\r\n\r\n{}");
    res.head_only = 1;
    lb_response_serialize(&res, "rid", &out);
    ck_assert_ptr_nonnull(strstr(out.data, "Content-Length: 2\r\n"));
    ck_assert_str_eq(out.data + out.len - 4, "\r\n\r\n");
    lb_buf_free(&out);
    lb_response_free(&res);
}
END_TEST

START_TEST(t_json_string_escapes)
{
    struct lb_buf b;
    lb_buf_init(&b);
    lb_buf_json_string(&b, "a\"\\\n\t\x01z\xc3\xa9");
    ck_assert_str_eq(b.data, "\"a\\\"\\\\\\n\\t\\u0001z\xc3\xa9\"");
    lb_buf_free(&b);
}
END_TEST

/* Found by t/fuzz/fuzz_request: messages quoting the method or path were not valid UTF-8. */
START_TEST(t_error_body_is_utf8)
{
    struct lb_response res;
    lb_response_init(&res);
    lb_response_error(&res, 404, "Cannot %s %s", "\xff\xfe", "/\xc3(\xed\xa0\x80\xf4\x90");
    ck_assert_str_eq(
        res.body.data,
        "{\"statusCode\":404,\"message\":\"Cannot ?? /?(?????\",\"error\":\"Not Found\"}");
    lb_response_error(&res, 404, "%s", "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* kept */
    ck_assert_str_eq(res.body.data, "{\"statusCode\":404,\"message\":\"\xc3\xa9 \xe2\x82\xac "
                                    "\xf0\x9f\x98\x80\",\"error\":\"Not Found\"}");
    /* a precision that cuts a character in two */
    lb_response_error(&res, 404, "%.2s", "a\xc3\xa9");
    ck_assert_str_eq(res.body.data,
                     "{\"statusCode\":404,\"message\":\"a?\",\"error\":\"Not Found\"}");
    lb_response_free(&res);
}
END_TEST

START_TEST(t_log_path_masks_tokens)
{
    char out[160];
    lb_app_log_path("/bookings/meeting/0123456789abcdef-secret", out, sizeof out);
    ck_assert_str_eq(out, "/bookings/meeting/01234567***");
    lb_app_log_path("/leads/x y\"z", out, sizeof out);
    ck_assert_str_eq(out, "/leads/x?y?z");
}
END_TEST

static void h_ok(struct lb_ctx *ctx)
{
    lb_response_json(ctx->res, 200);
    lb_buf_puts(&ctx->res->body, "{\"ok\":true}");
}

/* A request that waited in the queue past request_deadline is not run (its handler never
 * sees it): 503 + Retry-After; REQUEST_START is nginx's $msec. */
static int handler_runs;
static void h_count(struct lb_ctx *ctx)
{
    handler_runs++;
    h_ok(ctx);
}

START_TEST(t_deadline)
{
    static const struct lb_route rt[] = {{LB_METHOD_GET, "/p", h_count, LB_ACCESS_PUBLIC}};
    struct lb_config cfg;
    lb_config_defaults(&cfg);
    ck_assert_int_eq(cfg.request_deadline, 35);
    struct lb_app app = {.cfg = &cfg, .routes = rt, .nroutes = 1};
    struct lb_request req;
    struct lb_response res;
    lb_request_init(&req);
    lb_response_init(&res);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char fresh[64], stale[64], bad[] = "REQUEST_START=12x.5";
    snprintf(fresh, sizeof fresh, "REQUEST_START=%lld.250", (long long)now.tv_sec - 2);
    snprintf(stale, sizeof stale, "REQUEST_START=%lld.5", (long long)now.tv_sec - 36);
    char *ok[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/p", fresh, NULL};
    char *late[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/p", stale, NULL};
    char *junk[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/p", bad, NULL};
    handler_runs = 0;
    lb_request_from_params(&req, ok, "r");
    ck_assert_int_eq(req.started_ms, ((long long)now.tv_sec - 2) * 1000 + 250);
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 200);
    ck_assert_int_eq(handler_runs, 1);
    lb_request_reset(&req);
    lb_response_reset(&res);
    lb_request_from_params(&req, late, "r");
    ck_assert_int_eq(req.started_ms, ((long long)now.tv_sec - 36) * 1000 + 500);
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 503);
    ck_assert_ptr_nonnull(strstr(res.headers.data, "Retry-After: "));
    ck_assert_int_eq(handler_runs, 1); /* not run */
    /* cppcheck-suppress unreadVariable ; read through app.cfg */
    cfg.request_deadline = 0; /* off */
    lb_response_reset(&res);
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 200);
    ck_assert_int_eq(handler_runs, 2);
    lb_request_reset(&req);
    lb_request_from_params(&req, junk, "r");
    ck_assert_int_eq(req.started_ms, 0); /* unparsable: as if absent */
    lb_request_free(&req);
    lb_response_free(&res);
}
END_TEST

START_TEST(t_dispatch_errors)
{
    static const struct lb_route rt[] = {{LB_METHOD_GET, "/p", h_ok, 1},
                                         {LB_METHOD_GET, "/private", h_ok, 0}};
    struct lb_config cfg;
    lb_config_defaults(&cfg);
    struct lb_app app = {.cfg = &cfg, .routes = rt, .nroutes = 2};
    struct lb_request req;
    struct lb_response res;
    lb_request_init(&req);
    lb_response_init(&res);

    char *e1[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/p", NULL};
    lb_request_from_params(&req, e1, "r");
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 200);

    char *e2[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/p?x=%zz", NULL};
    lb_request_reset(&req);
    lb_response_reset(&res);
    lb_request_from_params(&req, e2, "r");
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 400);

    char *e3[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/private", NULL};
    lb_request_reset(&req);
    lb_response_reset(&res);
    lb_request_from_params(&req, e3, "r");
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 401);
    ck_assert_ptr_nonnull(strstr(res.headers.data, "WWW-Authenticate: Bearer"));

    char *e4[] = {"REQUEST_METHOD=HEAD", "REQUEST_URI=/p", NULL};
    lb_request_reset(&req);
    lb_response_reset(&res);
    lb_request_from_params(&req, e4, "r");
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 200);
    ck_assert_int_eq(res.head_only, 1);

    lb_request_reset(&req);
    lb_response_reset(&res);
    lb_request_from_params(&req, e1, "r");
    req.body_too_large = 1;
    lb_app_dispatch(&app, &req, &res);
    ck_assert_int_eq(res.status, 413);

    lb_request_free(&req);
    lb_response_free(&res);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("query");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_query_basic);
    tcase_add_test(tc, t_query_repeated_and_empty_segments);
    tcase_add_test(tc, t_query_malformed);
    suite_add_tcase(s, tc);
    tc = tcase_create("request_response");
    tcase_add_test(tc, t_request_from_params);
    tcase_add_test(tc, t_error_body_shape);
    tcase_add_test(tc, t_serialize);
    tcase_add_test(tc, t_json_string_escapes);
    tcase_add_test(tc, t_error_body_is_utf8);
    tcase_add_test(tc, t_log_path_masks_tokens);
    tcase_add_test(tc, t_dispatch_errors);
    tcase_add_test(tc, t_deadline);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
