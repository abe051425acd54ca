/* check_api_defects: one test per defect of the original service (API.md, last section); each
 * would have failed against it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* 1. Lead and booking were two separate writes: a failure between them left a lead with no
 *    booking. A trigger makes the booking insert fail for one magic scheduledAt; the lead must
 *    not survive, and the 500 must not leak internals. */
START_TEST(t_defect1_lead_without_booking)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Defect 1", 0);
    e2e_sql("CREATE OR REPLACE FUNCTION e2e_fail_booking() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.scheduled_at = '2028-03-03T03:03:03.303Z' THEN "
            "RAISE EXCEPTION 'e2e probe: booking insert refused'; END IF; RETURN NEW; END $$",
            E2E_END);
    e2e_sql("CREATE TRIGGER e2e_fail_booking BEFORE INSERT ON bookings FOR EACH ROW EXECUTE "
            "FUNCTION e2e_fail_booking()",
            E2E_END);
    char body[512];
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Atomicity probe\",\"email\":\"p@example.com\","
             "\"scheduledAt\":\"2028-03-03T03:03:03.303Z\"}",
             t.agent_id);
    struct e2e_resp r;
    e2e_call(&r, &t, "POST", "/leads", body);
    long leads = e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", t.id, E2E_END);
    e2e_sql("DROP TRIGGER e2e_fail_booking ON bookings", E2E_END);
    e2e_sql("DROP FUNCTION e2e_fail_booking()", E2E_END);
    e2e_expect_error(&r, 500, "Internal server error");
    ck_assert_ptr_null(strstr(r.raw.body, "probe"));
    ck_assert_int_eq(leads, 0);
    e2e_free(&r);
    /* and the same request without the fault: both rows */
    e2e_call(&r, &t, "POST", "/leads", body);
    e2e_expect(&r, 201);
    e2e_free(&r);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads l JOIN bookings b ON b.lead_id = "
                                  "l.id WHERE l.tenant_id = $1",
                                  t.id, E2E_END),
                     1);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads l WHERE l.tenant_id = $1 AND NOT "
                                  "EXISTS (SELECT 1 FROM bookings b WHERE b.lead_id = l.id)",
                                  t.id, E2E_END),
                     0);
}
END_TEST

/* 2. No tenant check on GET /leads/:id and PATCH /bookings/:id/status; GET /leads without
 *    tenantId returned every tenant's leads. */
START_TEST(t_defect2_no_tenant_check)
{
    struct e2e_tenant a, b;
    e2e_tenant_new(&a, "Defect 2 A", 0);
    e2e_tenant_new(&b, "Defect 2 B", 0);
    char lead[37], booking[37];
    e2e_lead_new(&a, NULL, "A's secret lead", 3600, lead, booking, NULL);
    struct e2e_resp r;
    e2e_callf(&r, &b, "GET", NULL, "/leads/%s", lead);
    e2e_expect_error(&r, 404, NULL);
    ck_assert_ptr_null(strstr(r.raw.body, "secret"));
    e2e_free(&r);
    ck_assert_int_eq(e2e_set_status(&b, booking, "CANCELLED"), 404);
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", booking, E2E_END);
    ck_assert_str_eq(st, "PENDING");
    e2e_call(&r, &b, "GET", "/leads", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 0);
    e2e_free(&r);
}
END_TEST

