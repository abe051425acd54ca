/* fuzz_time: ISO 8601 timestamps. The input as text goes through lb_time_parse_iso8601; an
 * accepted value must be what glibc's timegm computes from the same fields, and must survive
 * lb_time_format_ms / lb_time_format_pg and a second parse (the round trips the API relies
 * on: responses in milliseconds, the store's text parameters in microseconds). The first
 * 8 bytes as an int64 go through both formatters, compared with gmtime_r for every value, and
 * through the civil-date helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"
#include "validate.h"

static unsigned num(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The value of a string lb_time_parse_iso8601 accepted, computed with timegm. */
static int64_t ref_value(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (int)num(s, 4) - 1900;
    tm.tm_mon = (int)num(s + 5, 2) - 1;
    tm.tm_mday = (int)num(s + 8, 2);
    tm.tm_hour = (int)num(s + 11, 2);
    tm.tm_min = (int)num(s + 14, 2);
    size_t i = 16;
    int64_t frac = 0;
    if (s[i] == ':') {
        tm.tm_sec = (int)num(s + 17, 2);
        i = 19;
        if (s[i] == '.') {
            int digits = 0;
            for (i++; s[i] >= '0' && s[i] <= '9'; i++, digits++)
                if (digits < 6)
                    frac = frac * 10 + (s[i] - '0');
            for (; digits < 6; digits++)
                frac *= 10;
        }
    }
    int64_t off = 0;
    if (s[i] == '+' || s[i] == '-') {
        int64_t oh = num(s + i + 1, 2);
        size_t m = s[i + 3] == ':' ? i + 4 : i + 3;
        off = (oh * 60 + num(s + m, 2)) * (s[i] == '-' ? -1 : 1);
    }
    time_t t = timegm(&tm);
    return ((int64_t)t - off * 60) * LB_TIME_US_PER_SEC + frac;
}

static void ref_format(int64_t us, char ms[64], char pg[64])
{
    int64_t secs = floor_div(us, LB_TIME_US_PER_SEC);
    unsigned micro = (unsigned)((__int128)us - (__int128)secs * LB_TIME_US_PER_SEC);
    time_t t = (time_t)secs;
    struct tm tm;
    FUZZ_ASSERT(gmtime_r(&t, &tm) != NULL, "gmtime_r failed for %lld", (long long)secs);
    long long y = (long long)tm.tm_year + 1900;
    snprintf(ms, 64,
             y >= 0 && y <= 9999 ? "%04lld-%02d-%02dT%02d:%02d:%02d.%03uZ"
                                 : "%+07lld-%02d-%02dT%02d:%02d:%02d.%03uZ",
             y, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micro / 1000);
    if (y >= 1)
        snprintf(pg, 64, "%04lld-%02d-%02dT%02d:%02d:%02d.%06uZ", y, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, micro);
    else
        snprintf(pg, 64, "%04lld-%02d-%02d %02d:%02d:%02d.%06u+00 BC", 1 - y, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micro);
}

static void check_formatters(int64_t us)
{
    char ms[LB_TIME_FMT_MS_SIZE], pg[LB_TIME_FMT_PG_SIZE], rms[64], rpg[64];
    FUZZ_ASSERT(lb_time_format_ms(us, ms) == 0, "lb_time_format_ms(%lld) failed", (long long)us);
    FUZZ_ASSERT(lb_time_format_pg(us, pg) == 0, "lb_time_format_pg(%lld) failed", (long long)us);
    ref_format(us, rms, rpg);
    FUZZ_ASSERT(strcmp(ms, rms) == 0, "lb_time_format_ms(%lld) = \"%s\", gmtime says \"%s\"",
                (long long)us, ms, rms);
    FUZZ_ASSERT(strcmp(pg, rpg) == 0, "lb_time_format_pg(%lld) = \"%s\", gmtime says \"%s\"",
                (long long)us, pg, rpg);
    if (us >= LB_TIME_MIN_US && us <= LB_TIME_MAX_US) {
        int64_t back;
        FUZZ_ASSERT(lb_time_parse_iso8601(pg, &back) == 0 && back == us,
                    "\"%s\" does not parse back to %lld", pg, (long long)us);
        FUZZ_ASSERT(lb_time_parse_iso8601(ms, &back) == 0 && back == floor_div(us, 1000) * 1000,
                    "\"%s\" does not parse back to %lld floored to ms", ms, (long long)us);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    int64_t us = 0;
    if (lb_time_parse_iso8601(s, &us) == 0) {
        FUZZ_ASSERT(strlen(s) <= LB_TIME_ISO_MAX_LEN, "accepted %zu characters", strlen(s));
        int64_t want = ref_value(s);
        FUZZ_ASSERT(us == want, "\"%s\" parsed as %lld, timegm says %lld", s, (long long)us,
                    (long long)want);
        FUZZ_ASSERT(us >= LB_TIME_MIN_US && us <= LB_TIME_MAX_US,
                    "\"%s\" parsed as %lld, outside the documented range", s, (long long)us);
        check_formatters(us);
    }
    free(s);

    if (size >= 8) {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | data[i];
        int64_t v = (int64_t)u;
        check_formatters(v);
        /* the civil-date helpers, over a range far beyond any timestamp (2^40 days) */
        int64_t z = v >> 24, y;
        unsigned m, d;
        lb_civil_from_days(z, &y, &m, &d);
        FUZZ_ASSERT(m >= 1 && m <= 12 && d >= 1 && d <= 31, "civil_from_days(%lld): %u-%u",
                    (long long)z, m, d);
        FUZZ_ASSERT(lb_days_from_civil(y, m, d) == z, "days_from_civil(civil_from_days(%lld))",
                    (long long)z);
    }
    return 0;
}
