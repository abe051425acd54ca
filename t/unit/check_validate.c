/* check_validate: UUID, e-mail, UTF-8, trim, limits, bearer header, booking status, cursor. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- UUID ---- */

static const struct {
    const char *in, *out; /* out NULL: rejected */
} uuid_cases[] = {
    {"3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60", "3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60"},
    {"3F0E5C1A-9B2D-4C3E-8F4A-1B2C3D4E5F60", "3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60"},
    {"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"},
    {"ffffffff-FFFF-ffff-FFFF-ffffffffffff", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
    {"", NULL},
    {"3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f6", NULL},   /* 35 */
    {"3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f600", NULL}, /* 37 */
    {"{3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60}", NULL},
    {"3f0e5c1a9b2d4c3e8f4a1b2c3d4e5f60", NULL},
    {"3f0e5c1a-9b2d-4c3e-8f4a1b2c3d4e5f601", NULL},
    {"3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f6g", NULL},
    {"3f0e5c1a_9b2d-4c3e-8f4a-1b2c3d4e5f60", NULL},
    {"3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f6 ", NULL},
    {" 3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f6", NULL},
    {"urn:uuid:3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e", NULL},
    {"3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60\n", NULL},
    {"3f0e5c1a--9b2d-4c3e-8f4a-1b2c3d4e5f6", NULL},
    {"+f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60", NULL},
};

START_TEST(test_uuid)
{
    char out[LB_UUID_SIZE] = "unchanged";
    int rc = lb_validate_uuid(uuid_cases[_i].in, out);
    if (uuid_cases[_i].out) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, uuid_cases[_i].out);
    } else {
        ck_assert_msg(rc == -1, "accepted \"%s\"", uuid_cases[_i].in);
        ck_assert_str_eq(out, "unchanged");
    }
}
END_TEST

START_TEST(test_uuid_null)
{
    char out[LB_UUID_SIZE];
    ck_assert_int_eq(lb_validate_uuid(NULL, out), -1);
}
END_TEST

/* ---- e-mail ---- */

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static const struct {
    const char *in;
    int ok;
} email_cases[] = {
    {"a@b.co", 1},
    {"jane.doe@example.com", 1},
    {"Jane.Doe+tag@Example.COM", 1},
    {"x!#$%&'*+/=?^_`{|}~-y@example.org", 1},
    {"user@sub.domain.example.travel", 1},
    {"user@my-host.example.com", 1},
    {"user@123.example.com", 1},
    {"user@example.xn--p1ai", 1},
    {"a.b.c@d.ef", 1},
    {"", 0},
    {"plainaddress", 0},
    {"@example.com", 0},
    {"user@", 0},
    {"user@@example.com", 0},
    {"us@er@example.com", 0},
    {".user@example.com", 0},
    {"user.@example.com", 0},
    {"us..er@example.com", 0},
    {"user@localhost", 0},
    {"user@example", 0},
    {"user@example.c", 0},
    {"user@example.c0m", 0},
    {"user@example.123", 0},
    {"user@-example.com", 0},
    {"user@example-.com", 0},
    {"user@example..com", 0},
    {"user@.example.com", 0},
    {"user@example.com.", 0},
    {"user@exa_mple.com", 0},
    {"user name@example.com", 0},
    {" user@example.com", 0},
    {"user@example.com ", 0},
    {"user\t@example.com", 0},
    {"\"user\"@example.com", 0},
    {"user(comment)@example.com", 0},
    {"user@[127.0.0.1]", 0},
    {"us\xc3\xa9r@example.com", 0},
    {"user@ex\xc3\xa4mple.com", 0},
    {"user@example.xn--", 0},
    {"user@example.com\x7f", 0},
};

START_TEST(test_email)
{
    int rc = lb_validate_email(email_cases[_i].in);
    ck_assert_msg(rc == (email_cases[_i].ok ? 0 : -1), "\"%s\": got %d", email_cases[_i].in, rc);
}
END_TEST

