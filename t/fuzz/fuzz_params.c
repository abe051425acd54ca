/* fuzz_params: lb_request_from_params with arbitrary FastCGI param sets (one "KEY=VALUE" per
 * input line; "\n", "\r", "\\" and "\xHH" escapes), checked against a reference reading of the
 * contract in http.h; then the real route table (lb_api_routes) matches the request and the
 * access-log path writer (lb_app_log_path) must keep every byte of it printable and masked. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "fuzz_common.h"
#include "http.h"
#include "router.h"

#define MAX_PARAMS 64

static int hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reference percent-decoding of a path ('+' kept); -1 when malformed. */
static long ref_path_decode(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3 || hexdigit((unsigned char)s[i + 1]) < 0 ||
                hexdigit((unsigned char)s[i + 2]) < 0)
                return -1;
            c = (unsigned char)(hexdigit((unsigned char)s[i + 1]) * 16 +
                                hexdigit((unsigned char)s[i + 2]));
            if (c == 0)
                return -1;
            i += 2;
        }
        out[o++] = (char)c;
    }
    return (long)o;
}

static int ref_request_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > LB_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* The last value of param name, or NULL. */
static const char *last_param(char **env, const char *name)
{
    const char *v = NULL;
    size_t n = strlen(name);
    for (char **e = env; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            v = *e + n + 1;
    return v;
}

static void check_str(const char *what, const char *got, const char *want)
{
    if (!want) {
        FUZZ_ASSERT(got == NULL, "%s should be NULL", what);
        return;
    }
    FUZZ_ASSERT(got && strcmp(got, want) == 0, "%s differs", what);
}

/* app.h: every path segment longer than 8 bytes, or with an '@', keeps at most 8 bytes then
 * "***"; no space, quote, control or non-ASCII byte reaches the log. */
static void check_log_path(const char *path, size_t outlen)
{
    char *out = malloc(outlen);
    lb_app_log_path(path, out, outlen);
    size_t n = strlen(out);
    FUZZ_ASSERT(n < outlen, "lb_app_log_path overflowed %zu bytes", outlen);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_ASSERT(c > 0x20 && c < 0x7f && c != '"',
                    "lb_app_log_path wrote byte 0x%02x at %zu (log injection): path \"%s\"", c, i,
                    path);
    }
    /* segment by segment: the output is a prefix of the path's segments, each shown whole
     * (at most 8 bytes, no '@') or cut to at most 8 bytes followed by *** */
    const char *p = path, *o = out;
    while (*o) {
        FUZZ_ASSERT(*o == '/' && *p == '/', "segments misaligned: \"%s\" for \"%s\"", out, path);
        o++, p++;
        size_t seg = strcspn(p, "/"), oseg = strcspn(o, "/");
        int masked =
            oseg >= 3 && memcmp(o + oseg - 3, "***", 3) == 0 && (seg > 8 || memchr(p, '@', seg));
        size_t shown = masked ? oseg - 3 : oseg;
        FUZZ_ASSERT(shown <= 8 && shown <= seg, "segment shows %zu bytes: \"%s\" for \"%s\"", shown,
                    out, path);
        FUZZ_ASSERT(masked || (seg == oseg && !memchr(p, '@', seg)) || (oseg == 0 && !o[0]),
                    "segment not masked: \"%s\" for \"%s\"", out, path);
        p += seg, o += oseg;
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    data++, size--;
    char *env[MAX_PARAMS + 1];
    size_t nenv = fuzz_split_params(data, size, env, MAX_PARAMS);
    env[nenv] = NULL;
    const char *fresh = (flags & 1) ? NULL : "fresh_id-0";

    struct lb_request req;
    lb_request_init(&req);
    FUZZ_ASSERT(lb_request_from_params(&req, env, fresh) == 0, "lb_request_from_params failed");

    /* method */
    const char *method = last_param(env, "REQUEST_METHOD");
    check_str("method_name", req.method_name, method ? method : "");
    enum lb_method m = LB_METHOD_OTHER;
    for (int k = LB_METHOD_GET; k <= LB_METHOD_OPTIONS; k++)
        if (method && strcmp(method, lb_method_name((enum lb_method)k)) == 0)
            m = (enum lb_method)k;
    FUZZ_ASSERT(req.method == m, "method %d, expected %d", (int)req.method, (int)m);

    /* request id: only [A-Za-z0-9_-]{1,64} from nginx, else the fresh one */
    const char *rid = last_param(env, "REQUEST_ID");
    check_str("request_id", req.request_id,
              rid && ref_request_id_ok(rid) ? rid
              : fresh                       ? fresh
                                            : "-");
    FUZZ_ASSERT(ref_request_id_ok(req.request_id), "request id \"%s\" is unsafe", req.request_id);

    /* plain headers: the last value wins */
    check_str("authorization", req.authorization, last_param(env, "HTTP_AUTHORIZATION"));
    check_str("content_type", req.content_type, last_param(env, "CONTENT_TYPE"));
    check_str("accept", req.accept, last_param(env, "HTTP_ACCEPT"));
    check_str("remote_addr", req.remote_addr, last_param(env, "REMOTE_ADDR"));

    /* Content-Length: decimal digits only */
    const char *clen = last_param(env, "CONTENT_LENGTH");
    __int128 want = -1;
    if (clen && *clen) {
        want = 0;
        for (const char *p = clen; *p && want >= 0; p++) {
            if (*p < '0' || *p > '9')
                want = -1;
            else if ((want = want * 10 + (*p - '0')) > INT64_MAX)
                want = -2; /* too large: -1 expected */
        }
        if (want == -2)
            want = -1;
    }
    if (want <= (__int128)1000000000000000000LL)
        FUZZ_ASSERT(req.content_length == (int64_t)want, "content_length %lld, expected %lld",
                    (long long)req.content_length, (long long)want);
    else
        FUZZ_ASSERT(req.content_length == -1 || req.content_length == (int64_t)want,
                    "content_length %lld wrong", (long long)req.content_length);

    /* path and query */
    const char *uri = last_param(env, "REQUEST_URI");
    if (!uri)
        uri = last_param(env, "DOCUMENT_URI");
    if (!uri)
        uri = "/";
    size_t plen = strcspn(uri, "?#");
    const char *query = last_param(env, "QUERY_STRING");
    if (!query && uri[plen] == '?')
        query = uri + plen + 1;
    check_str("raw_query", req.raw_query, query ? query : "");
    char *dec = malloc(plen + 1);
    long dlen = ref_path_decode(uri, plen, dec);
    int bad = plen == 0 || uri[0] != '/' || plen > LB_MAX_PATH_BYTES || dlen < 0;
    FUZZ_ASSERT(req.path_error == bad, "path_error %d, expected %d", req.path_error, bad);
    FUZZ_ASSERT(req.path && req.path[0] == '/', "path does not start with /");
    if (!bad)
        FUZZ_ASSERT(strlen(req.path) == (size_t)dlen && memcmp(req.path, dec, (size_t)dlen) == 0,
                    "decoded path differs");
    free(dec);
    FUZZ_ASSERT(req.nquery <= LB_MAX_QUERY_PARAMS, "too many query pairs");
    FUZZ_ASSERT(!req.query_error || req.nquery == 0, "query_error with pairs");
    for (size_t i = 0; i < req.nquery; i++) {
        FUZZ_ASSERT(req.query[i].key && req.query[i].value, "NULL query pair");
        size_t count;
        const char *first = lb_request_query(&req, req.query[i].key, &count);
        FUZZ_ASSERT(first && count >= 1, "lb_request_query lost a key");
        size_t j = 0;
        while (strcmp(req.query[j].key, req.query[i].key) != 0)
            j++;
        FUZZ_ASSERT(first == req.query[j].value, "lb_request_query does not give the first value");
    }

    /* the real route table */
    const struct lb_route *route;
    char allow[128];
    enum lb_route_result rr =
        lb_route_match(lb_api_routes, lb_api_nroutes, &req, &route, allow, sizeof allow);
    if (rr == LB_ROUTE_FOUND) {
        FUZZ_ASSERT(route != NULL && req.nparams <= LB_MAX_ROUTE_PARAMS, "bad route result");
        for (size_t i = 0; i < req.nparams; i++) {
            const char *v = req.params[i].value;
            FUZZ_ASSERT(v && *v && !strchr(v, '/'), "route parameter \"%s\" is empty or has /",
                        v ? v : "(null)");
            FUZZ_ASSERT(lb_request_param(&req, req.params[i].key) != NULL, "param lookup");
        }
    }
    if (rr != LB_ROUTE_NOT_FOUND) {
        FUZZ_ASSERT(allow[0] && strlen(allow) < sizeof allow, "empty Allow");
        for (const char *p = allow; *p; p++)
            FUZZ_ASSERT((*p >= 'A' && *p <= 'Z') || *p == ',' || *p == ' ', "Allow \"%s\"", allow);
    }

    check_log_path(req.path, 160); /* the worker's buffer */
    check_log_path(req.path, 1 + (flags >> 1) % 64);

    lb_request_free(&req);
    fuzz_free_params(env, nenv);
    return 0;
}
