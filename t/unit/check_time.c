/* check_time: ISO 8601 parsing, millisecond and PostgreSQL formatting, civil-date arithmetic.
 * Expected values were computed independently (Python's datetime). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *in;
    int64_t us;
} good[] = {
    {"2025-12-31T10:00:00Z", INT64_C(1767175200000000)},
    {"2025-12-31T10:00:00z", INT64_C(1767175200000000)},
    {"2025-12-31t10:00:00Z", INT64_C(1767175200000000)},
    {"2025-12-31 10:00:00Z", INT64_C(1767175200000000)},
    {"2025-12-31T10:00Z", INT64_C(1767175200000000)},
    {"2025-12-31T10:00:00+00:00", INT64_C(1767175200000000)},
    {"2025-12-31T10:00:00-00:00", INT64_C(1767175200000000)},
    {"2025-12-31T10:00:00+0000", INT64_C(1767175200000000)},
    {"2025-12-31T11:30:00+01:30", INT64_C(1767175200000000)},
    {"2025-12-31T11:30:00+0130", INT64_C(1767175200000000)},
    {"2025-12-31T10:00:00.123456Z", INT64_C(1767175200123456)},
    {"2025-12-31T10:00:00.1Z", INT64_C(1767175200100000)},
    {"2025-12-31T10:00:00.12Z", INT64_C(1767175200120000)},
    {"2025-12-31T10:00:00.123Z", INT64_C(1767175200123000)},
    {"2025-12-31T10:00:00.123456789Z", INT64_C(1767175200123456)}, /* truncated, not rounded */
    {"2025-12-31T10:00:00.999999999Z", INT64_C(1767175200999999)},
    {"2025-12-31T10:00:00.000000000Z", INT64_C(1767175200000000)},
    {"1970-01-01T00:00:00Z", 0},
    {"1969-12-31T23:59:59.999Z", -1000},
    {"1969-12-31T23:59:59.999999Z", -1},
    {"0001-01-01T00:00:00Z", LB_TIME_MIN_US},
    {"9999-12-31T23:59:59.999999Z", LB_TIME_MAX_US},
    /* leap years */
    {"2024-02-29T12:00:00Z", INT64_C(1709208000000000)},
    {"2000-02-29T00:00:00Z", INT64_C(951782400000000)},
    {"1600-02-29T00:00:00Z", INT64_C(-11670998400000000)},
    {"1900-03-01T00:00:00Z", INT64_C(-2203891200000000)},
    /* offsets crossing midnight and the year */
    {"2025-01-01T00:30:00+01:00", INT64_C(1735687800000000)}, /* = 2024-12-31T23:30Z */
    {"2024-12-31T23:30:00-01:00", INT64_C(1735691400000000)}, /* = 2025-01-01T00:30Z */
    {"2025-01-01T00:00:00+23:59", INT64_C(1735689600000000) - INT64_C(86340000000)},
    {"2024-12-31T23:59:59-23:59", INT64_C(1735689599000000) + INT64_C(86340000000)},
};

START_TEST(test_parse_good)
{
    int64_t us = 42;
    int rc = lb_time_parse_iso8601(good[_i].in, &us);
    ck_assert_msg(rc == 0, "rejected \"%s\"", good[_i].in);
    ck_assert_msg(us == good[_i].us, "\"%s\": %lld != %lld", good[_i].in, (long long)us,
                  (long long)good[_i].us);
}
END_TEST

