/* check_webhooks_deliver: the webhook deliverer end to end: the real `leadbookctl webhooks run`
 * (--once, and as a service stopped by SIGTERM) against a real PostgreSQL (t/lib/pgtest) and a
 * receiver in this program (t/e2e/whrx.c: HTTP/1.1 on 127.0.0.1, scripted statuses). Endpoints
 * are inserted with SQL; bookings are created through the store, so the store's statement writes
 * the events and deliveries as in production (src/store/sqloutbox.h). */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "pgtest.h"
#include "store/webhook_deliveries.h"
#include "webhook_http.h"
#include "whrx.h"

#define SECRET "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define OLD_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static char conf_allow[128], conf_none[128];
static char tenant[37], agent[37];
static int lead_seq;
static struct lb_buf ctl_err;

static void sql_value(char *out, size_t len, const char *sql, const char *p1)
{
    const char *v[] = {p1};
    pgtest_sql_value(sql, p1 ? 1 : 0, v, out, len);
}

static long sql_long(const char *sql, const char *p1)
{
    char v[64];
    sql_value(v, sizeof v, sql, p1);
    return atol(v);
}

static void sql_exec(const char *sql, const char *p1)
{
    const char *v[] = {p1};
    PQclear(pgtest_sql(NULL, sql, p1 ? 1 : 0, v));
}

/* A fresh tenant and agent, and no delivery of an earlier test left due. */
static void setup(void)
{
    whrx_start();
    struct lb_db *db = pgtest_db();
    pgtest_tenant(db, tenant);
    pgtest_agent(db, tenant, 0, agent);
    lb_db_free(db);
    sql_exec("UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL "
             "WHERE status = 'pending'",
             NULL);
    lb_buf_init(&ctl_err);
}

static void teardown(void)
{
    whrx_stop();
    lb_buf_free(&ctl_err);
}

/* An endpoint of the test tenant for url (path on the receiver if it starts with '/'). */
static void endpoint(const char *url, char id[37])
{
    char full[256];
    if (url[0] == '/')
        snprintf(full, sizeof full, "http://127.0.0.1:%d%s", whrx_port(), url);
    else
        snprintf(full, sizeof full, "%s", url);
    const char *v[] = {tenant, full, SECRET};
    pgtest_sql_value("INSERT INTO webhook_endpoints (tenant_id, url, events, secret) "
                     "VALUES ($1, $2, ARRAY['booking.created', 'booking.status_changed'], $3) "
                     "RETURNING id",
                     3, v, id, 37);
}

/* Creates a booking (so an event and one delivery per endpoint); its event id to event. */
static void booking(char event[37])
{
    char when[32], bk[37];
    lead_seq++;
    snprintf(when, sizeof when, "2031-0%d-%02dT%02d:00:00Z", 1 + lead_seq / 500,
             1 + lead_seq / 20 % 25, lead_seq % 20);
    struct lb_db *db = pgtest_db();
    pgtest_lead(db, tenant, agent, when, NULL, bk, NULL);
    lb_db_free(db);
    if (event)
        sql_value(event, 37,
                  "SELECT id FROM webhook_events WHERE payload::json#>>'{data,booking,id}' = $1",
                  bk);
}

static int run_once(const char *conf)
{
    char *argv[] = {(char *)pgtest_ctl_path(),
                    "--db",
                    (char *)pgtest_conninfo(),
                    "-c",
                    (char *)conf,
                    "webhooks",
                    "run",
                    "--once",
                    NULL};
    lb_buf_reset(&ctl_err);
    return pgtest_run(argv, NULL, &ctl_err);
}

/* Starts `webhooks run` in the background, its log to log_path; returns its pid. */
static pid_t spawn(const char *conf, const char *log_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log_path, "w", stderr);
        (void)f;
        execl(pgtest_ctl_path(), pgtest_ctl_path(), "--db", pgtest_conninfo(), "-c", conf,
              "webhooks", "run", (char *)NULL);
        _exit(127);
    }
    ck_assert_int_gt(pid, 0);
    return pid;
}

/* SIGTERM, then its exit status within limit_ms (-1: it did not exit: killed). */
static int stop(pid_t pid, int limit_ms, long *took_ms)
{
    int64_t t0 = lb_monotonic_ms();
    kill(pid, SIGTERM);
    int status;
    while (lb_monotonic_ms() - t0 < limit_ms) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            *took_ms = (long)(lb_monotonic_ms() - t0);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int log_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* "v1,<base64 HMAC-SHA256 of id.ts.body>", computed here from the secret independently. */
static void expect_sig(const char *secret, const char *id, const char *ts, const char *body,
                       size_t body_len, char out[64])
{
    const char *b64 = secret + 6;
    unsigned char key[64], mac[32];
    int klen = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)strlen(b64));
    for (const char *p = b64 + strlen(b64) - 1; *p == '='; p--)
        klen--;
    struct lb_buf msg;
    lb_buf_init(&msg);
    lb_buf_printf(&msg, "%s.%s.", id, ts);
    lb_buf_append(&msg, body, body_len);
    unsigned int mlen = 0;
    ck_assert(HMAC(EVP_sha256(), key, klen, (unsigned char *)msg.data, msg.len, mac, &mlen));
    lb_buf_free(&msg);
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mlen);
}

