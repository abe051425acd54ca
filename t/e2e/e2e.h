/* e2e: shared fixture of the end-to-end API suites. One program = one fresh migrated database
 * (t/lib/pgtest) and one stack (real leadbookd behind the real nginx site, t/lib/stack) whose
 * `db` is that database; tenants, keys and agents are made with the real built leadbookctl.
 * Tests run forked (Check's default) and share the stack; each test makes its own tenants, so
 * counts never depend on the other tests. Plus HTTP and JSON assertion helpers. */
#ifndef LB_TEST_E2E_H
#define LB_TEST_E2E_H

#include <check.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "httpc.h"
#include "stack.h"

#define E2E_JSON_CT "application/json; charset=utf-8"
/* The end of the argument lists of the variadic helpers below (a pointer, never a bare 0). */
#define E2E_END ((const char *)NULL)

/* A tenant with one live key and one agent; or (e2e_user_new) a signed-in user, whose auth is
 * a sign-in token and whose id is its tenant's once it has one. */
struct e2e_tenant {
    char id[37];
    char key_id[37];
    char key[128];
    char auth[2048]; /* "Authorization: Bearer <key or token>\r\n" */
    char agent_id[37];
    char agent_link[37];
    char user_id[64]; /* the signed-in user's sub ("" for a key) */
};

/* The program's stack and database (valid inside tests). */
extern struct stack e2e_stack;
const char *e2e_conninfo(void);

/* Sets up the database and the stack, runs the suite (CK_NORMAL), tears everything down.
 * Returns the exit status for main. */
int e2e_main(const char *prog, Suite *suite);
/* Starts another stack on the program's database: the lines e2e_main gives its own (the
 * database, 4 workers, the loopback webhook hosts) then extra ("key = value", NULL-terminated;
 * a later line overrides an earlier one), e.g. "max_requests = 20" for a pool that recycles its
 * workers. 0, or -1 with a message. The caller stack_stop()s it. */
int e2e_stack_start(struct stack *s, const char *const *extra);
/* A TCase with a generous timeout. */
TCase *e2e_tcase(const char *name, double timeout_s);

/* leadbookctl with --db of the test database; stdout parsed as JSON (ck_asserts exit 0). The
 * caller json_object_put()s. Arguments NULL-terminated. */
json_object *e2e_ctl(const char *first, ...);
/* A fresh tenant with a key and an agent (link_expiry_hours 0 = default). */
void e2e_tenant_new(struct e2e_tenant *t, const char *name, int link_expiry_hours);
/* Another key of the tenant; writes "Authorization: Bearer ...\r\n" to auth and the id. */
void e2e_key_new(const struct e2e_tenant *t, char *auth, size_t authlen, char key_id[37]);

/* ---- sign-in tokens and the booking page (e2e_user.c) -------------------------------------- */

/* The stack's identity provider, as scripts/dev-up names it. */
#define E2E_JWT_ISSUER "http://127.0.0.1:54321/auth/v1"
#define E2E_JWT_KID "e2e-ec-1"
#define E2E_JWT_RSA_KID "e2e-rsa-1"

/* Makes the keys (in a temp directory) and writes the leadbook.conf lines that use them to
 * lines[0..max); returns how many, or -1. e2e_main calls it. */
int e2e_jwt_setup(const char **lines, int max);
void e2e_jwt_teardown(void);
const char *e2e_jwt_dir(void);
const char *e2e_jwks_path(void);
/* A new key pair in PEM ("EC" P-256 or "RSA" 2048). */
int e2e_keygen_pem(const char *type, const char *path);
/* Replaces the stack's JWKS file (atomically) by the public halves of these keys. */
int e2e_write_jwks(const char *const *pems, const char *const *kids, int n);
/* A token signed by alg (ES256, RS256: the stack's keys; HS256: its secret) for sub, valid for
 * ttl_s seconds (negative: already expired). */
void e2e_token(char *out, size_t outlen, const char *alg, const char *sub, long ttl_s);
/* A token of any claims text; key_file/kid NULL = the stack's for alg. */
void e2e_token_claims(char *out, size_t outlen, const char *alg, const char *kid,
                      const char *key_file, const char *claims);
/* A new signed-in user (random sub) with no tenant yet; alg NULL = ES256. */
void e2e_user_new(struct e2e_tenant *u, const char *alg);
/* POST /tenants as that user (asserts 201) and keeps the tenant id in u->id. */
void e2e_user_signup(struct e2e_tenant *u, const char *name);
/* A booking-page key: writes "Authorization: Bearer ...\r\n" to auth. */
void e2e_booking_key_new(char *auth, size_t authlen, char key_id[37]);

/* ---- HTTP ------------------------------------------------------------------------------- */