static const char *const bad[] = {
    "",
    "2025-12-31",          /* date only */
    "2025-12-31T10:00:00", /* no zone */
    "2025-12-31T10:00",    /* no zone */
    "2025-12-31T10Z",      /* hour only */
    "2025-12-31T10:00:00ZZ",
    "2025-12-31T10:00:00Z ", /* trailing space */
    " 2025-12-31T10:00:00Z",
    "2025-12-31T10:00:00+01", /* offset hours only */
    "2025-12-31T10:00:00+1:00",
    "2025-12-31T10:00:00+01:0",
    "2025-12-31T10:00:00+01:000",
    "2025-12-31T10:00:00+24:00",
    "2025-12-31T10:00:00+01:60",
    "2025-12-31T10:00:00 +01:00",
    "2025-12-31T10:00:00UTC",
    "2025-12-31T10:00:00GMT+1",
    "2025-12-31T10:00:00.Z",           /* empty fraction */
    "2025-12-31T10:00:00.1234567890Z", /* 10 digits */
    "2025-12-31T10:00:00,5Z",          /* comma */
    "2025-12-31T10:00.5Z",             /* fraction of a minute */
    "2025-12-31T10:00:0Z",
    "2025-12-31T1:00:00Z",
    "2025-12-3T10:00:00Z",
    "2025-1-31T10:00:00Z",
    "25-12-31T10:00:00Z",
    "+02025-12-31T10:00:00Z", /* expanded year */
    "-2025-12-31T10:00:00Z",
    "12025-12-31T10:00:00Z",
    "0000-01-01T00:00:00Z", /* year 0 */
    "2025-00-10T10:00:00Z",
    "2025-13-01T10:00:00Z",
    "2025-12-00T10:00:00Z",
    "2025-12-32T10:00:00Z",
    "2025-04-31T10:00:00Z",
    "2025-02-29T10:00:00Z", /* not a leap year */
    "1900-02-29T10:00:00Z", /* divisible by 100 */
    "2100-02-29T10:00:00Z",
    "2024-02-30T10:00:00Z",
    "2025-12-31T24:00:00Z",
    "2025-12-31T23:60:00Z",
    "2025-12-31T23:59:60Z", /* leap second */
    "2016-12-31T23:59:60Z",
    "2025-12-31X10:00:00Z",
    "2025-12-31T10-00-00Z",
    "2025/12/31T10:00:00Z",
    "2025-12-31T10:00:00.12a4Z",
    "2025-W01-1T10:00:00Z",                             /* week date */
    "2025-365T10:00:00Z",                               /* ordinal date */
    "20251231T100000Z",                                 /* basic format */
    "2025-12-31T10:00:00\xef\xbc\xba",                  /* fullwidth Z */
    "\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa5-12-31T10:00:00Z", /* Arabic-Indic digits */
    "2025-12-31T10:00:00.000000000000000000000000000000000000000000000000000000000000Z",
    "NaN",
    "2025-12-31T10:00:00+01:00\n",
    "0001-01-01T00:00:00+01:00", /* year 0 in UTC: outside LB_TIME_MIN_US..LB_TIME_MAX_US */
    "9999-12-31T23:00:00-02:00", /* year 10000 in UTC */
};

START_TEST(test_parse_bad)
{
    int64_t us = 42;
    int rc = lb_time_parse_iso8601(bad[_i], &us);
    ck_assert_msg(rc == -1, "accepted \"%s\"", bad[_i]);
    ck_assert_int_eq(us, 42);
}
END_TEST

/* An offset must not carry a valid local time out of years 0001..9999 (found by fuzz_time). */
START_TEST(test_parse_offset_out_of_range)
{
    int64_t us = 42;
    ck_assert_int_eq(lb_time_parse_iso8601("9999-12-31T23:59-23:59", &us), -1);
    ck_assert_int_eq(lb_time_parse_iso8601("0001-01-01T00:00+00:01", &us), -1);
    ck_assert_int_eq(us, 42);
    ck_assert_int_eq(lb_time_parse_iso8601("9999-12-31T23:59:59.999999Z", &us), 0);
    ck_assert(us == LB_TIME_MAX_US);
    ck_assert_int_eq(lb_time_parse_iso8601("0001-01-01T00:00:00Z", &us), 0);
    ck_assert(us == LB_TIME_MIN_US);
}
END_TEST

START_TEST(test_parse_every_day)
{
    /* every day of 1999..2025 parses, and the next one is exactly 86400 s later */
    static const unsigned char dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t prev = 0;
    int first = 1;
    for (int y = 1999; y <= 2025; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int m = 1; m <= 12; m++) {
            int days = dim[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= days + 1; d++) {
                char s[64];
                int64_t us = 0;
                snprintf(s, sizeof s, "%04d-%02d-%02dT00:00:00Z", y, m, d);
                int rc = lb_time_parse_iso8601(s, &us);
                if (d > days) {
                    ck_assert_msg(rc == -1, "accepted %s", s);
                    continue;
                }
                ck_assert_msg(rc == 0, "rejected %s", s);
                if (!first)
                    ck_assert_int_eq(us - prev, INT64_C(86400000000));
                prev = us;
                first = 0;
            }
        }
    }
}
END_TEST

START_TEST(test_parse_null_and_long)
{
    int64_t us = 0;
    char big[200];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(lb_time_parse_iso8601(NULL, &us), -1);
    ck_assert_int_eq(lb_time_parse_iso8601(big, &us), -1);
}
END_TEST