START_TEST(test_email_lengths)
{
    char buf[400];
    char *l64 = repeat('a', 64), *l65 = repeat('a', 65), *d63 = repeat('d', 63),
         *d64 = repeat('d', 64);
    snprintf(buf, sizeof buf, "%s@example.com", l64);
    ck_assert_int_eq(lb_validate_email(buf), 0);
    snprintf(buf, sizeof buf, "%s@example.com", l65);
    ck_assert_int_eq(lb_validate_email(buf), -1);
    snprintf(buf, sizeof buf, "a@%s.com", d63);
    ck_assert_int_eq(lb_validate_email(buf), 0);
    snprintf(buf, sizeof buf, "a@%s.com", d64);
    ck_assert_int_eq(lb_validate_email(buf), -1);
    /* 254 exactly: 64 + 1 + 63 + 1 + 63 + 1 + 57 + 1 + 3 */
    char *d57 = repeat('e', 57);
    snprintf(buf, sizeof buf, "%s@%s.%s.%s.com", l64, d63, d63, d57);
    ck_assert_uint_eq(strlen(buf), 254);
    ck_assert_int_eq(lb_validate_email(buf), 0);
    snprintf(buf, sizeof buf, "%s@%s.%s.%se.com", l64, d63, d63, d57);
    ck_assert_uint_eq(strlen(buf), 255);
    ck_assert_int_eq(lb_validate_email(buf), -1);
    ck_assert_int_eq(lb_validate_email(NULL), -1);
    free(l64);
    free(l65);
    free(d63);
    free(d64);
    free(d57);
}
END_TEST

/* ---- UTF-8 ---- */

static const struct {
    const char *in;
    size_t len;
    int ok;
} utf8_cases[] = {
    {"", 0, 1},
    {"plain ascii", 11, 1},
    {"\x00", 1, 1},                     /* U+0000 is valid UTF-8 */
    {"\xc3\xa9", 2, 1},                 /* é */
    {"\xe2\x82\xac", 3, 1},             /* € */
    {"\xf0\x9f\x98\x80", 4, 1},         /* U+1F600 */
    {"\xc2\x80", 2, 1},                 /* U+0080, smallest 2-byte */
    {"\xe0\xa0\x80", 3, 1},             /* U+0800 */
    {"\xf0\x90\x80\x80", 4, 1},         /* U+10000 */
    {"\xf4\x8f\xbf\xbf", 4, 1},         /* U+10FFFF */
    {"\xed\x9f\xbf", 3, 1},             /* U+D7FF */
    {"\xee\x80\x80", 3, 1},             /* U+E000 */
    {"\xef\xbf\xbf", 3, 1},             /* U+FFFF */
    {"\xc0\x80", 2, 0},                 /* overlong NUL */
    {"\xc1\xbf", 2, 0},                 /* overlong */
    {"\xe0\x80\xaf", 3, 0},             /* overlong '/' */
    {"\xe0\x9f\xbf", 3, 0},             /* overlong U+07FF */
    {"\xf0\x8f\xbf\xbf", 4, 0},         /* overlong U+FFFF */
    {"\xed\xa0\x80", 3, 0},             /* U+D800 */
    {"\xed\xbf\xbf", 3, 0},             /* U+DFFF */
    {"\xed\xa0\xbd\xed\xb8\x80", 6, 0}, /* CESU-8 surrogate pair */
    {"\xf4\x90\x80\x80", 4, 0},         /* U+110000 */
    {"\xf5\x80\x80\x80", 4, 0},
    {"\xff", 1, 0},
    {"\xfe", 1, 0},
    {"\x80", 1, 0}, /* lone continuation */
    {"a\xbf", 2, 0},
    {"\xc3", 1, 0}, /* truncated */
    {"\xe2\x82", 2, 0},
    {"\xf0\x9f\x98", 3, 0},
    {"\xc3\x28", 2, 0}, /* bad continuation */
    {"\xe2\x28\xa1", 3, 0},
    {"\xf0\x28\x8c\xbc", 4, 0},
    {"\xf8\x88\x80\x80\x80", 5, 0}, /* 5-byte form */
};

START_TEST(test_utf8)
{
    int rc = lb_validate_utf8(utf8_cases[_i].in, utf8_cases[_i].len);
    ck_assert_msg(rc == (utf8_cases[_i].ok ? 0 : -1), "case %d: got %d", _i, rc);
}
END_TEST

