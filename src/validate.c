/* validate: UUID, e-mail, UTF-8, trim, decimal limits, bearer header, booking status.
 * Character classes are spelled out (no <ctype.h>: it depends on the locale). */
#include "validate.h"

#include <limits.h>
#include <string.h>

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int lb_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

int lb_validate_uuid(const char *s, char out[LB_UUID_SIZE])
{
    char tmp[LB_UUID_SIZE];
    if (!s)
        return -1;
    for (size_t i = 0; i < LB_UUID_LEN; i++) {
        unsigned char c = (unsigned char)s[i]; /* stops at NUL: NUL is neither '-' nor hex */
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return -1;
            tmp[i] = '-';
        } else {
            if (lb_hex_value(c) < 0)
                return -1;
            tmp[i] = (char)to_lower(c);
        }
    }
    if (s[LB_UUID_LEN] != '\0')
        return -1;
    tmp[LB_UUID_LEN] = '\0';
    memcpy(out, tmp, LB_UUID_SIZE);
    return 0;
}

/* RFC 5322 atext */
static int is_atext(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int valid_label(const char *s, size_t len)
{
    if (len == 0 || len > LB_EMAIL_LABEL_MAX_LEN || s[0] == '-' || s[len - 1] == '-')
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-')
            return -1;
    }
    return 0;
}

static int valid_tld(const char *s, size_t len)
{
    if (len >= 4 && to_lower((unsigned char)s[0]) == 'x' && to_lower((unsigned char)s[1]) == 'n' &&
        s[2] == '-' && s[3] == '-')
        return len > 4 ? 0 : -1; /* punycode; the label itself was checked as LDH */
    if (len < 2)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!is_alpha((unsigned char)s[i]))
            return -1;
    return 0;
}

int lb_validate_email(const char *s)
{
    if (!s)
        return -1;
    size_t len = strnlen(s, LB_EMAIL_MAX_LEN + 1);
    if (len == 0 || len > LB_EMAIL_MAX_LEN)
        return -1;
    const char *at = memchr(s, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
        return -1;
    size_t local_len = (size_t)(at - s);
    if (local_len == 0 || local_len > LB_EMAIL_LOCAL_MAX_LEN || s[0] == '.' ||
        s[local_len - 1] == '.')
        return -1;
    for (size_t i = 0; i < local_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return -1;
        } else if (!is_atext(c)) {
            return -1;
        }
    }
    const char *dom = at + 1;
    size_t dom_len = len - local_len - 1;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= dom_len; i++) {
        if (i == dom_len || dom[i] == '.') {
            if (valid_label(dom + start, i - start) != 0)
                return -1;
            labels++;
            if (i == dom_len && valid_tld(dom + start, i - start) != 0)
                return -1;
            start = i + 1;
        }
    }
    return labels >= 2 ? 0 : -1;
}

/* Length of the UTF-8 sequence at s[0..avail), or 0 if it is not a valid one. */
static size_t utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1fu;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0fu;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        return 0; /* continuation byte, 0xc0/0xc1 (always overlong), 0xf5..0xff */
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffffu || (v >= 0xd800u && v <= 0xdfffu))
        return 0;
    *cp = v;
    return n;
}

int lb_validate_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_seq(p + i, len - i, &cp);
        if (n == 0)
            return -1;
        i += n;
    }
    return 0;
}

size_t lb_utf8_length_n(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0u) != 0x80u)
            n++;
    return n;
}

size_t lb_utf8_length(const char *s)
{
    return lb_utf8_length_n(s, strlen(s));
}

static int is_js_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

void lb_trim(const char *s, size_t len, size_t *start, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t b = 0, e = len;
    while (b < e) {
        uint32_t cp;
        size_t n = utf8_seq(p + b, e - b, &cp);
        if (n == 0 || !is_js_space(cp))
            break;
        b += n;
    }
    while (e > b) {
        size_t k = e - 1; /* find the start of the last sequence (at most 4 bytes back) */
        while (k > b && e - k < 4 && (p[k] & 0xc0u) == 0x80u)
            k--;
        uint32_t cp;
        size_t n = utf8_seq(p + k, e - k, &cp);
        if (n != e - k || !is_js_space(cp))
            break;
        e = k;
    }
    *start = b;
    *out_len = e - b;
}

int lb_parse_limit(const char *s, long min, long max, long *out)
{
    if (!s || !is_digit((unsigned char)s[0]))
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!is_digit(c))
            return -1;
        int d = c - '0';
        if (v > (LONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* token68 characters (RFC 9110 11.2): a table, as a sign-in token is ~1 KB of them on every
 * request. */
static const unsigned char token68_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1, ['0'] = 1, ['1'] = 1,
    ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static int is_token68(unsigned char c)
{
    return token68_chars[c];
}

int lb_auth_parse_bearer(const char *header, char *key_out, size_t key_len)
{
    static const char scheme[] = "bearer";
    if (!header || !key_out)
        return -1;
    for (size_t i = 0; i < sizeof scheme - 1; i++)
        if (to_lower((unsigned char)header[i]) != (unsigned char)scheme[i])
            return -1; /* also stops at a NUL */
    const char *key = header + sizeof scheme - 1;
    if (*key != ' ')
        return -1;
    key++;
    size_t n = 0;
    while (n <= LB_BEARER_KEY_MAX_LEN && is_token68((unsigned char)key[n]))
        n++;
    if (n == 0)
        return -1;
    while (n <= LB_BEARER_KEY_MAX_LEN && key[n] == '=')
        n++;
    if (key[n] != '\0' || n > LB_BEARER_KEY_MAX_LEN || n >= key_len)
        return -1;
    memcpy(key_out, key, n);
    key_out[n] = '\0';
    return 0;
}

int lb_validate_idempotency_key(const char *s)
{
    if (!s)
        return -1;
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e ||
            n >= LB_IDEMPOTENCY_KEY_MAX_LEN)
            return -1;
    return n > 0 && s[0] != ' ' && s[n - 1] != ' ' ? 0 : -1;
}

static const char *const booking_status_names[LB_BOOKING_STATUS_COUNT] = {
    "PENDING", "CONFIRMED", "COMPLETED", "EXPIRED", "CANCELLED",
};

int lb_booking_status_parse(const char *s, enum lb_booking_status *out)
{
    if (!s)
        return -1;
    for (int i = 0; i < LB_BOOKING_STATUS_COUNT; i++) {
        if (strcmp(s, booking_status_names[i]) == 0) {
            *out = (enum lb_booking_status)i;
            return 0;
        }
    }
    return -1;
}

const char *lb_booking_status_name(enum lb_booking_status st)
{
    if ((int)st < 0 || (int)st >= LB_BOOKING_STATUS_COUNT)
        return "";
    return booking_status_names[st];
}