static const struct {
    int64_t us;
    const char *ms, *pg;
} fmt[] = {
    {0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000000Z"},
    {INT64_C(1767175200123456), "2025-12-31T10:00:00.123Z", "2025-12-31T10:00:00.123456Z"},
    {INT64_C(1767175200999999), "2025-12-31T10:00:00.999Z", "2025-12-31T10:00:00.999999Z"},
    {-1, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999999Z"},
    {-999, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999001Z"},
    {-1000, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999000Z"},
    {-1001, "1969-12-31T23:59:59.998Z", "1969-12-31T23:59:59.998999Z"},
    {-INT64_C(86400000000), "1969-12-31T00:00:00.000Z", "1969-12-31T00:00:00.000000Z"},
    {INT64_C(951782400000000), "2000-02-29T00:00:00.000Z", "2000-02-29T00:00:00.000000Z"},
    {INT64_C(-2203891200000001), "1900-02-28T23:59:59.999Z", "1900-02-28T23:59:59.999999Z"},
    {LB_TIME_MIN_US, "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000000Z"},
    {LB_TIME_MAX_US, "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999999Z"},
    {LB_TIME_MAX_US + 1, "+010000-01-01T00:00:00.000Z", "10000-01-01T00:00:00.000000Z"},
    {LB_TIME_MIN_US - 1, "0000-12-31T23:59:59.999Z", "0001-12-31 23:59:59.999999+00 BC"},
    {LB_TIME_MIN_US - INT64_C(366) * 86400000000, "0000-01-01T00:00:00.000Z",
     "0001-01-01 00:00:00.000000+00 BC"}, /* year 0 (1 BC) is a leap year */
    {LB_TIME_MIN_US - INT64_C(367) * 86400000000, "-000001-12-31T00:00:00.000Z",
     "0002-12-31 00:00:00.000000+00 BC"},
    {INT64_MAX, "+294247-01-10T04:00:54.775Z", "294247-01-10T04:00:54.775807Z"},
    {INT64_MIN, "-290308-12-21T19:59:05.224Z", "290309-12-21 19:59:05.224192+00 BC"},
};

START_TEST(test_format)
{
    char ms[LB_TIME_FMT_MS_SIZE], pg[LB_TIME_FMT_PG_SIZE];
    ck_assert_int_eq(lb_time_format_ms(fmt[_i].us, ms), 0);
    ck_assert_str_eq(ms, fmt[_i].ms);
    ck_assert_int_eq(lb_time_format_pg(fmt[_i].us, pg), 0);
    ck_assert_str_eq(pg, fmt[_i].pg);
}
END_TEST

START_TEST(test_roundtrip)
{
    /* format_pg's output (year >= 1) parses back to the same value */
    static const int64_t v[] = {0,
                                1,
                                -1,
                                INT64_C(1767175200123456),
                                LB_TIME_MIN_US,
                                LB_TIME_MAX_US,
                                INT64_C(-2203891200000001)};
    for (size_t i = 0; i < N(v); i++) {
        char pg[LB_TIME_FMT_PG_SIZE];
        int64_t us = 0;
        ck_assert_int_eq(lb_time_format_pg(v[i], pg), 0);
        ck_assert_int_eq(lb_time_parse_iso8601(pg, &us), 0);
        ck_assert_int_eq(us, v[i]);
    }
}
END_TEST

START_TEST(test_civil)
{
    ck_assert_int_eq(lb_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(lb_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(lb_days_from_civil(1, 1, 1), -719162);
    ck_assert_int_eq(lb_days_from_civil(0, 3, 1), -719468);
    for (int64_t z = -800000; z <= 3000000; z += 997) {
        int64_t y;
        unsigned m, d;
        lb_civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(lb_days_from_civil(y, m, d), z);
    }
}
END_TEST

START_TEST(test_now)
{
    int64_t a = lb_time_now_us();
    ck_assert(a > INT64_C(1735689600000000)); /* after 2025-01-01 */
    ck_assert(lb_time_now_us() >= a);
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_parse_good, 0, (int)N(good));
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)N(bad));
    tcase_add_test(tc, test_parse_every_day);
    tcase_add_test(tc, test_parse_offset_out_of_range);
    tcase_add_test(tc, test_parse_null_and_long);
    tcase_add_loop_test(tc, test_format, 0, (int)N(fmt));
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_civil);
    tcase_add_test(tc, test_now);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(time_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
