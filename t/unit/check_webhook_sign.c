/* check_webhook_sign: the Standard Webhooks signature and the retry schedule (webhook_sign.c).
 * The vectors were computed outside this code: Standard Webhooks' published example, and
 * `openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f` for the 32-byte secret. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_sign.h"

START_TEST(test_standard_webhooks_example)
{
    char sig[LB_WEBHOOK_SIG_LEN + 1];
    const char *body = "{\"test\": 2432232314}";
    ck_assert_int_eq(lb_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                     "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                     sig),
                     0);
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
END_TEST

#define SECRET32 "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define ID "3f0e6b1e-9c7a-4d55-a8f2-5b1d0c9e7a11"
#define BODY "{\"id\":\"" ID "\",\"type\":\"booking.created\"}"
#define SIG32 "v1,yFTQ2FI/LfFEzb0dbbSwQW5fPFLA7QtQbuMU62mxKXc="

START_TEST(test_openssl_vector)
{
    char sig[LB_WEBHOOK_SIG_LEN + 1];
    ck_assert_int_eq(lb_webhook_sign(SECRET32, ID, 1700000000, BODY, strlen(BODY), sig), 0);
    ck_assert_str_eq(sig, SIG32);
    ck_assert_uint_eq(strlen(sig), LB_WEBHOOK_SIG_LEN);
    /* any change of id, timestamp or body changes it */
    ck_assert_int_eq(lb_webhook_sign(SECRET32, ID, 1700000001, BODY, strlen(BODY), sig), 0);
    ck_assert_str_ne(sig, SIG32);
    ck_assert_int_eq(lb_webhook_sign(SECRET32, ID, 1700000000, BODY, strlen(BODY) - 1, sig), 0);
    ck_assert_str_ne(sig, SIG32);
}
END_TEST

START_TEST(test_header_rotation)
{
    char h[LB_WEBHOOK_SIG_HEADER_LEN];
    const char *old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    ck_assert_int_eq(
        lb_webhook_signature_header(SECRET32, NULL, ID, 1700000000, BODY, strlen(BODY), h), 0);
    ck_assert_str_eq(h, SIG32);
    ck_assert_int_eq(
        lb_webhook_signature_header(SECRET32, old, ID, 1700000000, BODY, strlen(BODY), h), 0);
    char one[LB_WEBHOOK_SIG_LEN + 1], want[LB_WEBHOOK_SIG_HEADER_LEN];
    ck_assert_int_eq(lb_webhook_sign(old, ID, 1700000000, BODY, strlen(BODY), one), 0);
    snprintf(want, sizeof want, "%s %s", SIG32, one);
    ck_assert_str_eq(h, want);
    ck_assert_uint_eq(strlen(h), 2 * LB_WEBHOOK_SIG_LEN + 1);
}
END_TEST

START_TEST(test_bad_secrets)
{
    char sig[LB_WEBHOOK_SIG_LEN + 1];
    const char *bad[] = {"",
                         "whsec_",
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                         "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                         "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                         "whsec_AAEC*wQF",
                         "whsec_===="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(lb_webhook_sign(bad[i], ID, 1, "{}", 2, sig) == -1, "accepted \"%s\"",
                      bad[i]);
    ck_assert_int_eq(lb_webhook_sign(NULL, ID, 1, "{}", 2, sig), -1);
    char h[LB_WEBHOOK_SIG_HEADER_LEN];
    ck_assert_int_eq(lb_webhook_signature_header(SECRET32, "whsec_!", ID, 1, "{}", 2, h), -1);
}
END_TEST

START_TEST(test_schedule)
{
    const long want[] = {5, 300, 1800, 7200, 18000, 36000, 50400, 72000};
    long total = 0;
    for (int a = 1; a < LB_WEBHOOK_MAX_ATTEMPTS; a++) {
        ck_assert_int_eq(lb_webhook_retry_base_s(a), want[a - 1]);
        total += want[a - 1];
    }
    ck_assert_int_eq(LB_WEBHOOK_MAX_ATTEMPTS, 9);
    ck_assert_int_eq(lb_webhook_retry_base_s(9), -1); /* the last attempt has no retry */
    ck_assert_int_eq(lb_webhook_retry_base_s(0), -1);
    ck_assert_int_eq(lb_webhook_retry_base_s(100), -1);
    ck_assert(lb_webhook_retry_delay_s(9, 0.5) < 0);
    /* about two days and four hours of retries in all */
    ck_assert_int_eq(total, 185705);
}
END_TEST

START_TEST(test_jitter_bounds)
{
    for (int a = 1; a < LB_WEBHOOK_MAX_ATTEMPTS; a++) {
        double base = (double)lb_webhook_retry_base_s(a);
        ck_assert(lb_webhook_retry_delay_s(a, 0.0) == base * 0.9);
        ck_assert(lb_webhook_retry_delay_s(a, 0.5) == base);
        ck_assert(lb_webhook_retry_delay_s(a, 0.999999) < base * 1.1);
        double lo = 1e18, hi = 0;
        srand(42);
        for (int i = 0; i < 10000; i++) {
            double r = (double)rand() / ((double)RAND_MAX + 1.0);
            double d = lb_webhook_retry_delay_s(a, r);
            ck_assert(d >= base * 0.9 && d < base * 1.1);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* really spread over the band, not a constant */
        ck_assert(lo < base * 0.91 && hi > base * 1.09);
        /* out-of-range randomness falls back inside the band */
        ck_assert(lb_webhook_retry_delay_s(a, 1.0) == base);
        ck_assert(lb_webhook_retry_delay_s(a, -3.0) == base);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook_sign");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_standard_webhooks_example);
    tcase_add_test(tc, test_openssl_vector);
    tcase_add_test(tc, test_header_rotation);
    tcase_add_test(tc, test_bad_secrets);
    tcase_add_test(tc, test_schedule);
    tcase_add_test(tc, test_jitter_bounds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
