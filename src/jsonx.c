/* jsonx: the bounded message list and strict body parsing (our RFC 8259 check, then json-c).
 * The endpoint validators are in jsonx_dto.c. */
#include "jsonx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- messages ----------------------------------------------------------------------------- */

void lb_msgs_clear(struct lb_msgs *m)
{
    m->count = 0;
    m->dropped = 0;
}

/* Largest n <= len such that s[0..n) does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len)
{
    size_t k = len;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xc0u) == 0x80u && len - k < 3)
        k--;
    if (k == 0)
        return len;
    unsigned char lead = (unsigned char)s[k - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return (len - (k - 1) >= need) ? len : k - 1;
}

int lb_msgs_add(struct lb_msgs *m, const char *fmt, ...)
{
    if (m->count >= LB_MSGS_MAX) {
        m->dropped++;
        return -1;
    }
    char *dst = m->msg[m->count];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, LB_MSG_MAX_BYTES, fmt, ap);
    va_end(ap);
    if (n < 0) {
        dst[0] = '\0';
    } else if ((size_t)n >= LB_MSG_MAX_BYTES) {
        dst[utf8_cut(dst, LB_MSG_MAX_BYTES - 1)] = '\0';
    }
    m->count++;
    return 0;
}

size_t lb_msgs_count(const struct lb_msgs *m)
{
    return m->count;
}

const char *lb_msgs_get(const struct lb_msgs *m, size_t i)
{
    return i < m->count ? m->msg[i] : NULL;
}

int lb_msgs_to_json(const struct lb_msgs *m, struct lb_buf *b)
{
    lb_buf_putc(b, '[');
    for (size_t i = 0; i < m->count; i++) {
        if (i > 0)
            lb_buf_putc(b, ',');
        lb_buf_json_string(b, m->msg[i]);
    }
    return lb_buf_putc(b, ']');
}

/* ---- RFC 8259 syntax check ---------------------------------------------------------------- */

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex4(const char *s, size_t len, size_t i, unsigned *out)
{
    unsigned v = 0;
    if (len - i < 4)
        return -1;
    for (size_t k = 0; k < 4; k++) {
        unsigned char c = (unsigned char)s[i + k];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* String starting after the opening quote at s[*pos]; leaves *pos after the closing quote.
 * UTF-8 has been validated for the whole text already. Sets *has_nul on a \u0000 escape. */
static int scan_string(const char *s, size_t len, size_t *pos, int *has_nul)
{
    size_t i = *pos;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            *pos = i + 1;
            return 0;
        }
        if (c < 0x20)
            goto fail;
        if (c != '\\') {
            i++;
            continue;
        }
        if (i + 1 >= len)
            goto fail;
        c = (unsigned char)s[i + 1];
        if (c == 'u') {
            unsigned u, lo;
            if (hex4(s, len, i + 2, &u) != 0)
                goto fail;
            if (u == 0)
                *has_nul = 1;
            if (u >= 0xdc00 && u <= 0xdfff)
                goto fail; /* lone low surrogate */
            if (u >= 0xd800 && u <= 0xdbff) {
                if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
                    hex4(s, len, i + 8, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                    goto fail; /* high surrogate without its low half */
                i += 6;
            }
            i += 6;
        } else if (c && strchr("\"\\/bfnrt", c)) {
            i += 2;
        } else {
            goto fail;
        }
    }
fail:
    *pos = i; /* at the offending character or escape */
    return -1;
}

static int scan_number(const char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
#define DIGIT(k) ((k) < len && s[k] >= '0' && s[k] <= '9')
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0') {
        i++;
    } else if (DIGIT(i)) {
        while (DIGIT(i))
            i++;
    } else {
        *pos = i;
        return -1;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (!DIGIT(i)) {
            *pos = i;
            return -1;
        }
        while (DIGIT(i))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i)) {
            *pos = i;
            return -1;
        }
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    *pos = i;
    return 0;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && is_ws((unsigned char)s[i]))
        i++;
    return i;
}

#define SYNTAX_DEPTH_CAP 256 /* lb_json_check_syntax never allows more than this */

struct syntax_info {
    size_t members;  /* members of all objects (for the duplicate check) */
    int nul_in_name; /* a member name contains \u0000 (json-c would cut it there) */
};