/* 3. No authentication at all on the API. */
START_TEST(t_defect3_no_authentication)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Defect 3", 0);
    char lead[37], booking[37];
    e2e_lead_new(&t, NULL, "L", 3600, lead, booking, NULL);
    struct {
        const char *method, *fmt, *id, *body;
    } calls[] = {
        {"GET", "/leads", NULL, NULL},
        {"GET", "/leads/stats", NULL, NULL},
        {"GET", "/leads/%s", lead, NULL},
        {"POST", "/leads", NULL, "{}"},
        {"PATCH", "/bookings/%s/status", booking, "{\"status\":\"CANCELLED\"}"},
        {"GET", "/agents", NULL, NULL},
        {"POST", "/agents", NULL, "{\"name\":\"X\",\"knowledge\":\"Long enough text.\"}"},
        {"GET", "/agents/%s", t.agent_id, NULL},
        {"GET", "/agents/by-link/%s", t.agent_link, NULL},
        {"PATCH", "/agents/%s", t.agent_id, "{\"name\":\"X\"}"},
        {"DELETE", "/agents/%s", t.agent_id, NULL},
    };
    /* a credential nginx lets through but the application must refuse */
    const char *creds[] = {NULL, "Authorization: Bearer lbk_forged\r\n"};
    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
            char path[256];
            snprintf(path, sizeof path, calls[i].fmt, calls[i].id);
            struct e2e_resp r;
            e2e_raw(&r, creds[c], calls[i].method, path, calls[i].body,
                    calls[i].body ? strlen(calls[i].body) : 0);
            ck_assert_msg(r.status == 401, "%s %s %s: %d", creds[c] ? "forged" : "no key",
                          calls[i].method, path, r.status);
            char wa[128];
            ck_assert_ptr_nonnull(e2e_header(&r, "WWW-Authenticate", wa, sizeof wa));
            e2e_free(&r);
        }
    }
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM agents WHERE tenant_id = $1", t.id, E2E_END), 1);
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", booking, E2E_END);
    ck_assert_str_eq(st, "PENDING");
}
END_TEST

/* 4. PATCH accepted any status change, including out of final states; a bad status was a 404. */
START_TEST(t_defect4_any_status_change)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Defect 4", 0);
    char booking[37];
    e2e_lead_new(&t, NULL, "L", 3600, NULL, booking, NULL);
    struct e2e_resp r;
    e2e_callf(&r, &t, "PATCH", "{\"status\":\"DONE\"}", "/bookings/%s/status", booking);
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
    ck_assert_int_eq(e2e_set_status(&t, booking, "COMPLETED"), 200);
    const char *back[] = {"PENDING", "CONFIRMED", "CANCELLED", "EXPIRED"};
    for (size_t i = 0; i < 4; i++) {
        char body[64], msg[512];
        snprintf(body, sizeof body, "{\"status\":\"%s\"}", back[i]);
        e2e_callf(&r, &t, "PATCH", body, "/bookings/%s/status", booking);
        e2e_expect_error(&r, 409, NULL);
        e2e_error_text(&r, msg, sizeof msg);
        ck_assert_msg(strstr(msg, "COMPLETED") && strstr(msg, back[i]), "%s", msg);
        e2e_free(&r);
    }
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", booking, E2E_END);
    ck_assert_str_eq(st, "COMPLETED");
}
END_TEST

/* 5. Statistics loaded every booking into memory, and `expired` also counted completed
 *    bookings whose expiry had passed. Many rows, computed exactly. */
