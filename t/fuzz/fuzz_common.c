/* fuzz_common: failure reports and the independent reference implementations (see the header). */
#include "fuzz_common.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("INVARIANT FAILED: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* ---- UTF-8 --------------------------------------------------------------------------------- */

int32_t ref_utf8_decode(const unsigned char *s, size_t len, size_t *n)
{
    static const struct {
        unsigned char lo, hi; /* lead byte range */
        size_t len;
        unsigned char lo2, hi2; /* allowed range of the second byte */
    } forms[] = {
        /* RFC 3629 section 4, UTF8-2 .. UTF8-4 */
        {0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf}, {0xe1, 0xec, 3, 0x80, 0xbf},
        {0xed, 0xed, 3, 0x80, 0x9f}, {0xee, 0xef, 3, 0x80, 0xbf}, {0xf0, 0xf0, 4, 0x90, 0xbf},
        {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f},
    };
    if (len == 0)
        return -1;
    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        if (s[0] < forms[f].lo || s[0] > forms[f].hi)
            continue;
        size_t k = forms[f].len;
        if (len < k || s[1] < forms[f].lo2 || s[1] > forms[f].hi2)
            return -1;
        int32_t cp = s[0] & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
        for (size_t i = 1; i < k; i++) {
            if (s[i] < 0x80 || s[i] > 0xbf)
                return -1;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        *n = k;
        return cp;
    }
    return -1;
}

int ref_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n;
        if (ref_utf8_decode(p + i, len - i, &n) < 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t ref_utf8_count(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    for (size_t i = 0; i < len; count++) {
        size_t n = 1;
        if (ref_utf8_decode(p + i, len - i, &n) < 0)
            n = 1;
        i += n;
    }
    return count;
}

int ref_js_space(int32_t cp)
{
    static const int32_t spaces[] = {0x09,   0x0a,   0x0b,   0x0c,   0x0d,   0x20,   0xa0,
                                     0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
                                     0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
                                     0x202f, 0x205f, 0x3000, 0xfeff};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
        if (spaces[i] == cp)
            return 1;
    return 0;
}

/* ---- RFC 8259 ------------------------------------------------------------------------------- */

struct jp {
    const char *s;
    size_t len, i;
    int max_depth;
};

static void jp_ws(struct jp *p)
{
    while (p->i < p->len && strchr(" \t\n\r", p->s[p->i]) && p->s[p->i])
        p->i++;
}

static int jp_hex4(struct jp *p, unsigned *v)
{
    if (p->len - p->i < 4)
        return 0;
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (unsigned)((c | 0x20) - 'a' + 10);
        else
            return 0;
        *v = *v * 16 + d;
    }
    return 1;
}

static int jp_string(struct jp *p)
{
    if (p->i >= p->len || p->s[p->i] != '"')
        return 0;
    p->i++;
    for (;;) {
        if (p->i >= p->len)
            return 0;
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c != '\\') {
            size_t n;
            if (ref_utf8_decode((const unsigned char *)p->s + p->i, p->len - p->i, &n) < 0)
                return 0;
            p->i += n;
            continue;
        }
        p->i++;
        if (p->i >= p->len)
            return 0;
        c = (unsigned char)p->s[p->i++];
        if (c == 'u') {
            unsigned v, lo;
            if (!jp_hex4(p, &v))
                return 0;
            if (v >= 0xdc00 && v <= 0xdfff)
                return 0;
            if (v >= 0xd800 && v <= 0xdbff) {
                if (p->len - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
                    return 0;
                p->i += 2;
                if (!jp_hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return 0;
            }
        } else if (!(c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                     c == 'r' || c == 't')) {
            return 0;
        }
    }
}

static int jp_digit(struct jp *p)
{
    return p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

static int jp_number(struct jp *p)
{
    if (p->i < p->len && p->s[p->i] == '-')
        p->i++;
    if (!jp_digit(p))
        return 0;
    if (p->s[p->i] == '0') {
        p->i++;
    } else {
        while (jp_digit(p))
            p->i++;
    }
    if (p->i < p->len && p->s[p->i] == '.') {
        p->i++;
        if (!jp_digit(p))
            return 0;
        while (jp_digit(p))
            p->i++;
    }
    if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (!jp_digit(p))
            return 0;
        while (jp_digit(p))
            p->i++;
    }
    return 1;
}

static int jp_literal(struct jp *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->i < n || memcmp(p->s + p->i, word, n) != 0)
        return 0;
    p->i += n;
    return 1;
}