/* Returns 0, -1 (syntax error at *err_off) or -2 (nested deeper than max_depth at *err_off). */
static int check_syntax(const char *s, size_t len, int max_depth, size_t *err_off,
                        struct syntax_info *info)
{
    char stack[SYNTAX_DEPTH_CAP]; /* stack[d]: '{' or '[', the open container at depth d+1 */
    int depth = 0, rc = -1;
    size_t i = skip_ws(s, len, 0);
    size_t nmembers = 0;
    int nul_value = 0, nul_name = 0;
    if (max_depth < 0 || max_depth > SYNTAX_DEPTH_CAP)
        max_depth = SYNTAX_DEPTH_CAP;
    /* state: expecting a value (after start, ':', ',' in array, '[') */
    for (;;) {
        /* --- parse a value at s[i] --- */
        if (i >= len)
            goto fail;
        unsigned char c = (unsigned char)s[i];
        if (c == '{' || c == '[') {
            if (depth >= max_depth) {
                rc = -2;
                goto fail;
            }
            stack[depth++] = (char)c;
            i = skip_ws(s, len, i + 1);
            if (i < len && s[i] == (c == '{' ? '}' : ']')) {
                depth--;
                i++;
                goto after_value;
            }
            if (c == '[')
                continue;
            goto member_name;
        } else if (c == '"') {
            i++;
            if (scan_string(s, len, &i, &nul_value) != 0)
                goto fail;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (scan_number(s, len, &i) != 0)
                goto fail;
        } else if (len - i >= 4 && memcmp(s + i, "true", 4) == 0) {
            i += 4;
        } else if (len - i >= 5 && memcmp(s + i, "false", 5) == 0) {
            i += 5;
        } else if (len - i >= 4 && memcmp(s + i, "null", 4) == 0) {
            i += 4;
        } else {
            goto fail;
        }
    after_value:
        i = skip_ws(s, len, i);
        if (depth == 0) {
            if (i != len)
                goto fail;
            if (info) {
                info->members = nmembers;
                info->nul_in_name = nul_name;
            }
            return 0;
        }
        if (i >= len)
            goto fail;
        if (s[i] == ',') {
            i = skip_ws(s, len, i + 1);
            if (stack[depth - 1] == '[')
                continue;
            goto member_name;
        }
        if (s[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
            depth--;
            i++;
            goto after_value;
        }
        goto fail;
    member_name:
        if (i >= len || s[i] != '"')
            goto fail;
        i++;
        if (scan_string(s, len, &i, &nul_name) != 0)
            goto fail;
        nmembers++;
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ':')
            goto fail;
        i = skip_ws(s, len, i + 1);
    }
fail:
    if (err_off)
        *err_off = i < len ? i : len;
    return rc;
}

int lb_json_check_syntax(const char *s, size_t len, int max_depth, size_t *err_off)
{
    if (lb_validate_utf8(s, len) != 0) {
        if (err_off)
            *err_off = 0;
        return -1;
    }
    return check_syntax(s, len, max_depth, err_off, NULL) == 0 ? 0 : -1;
}

/* Members of all objects in the tree (depth is bounded by the syntax check). */
static size_t count_members(json_object *o)
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            n += 1 + count_members(val);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t len = json_object_array_length(o);
        for (size_t i = 0; i < len; i++)
            n += count_members(json_object_array_get_idx(o, i));
    }
    return n;
}

enum lb_status lb_json_parse_body(const char *body, size_t len, json_object **out,
                                  struct lb_msgs *msgs)
{
    *out = NULL;
    if (len > LB_JSON_MAX_BODY_BYTES) {
        lb_msgs_add(msgs, "body is too large");
        return LB_INVALID;
    }
    if (len == 0 || skip_ws(body, len, 0) == len) {
        lb_msgs_add(msgs, "body should not be empty");
        return LB_INVALID;
    }
    if (lb_validate_utf8(body, len) != 0) {
        lb_msgs_add(msgs, "body must be valid UTF-8");
        return LB_INVALID;
    }
    size_t err_off = 0;
    struct syntax_info info = {0, 0};
    int rc = check_syntax(body, len, LB_JSON_MAX_DEPTH, &err_off, &info);
    if (rc != 0) {
        if (rc == -2)
            lb_msgs_add(msgs, "body must not be nested deeper than %d levels", LB_JSON_MAX_DEPTH);
        else
            lb_msgs_add(msgs, "body must be valid JSON (error at byte %zu)", err_off);
        return LB_INVALID;
    }
    size_t start = skip_ws(body, len, 0);
    if (body[start] != '{') {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    if (info.nul_in_name) {
        lb_msgs_add(msgs, "property names must not contain null characters");
        return LB_INVALID;
    }
    /* json-c counts a scalar leaf as one more level than its container */
    struct json_tokener *tok = json_tokener_new_ex(LB_JSON_MAX_DEPTH + 1);
    if (!tok)
        return LB_INTERNAL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!obj || jerr != json_tokener_success || !json_object_is_type(obj, json_type_object)) {
        /* Our check passed, so json-c failing means memory (or a json-c defect): not the
         * client's fault. */
        json_object_put(obj);
        return LB_INTERNAL;
    }
    if (count_members(obj) != info.members) {
        json_object_put(obj);
        lb_msgs_add(msgs, "body must not contain duplicate property names");
        return LB_INVALID;
    }
    *out = obj;
    return LB_OK;
}