START_TEST(test_created_delivered_signed)
{
    char ep[37], ev[37], payload[8192], want[64], ts[32], sig[200];
    endpoint("/hook?x=1", ep);
    booking(ev);
    whrx_script(1, (int[]){200});
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 1);
    struct whrx_req r;
    whrx_get(0, &r);
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.target, "/hook?x=1");
    sql_value(payload, sizeof payload, "SELECT payload FROM webhook_events WHERE id = $1", ev);
    ck_assert_uint_eq(r.body_len, strlen(payload));
    ck_assert(memcmp(r.body, payload, r.body_len) == 0); /* byte for byte */
    ck_assert_str_eq(whrx_header(&r, "content-type"), "application/json");
    ck_assert_str_eq(whrx_header(&r, "webhook-id"), ev);
    ck_assert(strncmp(whrx_header(&r, "user-agent"), "leadbook-webhooks/", 18) == 0);
    snprintf(ts, sizeof ts, "%s", whrx_header(&r, "webhook-timestamp"));
    long long t = atoll(ts), now = (long long)time(NULL);
    ck_assert(t > now - 60 && t <= now);
    snprintf(sig, sizeof sig, "%s", whrx_header(&r, "webhook-signature"));
    expect_sig(SECRET, ev, ts, r.body, r.body_len, want);
    ck_assert_str_eq(sig, want); /* one secret: one signature */
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'delivered' AND response_status = 200 "
                              "AND delivered_at IS NOT NULL AND next_attempt_at IS NULL",
                              ep),
                     1);
    ck_assert_int_eq(run_once(conf_allow), 0); /* nothing due: nothing sent again */
    ck_assert_int_eq(whrx_count(), 1);
}
END_TEST

START_TEST(test_rotation_two_signatures)
{
    char ep[37], ev[37], want_new[64], want_old[64], hdr[200];
    endpoint("/rot", ep);
    sql_exec("UPDATE webhook_endpoints SET previous_secret = '" OLD_SECRET "', "
             "previous_secret_expires_at = now() + interval '1 hour' WHERE id = $1",
             ep);
    booking(ev);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 1);
    struct whrx_req r;
    whrx_get(0, &r);
    const char *ts = whrx_header(&r, "webhook-timestamp");
    expect_sig(SECRET, ev, ts, r.body, r.body_len, want_new);
    expect_sig(OLD_SECRET, ev, ts, r.body, r.body_len, want_old);
    snprintf(hdr, sizeof hdr, "%s %s", want_new, want_old);
    ck_assert_str_eq(whrx_header(&r, "webhook-signature"), hdr);
    /* once the previous secret has expired, only the current one signs */
    sql_exec("UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 s' "
             "WHERE id = $1",
             ep);
    booking(ev);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 2);
    whrx_get(1, &r);
    expect_sig(SECRET, ev, whrx_header(&r, "webhook-timestamp"), r.body, r.body_len, want_new);
    ck_assert_str_eq(whrx_header(&r, "webhook-signature"), want_new);
}
END_TEST

START_TEST(test_500_then_200)
{
    char ep[37], ev[37];
    endpoint("/flaky", ep);
    booking(ev);
    whrx_script(2, (int[]){500, 200});
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 1);
    /* attempt 1 failed with its retry's time (5 s +- 10 %), attempt 2 pending at that time */
    ck_assert_int_eq(
        sql_long("SELECT count(*) FROM webhook_deliveries f JOIN webhook_deliveries p "
                 "ON p.event_id = f.event_id AND p.attempt = 2 AND p.status = 'pending' "
                 "AND p.next_attempt_at = f.next_attempt_at "
                 "WHERE f.endpoint_id = $1 AND f.attempt = 1 AND f.status = 'failed' "
                 "AND f.response_status = 500 AND f.error LIKE 'HTTP 500%' "
                 "AND f.next_attempt_at BETWEEN now() + interval '3.4 s' AND now() + "
                 "interval '5.6 s'",
                 ep),
        1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_endpoints WHERE id = $1 "
                              "AND failing_since IS NOT NULL AND enabled",
                              ep),
                     1);
    ck_assert_int_eq(run_once(conf_allow), 0); /* not due yet */
    ck_assert_int_eq(whrx_count(), 1);
    sql_exec("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 AND "
             "status = 'pending'",
             ep);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 2);
    struct whrx_req a, b;
    whrx_get(0, &a);
    whrx_get(1, &b);
    ck_assert_str_eq(whrx_header(&a, "webhook-id"), ev);
    ck_assert_str_eq(whrx_header(&b, "webhook-id"), ev); /* the same on every retry */
    ck_assert(a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND attempt = 2 AND status = 'delivered'",
                              ep),
                     1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_endpoints WHERE id = $1 "
                              "AND failing_since IS NULL",
                              ep),
                     1);
}
END_TEST

