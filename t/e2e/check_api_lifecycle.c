/* check_api_lifecycle: reschedules (PATCH /bookings/:id), the prospect's own changes (PATCH
 * /bookings/meeting/:meetingToken) and the history (GET /bookings/:id/events), through every
 * allowed and refused state with the history checked after each; 50 concurrent prospect and
 * tenant changes of one booking ending in one consistent state and history. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"

static unsigned visitor_seq;

/* The prospect's PATCH, from its own visitor address behind the trusted frontend (127.0.0.1),
 * so that the per-visitor limit of the public path is not what is being tested. */
static int prospect(struct e2e_resp *r, const char *token, const char *body)
{
    char headers[128], path[128];
    unsigned v = ++visitor_seq + (unsigned)getpid() * 64u;
    snprintf(headers, sizeof headers, "X-Forwarded-For: 10.%u.%u.%u\r\n", (v >> 16) & 255,
             (v >> 8) & 255, v & 255);
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    for (int i = 0; i < 50; i++) {
        e2e_raw(r, headers, "PATCH", path, body, body ? strlen(body) : 0);
        if (r->status != 429)
            return r->status;
        e2e_free(r);
        stack_sleep_ms(200);
    }
    return r->status;
}

static void when_json(char *out, size_t len, int64_t in_seconds)
{
    char when[40];
    e2e_iso_from_now(in_seconds, when);
    snprintf(out, len, "{\"scheduledAt\":\"%s\"}", when);
}

/* The history as "kind:from>to:by" items joined by " | ", for compact assertions. */
static void history(const struct e2e_tenant *t, const char *booking, char *out, size_t len)
{
    struct e2e_resp r;
    e2e_callf(&r, t, "GET", NULL, "/bookings/%s/events", booking);
    e2e_expect(&r, 200);
    out[0] = '\0';
    size_t n = json_object_array_length(r.json);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(r.json, i);
        e2e_keys(e, "id", "kind", "fromStatus", "toStatus", "fromScheduledAt", "toScheduledAt",
                 "at", "by", E2E_END);
        ck_assert(e2e_is_uuid(e2e_str(e, "id")));
        ck_assert(e2e_is_ts(e2e_str(e, "at")));
        json_object *by = e2e_get(e, "by");
        e2e_keys(by, "kind", "id", E2E_END);
        const char *kind = e2e_str(e, "kind"), *who = e2e_str(by, "kind");
        const char *id = e2e_str(by, "id");
        if (strcmp(who, "key") == 0 || strcmp(who, "user") == 0)
            ck_assert_ptr_nonnull(id);
        else
            ck_assert_ptr_null(id);
        char item[160];
        if (strcmp(kind, "status") == 0) {
            ck_assert_ptr_null(e2e_str(e, "fromScheduledAt"));
            ck_assert_ptr_null(e2e_str(e, "toScheduledAt"));
            const char *from = e2e_str(e, "fromStatus");
            snprintf(item, sizeof item, "status:%s>%s:%s", from ? from : "-",
                     e2e_str(e, "toStatus"), who);
        } else {
            ck_assert_str_eq(kind, "rescheduled");
            ck_assert_ptr_null(e2e_str(e, "fromStatus"));
            ck_assert_ptr_null(e2e_str(e, "toStatus"));
            ck_assert(e2e_is_ts(e2e_str(e, "fromScheduledAt")));
            ck_assert(e2e_is_ts(e2e_str(e, "toScheduledAt")));
            snprintf(item, sizeof item, "rescheduled:%s", who);
        }
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? " | " : "", item);
    }
    e2e_free(&r);
}

