/* http: FastCGI params -> struct lb_request; struct lb_response -> CGI response bytes. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

static const struct {
    const char *name;
    enum lb_method method;
} methods[] = {
    {"GET", LB_METHOD_GET},         {"HEAD", LB_METHOD_HEAD},   {"POST", LB_METHOD_POST},
    {"PUT", LB_METHOD_PUT},         {"PATCH", LB_METHOD_PATCH}, {"DELETE", LB_METHOD_DELETE},
    {"OPTIONS", LB_METHOD_OPTIONS},
};

void lb_request_init(struct lb_request *req)
{
    memset(req, 0, sizeof *req);
    lb_arena_init(&req->arena, 0);
    req->content_length = -1;
    req->path = "/";
    req->raw_query = "";
    req->method_name = "";
}

void lb_request_reset(struct lb_request *req)
{
    struct lb_arena arena = req->arena;
    lb_arena_reset(&arena);
    memset(req, 0, sizeof *req);
    req->arena = arena;
    req->content_length = -1;
    req->path = "/";
    req->raw_query = "";
    req->method_name = "";
}

void lb_request_free(struct lb_request *req)
{
    lb_arena_free(&req->arena);
}

char *lb_percent_decode(struct lb_arena *arena, const char *s, size_t len, int plus_is_space)
{
    char *out = lb_arena_alloc(arena, len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return NULL;
            hi = lb_hex_value((unsigned char)s[i + 1]);
            lo = lb_hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return NULL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

int lb_query_decode(struct lb_arena *arena, const char *qs, struct lb_kv *out, size_t max)
{
    size_t n = 0;
    const char *p = qs;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t seglen = end ? (size_t)(end - p) : strlen(p);
        if (seglen > 0) {
            if (n >= max)
                return -1;
            const char *eq = memchr(p, '=', seglen);
            size_t klen = eq ? (size_t)(eq - p) : seglen;
            char *k = lb_percent_decode(arena, p, klen, 1);
            char *v = eq ? lb_percent_decode(arena, eq + 1, seglen - klen - 1, 1)
                         : lb_arena_strdup(arena, "");
            if (!k || !v)
                return -1;
            out[n].key = k;
            out[n].value = v;
            n++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return (int)n;
}

/* nginx's $msec, "1733050000.123": Unix milliseconds, or 0 when it is not that. */
static int64_t parse_msec(const char *s)
{
    int64_t sec = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9' && i < 12; i++)
        sec = sec * 10 + (s[i] - '0');
    if (i == 0 || s[i] != '.' || !(s[i + 1] >= '0' && s[i + 1] <= '9'))
        return 0;
    int64_t ms = 0;
    size_t j = i + 1, digits = 0;
    for (; s[j] >= '0' && s[j] <= '9' && digits < 3; j++, digits++)
        ms = ms * 10 + (s[j] - '0');
    for (; digits < 3; digits++)
        ms *= 10;
    return s[j] == '\0' ? sec * 1000 + ms : 0;
}

static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_'))
            return 0;
        if (n >= LB_REQUEST_ID_MAX)
            return 0;
    }
    return n > 0;
}