START_TEST(test_utf8_length_and_trim)
{
    ck_assert_uint_eq(lb_utf8_length(""), 0);
    ck_assert_uint_eq(lb_utf8_length("abc"), 3);
    ck_assert_uint_eq(lb_utf8_length("\xc3\xa9t\xc3\xa9"), 3);
    ck_assert_uint_eq(lb_utf8_length("\xf0\x9f\x98\x80\xe2\x82\xac"), 2);
    ck_assert_uint_eq(lb_utf8_length_n("ab\0cd", 5), 5);

    static const struct {
        const char *in;
        size_t start, len;
    } t[] = {
        {"", 0, 0},
        {"abc", 0, 3},
        {"  abc  ", 2, 3},
        {"\t\n\v\f\r abc \r\n", 6, 3},
        {"   ", 3, 0},
        {"a b", 0, 3},
        {"\xc2\xa0x\xc2\xa0", 2, 1},         /* NBSP */
        {"\xe3\x80\x80x\xe2\x80\xa8", 3, 1}, /* U+3000, U+2028 */
        {"\xef\xbb\xbfx", 3, 1},             /* BOM */
        {"\xe2\x80\x8bx", 0, 4},             /* U+200B is not whitespace in JS */
        {"x\xc3\xa9", 0, 3},                 /* é at the end stays */
        {"\xe1\x9a\x80\xe2\x80\x8a", 6, 0},  /* U+1680 U+200A only */
    };
    for (size_t i = 0; i < N(t); i++) {
        size_t start = 99, len = 99;
        lb_trim(t[i].in, strlen(t[i].in), &start, &len);
        ck_assert_msg(start == t[i].start && len == t[i].len, "trim case %zu: %zu,%zu", i, start,
                      len);
    }
}
END_TEST

/* ---- limit ---- */

START_TEST(test_parse_limit)
{
    static const struct {
        const char *in;
        int ok;
        long v;
    } t[] = {
        {"1", 1, 1},
        {"100", 1, 100},
        {"1000", 1, 1000},
        {"0001", 1, 1},
        {"0", 0, 0},
        {"1001", 0, 0},
        {"", 0, 0},
        {"-1", 0, 0},
        {"+1", 0, 0},
        {" 1", 0, 0},
        {"1 ", 0, 0},
        {"1.0", 0, 0},
        {"1e3", 0, 0},
        {"0x10", 0, 0},
        {"abc", 0, 0},
        {"99999999999999999999999", 0, 0},
        {"9223372036854775807", 0, 0},
        {"10\n", 0, 0},
    };
    for (size_t i = 0; i < N(t); i++) {
        long v = -7;
        int rc = lb_parse_limit(t[i].in, 1, 1000, &v);
        ck_assert_msg(rc == (t[i].ok ? 0 : -1), "limit \"%s\": %d", t[i].in, rc);
        ck_assert_int_eq(v, t[i].ok ? t[i].v : -7);
    }
    long v = 0;
    ck_assert_int_eq(lb_parse_limit("9223372036854775807", 0, __LONG_MAX__, &v), 0);
    ck_assert_int_eq(v, __LONG_MAX__);
    ck_assert_int_eq(lb_parse_limit("9223372036854775808", 0, __LONG_MAX__, &v), -1);
    ck_assert_int_eq(lb_parse_limit(NULL, 0, 1, &v), -1);
}
END_TEST

/* ---- bearer ---- */

