/* check_api_site: what the nginx site (conf/nginx/leadbook.conf) does for the web frontend,
 * through the real nginx and leadbookd: the per-visitor rate limit behind a trusted frontend
 * server (realip; 127.0.0.1 is trusted in the dev/test config, 127.0.0.2 is not), exact
 * matching of the public meeting path, the methods that pass it without a credential, big
 * Authorization headers, the probes, and the access log's client address.
 *
 * The rate limit's state lives in nginx for the whole program: every test uses client
 * addresses (X-Forwarded-For values or source addresses) that no other test uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

#define TRUSTED "127.0.0.1"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* rate=Nr/s of leadbook_public and burst=M of its limit_req, as the site file says. */
static void site_limits(int *rate, int *burst)
{
    char path[600], line[1024];
    snprintf(path, sizeof path, "%s/conf/nginx/leadbook.conf", stack_srcdir());
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    *rate = *burst = 0;
    while (fgets(line, sizeof line, f)) {
        const char *p;
        if (strstr(line, "limit_req_zone") && strstr(line, "zone=leadbook_public") &&
            (p = strstr(line, "rate=")) != NULL)
            *rate = atoi(p + 5);
        if (!*burst && (p = strstr(line, "limit_req zone=leadbook_public burst=")) != NULL)
            *burst = atoi(p + strlen("limit_req zone=leadbook_public burst="));
    }
    fclose(f);
    ck_assert_msg(*rate > 0 && *burst > 0, "no rate/burst in %s", path);
}

/* One request through nginx from source address src (NULL: the kernel's choice, 127.0.0.1),
 * headers of any size; the body is parsed when it is JSON. */
static int site(struct e2e_resp *r, const char *src, const char *method, const char *path,
                const char *headers, const char *body)
{
    memset(r, 0, sizeof *r);
    r->status = httpc_from(src, e2e_stack.port, method, path, headers, body,
                           body ? strlen(body) : 0, &r->raw, 30000);
    if (r->raw.body && r->raw.body_len > 0)
        r->json = json_tokener_parse(r->raw.body);
    return r->status;
}

/* The same, waiting out 429s (for the tests that are not about the limit). */
static int site_paced(struct e2e_resp *r, const char *src, const char *method, const char *path,
                      const char *headers, const char *body)
{
    for (int i = 0; i < 60; i++) {
        if (site(r, src, method, path, headers, body) != 429)
            return r->status;
        e2e_free(r);
        stack_sleep_ms(250);
    }
    return r->status;
}

/* Whether leadbookd logged the request (its access line carries nginx's request id): 1 means
 * nginx passed it to the application. Waits a little for the line (written after the answer). */
static int app_saw(const struct e2e_resp *r)
{
    char rid[64], needle[80];
    ck_assert_msg(e2e_header(r, "X-Request-Id", rid, sizeof rid) && rid[0], "no X-Request-Id in %s",
                  r->raw.head ? r->raw.head : "(no answer)");
    snprintf(needle, sizeof needle, "rid=%s", rid);
    for (int i = 0; i < 15; i++) {
        if (stack_log_count(&e2e_stack, needle) > 0)
            return 1;
        stack_sleep_ms(20);
    }
    return 0;
}

/* A NestJS error body from nginx itself (never reached leadbookd). */
static void expect_nginx_error(const struct e2e_resp *r, int status, const char *what)
{
    e2e_expect_error(r, status, NULL);
    ck_assert_msg(!app_saw(r), "%s: %d came from leadbookd, expected nginx's", what, status);
}

/* The 401 nginx answers for a request without a credential. */
static void expect_nginx_401(const struct e2e_resp *r, const char *what)
{
    ck_assert_msg(r->status == 401, "%s: expected nginx's 401, got %d: %s", what, r->status,
                  r->raw.body ? r->raw.body : "(no answer)");
    e2e_expect_401(r);
    ck_assert_msg(!app_saw(r), "%s: the 401 came from leadbookd, expected nginx's", what);
}

static void xff(char *out, size_t len, const char *addr)
{
    snprintf(out, len, "X-Forwarded-For: %s\r\n", addr);
}

/* n requests at once (forked clients released together): GET path from src, client i with
 * "X-Forwarded-For: <xff_prefix><i + 1>" (no header when xff_prefix is NULL). Fills
 * statuses[i]. */