START_TEST(test_schedule_exhausted)
{
    static const double base[] = {5, 300, 1800, 7200, 18000, 36000, 50400, 72000};
    char ep[37], ev[37], q[64];
    endpoint("/down", ep);
    booking(ev);
    whrx_script(1, (int[]){503});
    for (int a = 1; a <= 9; a++) {
        ck_assert_int_eq(run_once(conf_allow), 0);
        ck_assert_int_eq(whrx_count(), a);
        snprintf(q, sizeof q, "%d", a);
        const char *v[] = {ep, q};
        char delay[64];
        pgtest_sql_value("SELECT coalesce(extract(epoch FROM next_attempt_at - now())::text, "
                         "'none') FROM webhook_deliveries "
                         "WHERE endpoint_id = $1 AND attempt = $2::int AND status = 'failed'",
                         2, v, delay, sizeof delay);
        if (a < 9) {
            double d = atof(delay);
            ck_assert_msg(d > base[a - 1] * 0.9 - 2 && d < base[a - 1] * 1.1 + 0.5,
                          "attempt %d: retry in %s s", a, delay);
        } else {
            ck_assert_str_eq(delay, "none"); /* the last attempt: no retry */
        }
        sql_exec("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 "
                 "AND status = 'pending'",
                 ep);
    }
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'pending'",
                              ep),
                     0);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 9);
}
END_TEST

START_TEST(test_410_disables)
{
    char ep[37], ev[37];
    endpoint("/gone", ep);
    booking(ev);
    booking(ev);
    whrx_script(1, (int[]){410});
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 1); /* the second delivery is not sent */
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND NOT "
                              "enabled AND disabled_reason = '410 Gone from the receiver'",
                              ep),
                     1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'failed' AND next_attempt_at IS NULL",
                              ep),
                     2);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND error LIKE '%disabled%'",
                              ep),
                     1);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 1);
}
END_TEST

START_TEST(test_five_days_disables)
{
    char ep[37], ev[37];
    endpoint("/sick", ep);
    whrx_script(1, (int[]){500});
    sql_exec("UPDATE webhook_endpoints SET failing_since = now() - interval '4 days' "
             "WHERE id = $1",
             ep);
    booking(ev);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND enabled "
                              "AND failing_since < now() - interval '3 days'",
                              ep),
                     1); /* four days: still on, and the run keeps its start */
    sql_exec("UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' "
             "WHERE id = $1",
             ep);
    sql_exec("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 AND "
             "status = 'pending'",
             ep);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 2);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND NOT "
                              "enabled AND disabled_reason = 'failing for 5 days'",
                              ep),
                     1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'pending'",
                              ep),
                     0);
}
END_TEST

/* A refusal is recorded on the delivery and retried like any failure (DNS may change). */
static void expect_refused(const char *url, const char *error_like)
{
    char ep[37], ev[37], err[300];
    endpoint(url, ep);
    booking(ev);
    ck_assert_int_eq(run_once(conf_none), 0);
    ck_assert_int_eq(whrx_count(), 0); /* no connection was made */
    ck_assert_int_eq(whrx_connections(), 0);
    sql_value(err, sizeof err,
              "SELECT error FROM webhook_deliveries WHERE endpoint_id = $1 AND attempt = 1 "
              "AND status = 'failed' AND response_status IS NULL",
              ep);
    ck_assert_msg(strstr(err, error_like) != NULL, "error \"%s\"", err);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND attempt = 2 AND status = 'pending'",
                              ep),
                     1);
}

START_TEST(test_ssrf_refused)
{
    char url[300];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/x", whrx_port());
    expect_refused(url, "address 127.0.0.1 is not public");
    snprintf(url, sizeof url, "https://localhost:%d/x", whrx_port());
    expect_refused(url, "host localhost is not public");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", whrx_port()); /* http: allow-list only */
    expect_refused(url, "not https");
    /* A name that resolves to a non-public address: refused on the socket curl opens. */
    char host[256];
    if (gethostname(host, sizeof host) == 0 && whrx_name_is_private(host)) {
        snprintf(url, sizeof url, "https://%s:%d/x", host, whrx_port());
        expect_refused(url, "is not public");
        expect_refused(url, host);
    }
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    char ep[37], ev[37];
    endpoint("/moved", ep);
    booking(ev);
    whrx_script(1, (int[]){302}); /* Location: the receiver's /elsewhere */
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 1);
    struct whrx_req r;
    whrx_get(0, &r);
    ck_assert_str_eq(r.target, "/moved");
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'failed' AND response_status = 302 "
                              "AND error LIKE '%redirect%'",
                              ep),
                     1);
}
END_TEST

