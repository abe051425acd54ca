/* check_api_status: PATCH /bookings/:id/status end to end — every transition allowed or refused,
 * the same-status no-op, bad bodies, unknown and foreign bookings, and 20 concurrent changes of
 * one booking that must end in one consistent state with a valid, append-only history. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"
#include "pgtest.h"

static const char *const statuses[] = {"PENDING", "CONFIRMED", "COMPLETED", "EXPIRED", "CANCELLED"};
#define NSTATUS 5

static int allowed(int from, int to)
{
    /* PENDING -> CONFIRMED | COMPLETED | CANCELLED | EXPIRED; CONFIRMED -> COMPLETED |
     * CANCELLED | EXPIRED */
    if (from == 0)
        return to != 0;
    if (from == 1)
        return to >= 2;
    return 0;
}

static int is_final(const char *s)
{
    return strcmp(s, "COMPLETED") == 0 || strcmp(s, "EXPIRED") == 0 || strcmp(s, "CANCELLED") == 0;
}

/* A booking in status `from`, reached through the API. */
static void booking_in(const struct e2e_tenant *t, int from, char bid[37])
{
    e2e_lead_new(t, NULL, "Transition lead", 86400, NULL, bid, NULL);
    if (from != 0)
        ck_assert_int_eq(e2e_set_status(t, bid, statuses[from]), 200);
}

START_TEST(t_transition_matrix)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Status matrix", 0);
    for (int from = 0; from < NSTATUS; from++) {
        for (int to = 0; to < NSTATUS; to++) {
            char bid[37], before_upd[64], after_upd[64], body[64];
            booking_in(&t, from, bid);
            e2e_sql_value(before_upd, sizeof before_upd,
                          "SELECT updated_at FROM bookings WHERE id = $1", bid, E2E_END);
            long events_before = e2e_sql_long(
                "SELECT count(*) FROM booking_events WHERE booking_id = $1", bid, E2E_END);
            snprintf(body, sizeof body, "{\"status\":\"%s\"}", statuses[to]);
            struct e2e_resp r;
            e2e_callf(&r, &t, "PATCH", body, "/bookings/%s/status", bid);
            char st[32];
            e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", bid, E2E_END);
            e2e_sql_value(after_upd, sizeof after_upd,
                          "SELECT updated_at FROM bookings WHERE id = $1", bid, E2E_END);
            long events_after = e2e_sql_long(
                "SELECT count(*) FROM booking_events WHERE booking_id = $1", bid, E2E_END);
            if (from == to) {
                /* a 200 no-op: nothing changes, not even updatedAt; no history row */
                e2e_expect(&r, 200);
                e2e_check_booking(r.json);
                ck_assert_str_eq(e2e_str(r.json, "status"), statuses[to]);
                ck_assert_str_eq(st, statuses[from]);
                ck_assert_str_eq(after_upd, before_upd);
                ck_assert_int_eq(events_after, events_before);
            } else if (allowed(from, to)) {
                e2e_expect(&r, 200);
                e2e_check_booking(r.json);
                ck_assert_str_eq(e2e_str(r.json, "id"), bid);
                ck_assert_str_eq(e2e_str(r.json, "status"), statuses[to]);
                ck_assert_str_eq(st, statuses[to]);
                ck_assert_int_eq(events_after, events_before + 1);
                ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM booking_events WHERE "
                                              "booking_id = $1 AND from_status = $2::booking_status"
                                              " AND to_status = $3::booking_status AND key_id = $4",
                                              bid, statuses[from], statuses[to], t.key_id, E2E_END),
                                 1);
            } else {
                char msg[512];
                e2e_expect_error(&r, 409, NULL);
                e2e_error_text(&r, msg, sizeof msg);
                ck_assert_msg(strstr(msg, statuses[from]) && strstr(msg, statuses[to]),
                              "409 message must name %s and %s: %s", statuses[from], statuses[to],
                              msg);
                ck_assert_str_eq(st, statuses[from]);
                ck_assert_str_eq(after_upd, before_upd);
                ck_assert_int_eq(events_after, events_before);
            }
            e2e_free(&r);
        }
    }
}
END_TEST

