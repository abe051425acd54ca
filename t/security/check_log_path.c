/* lb_app_log_path: what the access log shows of a path never holds a meeting token, a key or an
 * e-mail address in full, wherever in the path it is. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

static const char *masked(const char *path)
{
    static char out[160];
    lb_app_log_path(path, out, sizeof out);
    return out;
}

START_TEST(t_routes_stay_readable)
{
    ck_assert_str_eq(masked("/healthz"), "/healthz");
    ck_assert_str_eq(masked("/leads/stats"), "/leads/stats");
    ck_assert_str_eq(masked("/agents/by-link/x"), "/agents/by-link/x");
    ck_assert_str_eq(masked("/no/such/path"), "/no/such/path");
    ck_assert_str_eq(masked("/"), "/");
    ck_assert_str_eq(masked("/leads/x y\"z"), "/leads/x?y?z");
}
END_TEST

START_TEST(t_tokens_masked_anywhere)
{
    const char *tok = "ef2badbb-d4a4-43a1-b4dc-e7a9ccb846a2";
    ck_assert_str_eq(masked("/bookings/meeting/0123456789abcdef-secret"),
                     "/bookings/meeting/01234567***");
    char path[128];
    /* behind a prefix the router does not know, in another route, with more segments */
    const char *fmts[] = {"/bookings//meeting/%s", "/leads/%s", "/bookings/%s/status",
                          "/bookings/meeting/%s/", "/x/%s/y"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(path, sizeof path, fmts[i], tok);
        const char *m = masked(path);
        ck_assert_msg(strstr(m, tok) == NULL, "%s logged as %s", path, m);
        ck_assert_ptr_nonnull(strstr(m, "ef2badbb***"));
    }
    ck_assert_str_eq(masked("/bookings/ef2badbb-d4a4-43a1-b4dc-e7a9ccb846a2/status"),
                     "/bookings/ef2badbb***/status");
}
END_TEST

START_TEST(t_keys_and_emails_masked)
{
    ck_assert_str_eq(masked("/lbk_dAP340HlGltOtIE01-ZvoK4eOJMzPULIRU6psWvtAY0"), "/lbk_dAP3***");
    ck_assert_str_eq(masked("/leads/alice.smith@example.com"), "/leads/alice.sm***");
    ck_assert_str_eq(masked("/leads/a@b.co"), "/leads/a***"); /* short, but an address */
    ck_assert_str_eq(masked("/leads/@"), "/leads/***");
}
END_TEST

START_TEST(t_bounded_output)
{
    char out[16];
    lb_app_log_path("/bookings/meeting/ef2badbb-d4a4-43a1", out, sizeof out);
    ck_assert_uint_lt(strlen(out), sizeof out);
    ck_assert_ptr_null(strstr(out, "ef2badbb-"));
    char tiny[4];
    lb_app_log_path("/leads", tiny, sizeof tiny);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
    char one[1];
    lb_app_log_path("/leads", one, sizeof one);
    ck_assert_str_eq(one, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log_path");
    TCase *tc = tcase_create("masking");
    tcase_add_test(tc, t_routes_stay_readable);
    tcase_add_test(tc, t_tokens_masked_anywhere);
    tcase_add_test(tc, t_keys_and_emails_masked);
    tcase_add_test(tc, t_bounded_output);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
