/* fuzz_request: whole requests through the real code path of a worker, minus FastCGI and
 * PostgreSQL: lb_request_from_params -> the body limit (as worker.c applies it) ->
 * lb_app_dispatch with the real route table and handlers -> lb_response_serialize; the store
 * is store_stub.c. Several requests per input share one worker state (key cache, buffers), as
 * in a worker.
 *
 * Input: up to MAX_REQUESTS records separated by a 0x1e byte. A record is parameter lines
 * ("KEY=VALUE"; escapes "\n", "\r", "\\", "\xHH"), an empty line, then the body. A parameter
 * line starting with '@' controls the store stub for that request (store_stub.c):
 *   @<letters>[:text]  o n c u i e b w: answer OK / NOT_FOUND / CONFLICT / UNAVAILABLE / INVALID /
 *                      INTERNAL / BUSY / READ_ONLY; m: another page; r: key revoked; g:
 * reconnected; t: text as scheduledAt; P C M X K: booking status; < >: cursor time. The key the
 * stub accepts is STUB_KEY ("Authorization: Bearer " STUB_KEY).
 *
 * Invariants: the status is one the API uses, 5xx only when the store said so (503 with
 * Retry-After for UNAVAILABLE, 500 for INTERNAL); a store failure maps to its status; every
 * error body is NestJS-shaped JSON; 2xx JSON bodies are valid JSON; iCalendar lines are
 * CRLF-terminated and at most 75 octets; 401 has WWW-Authenticate, 405 has Allow; the store
 * sees only the credential's tenant and validated values (store_stub.c); the serialized
 * response has no CR/LF inside a header, one X-Request-Id that is safe, and a Content-Length
 * equal to the body it carries. No leak (LeakSanitizer), no memory error (ASan, UBSan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "config.h"
#include "fuzz_common.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "promtext.h"
#include "store_stub.h"

#define MAX_REQUESTS 4
#define MAX_PARAMS 48
#define BODY_LIMIT 1024 /* small, so that 413 is reachable within -max_len */

static int allowed_status(int s)
{
    static const int codes[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == s)
            return 1;
    return 0;
}

static int header_present(const struct lb_response *res, const char *prefix)
{
    return res->headers.len && strstr(res->headers.data, prefix) != NULL;
}

/* The body as worker.c's read_body would leave it: Content-Length over the limit is refused
 * unread; otherwise at most limit + 1 bytes are read and more than limit is too large. */
static void apply_body(struct lb_request *req, const char *body, size_t len, size_t limit)
{
    if (req->content_length == 0)
        return;
    if (req->content_length > 0 && (uint64_t)req->content_length > limit) {
        req->body_too_large = 1;
        return;
    }
    size_t want = req->content_length > 0 ? (size_t)req->content_length : limit + 1;
    if (want > limit + 1)
        want = limit + 1;
    size_t got = len < want ? len : want;
    if (got > limit) {
        req->body_too_large = 1;
        return;
    }
    FUZZ_ASSERT(lb_request_set_body(req, body, got) == 0, "lb_request_set_body failed");
}

static void check_ical(const char *s, size_t len)
{
    FUZZ_ASSERT(ref_utf8_valid(s, len), "iCalendar body is not valid UTF-8");
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r') {
            FUZZ_ASSERT(i + 1 < len && s[i + 1] == '\n', "bare CR in iCalendar at %zu", i);
            FUZZ_ASSERT(i - start <= 75, "iCalendar line of %zu octets", i - start);
            i++;
            start = i + 1;
        } else {
            FUZZ_ASSERT(s[i] != '\n', "bare LF in iCalendar at %zu", i);
        }
    }
    FUZZ_ASSERT(start == len, "iCalendar body does not end with CRLF");
}