static void parallel_get(int n, const char *src, const char *path, const char *xff_prefix,
                         int *statuses)
{
    int go[2], res[2];
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(res), 0);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(go[1]);
            close(res[0]);
            char c, hdr[128] = "";
            while (read(go[0], &c, 1) < 0 && errno == EINTR)
                ;
            if (xff_prefix) {
                char addr[64];
                snprintf(addr, sizeof addr, "%s%d", xff_prefix, i + 1);
                xff(hdr, sizeof hdr, addr);
            }
            struct httpc_resp r;
            int rec[2] = {i, httpc_from(src, e2e_stack.port, "GET", path, hdr, NULL, 0, &r, 30000)};
            httpc_free(&r);
            _exit(write(res[1], rec, sizeof rec) == (ssize_t)sizeof rec ? 0 : 1);
        }
    }
    close(go[0]);
    close(res[1]);
    close(go[1]); /* all clients start now */
    for (int i = 0; i < n; i++)
        statuses[i] = -1;
    int rec[2];
    while (read(res[0], rec, sizeof rec) == (ssize_t)sizeof rec)
        if (rec[0] >= 0 && rec[0] < n)
            statuses[rec[0]] = rec[1];
    close(res[0]);
    while (wait(NULL) > 0)
        ;
}

struct hammer {
    int passed, limited, other, first_other;
    double secs;
};

/* n quick requests one after the other; counts 429s and the rest (every non-429 answer must be
 * `want`, else it is counted in other, the first such status kept). */
static void hammer(struct hammer *h, int n, const char *src, const char *method, const char *path,
                   const char *headers, int want)
{
    memset(h, 0, sizeof *h);
    int64_t t0 = now_us();
    for (int i = 0; i < n; i++) {
        struct httpc_resp r;
        int st = httpc_from(src, e2e_stack.port, method, path, headers, NULL, 0, &r, 10000);
        if (st == 429)
            h->limited++;
        else if (st == want)
            h->passed++;
        else if (h->other++ == 0)
            h->first_other = st;
        ck_assert_msg(st != 200 || want == 200, "%s %s answered 200: %s", method, path,
                      r.body ? r.body : "");
        httpc_free(&r);
    }
    h->secs = (double)(now_us() - t0) / 1e6;
}

/* Throttled like the public path: the burst (+1) passes, then about `rate` per second. */
static void expect_limited(const struct hammer *h, int n, const char *what)
{
    int rate, burst;
    site_limits(&rate, &burst);
    int most = burst + 1 + (int)(rate * h->secs) + 1;
    ck_assert_msg(h->other == 0, "%s: %d unexpected answers (first %d)", what, h->other,
                  h->first_other);
    ck_assert_msg(h->limited > 0 && h->passed <= most,
                  "%s: not throttled: %d of %d passed in %.2f s (at most %d expected)", what,
                  h->passed, n, h->secs, most);
}

/* Throttled from the first request on (the client's bucket is already full). */
static void expect_saturated(const struct hammer *h, int n, const char *what)
{
    int rate, burst;
    site_limits(&rate, &burst);
    ck_assert_msg(h->passed <= (int)(rate * h->secs) + 2,
                  "%s: %d of %d passed in %.2f s, the client's limit was used up", what, h->passed,
                  n, h->secs);
}

static void booking_new(struct e2e_tenant *t, const char *name, char token[37])
{
    e2e_tenant_new(t, name, 0);
    e2e_lead_new(t, NULL, "Site visitor", 7200, NULL, NULL, token);
}

/* The measured defect: the frontend's server calls from one address, so its visitors shared
 * one limit (13 of 25 meeting pages opened at once got 429). Each visitor now has its own. */