START_TEST(t_reschedule_by_tenant)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Reschedule", 2);
    char booking[37], token[37];
    e2e_lead_new(&t, NULL, "Moved Around", 3600, NULL, booking, token);
    /* the agent's linkExpiryHours now: the new expiresAt uses it, not the one at booking */
    e2e_sql("UPDATE agents SET link_expiry_hours = 5 WHERE id = $1", t.agent_id, E2E_END);
    char body[192], path[128];
    when_json(body, sizeof body, 3 * 86400);
    snprintf(path, sizeof path, "/bookings/%s", booking);
    struct e2e_resp r;
    e2e_call(&r, &t, "PATCH", path, body);
    e2e_expect(&r, 200);
    e2e_check_booking(r.json);
    ck_assert_str_eq(e2e_str(r.json, "status"), "PENDING");
    ck_assert_str_eq(e2e_str(r.json, "meetingToken"), token);
    int64_t at = e2e_ts_us(e2e_str(r.json, "scheduledAt"));
    ck_assert_int_eq(e2e_ts_us(e2e_str(r.json, "expiresAt")) - at, INT64_C(5) * 3600 * 1000000);
    char want[40];
    e2e_iso_from_now(3 * 86400, want);
    ck_assert_int_lt(llabs((long long)(at - e2e_ts_us(want))), 5 * 1000000LL);
    e2e_free(&r);
    char h[1024];
    history(&t, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:key | rescheduled:key");

    /* the same time again: 200, nothing recorded */
    char same[128];
    e2e_sql_value(same, sizeof same,
                  "SELECT to_char(scheduled_at AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM bookings WHERE id = $1",
                  booking, E2E_END);
    snprintf(body, sizeof body, "{\"scheduledAt\":\"%s\"}", same);
    e2e_call(&r, &t, "PATCH", path, body);
    e2e_expect(&r, 200);
    e2e_free(&r);
    history(&t, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:key | rescheduled:key");

    /* CONFIRMED may move too */
    ck_assert_int_eq(e2e_set_status(&t, booking, "CONFIRMED"), 200);
    when_json(body, sizeof body, 4 * 86400);
    e2e_call(&r, &t, "PATCH", path, body);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "status"), "CONFIRMED");
    e2e_free(&r);

    /* bad input is a 400 before anything else */
    const char *bad[] = {"{\"scheduledAt\":\"2000-01-01T00:00:00Z\"}", "{\"scheduledAt\":\"soon\"}",
                         "{\"scheduledAt\":\"9999-12-31T23:59:59Z\"}", "{\"status\":\"PENDING\"}",
                         "{}"};
    const char *first_msg[] = {
        "scheduledAt must not be in the past", "scheduledAt must be a valid ISO 8601 date string",
        "scheduledAt must be within 730 days", "property status should not exist",
        "scheduledAt must be a valid ISO 8601 date string"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e2e_call(&r, &t, "PATCH", path, bad[i]);
        e2e_expect_error(&r, 400, NULL);
        char text[512];
        ck_assert_msg(
            strncmp(e2e_error_text(&r, text, sizeof text), first_msg[i], strlen(first_msg[i])) == 0,
            "%s: %s", bad[i], text);
        e2e_free(&r);
    }

    /* final states and an expired booking: 409 */
    ck_assert_int_eq(e2e_set_status(&t, booking, "COMPLETED"), 200);
    when_json(body, sizeof body, 5 * 86400);
    e2e_call(&r, &t, "PATCH", path, body);
    char msg[200];
    snprintf(msg, sizeof msg, "Booking %s cannot be rescheduled: it is COMPLETED", booking);
    e2e_expect_error(&r, 409, msg);
    e2e_free(&r);
    e2e_call(&r, &t, "PATCH", path, "{\"scheduledAt\":\"nope\"}"); /* 400 before 409 */
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
    char late[37];
    e2e_lead_new(&t, NULL, "Too Late", 3600, NULL, late, NULL);
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '3 hours', "
            "expires_at = now() - interval '1 hour' WHERE id = $1",
            late, E2E_END);
    e2e_callf(&r, &t, "PATCH", body, "/bookings/%s", late);
    snprintf(msg, sizeof msg, "Booking %s cannot be rescheduled: it has expired", late);
    e2e_expect_error(&r, 409, msg);
    e2e_free(&r);
    history(&t, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:key | rescheduled:key | status:PENDING>CONFIRMED:key | "
                        "rescheduled:key | status:CONFIRMED>COMPLETED:key");
}
END_TEST