static int token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Parses the serialized CGI response back and checks it. */
static void check_serialized(const struct lb_response *res, const struct lb_buf *out,
                             const char *request_id)
{
    const char *s = out->data;
    size_t len = out->len;
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
            end = s + i;
            break;
        }
    FUZZ_ASSERT(end != NULL, "serialized response has no header end");
    int ids = 0, lengths = 0, types = 0, line_no = 0;
    const char *line = s;
    while (line <= end) {
        const char *eol = line;
        while (eol < end && *eol != '\r' && *eol != '\n')
            eol++;
        FUZZ_ASSERT(eol == end || (eol[0] == '\r' && eol[1] == '\n'),
                    "header line %d holds a bare CR or LF (header injection)", line_no);
        size_t n = (size_t)(eol - line);
        const char *colon = memchr(line, ':', n);
        FUZZ_ASSERT(colon && colon > line && colon[1] == ' ', "header line %d malformed: %.*s",
                    line_no, (int)n, line);
        for (const char *p = line; p < colon; p++)
            FUZZ_ASSERT(token_char(*p), "header name with 0x%02x", (unsigned char)*p);
        for (const char *p = colon + 2; p < eol; p++)
            FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f,
                        "control byte 0x%02x in a header value", (unsigned char)*p);
        const char *v = colon + 2;
        size_t vlen = (size_t)(eol - v), nlen = (size_t)(colon - line);
        if (line_no == 0) {
            FUZZ_ASSERT(nlen == 6 && memcmp(line, "Status", 6) == 0, "first line is not Status");
            char want[80];
            snprintf(want, sizeof want, "%d %s", res->status, lb_http_reason(res->status));
            FUZZ_ASSERT(vlen == strlen(want) && memcmp(v, want, vlen) == 0, "Status: %.*s",
                        (int)vlen, v);
        } else if (nlen == 12 && strncasecmp(line, "X-Request-Id", 12) == 0) {
            ids++;
            FUZZ_ASSERT(vlen == strlen(request_id) && memcmp(v, request_id, vlen) == 0,
                        "X-Request-Id differs");
            FUZZ_ASSERT(vlen >= 1 && vlen <= LB_REQUEST_ID_MAX, "X-Request-Id length %zu", vlen);
            for (size_t i = 0; i < vlen; i++)
                FUZZ_ASSERT(token_char(v[i]), "unsafe X-Request-Id");
        } else if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            lengths++;
            char want[32];
            snprintf(want, sizeof want, "%zu", res->body.len);
            FUZZ_ASSERT(vlen == strlen(want) && memcmp(v, want, vlen) == 0, "Content-Length");
        } else if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            types++;
        }
        line = eol + 2;
        line_no++;
    }
    FUZZ_ASSERT(ids == 1 && lengths == 1 && types == 1,
                "X-Request-Id x%d, Content-Length x%d, Content-Type x%d", ids, lengths, types);
    size_t body_off = (size_t)(end - s) + 4;
    size_t want_body = res->head_only ? 0 : res->body.len;
    FUZZ_ASSERT(len - body_off == want_body, "serialized body of %zu bytes, expected %zu",
                len - body_off, want_body);
    if (want_body)
        FUZZ_ASSERT(memcmp(s + body_off, res->body.data, want_body) == 0, "body differs");
}

static void check_response(const struct lb_request *req, const struct lb_response *res)
{
    const struct stub_observed *seen = stub_observed();
    int st = res->status;
    const char *body = res->body.len ? res->body.data : "";
    if (seen->data_calls && seen->data_status != LB_OK) {
        int want = lb_status_http(seen->data_status);
        /* the meeting page answers 404 for every failure but these */
        FUZZ_ASSERT(st == want, "store said %d, response is %d", (int)seen->data_status, st);
    } else if (seen->unavailable) {
        FUZZ_ASSERT(st == 503, "database unavailable, response %d", st);
    } else {
        FUZZ_ASSERT(allowed_status(st), "status %d for %s %s", st, req->method_name, req->path);
    }
    FUZZ_ASSERT(!(st == 401 && seen->credential), "the live key was refused (401)");
    if (st == 503 || seen->data_status == LB_BUSY)
        FUZZ_ASSERT(header_present(res, "Retry-After: "), "%d without Retry-After", st);
    if (st == 401)
        FUZZ_ASSERT(header_present(res, "WWW-Authenticate: Bearer"), "401 without challenge");
    if (st == 405 || (st == 204 && req->method == LB_METHOD_OPTIONS))
        FUZZ_ASSERT(header_present(res, "Allow: "), "%d without Allow", st);
    if (st >= 400) {
        FUZZ_ASSERT(res->content_type == NULL, "error with content type %s", res->content_type);
        fuzz_check_error_body(body, res->body.len, st, lb_http_reason(st));
        return;
    }
    if (st == 204) {
        FUZZ_ASSERT(res->body.len == 0, "204 with a body");
        return;
    }
    if (res->content_type && strncmp(res->content_type, "text/calendar", 13) == 0)
        check_ical(body, res->body.len);
    else if (res->content_type && strcmp(res->content_type, LB_METRICS_CONTENT_TYPE) == 0) {
        char err[256]; /* GET /metrics: the exposition format, whatever the store answered */
        FUZZ_ASSERT(promtext_check(body, err, sizeof err) == 0, "metrics: %s", err);
    } else
        FUZZ_ASSERT(ref_json_valid(body, res->body.len, 64), "2xx body is not valid JSON: %s",
                    body);
    if (req->method == LB_METHOD_HEAD)
        FUZZ_ASSERT(res->head_only, "HEAD answered with a body");
}