START_TEST(t_visitors_behind_trusted_frontend_have_own_limits)
{
    struct e2e_tenant t;
    char token[37], path[128];
    booking_new(&t, "Site visitors", token);
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);

    enum { N = 30 };
    int st[N];
    parallel_get(N, TRUSTED, path, "198.51.100.", st);
    for (int i = 0; i < N; i++)
        ck_assert_msg(st[i] == 200, "visitor 198.51.100.%d got %d", i + 1, st[i]);

    /* one visitor hammering is limited... */
    char hdr[128];
    xff(hdr, sizeof hdr, "198.51.100.200");
    struct hammer h;
    int rate, burst;
    site_limits(&rate, &burst);
    hammer(&h, burst + 30, TRUSTED, "GET", path, hdr, 200);
    expect_limited(&h, burst + 30, "one visitor");
    ck_assert_int_ge(h.passed, burst + 1);

    /* ...while another visitor through the same frontend is not */
    struct e2e_resp r;
    xff(hdr, sizeof hdr, "198.51.100.201");
    for (int i = 0; i < 5; i++) {
        site(&r, TRUSTED, "GET", path, hdr, NULL);
        e2e_expect(&r, 200);
        ck_assert_str_eq(e2e_str(r.json, "meetingToken"), token);
        e2e_free(&r);
    }

    /* the client is the LAST untrusted address of X-Forwarded-For: a visitor cannot prepend
     * another address to escape, and what precedes the frontend's own entry does not count */
    xff(hdr, sizeof hdr, "203.0.113.7, 198.51.100.200");
    hammer(&h, 15, TRUSTED, "GET", path, hdr, 200);
    expect_saturated(&h, 15, "XFF chain ending in the limited visitor");
    xff(hdr, sizeof hdr, "198.51.100.200, 198.51.100.202");
    site(&r, TRUSTED, "GET", path, hdr, NULL);
    e2e_expect(&r, 200);
    e2e_free(&r);
    /* a trusted address in the chain is skipped (real_ip_recursive) */
    xff(hdr, sizeof hdr, "198.51.100.200, 127.0.0.1");
    hammer(&h, 15, TRUSTED, "GET", path, hdr, 200);
    expect_saturated(&h, 15, "XFF ending in a trusted address");
}
END_TEST

/* A client that is not a trusted frontend server cannot pick its own limit with
 * X-Forwarded-For: it is ignored. */
START_TEST(t_untrusted_client_xff_ignored)
{
    struct e2e_tenant t;
    char token[37], path[128];
    booking_new(&t, "Site untrusted", token);
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    int rate, burst;
    site_limits(&rate, &burst);

    /* 25 at once from 127.0.0.2, each claiming another visitor: they share one limit */
    enum { N = 25 };
    int st[N], limited = 0, passed = 0;
    int64_t t0 = now_us();
    parallel_get(N, "127.0.0.2", path, "10.20.30.", st);
    double secs = (double)(now_us() - t0) / 1e6;
    for (int i = 0; i < N; i++) {
        ck_assert_msg(st[i] == 200 || st[i] == 429, "client %d got %d", i, st[i]);
        if (st[i] == 429)
            limited++;
        else
            passed++;
    }
    ck_assert_msg(passed <= burst + 1 + (int)(rate * secs) + 1,
                  "untrusted X-Forwarded-For escaped the limit: %d of %d passed in %.2f s", passed,
                  N, secs);
    ck_assert_int_gt(limited, 0);

    /* one after the other, a new X-Forwarded-For each time: still limited */
    int64_t t1 = now_us();
    passed = limited = 0;
    for (int i = 0; i < burst + 30; i++) {
        char addr[64], hdr[128];
        snprintf(addr, sizeof addr, "10.40.%d.%d", i / 200, i % 200 + 1);
        xff(hdr, sizeof hdr, addr);
        struct httpc_resp r;
        int s = httpc_from("127.0.0.3", e2e_stack.port, "GET", path, hdr, NULL, 0, &r, 10000);
        httpc_free(&r);
        ck_assert_msg(s == 200 || s == 429, "request %d: %d", i, s);
        if (s == 429)
            limited++;
        else
            passed++;
    }
    secs = (double)(now_us() - t1) / 1e6;
    ck_assert_int_gt(limited, 0);
    ck_assert_int_le(passed, burst + 1 + (int)(rate * secs) + 1);
}
END_TEST

/* The defect: "/bookings/meeting/<token>/" with any Authorization header was served by the
 * unthrottled "location /", and the router stripped the slash: the booking, unlimited. */
