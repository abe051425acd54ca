/* validate_time: ISO 8601 parsing and formatting in microseconds since the epoch. The civil-date
 * arithmetic is Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian), done
 * here so that neither the locale nor TZ nor libc's time_t range plays a part. */
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY INT64_C(86400)

int64_t lb_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void lb_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n ASCII digits at s (the caller guarantees n bytes are readable) */
static int read_digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int lb_time_parse_iso8601(const char *s, int64_t *us_out)
{
    if (!s)
        return -1;
    size_t len = strnlen(s, LB_TIME_ISO_MAX_LEN + 1);
    if (len > LB_TIME_ISO_MAX_LEN || len < 17) /* "YYYY-MM-DDThh:mmZ" */
        return -1;
    unsigned y, mo, d, h, mi, sec = 0, frac_us = 0;
    if (read_digits(s, 4, &y) || s[4] != '-' || read_digits(s + 5, 2, &mo) || s[7] != '-' ||
        read_digits(s + 8, 2, &d))
        return -1;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return -1;
    if (read_digits(s + 11, 2, &h) || s[13] != ':' || read_digits(s + 14, 2, &mi))
        return -1;
    size_t i = 16;
    if (s[i] == ':') {
        if (i + 3 > len || read_digits(s + i + 1, 2, &sec))
            return -1;
        i += 3;
        if (s[i] == '.') {
            size_t nd = 0;
            i++;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (nd < 6)
                    frac_us = frac_us * 10 + (unsigned)(s[i] - '0');
                nd++;
                i++;
            }
            if (nd < 1 || nd > 9)
                return -1;
            for (; nd < 6; nd++)
                frac_us *= 10;
        }
    }
    int64_t off_min = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        unsigned oh, om;
        i++;
        if (i + 2 > len || read_digits(s + i, 2, &oh))
            return -1;
        i += 2;
        if (s[i] == ':')
            i++;
        if (i + 2 > len || read_digits(s + i, 2, &om))
            return -1;
        i += 2;
        if (oh > 23 || om > 59)
            return -1;
        off_min = sign * (int64_t)(oh * 60 + om);
    } else {
        return -1;
    }
    if (i != len)
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return -1;
    int64_t secs =
        lb_days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + sec - off_min * 60;
    /* an offset can carry a valid local time out of the promised range (9999-12-31T23:59-23:59
     * is in year 10000): refuse it, so every accepted instant formats back to ISO 8601 */
    int64_t us = secs * LB_TIME_US_PER_SEC + frac_us;
    if (us < LB_TIME_MIN_US || us > LB_TIME_MAX_US)
        return -1;
    *us_out = us;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct civil {
    int64_t year;
    unsigned month, day, hour, minute, second, micro;
};

static void split_us(int64_t us, struct civil *c)
{
    int64_t secs = floor_div(us, LB_TIME_US_PER_SEC);
    int64_t rem = us % LB_TIME_US_PER_SEC; /* not us - secs * 1e6: that overflows at INT64_MIN */
    c->micro = (unsigned)(rem < 0 ? rem + LB_TIME_US_PER_SEC : rem);
    int64_t days = floor_div(secs, SECS_PER_DAY);
    unsigned sod = (unsigned)(secs - days * SECS_PER_DAY);
    lb_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = sod / 3600;
    c->minute = sod / 60 % 60;
    c->second = sod % 60;
}

int lb_time_format_ms(int64_t us, char out[LB_TIME_FMT_MS_SIZE])
{
    struct civil c;
    split_us(us, &c);
    const char *fmt = (c.year >= 0 && c.year <= 9999) ? "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ"
                                                      : "%+07lld-%02u-%02uT%02u:%02u:%02u.%03uZ";
    int n = snprintf(out, LB_TIME_FMT_MS_SIZE, fmt, (long long)c.year, c.month, c.day, c.hour,
                     c.minute, c.second, c.micro / 1000);
    return (n > 0 && n < LB_TIME_FMT_MS_SIZE) ? 0 : -1;
}

int lb_time_format_pg(int64_t us, char out[LB_TIME_FMT_PG_SIZE])
{
    struct civil c;
    split_us(us, &c);
    int n;
    if (c.year >= 1) {
        n = snprintf(out, LB_TIME_FMT_PG_SIZE, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ",
                     (long long)c.year, c.month, c.day, c.hour, c.minute, c.second, c.micro);
    } else {
        n = snprintf(out, LB_TIME_FMT_PG_SIZE, "%04lld-%02u-%02u %02u:%02u:%02u.%06u+00 BC",
                     (long long)(1 - c.year), c.month, c.day, c.hour, c.minute, c.second, c.micro);
    }
    return (n > 0 && n < LB_TIME_FMT_PG_SIZE) ? 0 : -1;
}

int64_t lb_time_now_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * LB_TIME_US_PER_SEC + ts.tv_nsec / 1000;
}