/* Two deliverers on one outbox: each event delivered exactly once, and both take part. Which
 * one claims a due delivery is a race (one may take a whole backlog in a batch), so the test
 * makes the overlap certain: A claims the backlog and is frozen (SIGSTOP) while its lease holds
 * it; B, started meanwhile, must deliver the new events and must not touch A's claims; then A
 * goes on and finishes its own. (The CI run of 8a5fc3b failed the earlier version, which let
 * the two race and asserted that both had won at least once.) */
START_TEST(test_two_deliverers_once_each)
{
    char ep[37];
    endpoint("/many", ep);
    for (int i = 0; i < 8; i++)
        booking(NULL);
    whrx_delay(100); /* each answer takes a while: A is still on its batch when frozen */
    char log1[64], log2[64];
    snprintf(log1, sizeof log1, "/tmp/whd-a-%ld.log", (long)getpid());
    snprintf(log2, sizeof log2, "/tmp/whd-b-%ld.log", (long)getpid());
    pid_t a = spawn(conf_allow, log1);
    for (int i = 0; i < 200 && whrx_count() < 1; i++)
        usleep(25 * 1000);
    kill(a, SIGSTOP); /* no assertion until it is thawed: a failed one would leave it frozen */
    usleep(100 * 1000);
    int by_a = whrx_count(); /* what A sent before it froze; the rest of its batch it holds */
    /* A's batch took the whole backlog: nothing of it is due, so B can only claim new ones */
    long backlog_due = sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                                "AND status = 'pending' AND next_attempt_at <= now()",
                                ep);
    pid_t b = spawn(conf_allow, log2);
    for (int i = 0; i < 100 && !log_has(log2, "event=db_connected"); i++)
        usleep(50 * 1000);
    for (int i = 0; i < 16; i++) {
        booking(NULL);
        usleep(30 * 1000);
    }
    /* A is frozen: the 16 new ones are B's to send, and none of A's claimed 8 (A's curl
     * timeout is 10 s: A is thawed well within it) */
    for (int i = 0; i < 100 && whrx_count() < by_a + 16; i++)
        usleep(50 * 1000);
    usleep(200 * 1000);
    int by_b = whrx_count() - by_a;
    kill(a, SIGCONT);
    if (by_a < 1 || by_a >= 8 || backlog_due != 0 || by_b != 16) {
        kill(a, SIGKILL); /* not left behind by the failure below */
        kill(b, SIGKILL);
    }
    ck_assert_int_ge(by_a, 1);
    ck_assert_int_lt(by_a, 8);
    ck_assert_int_eq(backlog_due, 0);
    ck_assert_int_eq(by_b, 16);
    for (int i = 0; i < 200 && whrx_count() < 24; i++)
        usleep(50 * 1000);
    usleep(300 * 1000);
    long ms;
    ck_assert_int_eq(stop(a, 5000, &ms), 0);
    ck_assert_int_eq(stop(b, 5000, &ms), 0);
    ck_assert_int_eq(whrx_count(), 24);
    ck_assert_int_eq(whrx_distinct_ids(), 24); /* each event exactly once */
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'delivered'",
                              ep),
                     24);
    ck_assert(log_has(log1, "event=webhook_delivered"));
    ck_assert(log_has(log2, "event=webhook_delivered"));
    unlink(log1);
    unlink(log2);
}
END_TEST

START_TEST(test_service_notify_sigterm)
{
    char ep[37], ev[37], log[64];
    endpoint("/svc", ep);
    snprintf(log, sizeof log, "/tmp/whd-svc-%ld.log", (long)getpid());
    pid_t pid = spawn(conf_allow, log);
    for (int i = 0; i < 100 && !log_has(log, "event=db_connected"); i++)
        usleep(50 * 1000);
    usleep(1000 * 1000); /* its first pass is over: asleep until a NOTIFY or the 5 s poll */
    int64_t t0 = lb_monotonic_ms();
    booking(ev);
    for (int i = 0; i < 100 && whrx_count() < 1; i++)
        usleep(20 * 1000);
    long woke = (long)(lb_monotonic_ms() - t0);
    ck_assert_int_eq(whrx_count(), 1);
    ck_assert_msg(woke < 1500, "delivered %ld ms after the booking: not woken by NOTIFY", woke);

    /* The database connections break (a restart, a failover): it reconnects by itself. */
    sql_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()",
             NULL);
    usleep(300 * 1000);
    booking(ev);
    for (int i = 0; i < 200 && whrx_count() < 2; i++)
        usleep(50 * 1000);
    ck_assert_int_eq(whrx_count(), 2);

    /* SIGTERM with a request in flight: it finishes it, records it, exits 0. */
    whrx_delay(1500);
    booking(ev);
    for (int i = 0; i < 200 && whrx_connections() < 3; i++)
        usleep(20 * 1000);
    long ms = 0;
    ck_assert_int_eq(stop(pid, 8000, &ms), 0);
    ck_assert_msg(ms < 4000, "took %ld ms to stop", ms);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'delivered'",
                              ep),
                     3);
    ck_assert(log_has(log, "event=webhooks_stop signal=15"));
    /* never a secret or a payload in the log */
    ck_assert(!log_has(log, SECRET + 6));
    ck_assert(!log_has(log, "lee@example.com"));
    unlink(log);
}
END_TEST