START_TEST(t_trailing_slash_is_404_and_throttled)
{
    struct e2e_tenant t;
    char token[37], path[128], hdrs[4096], msg[256];
    booking_new(&t, "Site slash", token);
    snprintf(path, sizeof path, "/bookings/meeting/%s/", token);

    struct e2e_resp r;
    snprintf(hdrs, sizeof hdrs, "%sX-Forwarded-For: 192.0.2.10\r\n", t.auth);
    site_paced(&r, TRUSTED, "GET", path, hdrs, NULL);
    e2e_expect_error(&r, 404, NULL);
    snprintf(msg, sizeof msg, "Cannot GET %s", path);
    ck_assert_str_eq(e2e_str(r.json, "message"), msg);
    ck_assert_ptr_null(strstr(r.raw.body, "Site visitor"));
    e2e_free(&r);

    /* any Authorization header: a forged one, the tenant's own key */
    const char *auths[] = {"Authorization: Bearer forged\r\n", t.auth};
    const char *visitors[] = {"192.0.2.11", "192.0.2.12"};
    for (size_t a = 0; a < 2; a++) {
        snprintf(hdrs, sizeof hdrs, "%sX-Forwarded-For: %s\r\n", auths[a], visitors[a]);
        struct hammer h;
        hammer(&h, 300, TRUSTED, "GET", path, hdrs, 404);
        expect_limited(&h, 300, a ? "trailing slash, tenant key" : "trailing slash, forged");
        ck_assert_msg(h.limited > 150, "only %d of 300 limited", h.limited);
    }
    /* and from an untrusted client without X-Forwarded-For */
    struct hammer h;
    hammer(&h, 60, "127.0.0.4", "GET", path, t.auth, 404);
    expect_limited(&h, 60, "trailing slash, untrusted client");
}
END_TEST

/* Other spellings of the public path: never the booking, never unthrottled; with a credential
 * leadbookd's 404, without one nginx's 401 (or leadbookd's 404 where nginx lets it through). */
START_TEST(t_other_spellings_never_the_booking)
{
    struct e2e_tenant t;
    char token[37];
    booking_new(&t, "Site spellings", token);
    const char *fmts[] = {
        "/bookings/meeting/%s/",     "//bookings/meeting/%s",     "/bookings//meeting/%s",
        "/bookings/meeting//%s",     "/bookings/meeting/%s/x",    "/bookings/meeting/%s//",
        "/bookings/./meeting/%s",    "/bookings/x/../meeting/%s", "/bookings/meeting/./%s",
        "/bookings/meeting/%s%%2F",  "/bookings/meeting/%s/./",   "///bookings///meeting///%s",
        "/bookings/meeting/%s/?x=1", "//bookings/meeting/%s?x=1"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char path[256], hdrs[4096], visitor[64];
        snprintf(path, sizeof path, fmts[i], token);
        for (int with_auth = 0; with_auth < 2; with_auth++) {
            snprintf(visitor, sizeof visitor, "192.0.2.%zu", 100 + 2 * i + (size_t)with_auth);
            snprintf(hdrs, sizeof hdrs, "%sX-Forwarded-For: %s\r\n", with_auth ? t.auth : "",
                     visitor);
            struct e2e_resp r;
            site_paced(&r, TRUSTED, "GET", path, hdrs, NULL);
            ck_assert_msg(r.status == 404 || (!with_auth && r.status == 401), "GET %s (%s): %d %s",
                          path, with_auth ? "key" : "no key", r.status,
                          r.raw.body ? r.raw.body : "");
            e2e_expect_error(&r, r.status, NULL);
            ck_assert_msg(!strstr(r.raw.body, "Site visitor") && !strstr(r.raw.body, "agent"),
                          "GET %s: %s", path, r.raw.body);
            if (r.status == 401)
                expect_nginx_401(&r, path);
            else
                ck_assert_msg(strncmp(e2e_str(r.json, "message"), "Cannot GET ", 11) == 0,
                              "GET %s: %s", path, r.raw.body);
            e2e_free(&r);
        }
        /* throttled with a credential (the answer is leadbookd's 404) */
        snprintf(visitor, sizeof visitor, "192.0.2.%zu", 200 + i);
        snprintf(hdrs, sizeof hdrs, "%sX-Forwarded-For: %s\r\n", t.auth, visitor);
        struct hammer h;
        hammer(&h, 40, TRUSTED, "GET", path, hdrs, 404);
        expect_limited(&h, 40, path);
    }
}
END_TEST

/* GET, HEAD and PATCH of exactly /bookings/meeting/:token pass without a credential (PATCH:
 * the prospect's own changes); every other method and path needs one: nginx's 401. */
