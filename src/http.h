/* http: the request as the application sees it, the response it writes, and the NestJS-shaped
 * error bodies. Building a request from FastCGI params is a pure function (testable, fuzzable);
 * only lb_request_read_body and lb_response_send touch the FastCGI streams. */
#ifndef LB_HTTP_H
#define LB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "status.h"

#define LB_MAX_QUERY_PARAMS 32 /* more query parameters than this is a 400 */
#define LB_MAX_ROUTE_PARAMS 4  /* :params in one route pattern */
#define LB_MAX_PATH_BYTES 2048 /* longer paths are a 414-like 400 */
#define LB_REQUEST_ID_MAX 64   /* longest X-Request-Id taken from nginx */

enum lb_method {
    LB_METHOD_OTHER = 0,
    LB_METHOD_GET,
    LB_METHOD_HEAD,
    LB_METHOD_POST,
    LB_METHOD_PUT,
    LB_METHOD_PATCH,
    LB_METHOD_DELETE,
    LB_METHOD_OPTIONS,
};

struct lb_kv {
    const char *key;
    const char *value;
};

struct lb_request {
    struct lb_arena arena; /* owns every string below */
    enum lb_method method;
    const char *method_name; /* as sent */
    const char *path;        /* percent-decoded path, no query */
    const char *raw_query;   /* QUERY_STRING as sent ("" if none) */
    struct lb_kv query[LB_MAX_QUERY_PARAMS];
    size_t nquery;
    int query_error;                          /* 1: malformed escape, NUL, or too many parameters */
    int path_error;                           /* 1: malformed escape, NUL, or too long */
    int path_encoded_slash;                   /* 1: the path held %2F (matches no route) */
    struct lb_kv params[LB_MAX_ROUTE_PARAMS]; /* filled by the router */
    size_t nparams;
    const char *authorization;   /* HTTP_AUTHORIZATION or NULL */
    const char *content_type;    /* CONTENT_TYPE or NULL */
    const char *accept;          /* HTTP_ACCEPT or NULL */
    const char *remote_addr;     /* REMOTE_ADDR or NULL */
    const char *idempotency_key; /* HTTP_IDEMPOTENCY_KEY or NULL (as sent; validated by api) */
    char request_id[LB_REQUEST_ID_MAX + 1];
    int64_t content_length; /* -1 when absent or unparsable */
    int64_t started_ms;     /* REQUEST_START (nginx's $msec) in Unix ms; 0 when absent */
    const char *body;       /* NUL-terminated copy, body_len bytes, or NULL */
    size_t body_len;
    int body_too_large;
};

struct lb_response {
    int status;
    const char *content_type; /* default application/json; charset=utf-8 */
    struct lb_buf headers;    /* extra "Name: value\r\n" lines */
    struct lb_buf body;
    int head_only; /* HEAD: send headers only */
};

/* --- request --- */
void lb_request_init(struct lb_request *req);
/* Releases the request's memory between requests (keeps a small block for the next one). */
void lb_request_reset(struct lb_request *req);
void lb_request_free(struct lb_request *req);
/* Fills req from FastCGI params ("NAME=value" strings, NULL-terminated). Never fails on bad
 * input: problems are flagged (path_error, query_error) for the dispatcher to answer with 400.
 * Returns -1 only when memory runs out. fresh_id supplies a request id when REQUEST_ID is absent
 * or malformed. */
int lb_request_from_params(struct lb_request *req, char **envp, const char *fresh_id);
/* The value of query parameter key; NULL if absent. *count (optional) says how many times it
 * appeared, so a handler can refuse repeated single-valued parameters. */
const char *lb_request_query(const struct lb_request *req, const char *key, size_t *count);
/* The value of route parameter name, or NULL. */
const char *lb_request_param(const struct lb_request *req, const char *name);
/* Stores a body (copied into the arena). */
int lb_request_set_body(struct lb_request *req, const char *data, size_t len);

/* Decodes application/x-www-form-urlencoded text (percent escapes, '+' as space) into kv pairs
 * allocated in arena. Returns the number of pairs, or -1 on a malformed escape, an encoded NUL,
 * or more than max pairs. Empty segments ("a=1&&b=2") are skipped; "k" alone has value "". */
int lb_query_decode(struct lb_arena *arena, const char *qs, struct lb_kv *out, size_t max);
/* Percent-decodes s[0..len) into the arena ('+' stays '+'); NULL on malformed escape or NUL. */
char *lb_percent_decode(struct lb_arena *arena, const char *s, size_t len, int plus_is_space);

/* --- response --- */
void lb_response_init(struct lb_response *res);
void lb_response_reset(struct lb_response *res);
void lb_response_free(struct lb_response *res);
/* Adds a header line; name and value must not contain CR/LF (such headers are dropped). */
int lb_response_header(struct lb_response *res, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets status and content type application/json; the caller fills res->body. */
void lb_response_json(struct lb_response *res, int status);
/* A NestJS-shaped error: {"statusCode":N,"message":"…","error":"<reason phrase>"}.
 * message is a printf format; it is JSON-escaped. */
void lb_response_error(struct lb_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same error body appended to b (for an answer that is stored before it is sent). */
void lb_error_body(struct lb_buf *b, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A 400 whose message is an array: messages_json must be a ready JSON array text. */
void lb_response_error_array(struct lb_response *res, int status, const char *messages_json);
/* Maps a store/db status to an HTTP error response (503 gets Retry-After). */
void lb_response_status_error(struct lb_response *res, enum lb_status st, int retry_after,
                              const char *what);
/* The reason phrase for a status code ("Not Found"). */
const char *lb_http_reason(int status);
int lb_status_http(enum lb_status st);
/* Serialises status line, headers (incl. Content-Length and X-Request-Id) and body into out,
 * ready to write to the FastCGI stdout stream in one call. */
int lb_response_serialize(const struct lb_response *res, const char *request_id,
                          struct lb_buf *out);

#endif