static int jp_value(struct jp *p, int depth)
{
    jp_ws(p);
    if (p->i >= p->len)
        return 0;
    char c = p->s[p->i];
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (depth + 1 > p->max_depth)
            return 0;
        p->i++;
        jp_ws(p);
        if (p->i < p->len && p->s[p->i] == close) {
            p->i++;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                jp_ws(p);
                if (!jp_string(p))
                    return 0;
                jp_ws(p);
                if (p->i >= p->len || p->s[p->i] != ':')
                    return 0;
                p->i++;
            }
            if (!jp_value(p, depth + 1))
                return 0;
            jp_ws(p);
            if (p->i >= p->len)
                return 0;
            if (p->s[p->i] == close) {
                p->i++;
                return 1;
            }
            if (p->s[p->i] != ',')
                return 0;
            p->i++;
        }
    }
    if (c == '"')
        return jp_string(p);
    if (c == '-' || (c >= '0' && c <= '9'))
        return jp_number(p);
    return jp_literal(p, "true") || jp_literal(p, "false") || jp_literal(p, "null");
}

int ref_json_valid(const char *s, size_t len, int max_depth)
{
    struct jp p = {s, len, 0, max_depth};
    if (!jp_value(&p, 0))
        return 0;
    jp_ws(&p);
    return p.i == len;
}

/* ---- NestJS error bodies -------------------------------------------------------------------- */

void fuzz_check_error_body(const char *s, size_t len, int status, const char *reason)
{
    FUZZ_ASSERT(ref_json_valid(s, len, 4), "error body of %d is not valid JSON: %.*s", status,
                (int)len, s);
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    FUZZ_ASSERT(o && json_tokener_get_error(tok) == json_tokener_success,
                "json-c cannot parse error body %.*s", (int)len, s);
    json_tokener_free(tok);
    FUZZ_ASSERT(json_object_is_type(o, json_type_object) && json_object_object_length(o) == 3,
                "error body is not an object of 3 members: %.*s", (int)len, s);
    json_object *code, *msg, *err;
    FUZZ_ASSERT(json_object_object_get_ex(o, "statusCode", &code) &&
                    json_object_is_type(code, json_type_int) && json_object_get_int(code) == status,
                "statusCode is not %d: %.*s", status, (int)len, s);
    FUZZ_ASSERT(json_object_object_get_ex(o, "error", &err) &&
                    json_object_is_type(err, json_type_string) &&
                    strcmp(json_object_get_string(err), reason) == 0,
                "error is not \"%s\": %.*s", reason, (int)len, s);
    FUZZ_ASSERT(json_object_object_get_ex(o, "message", &msg), "no message: %.*s", (int)len, s);
    if (json_object_is_type(msg, json_type_array)) {
        size_t n = json_object_array_length(msg);
        FUZZ_ASSERT(n > 0, "empty message array: %.*s", (int)len, s);
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(json_object_is_type(json_object_array_get_idx(msg, i), json_type_string),
                        "message array holds a non-string: %.*s", (int)len, s);
    } else {
        FUZZ_ASSERT(json_object_is_type(msg, json_type_string),
                    "message is neither a string nor an array: %.*s", (int)len, s);
    }
    json_object_put(o);
}

/* ---- parameter lines ------------------------------------------------------------------------ */

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t fuzz_split_params(const uint8_t *data, size_t size, char **out, size_t max)
{
    size_t n = 0, i = 0;
    while (i < size && n < max) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        char *s = malloc(end - i + 1);
        if (!s)
            abort();
        size_t o = 0;
        for (size_t k = i; k < end; k++) {
            uint8_t c = data[k];
            if (c == '\\' && k + 1 < end) {
                uint8_t e = data[k + 1];
                if (e == 'n' || e == 'r' || e == '\\') {
                    c = e == 'n' ? '\n' : e == 'r' ? '\r' : '\\';
                    k++;
                } else if (e == 'x' && k + 3 < end && hexval(data[k + 2]) >= 0 &&
                           hexval(data[k + 3]) >= 0) {
                    c = (uint8_t)(hexval(data[k + 2]) * 16 + hexval(data[k + 3]));
                    k += 3;
                }
            }
            s[o++] = (char)c;
        }
        s[o] = '\0';
        out[n++] = s;
        i = end + 1;
    }
    return n;
}

void fuzz_free_params(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}