START_TEST(t_public_methods)
{
    struct e2e_tenant t;
    char token[37], booking[37], path[128], hdrs[256];
    e2e_tenant_new(&t, "Site methods", 0);
    e2e_lead_new(&t, NULL, "Site visitor", 7200, NULL, booking, token);
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    xff(hdrs, sizeof hdrs, "198.18.0.1");

    struct e2e_resp r;
    site_paced(&r, TRUSTED, "HEAD", path, hdrs, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(app_saw(&r));
    e2e_free(&r);

    /* PATCH reaches leadbookd: whatever it answers (the handler, or 405 with Allow until it
     * exists), it is not nginx's 401 */
    snprintf(hdrs, sizeof hdrs,
             "X-Forwarded-For: 198.18.0.2\r\nContent-Type: application/json\r\n");
    site_paced(&r, TRUSTED, "PATCH", path, hdrs, "{\"status\":\"CONFIRMED\"}");
    ck_assert_msg(r.status != 401 && r.status != 429 && r.status > 0, "PATCH %s: %d %s", path,
                  r.status, r.raw.body ? r.raw.body : "");
    e2e_expect(&r, r.status);
    ck_assert_msg(app_saw(&r), "PATCH %s did not reach leadbookd", path);
    if (r.status == 405) {
        char allow[128];
        ck_assert_ptr_nonnull(e2e_header(&r, "Allow", allow, sizeof allow));
        ck_assert_ptr_nonnull(strstr(allow, "GET"));
    }
    e2e_free(&r);

    /* other methods on the exact path, and PATCH on other spellings of it */
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        site(&r, TRUSTED, methods[i], path, "Content-Type: application/json\r\n",
             strcmp(methods[i], "POST") == 0 ? "{}" : NULL);
        expect_nginx_401(&r, methods[i]);
        e2e_free(&r);
    }
    const char *spellings[] = {"/bookings/meeting/%s/", "//bookings/meeting/%s",
                               "/bookings/meeting/%s/status"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, spellings[i], token);
        site(&r, TRUSTED, "PATCH", p, "Content-Type: application/json\r\n",
             "{\"status\":\"CONFIRMED\"}");
        expect_nginx_401(&r, p);
        e2e_free(&r);
    }

    /* and every other path, for the writing methods too */
    char p1[128], p2[128], p3[128];
    snprintf(p1, sizeof p1, "/bookings/%s/status", booking);
    snprintf(p2, sizeof p2, "/bookings/%s", booking);
    snprintf(p3, sizeof p3, "/agents/%s", t.agent_id);
    const char *paths[] = {
        "/leads",           p1, p2, p3, "/agents", "/tenants", "/tenants/me", "/webhooks",
        "/bookings/meeting"};
    const char *writes[] = {"PATCH", "POST", "DELETE", "PUT", "GET"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        for (size_t m = 0; m < sizeof writes / sizeof writes[0]; m++) {
            int has_body = strcmp(writes[m], "PATCH") == 0 || strcmp(writes[m], "POST") == 0;
            site(&r, TRUSTED, writes[m], paths[i],
                 has_body ? "Content-Type: application/json\r\n" : NULL,
                 has_body ? "{\"status\":\"CANCELLED\"}" : NULL);
            char what[256];
            snprintf(what, sizeof what, "%s %s", writes[m], paths[i]);
            expect_nginx_401(&r, what);
            e2e_free(&r);
        }
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", booking, E2E_END);
    ck_assert_msg(strcmp(st, "PENDING") == 0 || strcmp(st, "CONFIRMED") == 0, "status %s", st);
}
END_TEST

/* A header line "name: value\r\n" with a value of value_len bytes (an Authorization value
 * looks like a bearer JWT). The caller frees it. */
static char *big_header(const char *name, size_t value_len)
{
    size_t nl = strlen(name);
    char *h = malloc(nl + 2 + value_len + 3);
    ck_assert_ptr_nonnull(h);
    memcpy(h, name, nl);
    memcpy(h + nl, ": ", 2);
    char *v = h + nl + 2;
    size_t i = 0;
    if (strcmp(name, "Authorization") == 0) {
        memcpy(v, "Bearer eyJ", 10);
        i = 10;
    }
    for (; i < value_len; i++)
        v[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i % 64];
    memcpy(v + value_len, "\r\n", 3);
    return h;
}

/* Sign-in tokens can be several KB: a 16 KiB Authorization header reaches leadbookd (whose
 * refusal of a token over 8 KiB is its own JSON 401); beyond the buffers, nginx's JSON 400. */