START_TEST(t_prospect_changes)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Prospect", 0);
    char booking[37], token[37];
    e2e_lead_new(&t, NULL, "Pat Prospect", 3600, NULL, booking, token);
    struct e2e_resp r;

    /* 400s: judged before anything */
    const char *bad[] = {"{\"status\":\"COMPLETED\"}",
                         "{\"status\":\"PENDING\"}",
                         "{\"status\":\"CONFIRMED\",\"scheduledAt\":\"2028-01-01T00:00:00Z\"}",
                         "{}",
                         "{\"note\":\"hi\"}",
                         "{\"scheduledAt\":\"2000-01-01T00:00:00Z\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prospect(&r, token, bad[i]);
        e2e_expect_error(&r, 400, NULL);
        e2e_free(&r);
    }
    /* unknown and malformed tokens: the GET's 404 */
    prospect(&r, "00000000-0000-4000-8000-000000000000", "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&r, 404, "Meeting not found");
    e2e_free(&r);
    prospect(&r, "not-a-token", "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&r, 404, "Meeting not found");
    e2e_free(&r);

    /* confirm: the public projection, no tenant in it */
    prospect(&r, token, "{\"status\":\"CONFIRMED\"}");
    e2e_expect(&r, 200);
    e2e_keys(r.json, "id", "leadId", "agentId", "scheduledAt", "status", "expiresAt",
             "meetingToken", "createdAt", "updatedAt", "isExpired", "lead", "agent", E2E_END);
    ck_assert_str_eq(e2e_str(r.json, "status"), "CONFIRMED");
    ck_assert_ptr_null(strstr(r.raw.body, t.id));
    char cc[64];
    ck_assert_ptr_nonnull(e2e_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "no-store");
    e2e_free(&r);
    prospect(&r, token, "{\"status\":\"CONFIRMED\"}"); /* the status it has: no-op */
    e2e_expect(&r, 200);
    e2e_free(&r);
    /* reschedule */
    char body[128];
    when_json(body, sizeof body, 2 * 86400);
    prospect(&r, token, body);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "status"), "CONFIRMED");
    e2e_free(&r);
    char h[1024];
    history(&t, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:key | status:PENDING>CONFIRMED:prospect | "
                        "rescheduled:prospect");
    /* cancel, again (no-op), then nothing more */
    prospect(&r, token, "{\"status\":\"CANCELLED\"}");
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "status"), "CANCELLED");
    e2e_free(&r);
    prospect(&r, token, "{\"status\":\"CANCELLED\"}");
    e2e_expect(&r, 200);
    e2e_free(&r);
    prospect(&r, token, "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&r, 409, "Cannot change booking status from CANCELLED to CONFIRMED");
    e2e_free(&r);
    prospect(&r, token, body);
    e2e_expect_error(&r, 409, "This booking cannot be rescheduled: it is CANCELLED");
    e2e_free(&r);
    prospect(&r, token, "{\"status\":\"COMPLETED\"}"); /* 400 before 409 */
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
    history(&t, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:key | status:PENDING>CONFIRMED:prospect | "
                        "rescheduled:prospect | status:CONFIRMED>CANCELLED:prospect");

    /* an expired booking: 409 for a change, the sweep recorded as the system */
    char late[37], late_token[37];
    e2e_lead_new(&t, NULL, "Late Prospect", 3600, NULL, late, late_token);
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '3 hours', "
            "expires_at = now() - interval '1 hour' WHERE id = $1",
            late, E2E_END);
    prospect(&r, late_token, "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&r, 409, "This booking has expired");
    e2e_free(&r);
    json_object *o = e2e_ctl("expire", E2E_END);
    json_object_put(o);
    history(&t, late, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:key | status:PENDING>EXPIRED:system");
    prospect(&r, late_token, body);
    e2e_expect_error(&r, 409, "This booking cannot be rescheduled: it is EXPIRED");
    e2e_free(&r);

    /* with an Idempotency-Key: scoped to the token, replayed */
    char fresh[37], fresh_token[37], headers[256], path[128];
    e2e_lead_new(&t, NULL, "Idem Prospect", 3600, NULL, fresh, fresh_token);
    snprintf(headers, sizeof headers, "X-Forwarded-For: 10.200.0.1\r\nIdempotency-Key: k-%s\r\n",
             fresh_token);
    snprintf(path, sizeof path, "/bookings/meeting/%s", fresh_token);
    struct e2e_resp first;
    e2e_raw(&first, headers, "PATCH", path, "{\"status\":\"CONFIRMED\"}", 22);
    e2e_expect(&first, 200);
    e2e_raw(&r, headers, "PATCH", path, "{\"status\":\"CONFIRMED\"}", 22);
    e2e_expect(&r, 200);
    ck_assert_int_eq(e2e_header_count(&r, "Idempotent-Replayed"), 1);
    ck_assert_str_eq(r.raw.body, first.raw.body);
    e2e_free(&r);
    e2e_free(&first);
    /* the token in capitals is the same booking and so the same scope: the same key on it is
     * a different path (422), not a second run (the fuzzer found the scope taken as spelled) */
    char upper[37];
    for (int i = 0; i < 37; i++)
        upper[i] = (char)toupper((unsigned char)fresh_token[i]);
    snprintf(path, sizeof path, "/bookings/meeting/%s", upper);
    e2e_raw(&r, headers, "PATCH", path, "{\"status\":\"CANCELLED\"}", 22);
    e2e_expect_error(&r, 422, NULL);
    e2e_free(&r);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM booking_events WHERE booking_id = $1", fresh, E2E_END),
        2);
}
END_TEST