START_TEST(t_noop_keeps_updated_at)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Status noop", 0);
    char bid[37];
    e2e_lead_new(&t, NULL, "Noop", 3600, NULL, bid, NULL);
    struct e2e_resp a, b;
    e2e_callf(&a, &t, "PATCH", "{\"status\":\"CONFIRMED\"}", "/bookings/%s/status", bid);
    e2e_expect(&a, 200);
    stack_sleep_ms(20);
    e2e_callf(&b, &t, "PATCH", "{\"status\":\"CONFIRMED\"}", "/bookings/%s/status", bid);
    e2e_expect(&b, 200);
    ck_assert(json_object_equal(a.json, b.json));
    ck_assert_str_eq(e2e_str(b.json, "updatedAt"), e2e_str(a.json, "updatedAt"));
    e2e_free(&a);
    e2e_free(&b);
}
END_TEST

START_TEST(t_bad_status_bodies)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Status bad", 0);
    char bid[37];
    e2e_lead_new(&t, NULL, "Bad bodies", 3600, NULL, bid, NULL);
    const char *one_of = "status must be one of the following values: PENDING, CONFIRMED, "
                         "COMPLETED, EXPIRED, CANCELLED";
    struct e2e_resp r;
    e2e_callf(&r, &t, "PATCH", "{}", "/bookings/%s/status", bid);
    e2e_expect_messages(&r, one_of, "status should not be empty", E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"status\":null}", "/bookings/%s/status", bid);
    e2e_expect_messages(&r, one_of, "status should not be empty", E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"status\":\"\"}", "/bookings/%s/status", bid);
    e2e_expect_messages(&r, one_of, "status should not be empty", E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"status\":\"confirmed\"}", "/bookings/%s/status", bid);
    e2e_expect_messages(&r, one_of, E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"status\":\"DONE\"}", "/bookings/%s/status", bid);
    e2e_expect_messages(&r, one_of, E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"status\":1}", "/bookings/%s/status", bid);
    e2e_expect_messages(&r, one_of, E2E_END);
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"status\":\"CONFIRMED\",\"note\":\"x\"}", "/bookings/%s/status",
              bid);
    e2e_expect_messages(&r, "property note should not exist", E2E_END);
    e2e_free(&r);
    /* none of these changed anything */
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", bid, E2E_END);
    ck_assert_str_eq(st, "PENDING");
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM booking_events WHERE booking_id = $1", bid, E2E_END), 1);
}
END_TEST

START_TEST(t_unknown_and_foreign)
{
    struct e2e_tenant a, b;
    e2e_tenant_new(&a, "Status A", 0);
    e2e_tenant_new(&b, "Status B", 0);
    char bid[37];
    e2e_lead_new(&a, NULL, "A's lead", 3600, NULL, bid, NULL);
    struct e2e_resp r, u;
    e2e_call(&u, &b, "PATCH", "/bookings/00000000-0000-4000-8000-000000000000/status",
             "{\"status\":\"CONFIRMED\"}");
    e2e_expect_error(&u, 404, NULL);
    /* another tenant's booking: exactly like a missing one */
    e2e_callf(&r, &b, "PATCH", "{\"status\":\"CONFIRMED\"}", "/bookings/%s/status", bid);
    e2e_expect_error(&r, 404, NULL);
    char m1[256], m2[256];
    e2e_error_text(&u, m1, sizeof m1);
    e2e_error_text(&r, m2, sizeof m2);
    ck_assert_ptr_nonnull(strstr(m1, "00000000-0000-4000-8000-000000000000"));
    ck_assert_ptr_nonnull(strstr(m2, bid));
    ck_assert_ptr_null(strstr(m2, a.id));
    e2e_free(&r);
    e2e_free(&u);
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", bid, E2E_END);
    ck_assert_str_eq(st, "PENDING");
}
END_TEST

/* ---- concurrency ---------------------------------------------------------------------- */

#define NCLIENTS 20

struct outcome {
    int http;
    char status[16];
};