START_TEST(t_big_authorization_headers)
{
    struct e2e_tenant t;
    char token[37], path[128];
    booking_new(&t, "Site headers", token);
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    struct e2e_resp r;

    char *h16 = big_header("Authorization", 16384);
    site(&r, TRUSTED, "GET", "/leads", h16, NULL);
    e2e_expect_401(&r);
    ck_assert_msg(app_saw(&r), "the 16 KiB Authorization header did not reach leadbookd");
    e2e_free(&r);
    /* with the usual headers of a server-side fetch around it */
    size_t hl = strlen(h16) + 512;
    char *hs = malloc(hl);
    ck_assert_ptr_nonnull(hs);
    snprintf(hs, hl,
             "Accept: application/json\r\nUser-Agent: node\r\nAccept-Encoding: gzip, deflate\r\n"
             "%sX-Forwarded-For: 198.18.1.1\r\nIdempotency-Key: "
             "0b7c6a52-3e1f-4b9a-8c7d-2e4f6a8b0c1d\r\n",
             h16);
    site(&r, TRUSTED, "GET", "/agents", hs, NULL);
    e2e_expect_401(&r);
    ck_assert(app_saw(&r));
    e2e_free(&r);
    /* the public path ignores the credential: the booking */
    site_paced(&r, TRUSTED, "GET", path, hs, NULL);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "meetingToken"), token);
    e2e_free(&r);
    free(hs);
    free(h16);

    const char *const json400 = "{\"statusCode\":400,\"message\":\"Request Header Or Cookie Too "
                                "Large\",\"error\":\"Bad Request\"}";
    char *h40 = big_header("Authorization", 40 * 1024);
    site(&r, TRUSTED, "GET", "/leads", h40, NULL);
    expect_nginx_error(&r, 400, "40 KiB Authorization");
    ck_assert_str_eq(r.raw.body, json400);
    e2e_free(&r);
    site(&r, TRUSTED, "GET", path, h40, NULL);
    expect_nginx_error(&r, 400, "40 KiB Authorization, public path");
    e2e_free(&r);
    free(h40);
    char *c40 = big_header("Cookie", 40 * 1024);
    site(&r, TRUSTED, "GET", "/leads", c40, NULL);
    expect_nginx_error(&r, 400, "40 KiB Cookie");
    ck_assert_str_eq(r.raw.body, json400);
    e2e_free(&r);
    free(c40);
    /* many big headers: more than the buffers hold in all */
    char *a = big_header("X-Filler-A", 15000), *b = big_header("X-Filler-B", 15000),
         *c = big_header("X-Filler-C", 15000);
    size_t al = strlen(a) + strlen(b) + strlen(c) + 1;
    char *abc = malloc(al);
    ck_assert_ptr_nonnull(abc);
    snprintf(abc, al, "%s%s%s", a, b, c);
    site(&r, TRUSTED, "GET", "/leads", abc, NULL);
    expect_nginx_error(&r, 400, "3 x 15 KB headers");
    e2e_free(&r);
    free(abc);
    free(a);
    free(b);
    free(c);

    /* long URIs: nginx's 414 beyond 8 KiB (so that URI and headers fit in the one FastCGI
     * record nginx can send); up to that, leadbookd's own answer, never a 500 */
    char *uri = malloc(9100), *auth16 = big_header("Authorization", 16000);
    ck_assert_ptr_nonnull(uri);
    int o = snprintf(uri, 9100, "/leads?x=");
    while (o < 9000)
        uri[o++] = 'q';
    uri[o] = '\0';
    site(&r, TRUSTED, "GET", uri, t.auth, NULL);
    expect_nginx_error(&r, 414, "9000-byte URI");
    e2e_free(&r);
    uri[8100] = '\0';
    site(&r, TRUSTED, "GET", uri, auth16, NULL);
    e2e_expect_401(&r);
    ck_assert(app_saw(&r));
    e2e_free(&r);
    site(&r, TRUSTED, "GET", uri, t.auth, NULL);
    ck_assert_msg(r.status > 0 && r.status < 500 && r.json, "8100-byte URI: %d", r.status);
    ck_assert(app_saw(&r));
    e2e_free(&r);
    free(uri);
    free(auth16);
}
END_TEST

/* The access log's first field is the client address: the visitor's for a request relayed by
 * a trusted frontend server (peer= the frontend's), the connecting one otherwise. */