START_TEST(t_defect5_stats_in_memory_and_wrong_expired)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Defect 5", 0);
    char booking[37];
    e2e_lead_new(&t, NULL, "Completed long ago", 3600, NULL, booking, NULL);
    ck_assert_int_eq(e2e_set_status(&t, booking, "COMPLETED"), 200);
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '10 days', expires_at = now() - "
            "interval '9 days' WHERE id = $1",
            booking, E2E_END);
    /* 20000 more leads with bookings: 5000 of each of PENDING future, PENDING past expiry,
     * CANCELLED past expiry, COMPLETED past expiry */
    e2e_sql("WITH l AS (INSERT INTO leads (tenant_id, agent_id, name, email) SELECT $1, $2, "
            "'Bulk ' || g, 'bulk@example.com' FROM generate_series(1, 20000) g RETURNING id) "
            "INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, expires_at, status) "
            "SELECT $1, l.id, $2, "
            "CASE WHEN n % 4 = 0 THEN now() + interval '1 day' ELSE now() - interval '2 days' END, "
            "CASE WHEN n % 4 = 0 THEN now() + interval '2 days' ELSE now() - interval '1 day' END, "
            "(CASE n % 4 WHEN 0 THEN 'PENDING' WHEN 1 THEN 'PENDING' WHEN 2 THEN 'CANCELLED' "
            "ELSE 'COMPLETED' END)::booking_status "
            "FROM (SELECT id, row_number() OVER () AS n FROM l) l",
            t.id, t.agent_id, E2E_END);
    struct e2e_resp r;
    e2e_call(&r, &t, "GET", "/leads/stats", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 20001);
    ck_assert_int_eq(e2e_int(r.json, "upcoming"), 5000);
    ck_assert_int_eq(e2e_int(r.json, "completed"), 5001);
    ck_assert_int_eq(e2e_int(r.json, "expired"), 5000); /* only the PENDING past expiry */
    ck_assert_int_eq(e2e_int(r.json, "cancelled"), 5000);
    ck_assert_int_eq(e2e_int(r.json, "confirmed"), 0);
    ck_assert_int_eq(e2e_int(r.json, "conversionRate"), 25); /* 500100 / 20001 = 25.004 */
    e2e_free(&r);
}
END_TEST

/* 6. The public meeting endpoint returned the whole agent and lead records, tenant ids
 *    included. */
START_TEST(t_defect6_meeting_leaks_records)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Defect 6", 0);
    char token[37];
    e2e_lead_new(&t, NULL, "Public lead", 3600, NULL, NULL, token);
    struct e2e_resp r;
    e2e_meeting(&r, token, NULL);
    e2e_expect(&r, 200);
    e2e_keys(e2e_get(r.json, "lead"), "id", "name", "email", E2E_END);
    e2e_keys(e2e_get(r.json, "agent"), "id", "name", "knowledge", E2E_END);
    ck_assert(!json_object_object_get_ex(r.json, "tenantId", NULL));
    const char *leaks[] = {"tenantId", "publicLink", "linkExpiryHours", "bookedAt",
                           "userId",   t.id,         t.agent_link};
    for (size_t i = 0; i < sizeof leaks / sizeof leaks[0]; i++)
        ck_assert_msg(strstr(r.raw.body, leaks[i]) == NULL, "%s in %s", leaks[i], r.raw.body);
    e2e_free(&r);
}
END_TEST

/* 7. Lists had no bound: one request could return a tenant's whole history. */
START_TEST(t_defect7_unbounded_lists)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Defect 7", 0);
    e2e_sql("INSERT INTO leads (tenant_id, agent_id, name, email) SELECT $1, $2, 'Bulk ' || g, "
            "'bulk@example.com' FROM generate_series(1, 1500) g",
            t.id, t.agent_id, E2E_END);
    struct e2e_resp r;
    char link[1024];
    e2e_call(&r, &t, "GET", "/leads", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 100);
    ck_assert_ptr_nonnull(e2e_header(&r, "Link", link, sizeof link));
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/leads?limit=1000", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1000);
    ck_assert_ptr_nonnull(e2e_header(&r, "Link", link, sizeof link));
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/leads?limit=1001", NULL);
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/leads?limit=100000", NULL);
    e2e_expect_error(&r, 400, NULL);
    e2e_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_defects");
    TCase *tc = e2e_tcase("defects", 120);
    tcase_add_test(tc, t_defect1_lead_without_booking);
    tcase_add_test(tc, t_defect2_no_tenant_check);
    tcase_add_test(tc, t_defect3_no_authentication);
    tcase_add_test(tc, t_defect4_any_status_change);
    tcase_add_test(tc, t_defect5_stats_in_memory_and_wrong_expired);
    tcase_add_test(tc, t_defect6_meeting_leaks_records);
    tcase_add_test(tc, t_defect7_unbounded_lists);
    suite_add_tcase(s, tc);
    return e2e_main("defects", s);
}