static int64_t parse_content_length(const char *s)
{
    if (!s || !*s)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

int lb_request_from_params(struct lb_request *req, char **envp, const char *fresh_id)
{
    const char *method = NULL, *request_uri = NULL, *document_uri = NULL, *query = NULL;
    const char *rid = NULL, *clen = NULL;
    for (char **e = envp; e && *e; e++) {
        const char *kv = *e;
        const char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        size_t klen = (size_t)(eq - kv);
        const char *v = eq + 1;
#define IS(name) (klen == sizeof(name) - 1 && memcmp(kv, name, klen) == 0)
        if (IS("REQUEST_METHOD"))
            method = v;
        else if (IS("REQUEST_URI"))
            request_uri = v;
        else if (IS("DOCUMENT_URI"))
            document_uri = v;
        else if (IS("QUERY_STRING"))
            query = v;
        else if (IS("REQUEST_ID"))
            rid = v;
        else if (IS("CONTENT_LENGTH"))
            clen = v;
        else if (IS("HTTP_AUTHORIZATION"))
            req->authorization = lb_arena_strdup(&req->arena, v);
        else if (IS("CONTENT_TYPE"))
            req->content_type = lb_arena_strdup(&req->arena, v);
        else if (IS("HTTP_ACCEPT"))
            req->accept = lb_arena_strdup(&req->arena, v);
        else if (IS("REMOTE_ADDR"))
            req->remote_addr = lb_arena_strdup(&req->arena, v);
        else if (IS("REQUEST_START"))
            req->started_ms = parse_msec(v);
        else if (IS("HTTP_IDEMPOTENCY_KEY"))
            req->idempotency_key = lb_arena_strdup(&req->arena, v);
#undef IS
    }

    req->method = LB_METHOD_OTHER;
    req->method_name = lb_arena_strdup(&req->arena, method ? method : "");
    if (!req->method_name)
        return -1;
    for (size_t i = 0; method && i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(method, methods[i].name) == 0)
            req->method = methods[i].method;

    if (rid && request_id_ok(rid))
        snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    else
        snprintf(req->request_id, sizeof req->request_id, "%s", fresh_id ? fresh_id : "-");

    req->content_length = parse_content_length(clen);

    /* The raw REQUEST_URI is decoded here, so the router sees the same path whatever front end
     * normalised or did not normalise. */
    const char *uri = request_uri ? request_uri : document_uri ? document_uri : "/";
    size_t plen = strcspn(uri, "?#");
    if (!query && uri[plen] == '?')
        query = uri + plen + 1;
    if (plen == 0 || uri[0] != '/' || plen > LB_MAX_PATH_BYTES) {
        req->path_error = 1;
        req->path = "/";
    } else {
        /* An encoded '/' would join segments after decoding: "/bookings/meeting%2F<token>"
         * is not the meeting path to nginx (which lets only the exact spelling through without
         * a credential) but would be to the router. No route has a '/' inside a segment, so
         * such a path matches none (404). */
        req->path_encoded_slash = memmem(uri, plen, "%2f", 3) || memmem(uri, plen, "%2F", 3);
        char *path = lb_percent_decode(&req->arena, uri, plen, 0);
        if (!path) {
            req->path_error = 1;
            req->path = lb_arena_strndup(&req->arena, uri, plen);
            if (!req->path)
                return -1;
        } else {
            req->path = path;
        }
    }

    req->raw_query = lb_arena_strdup(&req->arena, query ? query : "");
    if (!req->raw_query)
        return -1;
    int n = lb_query_decode(&req->arena, req->raw_query, req->query, LB_MAX_QUERY_PARAMS);
    if (n < 0) {
        req->query_error = 1;
        req->nquery = 0;
    } else {
        req->nquery = (size_t)n;
    }
    return 0;
}

const char *lb_request_query(const struct lb_request *req, const char *key, size_t *count)
{
    const char *found = NULL;
    size_t c = 0;
    for (size_t i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, key) == 0) {
            if (!found)
                found = req->query[i].value;
            c++;
        }
    }
    if (count)
        *count = c;
    return found;
}

const char *lb_request_param(const struct lb_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].key, name) == 0)
            return req->params[i].value;
    return NULL;
}

int lb_request_set_body(struct lb_request *req, const char *data, size_t len)
{
    char *b = lb_arena_strndup(&req->arena, data, len);
    if (!b)
        return -1;
    req->body = b;
    req->body_len = len;
    return 0;
}

/* --- response --- */

void lb_response_init(struct lb_response *res)
{
    res->status = 200;
    res->content_type = NULL;
    res->head_only = 0;
    lb_buf_init(&res->headers);
    lb_buf_init(&res->body);
}

void lb_response_reset(struct lb_response *res)
{
    res->status = 200;
    res->content_type = NULL;
    res->head_only = 0;
    /* a large answer (a 1000-lead page) should not stay resident in an idle worker */
    lb_buf_trim(&res->headers, 4096);
    lb_buf_trim(&res->body, 256 * 1024);
}

void lb_response_free(struct lb_response *res)
{
    lb_buf_free(&res->headers);
    lb_buf_free(&res->body);
}

int lb_response_header(struct lb_response *res, const char *name, const char *fmt, ...)
{
    char value[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof value || strpbrk(value, "\r\n") || strpbrk(name, "\r\n:"))
        return -1;
    return lb_buf_printf(&res->headers, "%s: %s\r\n", name, value);
}

void lb_response_json(struct lb_response *res, int status)
{
    res->status = status;
    res->content_type = NULL;
}

static const struct {
    int code;
    const char *reason;
} reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Entity"},
    {429, "Too Many Requests"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
};

const char *lb_http_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status)
            return reasons[i].reason;
    return status >= 500 ? "Internal Server Error" : "Error";
}