START_TEST(test_bearer)
{
    static const struct {
        const char *in, *key; /* key NULL: rejected */
    } t[] = {
        {"Bearer abc", "abc"},
        {"bearer abc", "abc"},
        {"BEARER abc", "abc"},
        {"BeArEr lb_Az09-._~+/", "lb_Az09-._~+/"},
        {"Bearer abc==", "abc=="},
        {"Bearer a=", "a="},
        {"Bearer x", "x"},
        {"Bearer", NULL},
        {"Bearer ", NULL},
        {"Bearer  abc", NULL},
        {"Bearer\tabc", NULL},
        {"Bearer abc ", NULL},
        {" Bearer abc", NULL},
        {"Bearerabc", NULL},
        {"Basic abc", NULL},
        {"Bearer abc def", NULL},
        {"Bearer =abc", NULL},
        {"Bearer ==", NULL},
        {"Bearer ab=c", NULL},
        {"Bearer abc\r\n", NULL},
        {"Bearer ab\"c", NULL},
        {"Bearer ab,c", NULL},
        {"Bearer \xc3\xa9", NULL},
        {"Bearers abc", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < N(t); i++) {
        char key[LB_BEARER_KEY_MAX_LEN + 1] = "unchanged";
        int rc = lb_auth_parse_bearer(t[i].in, key, sizeof key);
        if (t[i].key) {
            ck_assert_msg(rc == 0, "rejected \"%s\"", t[i].in);
            ck_assert_str_eq(key, t[i].key);
        } else {
            ck_assert_msg(rc == -1, "accepted \"%s\"", t[i].in);
            ck_assert_str_eq(key, "unchanged");
        }
    }
}
END_TEST

START_TEST(test_bearer_lengths)
{
    /* the longest credential is a sign-in token of 8 KiB (LB_BEARER_KEY_MAX_LEN) */
    enum { MAX = LB_BEARER_KEY_MAX_LEN };
    static char hdr[MAX + 64], key[MAX + 1];
    char *kmax = repeat('k', MAX), *kover = repeat('k', MAX + 1), *kless = repeat('k', MAX - 1);
    snprintf(hdr, sizeof hdr, "Bearer %s", kmax);
    ck_assert_int_eq(lb_auth_parse_bearer(hdr, key, sizeof key), 0);
    ck_assert_str_eq(key, kmax);
    ck_assert_int_eq(lb_auth_parse_bearer(hdr, key, MAX), -1); /* no room for the NUL */
    snprintf(hdr, sizeof hdr, "Bearer %s", kover);
    ck_assert_int_eq(lb_auth_parse_bearer(hdr, key, sizeof key), -1);
    snprintf(hdr, sizeof hdr, "Bearer %s=", kless); /* padding counts */
    ck_assert_int_eq(lb_auth_parse_bearer(hdr, key, sizeof key), 0);
    snprintf(hdr, sizeof hdr, "Bearer %s=", kmax);
    ck_assert_int_eq(lb_auth_parse_bearer(hdr, key, sizeof key), -1);
    ck_assert_int_eq(lb_auth_parse_bearer(NULL, key, sizeof key), -1);
    /* a JWT's characters (base64url and dots) are token68 */
    ck_assert_int_eq(lb_auth_parse_bearer("Bearer eyJh.eyJz.c2ln-_", key, sizeof key), 0);
    ck_assert_str_eq(key, "eyJh.eyJz.c2ln-_");
    free(kmax);
    free(kover);
    free(kless);
}
END_TEST

/* ---- booking status ---- */

START_TEST(test_booking_status)
{
    static const char *const names[] = {"PENDING", "CONFIRMED", "COMPLETED", "EXPIRED",
                                        "CANCELLED"};
    for (int i = 0; i < LB_BOOKING_STATUS_COUNT; i++) {
        enum lb_booking_status st = LB_BOOKING_EXPIRED;
        ck_assert_int_eq(lb_booking_status_parse(names[i], &st), 0);
        ck_assert_int_eq(st, i);
        ck_assert_str_eq(lb_booking_status_name(st), names[i]);
    }
    static const char *const bad[] = {"",         "pending",  "Pending", "PENDING ",
                                      " PENDING", "CANCELED", "PEND",    "PENDINGX"};
    for (size_t i = 0; i < N(bad); i++) {
        enum lb_booking_status st = LB_BOOKING_EXPIRED;
        ck_assert_int_eq(lb_booking_status_parse(bad[i], &st), -1);
        ck_assert_int_eq(st, LB_BOOKING_EXPIRED);
    }
    ck_assert_str_eq(lb_booking_status_name((enum lb_booking_status)5), "");
    ck_assert_str_eq(lb_booking_status_name((enum lb_booking_status) - 1), "");
}
END_TEST

/* ---- cursor ---- */

START_TEST(test_cursor_roundtrip)
{
    static const struct {
        int64_t us;
        const char *id;
    } t[] = {
        {INT64_C(1767175200123456), "3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60"},
        {0, "00000000-0000-0000-0000-000000000000"},
        {-1, "ffffffff-ffff-ffff-ffff-ffffffffffff"},
        {LB_TIME_MIN_US, "01234567-89ab-cdef-0123-456789abcdef"},
        {LB_TIME_MAX_US, "FEDCBA98-7654-3210-FEDC-BA9876543210"},
    };
    for (size_t i = 0; i < N(t); i++) {
        char cur[LB_CURSOR_SIZE], id[LB_UUID_SIZE], lower[LB_UUID_SIZE];
        int64_t us = 42;
        ck_assert_int_eq(lb_cursor_encode(t[i].us, t[i].id, cur, sizeof cur), 0);
        ck_assert_uint_eq(strlen(cur), LB_CURSOR_LEN);
        ck_assert_uint_eq(strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
                          LB_CURSOR_LEN);
        ck_assert_int_eq(lb_cursor_decode(cur, &us, id), 0);
        ck_assert_int_eq(us, t[i].us);
        lb_validate_uuid(t[i].id, lower);
        ck_assert_str_eq(id, lower);
    }
}
END_TEST

START_TEST(test_cursor_known_value)
{
    char cur[LB_CURSOR_SIZE];
    /* 01 | 00 00 00 00 00 00 00 00 | 00..00 */
    ck_assert_int_eq(lb_cursor_encode(0, "00000000-0000-0000-0000-000000000000", cur, sizeof cur),
                     0);
    ck_assert_str_eq(cur, "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    ck_assert_int_eq(lb_cursor_encode(0, "not-a-uuid", cur, sizeof cur), -1);
    ck_assert_int_eq(lb_cursor_encode(0, NULL, cur, sizeof cur), -1);
    ck_assert_int_eq(
        lb_cursor_encode(0, "00000000-0000-0000-0000-000000000000", cur, LB_CURSOR_SIZE - 1), -1);
}
END_TEST

START_TEST(test_cursor_tampering)
{
    char cur[LB_CURSOR_SIZE], bad[64], id[LB_UUID_SIZE] = "unchanged";
    int64_t us = 42;
    ck_assert_int_eq(lb_cursor_encode(INT64_C(1767175200123456),
                                      "3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60", cur, sizeof cur),
                     0);
    /* every single-character change is either rejected or decodes to something else */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.~ ";
    for (size_t pos = 0; pos < LB_CURSOR_LEN; pos++) {
        for (size_t a = 0; a < sizeof alphabet - 1; a++) {
            if (alphabet[a] == cur[pos])
                continue;
            memcpy(bad, cur, sizeof cur);
            bad[pos] = alphabet[a];
            int64_t u2 = 42;
            char id2[LB_UUID_SIZE];
            if (lb_cursor_decode(bad, &u2, id2) == 0) {
                ck_assert(pos >= 1); /* the version lives in the first chars */
                ck_assert(u2 != INT64_C(1767175200123456) ||
                          strcmp(id2, "3f0e5c1a-9b2d-4c3e-8f4a-1b2c3d4e5f60") != 0);
            }
        }
    }
    /* wrong lengths, padding, other alphabets */
    snprintf(bad, sizeof bad, "%s=", cur);
    ck_assert_int_eq(lb_cursor_decode(bad, &us, id), -1);
    snprintf(bad, sizeof bad, "%.33s", cur);
    ck_assert_int_eq(lb_cursor_decode(bad, &us, id), -1);
    snprintf(bad, sizeof bad, "%sA", cur);
    ck_assert_int_eq(lb_cursor_decode(bad, &us, id), -1);
    ck_assert_int_eq(lb_cursor_decode("", &us, id), -1);
    ck_assert_int_eq(lb_cursor_decode(NULL, &us, id), -1);
    /* last char carries 4 unused bits: "AA" is canonical, "AB" is not */
    ck_assert_int_eq(lb_cursor_decode("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &us, id), 0);
    ck_assert_int_eq(lb_cursor_decode("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", &us, id), -1);
    /* version 2 and 0 */
    ck_assert_int_eq(lb_cursor_decode("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &us, id), -1);
    ck_assert_int_eq(lb_cursor_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &us, id), -1);
    /* timestamp out of range: 0x7f.. (year ~292277) */
    ck_assert_int_eq(lb_cursor_decode("AX__________AAAAAAAAAAAAAAAAAAAAAA", &us, id), -1);
    /* standard base64 characters are not base64url */
    ck_assert_int_eq(lb_cursor_decode("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A", &us, id), -1);
    ck_assert_int_eq(lb_cursor_decode("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/A", &us, id), -1);
    ck_assert_int_eq(us, 0);
    ck_assert_str_eq(id, "00000000-0000-0000-0000-000000000000");
}
END_TEST

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_uuid, 0, (int)N(uuid_cases));
    tcase_add_test(tc, test_uuid_null);
    tcase_add_loop_test(tc, test_email, 0, (int)N(email_cases));
    tcase_add_test(tc, test_email_lengths);
    tcase_add_loop_test(tc, test_utf8, 0, (int)N(utf8_cases));
    tcase_add_test(tc, test_utf8_length_and_trim);
    tcase_add_test(tc, test_parse_limit);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_bearer_lengths);
    tcase_add_test(tc, test_booking_status);
    tcase_add_test(tc, test_cursor_roundtrip);
    tcase_add_test(tc, test_cursor_known_value);
    tcase_add_test(tc, test_cursor_tampering);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(validate_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