static void race_once(int round)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Status race", 0);
    char bid[37];
    e2e_lead_new(&t, NULL, "Raced", 86400, NULL, bid, NULL);

    char auth[NCLIENTS][200], key_id[NCLIENTS][37];
    const char *target[NCLIENTS];
    static const char *const mix[] = {"CONFIRMED", "COMPLETED", "CANCELLED",
                                      "EXPIRED",   "CONFIRMED", "PENDING"};
    for (int i = 0; i < NCLIENTS; i++) {
        e2e_key_new(&t, auth[i], sizeof auth[i], key_id[i]);
        target[i] = mix[(i + round) % 6];
    }

    int go[2], res[2];
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pids[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 0) /* released when the parent closes the pipe */
                _exit(3);
            char path[128], body[64];
            snprintf(path, sizeof path, "/bookings/%s/status", bid);
            snprintf(body, sizeof body, "{\"status\":\"%s\"}", target[i]);
            struct e2e_resp r;
            struct outcome o = {0, ""};
            e2e_raw(&r, auth[i], "PATCH", path, body, strlen(body));
            o.http = r.status;
            json_object *s;
            if (r.json && json_object_object_get_ex(r.json, "status", &s) &&
                json_object_is_type(s, json_type_string))
                snprintf(o.status, sizeof o.status, "%s", json_object_get_string(s));
            struct {
                int i;
                struct outcome o;
            } msg = {i, o};
            ssize_t w = write(res[1], &msg, sizeof msg);
            _exit(w == (ssize_t)sizeof msg ? 0 : 2);
        }
    }
    close(go[0]);
    close(go[1]);
    close(res[1]);
    struct outcome out[NCLIENTS];
    memset(out, 0, sizeof out);
    for (int n = 0; n < NCLIENTS; n++) {
        struct {
            int i;
            struct outcome o;
        } msg;
        ck_assert_int_eq(read(res[0], &msg, sizeof msg), (ssize_t)sizeof msg);
        out[msg.i] = msg.o;
    }
    close(res[0]);
    for (int i = 0; i < NCLIENTS; i++) {
        int ws;
        waitpid(pids[i], &ws, 0);
        ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }

    char final[32];
    e2e_sql_value(final, sizeof final, "SELECT status FROM bookings WHERE id = $1", bid, E2E_END);
    ck_assert_msg(is_final(final), "final state %s is not final", final);
    const char *final_winner = NULL;
    for (int i = 0; i < NCLIENTS; i++) {
        ck_assert_msg(out[i].http == 200 || out[i].http == 409, "client %d (%s): HTTP %d", i,
                      target[i], out[i].http);
        if (out[i].http == 200) {
            ck_assert_str_eq(out[i].status, target[i]);
            if (is_final(target[i])) {
                /* once final, no other final status can succeed: no lost update */
                if (final_winner)
                    ck_assert_str_eq(final_winner, target[i]);
                final_winner = target[i];
            }
        }
    }
    ck_assert_ptr_nonnull(final_winner);
    ck_assert_str_eq(final_winner, final);

    /* the history: a chain from creation (NULL -> PENDING) to the final state */
    const char *param[1] = {bid};
    PGresult *h = pgtest_sql(e2e_conninfo(),
                             "SELECT from_status, to_status, key_id FROM booking_events "
                             "WHERE booking_id = $1 ORDER BY seq",
                             1, param);
    int rows = PQntuples(h);
    ck_assert_int_ge(rows, 2);
    ck_assert(PQgetisnull(h, 0, 0));
    ck_assert_str_eq(PQgetvalue(h, 0, 1), "PENDING");
    int changes_by[NCLIENTS];
    memset(changes_by, 0, sizeof changes_by);
    for (int k = 1; k < rows; k++) {
        ck_assert_str_eq(PQgetvalue(h, k, 0), PQgetvalue(h, k - 1, 1));
        const char *kid = PQgetvalue(h, k, 2);
        int who = -1;
        for (int i = 0; i < NCLIENTS; i++)
            if (strcmp(kid, key_id[i]) == 0)
                who = i;
        ck_assert_msg(who >= 0, "change by an unknown key %s", kid);
        if (who < 0)
            break;
        changes_by[who]++;
        /* exactly one success per actual change: the change's client got 200 with its target */
        ck_assert_int_eq(out[who].http, 200);
        ck_assert_str_eq(PQgetvalue(h, k, 1), target[who]);
    }
    ck_assert_str_eq(PQgetvalue(h, rows - 1, 1), final);
    PQclear(h);
    for (int i = 0; i < NCLIENTS; i++) {
        ck_assert_int_le(changes_by[i], 1);
        /* a 200 without a change is a no-op; a 409 never left a trace */
        if (out[i].http == 409)
            ck_assert_int_eq(changes_by[i], 0);
    }
}

START_TEST(t_concurrent_patches)
{
    for (int round = 0; round < 3; round++)
        race_once(round);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_status");
    TCase *tc = e2e_tcase("status", 180);
    tcase_add_test(tc, t_transition_matrix);
    tcase_add_test(tc, t_noop_keeps_updated_at);
    tcase_add_test(tc, t_bad_status_bodies);
    tcase_add_test(tc, t_unknown_and_foreign);
    tcase_add_test(tc, t_concurrent_patches);
    suite_add_tcase(s, tc);
    return e2e_main("status", s);
}