START_TEST(test_sigterm_idle_prompt)
{
    char log[64];
    snprintf(log, sizeof log, "/tmp/whd-idle-%ld.log", (long)getpid());
    pid_t pid = spawn(conf_allow, log);
    for (int i = 0; i < 100 && !log_has(log, "event=webhooks_start"); i++)
        usleep(50 * 1000);
    usleep(200 * 1000);
    long ms = 0;
    ck_assert_int_eq(stop(pid, 5000, &ms), 0);
    ck_assert_msg(ms < 1000, "took %ld ms to stop", ms);
    unlink(log);
}
END_TEST

/* How many recorded requests have this target and webhook-id. */
static int received(const char *target, const char *event)
{
    struct whrx_req *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    int n = 0;
    for (int i = 0; i < whrx_count(); i++) {
        whrx_get(i, r);
        n += strcmp(r->target, target) == 0 && strcmp(whrx_header(r, "webhook-id"), event) == 0;
    }
    free(r);
    return n;
}

/* The ms=N of the deliverer's webhook_failed line for event, -1 if none. */
static long failed_ms(const char *path, const char *event)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    long ms = -1;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "event=webhook_failed") && strstr(line, event) && strstr(line, " ms="))
            ms = atol(strstr(line, " ms=") + 4);
    fclose(f);
    return ms;
}

/* The receiver is down (connections refused) for a while, then up again at the same address:
 * the refusal is recorded on attempt 1, and the real retry (5 s +- 10 %, not hastened here)
 * delivers it. */
START_TEST(test_receiver_down_then_up)
{
    char ep[37], ev[37], err[300], log[64];
    endpoint("/back", ep);
    int port = whrx_port();
    whrx_stop(); /* nothing listens on the port now */
    snprintf(log, sizeof log, "/tmp/whd-down-%ld.log", (long)getpid());
    pid_t pid = spawn(conf_allow, log);
    for (int i = 0; i < 100 && !log_has(log, "event=db_connected"); i++)
        usleep(50 * 1000);
    booking(ev);
    const char *q_failed = "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                           "AND attempt = 1 AND status = 'failed' AND response_status IS NULL";
    for (int i = 0; i < 150 && sql_long(q_failed, ep) == 0; i++)
        usleep(20 * 1000);
    int64_t failed_at = lb_monotonic_ms();
    ck_assert_int_eq(sql_long(q_failed, ep), 1);
    sql_value(err, sizeof err,
              "SELECT error FROM webhook_deliveries WHERE endpoint_id = $1 AND attempt = 1", ep);
    ck_assert_msg(strcasestr(err, "connect") != NULL, "error \"%s\"", err);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND attempt = 2 AND status = 'pending'",
                              ep),
                     1);
    usleep(1500 * 1000); /* down a while longer */
    whrx_start_on(port);
    for (int i = 0; i < 200 && whrx_count() < 1; i++)
        usleep(25 * 1000);
    long waited = (long)(lb_monotonic_ms() - failed_at);
    ck_assert_int_eq(whrx_count(), 1);
    ck_assert_msg(waited > 4000 && waited < 7500, "delivered %ld ms after the refusal", waited);
    ck_assert_int_eq(received("/back", ev), 1);
    usleep(200 * 1000); /* its result is written just after the answer */
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND attempt = 2 AND status = 'delivered' AND response_status = 200",
                              ep),
                     1);
    long ms = 0;
    ck_assert_int_eq(stop(pid, 5000, &ms), 0);
    unlink(log);
}
END_TEST

/* A receiver that hangs past the timeout: the attempt is given up after 10 s (the shipped
 * LB_WEBHOOK_TIMEOUT_MS: there is no knob, so this is the default), recorded as a timeout and
 * retried. Meanwhile the other endpoint's deliveries go out, from the same deliverer: it sends
 * with several threads, one delivery claimed by each, so the hanging receiver holds only one. */