struct e2e_resp {
    int status;
    struct httpc_resp raw;
    json_object *json; /* parsed body, NULL when not JSON */
};

/* One request through nginx. headers: extra "Name: value\r\n" lines or NULL. When body is
 * non-NULL and headers contain no Content-Type, "Content-Type: application/json" is added. */
int e2e_raw(struct e2e_resp *r, const char *headers, const char *method, const char *path,
            const char *body, size_t body_len);
/* The same with the tenant's credential (t NULL = none) and a NUL-terminated body or NULL. */
int e2e_call(struct e2e_resp *r, const struct e2e_tenant *t, const char *method, const char *path,
             const char *body);
/* printf-style path. */
int e2e_callf(struct e2e_resp *r, const struct e2e_tenant *t, const char *method, const char *body,
              const char *pathfmt, ...) __attribute__((format(printf, 5, 6)));
/* GET of the public meeting path (no credential), waiting out nginx's rate limit (429). */
int e2e_meeting(struct e2e_resp *r, const char *token, const char *accept);
void e2e_free(struct e2e_resp *r);
/* Header value (static buffer per call site is the caller's); NULL if absent. */
const char *e2e_header(const struct e2e_resp *r, const char *name, char *out, size_t outlen);
/* How many header lines named name the response has. */
int e2e_header_count(const struct e2e_resp *r, const char *name);

/* ---- assertions -------------------------------------------------------------------------- */

/* Status, JSON content type, X-Request-Id present, body parsed. */
#define e2e_expect(r, st) e2e_expect_at(__FILE__, __LINE__, (r), (st))
void e2e_expect_at(const char *file, int line, const struct e2e_resp *r, int status);
/* A NestJS error body: exactly {statusCode, message, error}, statusCode == status, error the
 * reason phrase; message equal to msg when msg is non-NULL (a string message). */
#define e2e_expect_error(r, st, msg) e2e_expect_error_at(__FILE__, __LINE__, (r), (st), (msg))
void e2e_expect_error_at(const char *file, int line, const struct e2e_resp *r, int status,
                         const char *msg);
/* A 400 validation error whose message is exactly the given array (NULL-terminated). */
#define e2e_expect_messages(r, ...) e2e_expect_messages_at(__FILE__, __LINE__, (r), __VA_ARGS__)
void e2e_expect_messages_at(const char *file, int line, const struct e2e_resp *r, ...);
/* The error's message text (a string, or the array's elements joined with " | "). */
const char *e2e_error_text(const struct e2e_resp *r, char *out, size_t outlen);
/* 401 with WWW-Authenticate: Bearer... and a NestJS body. */
#define e2e_expect_401(r) e2e_expect_401_at(__FILE__, __LINE__, (r))
void e2e_expect_401_at(const char *file, int line, const struct e2e_resp *r);

/* exactly these keys (NULL-terminated) */
void e2e_keys(json_object *obj, ...);
json_object *e2e_get(json_object *obj, const char *key); /* ck_asserts present */
const char *e2e_str(json_object *obj, const char *key);  /* string (NULL for JSON null) */
int64_t e2e_int(json_object *obj, const char *key);
int e2e_is_uuid(const char *s); /* lowercase 8-4-4-4-12 */
int e2e_is_v4_uuid(const char *s);
int e2e_is_ts(const char *s); /* YYYY-MM-DDTHH:MM:SS.mmmZ */
int64_t e2e_ts_us(const char *s);

/* Shapes of API.md (exact key sets, formats). */
void e2e_check_agent(json_object *a);
void e2e_check_lead(json_object *l);      /* plain Lead */
void e2e_check_lead_full(json_object *l); /* Lead with bookings and agent */
void e2e_check_booking(json_object *b);

/* ---- data -------------------------------------------------------------------------------- */

/* ISO 8601 UTC ms timestamp now + seconds. */
void e2e_iso_from_now(int64_t seconds, char out[40]);
/* POST /leads (asserts 201); any out pointer may be NULL. */
void e2e_lead_new(const struct e2e_tenant *t, const char *agent_id, const char *name,
                  int64_t in_seconds, char lead_id[37], char booking_id[37], char token[37]);
/* PATCH /bookings/:id/status, returns the HTTP status. */
int e2e_set_status(const struct e2e_tenant *t, const char *booking_id, const char *status);
/* POST /agents (asserts 201), returns the id. */
void e2e_agent_new(const struct e2e_tenant *t, const char *name, char agent_id[37]);

/* One value of a SQL query on the test database (text params), "" for no row. */
void e2e_sql_value(char *out, size_t outlen, const char *sql, ...);
long e2e_sql_long(const char *sql, ...);
/* Runs SQL (text params, NULL-terminated) and ck_asserts success. */
void e2e_sql(const char *sql, ...);

#endif