static void error_head(struct lb_response *res, int status)
{
    res->status = status;
    res->content_type = NULL;
    lb_buf_reset(&res->body);
    lb_buf_printf(&res->body, "{\"statusCode\":%d,\"message\":", status);
}

static void error_tail(struct lb_response *res, int status)
{
    lb_buf_puts(&res->body, ",\"error\":");
    lb_buf_json_string(&res->body, lb_http_reason(status));
    lb_buf_putc(&res->body, '}');
}

/* Length of the well-formed UTF-8 sequence (RFC 3629) at s, or 0. Stops at a NUL. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c == 0xe0)
        n = 3, lo = 0xa0;
    else if (c >= 0xe1 && c <= 0xef)
        n = 3, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c == 0xf0)
        n = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3)
        n = 4;
    else if (c == 0xf4)
        n = 4, hi = 0x8f;
    else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Error messages quote the request (method, decoded path), which may be any bytes, and a
 * "%.200s" may cut a character in two: every byte that is not part of well-formed UTF-8 becomes
 * '?', so the JSON body is always valid UTF-8. */
static void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
}

static void error_vbody(struct lb_buf *b, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void error_vbody(struct lb_buf *b, int status, const char *fmt, va_list ap)
{
    char msg[1024];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        msg[0] = '\0';
    utf8_scrub(msg);
    lb_buf_printf(b, "{\"statusCode\":%d,\"message\":", status);
    lb_buf_json_string(b, msg);
    lb_buf_puts(b, ",\"error\":");
    lb_buf_json_string(b, lb_http_reason(status));
    lb_buf_putc(b, '}');
}

void lb_error_body(struct lb_buf *b, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vbody(b, status, fmt, ap);
    va_end(ap);
}

void lb_response_error(struct lb_response *res, int status, const char *fmt, ...)
{
    res->status = status;
    res->content_type = NULL;
    lb_buf_reset(&res->body);
    va_list ap;
    va_start(ap, fmt);
    error_vbody(&res->body, status, fmt, ap);
    va_end(ap);
}

void lb_response_error_array(struct lb_response *res, int status, const char *messages_json)
{
    error_head(res, status);
    lb_buf_puts(&res->body, messages_json);
    error_tail(res, status);
}

int lb_status_http(enum lb_status st)
{
    switch (st) {
    case LB_OK:
        return 200;
    case LB_INVALID:
        return 400;
    case LB_FORBIDDEN:
        return 403;
    case LB_NOT_FOUND:
        return 404;
    case LB_CONFLICT:
        return 409;
    case LB_UNAVAILABLE:
    case LB_READ_ONLY:
        return 503;
    case LB_BUSY:
        return 409;
    case LB_INTERNAL:
        break;
    }
    return 500;
}

void lb_response_status_error(struct lb_response *res, enum lb_status st, int retry_after,
                              const char *what)
{
    int status = lb_status_http(st);
    switch (st) {
    case LB_UNAVAILABLE:
        lb_response_error(res, status, "database unavailable, retry later");
        lb_response_header(res, "Retry-After", "%d", retry_after);
        break;
    case LB_READ_ONLY:
        lb_response_error(res, status, "database is not accepting writes, retry later");
        lb_response_header(res, "Retry-After", "%d", retry_after);
        break;
    case LB_BUSY:
        lb_response_error(res, status, "%s", what ? what : "The record is being changed, retry");
        lb_response_header(res, "Retry-After", "%d", retry_after);
        break;
    case LB_INTERNAL:
    case LB_OK:
        lb_response_error(res, 500, "Internal server error");
        break;
    default:
        lb_response_error(res, status, "%s", what ? what : lb_http_reason(status));
    }
}

int lb_response_serialize(const struct lb_response *res, const char *request_id, struct lb_buf *out)
{
    lb_buf_reset(out);
    size_t body_len = res->body.len;
    lb_buf_printf(out,
                  "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "X-Request-Id: %s\r\n",
                  res->status, lb_http_reason(res->status),
                  res->content_type ? res->content_type : "application/json; charset=utf-8",
                  body_len, request_id);
    if (res->headers.len)
        lb_buf_append(out, res->headers.data, res->headers.len);
    lb_buf_puts(out, "\r\n");
    if (!res->head_only && body_len)
        lb_buf_append(out, res->body.data, body_len);
    return out->failed ? -1 : 0;
}