START_TEST(test_hang_past_timeout)
{
    char hang[37], quick[37], ev1[37], ev2[37], ev3[37], err[300], log1[64];
    endpoint("/hang", hang);
    endpoint("/quick", quick);
    whrx_hang("/hang", 12000);
    snprintf(log1, sizeof log1, "/tmp/whd-hang-a-%ld.log", (long)getpid());
    pid_t a = spawn(conf_allow, log1);
    for (int i = 0; i < 100 && !log_has(log1, "event=db_connected"); i++)
        usleep(50 * 1000);
    booking(ev1); /* one delivery to each endpoint */
    /* from now on only the quick endpoint hears of new bookings */
    sql_exec("UPDATE webhook_endpoints SET events = ARRAY['booking.status_changed'] "
             "WHERE id = $1",
             hang);
    for (int i = 0; i < 150 && received("/hang", ev1) == 0; i++)
        usleep(20 * 1000);
    ck_assert_int_eq(received("/hang", ev1), 1);
    int64_t hung_at = lb_monotonic_ms();
    booking(ev2);
    booking(ev3);
    for (int i = 0; i < 300 && (received("/quick", ev1) + received("/quick", ev2) +
                                received("/quick", ev3)) < 3;
         i++)
        usleep(20 * 1000);
    long meanwhile = (long)(lb_monotonic_ms() - hung_at);
    ck_assert_int_eq(received("/quick", ev1), 1);
    ck_assert_int_eq(received("/quick", ev2), 1);
    ck_assert_int_eq(received("/quick", ev3), 1);
    ck_assert_msg(meanwhile < 5000, "the other deliveries waited %ld ms for the hanging one",
                  meanwhile);

    const char *q_timeout = "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                            "AND attempt = 1 AND status = 'failed' AND response_status IS NULL";
    for (int i = 0; i < 300 && sql_long(q_timeout, hang) == 0; i++)
        usleep(50 * 1000);
    long gave_up = (long)(lb_monotonic_ms() - hung_at);
    ck_assert_int_eq(sql_long(q_timeout, hang), 1);
    sql_value(err, sizeof err,
              "SELECT error FROM webhook_deliveries WHERE endpoint_id = $1 AND attempt = 1", hang);
    ck_assert_msg(strcasestr(err, "timed out") != NULL, "error \"%s\"", err);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND attempt = 2 AND status = 'pending' AND next_attempt_at "
                              "BETWEEN now() + interval '3 s' AND now() + interval '5.6 s'",
                              hang),
                     1);
    long took = failed_ms(log1, ev1);
    ck_assert_msg(took >= 9900 && took < 11000, "gave up after %ld ms (10 s wanted)", took);
    ck_assert_msg(gave_up < 11500, "the failure was recorded %ld ms after the hang", gave_up);
    long ms = 0;
    ck_assert_int_eq(stop(a, 5000, &ms), 0); /* before attempt 2 is due (and hangs again) */
    unlink(log1);
}
END_TEST

/* Notifications on leadbook_webhooks that pg has received so far. */
static int notifications(PGconn *pg)
{
    ck_assert_int_eq(PQconsumeInput(pg), 1);
    int n = 0;
    PGnotify *nf;
    while ((nf = PQnotifies(pg)) != NULL) {
        n += strcmp(nf->relname, "leadbook_webhooks") == 0;
        PQfreemem(nf);
    }
    return n;
}

/* The outbox trigger NOTIFYs only when no due delivery is waiting (sql/008_webhook_notify.sql:
 * a NOTIFY serialises commits); the deliverer still takes an event committed while one waits,
 * within its busy-poll interval of a pass. */
START_TEST(test_notify_only_when_idle)
{
    char ep[37], ev1[37], ev2[37], ev3[37], log[64];
    endpoint("/idle", ep);
    PGconn *pg = PQconnectdb(pgtest_conninfo());
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    PQclear(PQexec(pg, "LISTEN leadbook_webhooks"));
    booking(ev1); /* nothing due before it: notifies */
    usleep(100 * 1000);
    ck_assert_int_eq(notifications(pg), 1);
    booking(ev2); /* ev1's delivery is due and unclaimed: no NOTIFY */
    usleep(100 * 1000);
    ck_assert_int_eq(notifications(pg), 0);
    /* a delivery due later (a retry) does not count */
    sql_exec("UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' "
             "WHERE endpoint_id = $1 AND status = 'pending'",
             ep);
    booking(ev3);
    usleep(100 * 1000);
    ck_assert_int_eq(notifications(pg), 1);
    PQfinish(pg);

    /* the deliverer, busy with a slow receiver, takes events whose commit woke nobody */
    sql_exec("UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL "
             "WHERE endpoint_id = $1 AND status = 'pending'",
             ep);
    whrx_delay(400);
    snprintf(log, sizeof log, "/tmp/whd-idle-%ld.log", (long)getpid());
    pid_t pid = spawn(conf_allow, log);
    for (int i = 0; i < 100 && !log_has(log, "event=db_connected"); i++)
        usleep(50 * 1000);
    usleep(300 * 1000);
    int64_t t0 = lb_monotonic_ms();
    for (int i = 0; i < 5; i++) {
        booking(NULL);
        usleep(150 * 1000);
    }
    for (int i = 0; i < 200 && whrx_count() < 5; i++)
        usleep(20 * 1000);
    long took = (long)(lb_monotonic_ms() - t0);
    ck_assert_int_eq(whrx_count(), 5);
    /* 5 x 400 ms of answers, plus at most one busy-poll wait, never the 5 s poll */
    ck_assert_msg(took < 3500, "5 deliveries took %ld ms", took);
    long ms = 0;
    ck_assert_int_eq(stop(pid, 5000, &ms), 0);
    unlink(log);
}
END_TEST