/* Signed-in users are recorded as such; another tenant's booking is a 404 everywhere; the
 * booking-page key may not touch bookings. */
START_TEST(t_history_and_isolation)
{
    struct e2e_tenant u, other, bp;
    e2e_user_new(&u, NULL);
    e2e_user_signup(&u, "History Co");
    struct e2e_resp r;
    e2e_call(&r, &u, "POST", "/agents", "{\"name\":\"H\",\"knowledge\":\"Knows the history.\"}");
    e2e_expect(&r, 201);
    snprintf(u.agent_id, sizeof u.agent_id, "%s", e2e_str(r.json, "id"));
    e2e_free(&r);
    char booking[37];
    e2e_lead_new(&u, u.agent_id, "User Booked", 3600, NULL, booking, NULL);
    char body[128];
    when_json(body, sizeof body, 86400);
    e2e_callf(&r, &u, "PATCH", body, "/bookings/%s", booking);
    e2e_expect(&r, 200);
    e2e_free(&r);
    char h[1024];
    history(&u, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:user | rescheduled:user");
    e2e_callf(&r, &u, "GET", NULL, "/bookings/%s/events", booking);
    json_object *first = json_object_array_get_idx(r.json, 0);
    ck_assert_str_eq(e2e_str(e2e_get(first, "by"), "id"), u.user_id);
    e2e_free(&r);

    e2e_tenant_new(&other, "History Other", 0);
    e2e_callf(&r, &other, "GET", NULL, "/bookings/%s/events", booking);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_callf(&r, &other, "PATCH", body, "/bookings/%s", booking);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_callf(&r, &other, "GET", NULL, "/bookings/%s/events?tenantId=%s", booking, u.id);
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);
    memset(&bp, 0, sizeof bp);
    e2e_booking_key_new(bp.auth, sizeof bp.auth, NULL);
    e2e_callf(&r, &bp, "GET", NULL, "/bookings/%s/events", booking);
    e2e_expect_error(&r, 403, "This key may only be used by the booking page");
    e2e_free(&r);
    e2e_callf(&r, &bp, "PATCH", body, "/bookings/%s", booking);
    e2e_expect_error(&r, 403, NULL);
    e2e_free(&r);
    history(&u, booking, h, sizeof h);
    ck_assert_str_eq(h, "status:->PENDING:user | rescheduled:user");
    e2e_callf(&r, &u, "GET", NULL, "/bookings/%s/events", "not-a-uuid");
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
}
END_TEST