static void access_line(const struct e2e_resp *r, char *out, size_t outlen)
{
    char rid[64], needle[80], file[600], line[4096];
    ck_assert_ptr_nonnull(e2e_header(r, "X-Request-Id", rid, sizeof rid));
    snprintf(needle, sizeof needle, "rid=%s ", rid);
    snprintf(file, sizeof file, "%s/nginx/access.log", e2e_stack.dir);
    out[0] = '\0';
    for (int i = 0; i < 50 && !out[0]; i++) {
        FILE *f = fopen(file, "r");
        ck_assert_msg(f != NULL, "no %s", file);
        while (fgets(line, sizeof line, f))
            if (strstr(line, needle)) {
                snprintf(out, outlen, "%s", line);
                break;
            }
        fclose(f);
        if (!out[0])
            stack_sleep_ms(20);
    }
    ck_assert_msg(out[0], "no access log line with %s", needle);
}

START_TEST(t_access_log_has_visitor_address)
{
    struct e2e_tenant t;
    char token[37], path[128], line[4096];
    booking_new(&t, "Site log", token);
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    struct e2e_resp r;

    site_paced(&r, TRUSTED, "GET", path, "X-Forwarded-For: 203.0.113.45\r\n", NULL);
    e2e_expect(&r, 200);
    access_line(&r, line, sizeof line);
    ck_assert_msg(strncmp(line, "203.0.113.45 ", 13) == 0, "not the visitor's address: %s", line);
    ck_assert_msg(strstr(line, " peer=127.0.0.1") != NULL, "no peer: %s", line);
    ck_assert_msg(strstr(line, token) == NULL, "the token in the log: %s", line);
    e2e_free(&r);

    site_paced(&r, "127.0.0.5", "GET", path, "X-Forwarded-For: 203.0.113.46\r\n", NULL);
    e2e_expect(&r, 200);
    access_line(&r, line, sizeof line);
    ck_assert_msg(strncmp(line, "127.0.0.5 ", 10) == 0, "not the client's address: %s", line);
    ck_assert_msg(strstr(line, "203.0.113.46") == NULL, "an untrusted XFF was logged: %s", line);
    e2e_free(&r);

    /* nginx's own answers too (the 401 of a relayed request without a credential) */
    site(&r, TRUSTED, "GET", "/leads", "X-Forwarded-For: 203.0.113.47\r\n", NULL);
    ck_assert_int_eq(r.status, 401);
    access_line(&r, line, sizeof line);
    ck_assert_msg(strncmp(line, "203.0.113.47 ", 13) == 0, "not the visitor's address: %s", line);
    e2e_free(&r);
}
END_TEST

/* The probes answer only requests made on this host: not a visitor's request relayed by a
 * (local, trusted) frontend, not another address, whatever X-Forwarded-For claims. */
START_TEST(t_probes_local_only)
{
    struct e2e_resp r;
    const char *probes[] = {"/healthz", "/readyz", "/metrics"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const char *p = probes[i];
        site(&r, TRUSTED, "GET", p, NULL, NULL);
        ck_assert_msg(r.status != 401 && r.status != 403 && r.status > 0, "local %s: %d", p,
                      r.status);
        ck_assert_msg(app_saw(&r), "local %s did not reach leadbookd", p);
        if (strcmp(p, "/healthz") == 0)
            ck_assert_str_eq(r.raw.body, "{\"status\":\"ok\"}");
        e2e_free(&r);

        site(&r, TRUSTED, "GET", p, "X-Forwarded-For: 203.0.113.5\r\n", NULL);
        expect_nginx_error(&r, 403, p);
        e2e_free(&r);
        site(&r, "127.0.0.6", "GET", p, NULL, NULL);
        expect_nginx_error(&r, 403, p);
        e2e_free(&r);
        site(&r, "127.0.0.6", "GET", p, "X-Forwarded-For: 127.0.0.1\r\nAuthorization: Bearer x\r\n",
             NULL);
        expect_nginx_error(&r, 403, p);
        e2e_free(&r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_site");
    TCase *tc = e2e_tcase("site", 180);
    tcase_add_test(tc, t_visitors_behind_trusted_frontend_have_own_limits);
    tcase_add_test(tc, t_untrusted_client_xff_ignored);
    tcase_add_test(tc, t_trailing_slash_is_404_and_throttled);
    tcase_add_test(tc, t_other_spellings_never_the_booking);
    tcase_add_test(tc, t_public_methods);
    tcase_add_test(tc, t_big_authorization_headers);
    tcase_add_test(tc, t_access_log_has_visitor_address);
    tcase_add_test(tc, t_probes_local_only);
    suite_add_tcase(s, tc);
    return e2e_main("site", s);
}