/* A connection with the deliverer's statements prepared (for calling the store directly). */
static const struct lb_db_stmt_set *const whd_catalog[] = {&store_webhook_deliveries_statements,
                                                           NULL};
static struct lb_db *whd_db(void)
{
    struct lb_db_options opt = {pgtest_conninfo(), 5, 10000, NULL, 0};
    struct lb_db *db = lb_db_new(&opt);
    ck_assert_ptr_nonnull(db);
    lb_db_set_statements(db, whd_catalog);
    return db;
}

/* A claim takes one endpoint's due deliveries only (the others stay due, for the next claim);
 * the batch's successes are recorded in one statement, each only while its lease is ours: one
 * whose lease was lost (taken again by another deliverer) is not recorded, the others are. */
START_TEST(test_batch_one_endpoint_lease_lost)
{
    char a[37], b[37];
    endpoint("/a", a);
    endpoint("/b", b);
    for (int i = 0; i < 3; i++)
        booking(NULL); /* 3 deliveries to each endpoint, interleaved */
    struct lb_db *db = whd_db();
    /* the deliverer's session: custom plans (a generic plan made while the outbox tables were
     * small scanned webhook_events whole for every claimed delivery as they grew) */
    ck_assert_int_eq(store_whd_session(db), LB_OK);
    PGresult *r = NULL;
    ck_assert_int_eq(lb_db_exec_once(db, "SELECT current_setting('plan_cache_mode')", 0, NULL, &r),
                     LB_OK);
    ck_assert_str_eq(PQgetvalue(r, 0, 0), "force_custom_plan");
    PQclear(r);
    struct store_whd_batch batch;
    ck_assert_int_eq(store_whd_claim(db, 16, 60, &batch), LB_OK);
    ck_assert_int_eq(batch.count, 3);
    ck_assert_int_eq(batch.more, 1); /* the other endpoint's are due */
    struct store_whd_item it[3];
    long st[3] = {200, 204, 202};
    int owned[3] = {-1, -1, -1};
    for (int i = 0; i < 3; i++) {
        store_whd_item(&batch, i, &it[i]);
        ck_assert_str_eq(it[i].endpoint_id, it[0].endpoint_id);
    }
    const char *mine = it[0].endpoint_id, *other = strcmp(mine, a) == 0 ? b : a;
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'pending' AND next_attempt_at <= now()",
                              other),
                     3);
    /* the second one's lease ran out and another deliverer claimed it again */
    sql_exec("UPDATE webhook_deliveries SET next_attempt_at = now() + interval '61 s' "
             "WHERE id = $1",
             it[1].id);
    ck_assert_int_eq(store_whd_delivered(db, it, st, 3, owned), LB_OK);
    ck_assert_int_eq(owned[0], 1);
    ck_assert_int_eq(owned[1], 0);
    ck_assert_int_eq(owned[2], 1);
    ck_assert_int_eq(sql_long("SELECT response_status FROM webhook_deliveries WHERE id = $1 "
                              "AND status = 'delivered' AND next_attempt_at IS NULL",
                              it[0].id),
                     200);
    ck_assert_int_eq(sql_long("SELECT response_status FROM webhook_deliveries WHERE id = $1 "
                              "AND status = 'delivered'",
                              it[2].id),
                     202);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE id = $1 "
                              "AND status = 'pending' AND response_status IS NULL",
                              it[1].id),
                     1);
    /* the same results again (a retry after a broken connection): nothing is ours any more */
    ck_assert_int_eq(store_whd_delivered(db, it, st, 3, owned), LB_OK);
    ck_assert(!owned[0] && !owned[1] && !owned[2]);
    store_whd_batch_free(&batch);
    /* the next claim takes the other endpoint's three */
    ck_assert_int_eq(store_whd_claim(db, 16, 60, &batch), LB_OK);
    ck_assert_int_eq(batch.count, 3);
    ck_assert_int_eq(batch.more, 0); /* nothing else due */
    for (int i = 0; i < 3; i++) {
        struct store_whd_item o;
        store_whd_item(&batch, i, &o);
        ck_assert_str_eq(o.endpoint_id, other);
    }
    store_whd_batch_free(&batch);
    lb_db_free(db);
}
END_TEST