/* Whether the header carries the stub's key in the form lb_auth_parse_bearer accepts. */
static int credential_ok(const char *authorization)
{
    return authorization && strncasecmp(authorization, "bearer ", 7) == 0 &&
           authorization[6] == ' ' && strcmp(authorization + 7, STUB_KEY) == 0;
}

static void serve(struct lb_app *app, struct lb_request *req, struct lb_response *res,
                  struct lb_buf *out, const uint8_t *data, size_t size)
{
    /* params up to the first empty line, the body after it */
    size_t hdr_end = size, body_off = size;
    if (size && data[0] == '\n') {
        hdr_end = 0, body_off = 1;
    } else {
        for (size_t i = 0; i + 1 < size; i++)
            if (data[i] == '\n' && data[i + 1] == '\n') {
                hdr_end = i, body_off = i + 2;
                break;
            }
    }
    char *lines[MAX_PARAMS + 1], *env[MAX_PARAMS + 1];
    size_t nlines = fuzz_split_params(data, hdr_end, lines, MAX_PARAMS), nenv = 0;
    struct stub_control ctl;
    stub_parse_control("", &ctl);
    for (size_t i = 0; i < nlines; i++) {
        if (lines[i][0] == '@')
            stub_parse_control(lines[i], &ctl);
        else
            env[nenv++] = lines[i];
    }
    env[nenv] = NULL;

    FUZZ_ASSERT(lb_request_from_params(req, env, "fuzz-fresh-id") == 0, "from_params failed");
    apply_body(req, (const char *)data + body_off, size - body_off, app->cfg->max_body_bytes);
    stub_begin_request(&ctl, credential_ok(req->authorization));
    lb_app_dispatch(app, req, res);
    check_response(req, res);
    FUZZ_ASSERT(lb_response_serialize(res, req->request_id, out) == 0, "serialize failed");
    check_serialized(res, out, req->request_id);

    char path[160];
    lb_app_log_path(req->path, path, sizeof path);
    fuzz_free_params(lines, nlines);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    lb_log_init("fuzz_request", LB_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lb_config cfg;
    lb_config_defaults(&cfg);
    cfg.max_body_bytes = BODY_LIMIT;
    cfg.retry_after = 1;
    /* so that the http and loopback exceptions of webhook URLs are reachable too */
    snprintf(cfg.webhook_allow_hosts, sizeof cfg.webhook_allow_hosts, "127.0.0.1 localhost");

    stub_begin_input();
    struct lb_app app = {.cfg = &cfg, .routes = lb_api_routes, .nroutes = lb_api_nroutes};
    lb_app_worker_init(&app);
    FUZZ_ASSERT(app.db && app.auth, "lb_app_worker_init");
    struct lb_request req;
    struct lb_response res;
    struct lb_buf out;
    lb_request_init(&req);
    lb_response_init(&res);
    lb_buf_init(&out);

    size_t start = 0;
    for (int n = 0; n < MAX_REQUESTS && start <= size; n++) {
        const uint8_t *sep = memchr(data + start, 0x1e, size - start);
        size_t end = sep ? (size_t)(sep - data) : size;
        serve(&app, &req, &res, &out, data + start, end - start);
        lb_request_reset(&req);
        lb_response_reset(&res);
        lb_buf_trim(&out, 256 * 1024);
        if (!sep)
            break;
        start = end + 1;
    }

    lb_request_free(&req);
    lb_response_free(&res);
    lb_buf_free(&out);
    lb_app_worker_free(&app);
    return 0;
}