/* 50 concurrent changes, by the tenant and by the prospect, of one booking: the history is one
 * chain (every status event starts where the previous one ended, the last one is the booking's
 * status; every reschedule starts where the previous ended, the last is its time), and every
 * answer is a 200, a 409 or (never) anything else. */
START_TEST(t_concurrent_changes)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Concurrent", 0);
    for (int round = 0; round < 2; round++) {
        char booking[37], token[37];
        e2e_lead_new(&t, NULL, "Contended", 3600, NULL, booking, token);
        enum { N = 50 };
        pid_t kids[N];
        for (int i = 0; i < N; i++) {
            kids[i] = fork();
            ck_assert_int_ge(kids[i], 0);
            if (kids[i] == 0) {
                struct e2e_resp r;
                char body[128];
                int st;
                switch (i % 5) {
                case 0:
                    st = prospect(&r, token, "{\"status\":\"CONFIRMED\"}");
                    break;
                case 1:
                    when_json(body, sizeof body, 86400 + i * 60);
                    st = prospect(&r, token, body);
                    break;
                case 2:
                    when_json(body, sizeof body, 2 * 86400 + i * 60);
                    st = e2e_callf(&r, &t, "PATCH", body, "/bookings/%s", booking);
                    break;
                case 3:
                    st = e2e_callf(&r, &t, "PATCH", "{\"status\":\"CONFIRMED\"}",
                                   "/bookings/%s/status", booking);
                    break;
                default:
                    st = i == 49 ? prospect(&r, token, "{\"status\":\"CANCELLED\"}")
                                 : e2e_callf(&r, &t, "PATCH", "{\"status\":\"CONFIRMED\"}",
                                             "/bookings/%s/status", booking);
                    break;
                }
                _exit(st == 200 ? 0 : st == 409 ? 1 : 2);
            }
        }
        int ok = 0, refused = 0;
        for (int i = 0; i < N; i++) {
            int ws;
            ck_assert_int_eq(waitpid(kids[i], &ws, 0), kids[i]);
            ck_assert(WIFEXITED(ws));
            ck_assert_int_lt(WEXITSTATUS(ws), 2);
            ok += WEXITSTATUS(ws) == 0;
            refused += WEXITSTATUS(ws) == 1;
        }
        ck_assert_int_eq(ok + refused, N);
        /* one chain */
        long broken = e2e_sql_long(
            "WITH e AS (SELECT *, lag(to_status) OVER (PARTITION BY kind ORDER BY seq) AS prev_to, "
            "lag(to_scheduled_at) OVER (PARTITION BY kind ORDER BY seq) AS prev_at "
            "FROM booking_events WHERE booking_id = $1) "
            "SELECT count(*) FROM e WHERE (kind = 'status' AND from_status IS DISTINCT FROM "
            "prev_to) OR (kind = 'rescheduled' AND prev_at IS NOT NULL AND from_scheduled_at <> "
            "prev_at)",
            booking, E2E_END);
        ck_assert_int_eq(broken, 0);
        long last_ok = e2e_sql_long(
            "SELECT count(*) FROM bookings b WHERE b.id = $1 AND b.status = (SELECT to_status "
            "FROM booking_events WHERE booking_id = b.id AND kind = 'status' ORDER BY seq DESC "
            "LIMIT 1) AND b.scheduled_at = COALESCE((SELECT to_scheduled_at FROM booking_events "
            "WHERE booking_id = b.id AND kind = 'rescheduled' ORDER BY seq DESC LIMIT 1), "
            "b.scheduled_at) AND b.expires_at = b.scheduled_at + interval '24 hours'",
            booking, E2E_END);
        ck_assert_int_eq(last_ok, 1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_lifecycle");
    TCase *tc = e2e_tcase("lifecycle", 180);
    tcase_add_test(tc, t_reschedule_by_tenant);
    tcase_add_test(tc, t_prospect_changes);
    tcase_add_test(tc, t_history_and_isolation);
    tcase_add_test(tc, t_concurrent_changes);
    suite_add_tcase(s, tc);
    return e2e_main("lifecycle", s);
}