/* A batch to one receiver goes over one connection (the receiver keeps it open). */
START_TEST(test_batch_one_connection)
{
    char ep[37];
    endpoint("/ka", ep);
    whrx_keepalive(1);
    for (int i = 0; i < 5; i++)
        booking(NULL);
    ck_assert_int_eq(run_once(conf_allow), 0);
    ck_assert_int_eq(whrx_count(), 5);
    ck_assert_int_eq(whrx_distinct_ids(), 5);
    ck_assert_int_eq(whrx_connections(), 1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                              "AND status = 'delivered' AND response_status = 200",
                              ep),
                     5);
}
END_TEST

/* A kept-open connection carries only requests for the host, port, scheme and allow-list
 * decision it was opened (and its address checked) for: a request for another name that
 * resolves to the same address and port opens a connection of its own, checked, and is
 * refused; a request under another allow-list decision is refused before any connection. */
START_TEST(test_reuse_keeps_address_check)
{
    whrx_keepalive(1);
    struct lb_webhook_client *cl = lb_webhook_client_new();
    ck_assert_ptr_nonnull(cl);
    char url[300], host[256] = "";
    struct lb_webhook_request rq = {.url = url,
                                    .allow_hosts = "127.0.0.1",
                                    .event_id = "msg_reuse",
                                    .timestamp = 1700000000,
                                    .signature = "v1,AAAA",
                                    .body = "{}",
                                    .body_len = 2};
    struct lb_webhook_result res;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/one", whrx_port());
    for (int i = 0; i < 3; i++) {
        lb_webhook_post(cl, &rq, &res);
        ck_assert_msg(res.ok, "error \"%s\"", res.error);
    }
    ck_assert_int_eq(whrx_connections(), 1);
    ck_assert_int_eq(lb_webhook_client_connects(cl), 1);
    /* the same host and port without the allow-list: refused, nothing sent */
    rq.allow_hosts = "";
    lb_webhook_post(cl, &rq, &res);
    ck_assert(!res.ok && res.refused);
    ck_assert_int_eq(whrx_count(), 3);
    if (gethostname(host, sizeof host) == 0 && whrx_name_is_private(host)) {
        /* a name allow-listed: its connection opened unchecked and kept ... */
        rq.allow_hosts = host;
        snprintf(url, sizeof url, "http://%s:%d/two", host, whrx_port());
        lb_webhook_post(cl, &rq, &res);
        ck_assert_msg(res.ok, "error \"%s\"", res.error);
        long conns = whrx_connections();
        /* ... is not used for that name when it is not allow-listed: checked, refused */
        rq.allow_hosts = "127.0.0.1";
        snprintf(url, sizeof url, "https://%s:%d/three", host, whrx_port());
        lb_webhook_post(cl, &rq, &res);
        ck_assert(!res.ok && res.refused);
        ck_assert_msg(strstr(res.error, "is not public") != NULL, "error \"%s\"", res.error);
        ck_assert_int_eq(whrx_connections(), conns);
        ck_assert_int_eq(whrx_count(), 4);
    }
    lb_webhook_client_free(cl);
}
END_TEST

/* (Outside any test: no ck_assert here.) */
static int write_conf(char *path, size_t len, const char *name, const char *body)
{
    snprintf(path, len, "/tmp/whd-%s-%ld.conf", name, (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(body, f);
    return fclose(f);
}

int main(void)
{
    if (!pgtest_setup("webhooks_deliver") || lb_webhook_http_init() != 0)
        return EXIT_FAILURE;
    if (write_conf(conf_allow, sizeof conf_allow, "allow",
                   "log_level = info\nwebhook_allow_hosts = 127.0.0.1\n") != 0 ||
        write_conf(conf_none, sizeof conf_none, "none", "log_level = info\n") != 0) {
        perror("check_webhooks_deliver: writing the configuration files");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("webhooks_deliver");
    TCase *tc = tcase_create("deliver");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_created_delivered_signed);
    tcase_add_test(tc, test_rotation_two_signatures);
    tcase_add_test(tc, test_500_then_200);
    tcase_add_test(tc, test_schedule_exhausted);
    tcase_add_test(tc, test_410_disables);
    tcase_add_test(tc, test_five_days_disables);
    tcase_add_test(tc, test_ssrf_refused);
    tcase_add_test(tc, test_redirect_not_followed);
    tcase_add_test(tc, test_two_deliverers_once_each);
    tcase_add_test(tc, test_service_notify_sigterm);
    tcase_add_test(tc, test_sigterm_idle_prompt);
    tcase_add_test(tc, test_receiver_down_then_up);
    tcase_add_test(tc, test_hang_past_timeout);
    tcase_add_test(tc, test_notify_only_when_idle);
    tcase_add_test(tc, test_batch_one_endpoint_lease_lost);
    tcase_add_test(tc, test_batch_one_connection);
    tcase_add_test(tc, test_reuse_keeps_address_check);
    suite_add_tcase(s, tc);
    int rc = pgtest_run_suite(s);
    unlink(conf_allow);
    unlink(conf_none);
    return rc;
}
