/* check_api_happy: every endpoint's happy path through the real nginx, leadbookd and
 * PostgreSQL, with exact statuses, headers and body shapes (API.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* No "tenantId" key at any depth. */
static void assert_no_tenant_id(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            ck_assert_msg(strcmp(k, "tenantId") != 0, "tenantId in public body");
            assert_no_tenant_id(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            assert_no_tenant_id(json_object_array_get_idx(o, i));
    }
}

START_TEST(t_create_lead)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy create", 5);
    char body[512];
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"  Ada Lovelace \",\"email\":\"ada@example.com\","
             "\"scheduledAt\":\"2028-03-04T12:30:15.123+02:00\"}",
             t.agent_id);
    struct e2e_resp r;
    e2e_call(&r, &t, "POST", "/leads", body);
    e2e_expect(&r, 201);
    e2e_keys(r.json, "lead", "booking", "meetingToken", E2E_END);
    json_object *lead = e2e_get(r.json, "lead"), *b = e2e_get(r.json, "booking");
    e2e_check_lead(lead);
    e2e_check_booking(b);
    ck_assert_str_eq(e2e_str(lead, "name"), "Ada Lovelace");
    ck_assert_str_eq(e2e_str(lead, "email"), "ada@example.com");
    ck_assert_str_eq(e2e_str(lead, "agentId"), t.agent_id);
    ck_assert_str_eq(e2e_str(lead, "tenantId"), t.id);
    ck_assert_ptr_nonnull(e2e_str(lead, "bookedAt")); /* set when its booking is made */
    ck_assert_str_eq(e2e_str(b, "leadId"), e2e_str(lead, "id"));
    ck_assert_str_eq(e2e_str(b, "agentId"), t.agent_id);
    ck_assert_str_eq(e2e_str(b, "tenantId"), t.id);
    ck_assert_str_eq(e2e_str(b, "status"), "PENDING");
    ck_assert_str_eq(e2e_str(b, "scheduledAt"), "2028-03-04T10:30:15.123Z");
    /* expiresAt = scheduledAt + linkExpiryHours (5) */
    ck_assert_str_eq(e2e_str(b, "expiresAt"), "2028-03-04T15:30:15.123Z");
    ck_assert_str_eq(e2e_str(r.json, "meetingToken"), e2e_str(b, "meetingToken"));
    ck_assert_str_ne(e2e_str(b, "meetingToken"), e2e_str(b, "id"));

    /* in the database: one lead, one booking, one history row (created, by this key) */
    const char *lead_id = e2e_str(lead, "id"), *booking_id = e2e_str(b, "id");
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", t.id, E2E_END),
                     1);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM bookings WHERE lead_id = $1", lead_id, E2E_END), 1);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM booking_events WHERE booking_id = $1 AND "
                                  "from_status IS NULL AND to_status = 'PENDING'",
                                  booking_id, E2E_END),
                     1);
    e2e_free(&r);

    /* a second lead gets a different token */
    char tok2[37];
    e2e_lead_new(&t, NULL, "Second", 3600, NULL, NULL, tok2);
    ck_assert(e2e_is_v4_uuid(tok2));
    ck_assert_int_eq(e2e_sql_long("SELECT count(DISTINCT meeting_token) FROM bookings WHERE "
                                  "tenant_id = $1",
                                  t.id, E2E_END),
                     2);
}
END_TEST

START_TEST(t_list_leads)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy list", 0);
    char other_agent[37], ids[3][37], bid0[37];
    e2e_agent_new(&t, "Other agent", other_agent);
    e2e_lead_new(&t, NULL, "First", 3600, ids[0], bid0, NULL);
    e2e_lead_new(&t, other_agent, "Second", 7200, ids[1], NULL, NULL);
    e2e_lead_new(&t, NULL, "Third", 10800, ids[2], NULL, NULL);
    /* an older second booking of the first lead: bookings come oldest first */
    e2e_sql("INSERT INTO bookings (tenant_id, lead_id, agent_id, scheduled_at, expires_at, "
            "created_at) SELECT tenant_id, id, agent_id, now() + interval '1 day', "
            "now() + interval '2 days', created_at - interval '1 hour' FROM leads WHERE id = $1",
            ids[0], E2E_END);

    struct e2e_resp r;
    char link[1024];
    e2e_call(&r, &t, "GET", "/leads", NULL);
    e2e_expect(&r, 200);
    ck_assert(json_object_is_type(r.json, json_type_array));
    ck_assert_int_eq(json_object_array_length(r.json), 3);
    ck_assert_ptr_null(e2e_header(&r, "Link", link, sizeof link));
    for (int i = 0; i < 3; i++) {
        json_object *l = json_object_array_get_idx(r.json, (size_t)i);
        e2e_check_lead_full(l);
        ck_assert_str_eq(e2e_str(l, "id"), ids[2 - i]); /* newest first */
        json_object *a = e2e_get(l, "agent");
        if (i == 1) {
            ck_assert_str_eq(e2e_str(a, "id"), other_agent);
            ck_assert_str_eq(e2e_str(a, "name"), "Other agent");
        } else {
            ck_assert_str_eq(e2e_str(a, "id"), t.agent_id);
            ck_assert_str_eq(e2e_str(a, "name"), "Agent Smith");
            ck_assert_str_eq(e2e_str(a, "publicLink"), t.agent_link);
        }
    }
    json_object *first = json_object_array_get_idx(r.json, 2);
    json_object *bs = e2e_get(first, "bookings");
    ck_assert_int_eq(json_object_array_length(bs), 2);
    ck_assert_str_ne(e2e_str(json_object_array_get_idx(bs, 0), "id"), bid0);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(bs, 1), "id"), bid0);
    e2e_free(&r);

    /* one agent's leads; the caller's own tenantId is accepted */
    e2e_callf(&r, &t, "GET", NULL, "/leads?agentId=%s&tenantId=%s", other_agent, t.id);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), ids[1]);
    e2e_free(&r);

    /* a page: Link names the next one */
    e2e_call(&r, &t, "GET", "/leads?limit=2", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 2);
    ck_assert_ptr_nonnull(e2e_header(&r, "Link", link, sizeof link));
    ck_assert_msg(link[0] == '<' && strstr(link, "cursor=") && strstr(link, "limit=2") &&
                      strstr(link, ">; rel=\"next\""),
                  "Link: %s", link);
    e2e_free(&r);

    /* HEAD: the headers of the GET, no body */
    e2e_call(&r, &t, "HEAD", "/leads", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.raw.body_len, 0);
    e2e_free(&r);
}
END_TEST

START_TEST(t_get_lead)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy get", 0);
    char id[37], bid[37];
    e2e_lead_new(&t, NULL, "Grace Hopper", 86400, id, bid, NULL);
    struct e2e_resp r, l;
    e2e_callf(&r, &t, "GET", NULL, "/leads/%s", id);
    e2e_expect(&r, 200);
    e2e_check_lead_full(r.json);
    ck_assert_str_eq(e2e_str(r.json, "id"), id);
    ck_assert_str_eq(e2e_str(r.json, "name"), "Grace Hopper");
    json_object *bs = e2e_get(r.json, "bookings");
    ck_assert_int_eq(json_object_array_length(bs), 1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(bs, 0), "id"), bid);
    /* the same object as in the list */
    e2e_call(&l, &t, "GET", "/leads", NULL);
    e2e_expect(&l, 200);
    ck_assert(json_object_equal(json_object_array_get_idx(l.json, 0), r.json));
    e2e_free(&l);
    e2e_free(&r);
    /* an uppercase id names the same lead */
    char upper[37];
    for (int i = 0; i < 37; i++)
        upper[i] = (id[i] >= 'a' && id[i] <= 'f') ? (char)(id[i] - 32) : id[i];
    e2e_callf(&r, &t, "GET", NULL, "/leads/%s", upper);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "id"), id);
    e2e_free(&r);
    /* unknown */
    e2e_call(&r, &t, "GET", "/leads/00000000-0000-4000-8000-000000000000", NULL);
    e2e_expect_error(&r, 404, "Lead with id 00000000-0000-4000-8000-000000000000 not found");
    e2e_free(&r);
}
END_TEST

START_TEST(t_stats)
{
    struct e2e_tenant t, other;
    e2e_tenant_new(&t, "Happy stats", 0);
    e2e_tenant_new(&other, "Happy stats other", 0);
    e2e_lead_new(&other, NULL, "Not counted", 3600, NULL, NULL, NULL);
    char b[10][37], agent2[37], b2[8][37];
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "Lead %d", i);
        e2e_lead_new(&t, NULL, name, 86400 + i, NULL, b[i], NULL);
    }
    /* b0, b1: PENDING in the future (upcoming) */
    ck_assert_int_eq(e2e_set_status(&t, b[2], "CONFIRMED"), 200); /* confirmed */
    ck_assert_int_eq(e2e_set_status(&t, b[3], "COMPLETED"), 200); /* completed */
    ck_assert_int_eq(e2e_set_status(&t, b[4], "COMPLETED"), 200); /* completed, expiry passed */
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '3 days', expires_at = now() - "
            "interval '2 days' WHERE id = $1",
            b[4], E2E_END);
    ck_assert_int_eq(e2e_set_status(&t, b[5], "CANCELLED"), 200); /* cancelled */
    ck_assert_int_eq(e2e_set_status(&t, b[6], "EXPIRED"), 200);   /* expired (status) */
    /* b7: PENDING past its expiry: expired, not upcoming */
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '2 days', expires_at = now() - "
            "interval '1 day' WHERE id = $1",
            b[7], E2E_END);
    /* b8: CONFIRMED past its expiry: expired and confirmed */
    ck_assert_int_eq(e2e_set_status(&t, b[8], "CONFIRMED"), 200);
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '2 days', expires_at = now() - "
            "interval '1 day' WHERE id = $1",
            b[8], E2E_END);
    /* b9: PENDING, started an hour ago, not yet expired: neither upcoming nor expired */
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '1 hour', expires_at = now() + "
            "interval '23 hours' WHERE id = $1",
            b[9], E2E_END);
    /* a second agent: 8 leads, 1 completed -> 12.5 % rounds half up to 13 */
    e2e_agent_new(&t, "Second agent", agent2);
    for (int i = 0; i < 8; i++)
        e2e_lead_new(&t, agent2, "Agent two lead", 3600, NULL, b2[i], NULL);
    ck_assert_int_eq(e2e_set_status(&t, b2[0], "COMPLETED"), 200);

    struct e2e_resp r;
    e2e_call(&r, &t, "GET", "/leads/stats", NULL);
    e2e_expect(&r, 200);
    e2e_keys(r.json, "totalLeads", "total", "upcoming", "completed", "expired", "confirmed",
             "cancelled", "conversionRate", E2E_END);
    ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 18);
    ck_assert_int_eq(e2e_int(r.json, "total"), 18);
    ck_assert_int_eq(e2e_int(r.json, "upcoming"), 2 + 7);
    ck_assert_int_eq(e2e_int(r.json, "completed"), 3);
    ck_assert_int_eq(e2e_int(r.json, "expired"), 3);
    ck_assert_int_eq(e2e_int(r.json, "confirmed"), 2);
    ck_assert_int_eq(e2e_int(r.json, "cancelled"), 1);
    ck_assert_int_eq(e2e_int(r.json, "conversionRate"), 17); /* 300 / 18 = 16.67 */
    e2e_free(&r);

    e2e_callf(&r, &t, "GET", NULL, "/leads/stats?agentId=%s", t.agent_id);
    e2e_expect(&r, 200);
    ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 10);
    ck_assert_int_eq(e2e_int(r.json, "upcoming"), 2);
    ck_assert_int_eq(e2e_int(r.json, "completed"), 2);
    ck_assert_int_eq(e2e_int(r.json, "expired"), 3);
    ck_assert_int_eq(e2e_int(r.json, "confirmed"), 2);
    ck_assert_int_eq(e2e_int(r.json, "cancelled"), 1);
    ck_assert_int_eq(e2e_int(r.json, "conversionRate"), 20);
    e2e_free(&r);

    e2e_callf(&r, &t, "GET", NULL, "/leads/stats?agentId=%s&tenantId=%s", agent2, t.id);
    e2e_expect(&r, 200);
    ck_assert_int_eq(e2e_int(r.json, "totalLeads"), 8);
    ck_assert_int_eq(e2e_int(r.json, "upcoming"), 7);
    ck_assert_int_eq(e2e_int(r.json, "completed"), 1);
    ck_assert_int_eq(e2e_int(r.json, "expired"), 0);
    ck_assert_int_eq(e2e_int(r.json, "conversionRate"), 13); /* 12.5 rounds half up */
    e2e_free(&r);

    /* no leads at all: zeros, conversionRate 0 */
    struct e2e_tenant empty;
    e2e_tenant_new(&empty, "Happy stats empty", 0);
    e2e_call(&r, &empty, "GET", "/leads/stats", NULL);
    e2e_expect(&r, 200);
    const char *const keys[] = {"totalLeads", "total",     "upcoming",  "completed",
                                "expired",    "confirmed", "cancelled", "conversionRate"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_int_eq(e2e_int(r.json, keys[i]), 0);
    e2e_free(&r);
}
END_TEST

START_TEST(t_meeting_public)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy meeting", 0);
    char body[512];
    snprintf(body, sizeof body,
             "{\"agentId\":\"%s\",\"name\":\"Alan Turing\",\"email\":\"alan@example.org\","
             "\"scheduledAt\":\"2028-06-23T09:15:00Z\"}",
             t.agent_id);
    struct e2e_resp r;
    e2e_call(&r, &t, "POST", "/leads", body);
    e2e_expect(&r, 201);
    char token[37], lead_id[37], booking_id[37];
    snprintf(token, sizeof token, "%s", e2e_str(r.json, "meetingToken"));
    snprintf(lead_id, sizeof lead_id, "%s", e2e_str(e2e_get(r.json, "lead"), "id"));
    snprintf(booking_id, sizeof booking_id, "%s", e2e_str(e2e_get(r.json, "booking"), "id"));
    e2e_free(&r);

    e2e_meeting(&r, token, NULL); /* no Authorization header at all */
    e2e_expect(&r, 200);
    char cc[128];
    ck_assert_ptr_nonnull(e2e_header(&r, "Cache-Control", cc, sizeof cc));
    ck_assert_str_eq(cc, "no-store");
    e2e_keys(r.json, "id", "leadId", "agentId", "scheduledAt", "status", "expiresAt",
             "meetingToken", "createdAt", "updatedAt", "isExpired", "lead", "agent", E2E_END);
    assert_no_tenant_id(r.json);
    ck_assert_ptr_null(strstr(r.raw.body, t.id));
    ck_assert_str_eq(e2e_str(r.json, "id"), booking_id);
    ck_assert_str_eq(e2e_str(r.json, "meetingToken"), token);
    ck_assert_str_eq(e2e_str(r.json, "status"), "PENDING");
    ck_assert_str_eq(e2e_str(r.json, "scheduledAt"), "2028-06-23T09:15:00.000Z");
    ck_assert_str_eq(e2e_str(r.json, "expiresAt"), "2028-06-24T09:15:00.000Z");
    json_object *v = e2e_get(r.json, "isExpired");
    ck_assert(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v));
    json_object *lead = e2e_get(r.json, "lead"), *agent = e2e_get(r.json, "agent");
    e2e_keys(lead, "id", "name", "email", E2E_END);
    ck_assert_str_eq(e2e_str(lead, "id"), lead_id);
    ck_assert_str_eq(e2e_str(lead, "name"), "Alan Turing");
    ck_assert_str_eq(e2e_str(lead, "email"), "alan@example.org");
    e2e_keys(agent, "id", "name", "knowledge", E2E_END);
    ck_assert_str_eq(e2e_str(agent, "id"), t.agent_id);
    ck_assert_str_eq(e2e_str(agent, "name"), "Agent Smith");
    ck_assert_str_eq(e2e_str(agent, "knowledge"), "Knows everything about the houses for sale.");
    e2e_free(&r);

    /* HEAD without credential: 200, no body */
    char path[128];
    snprintf(path, sizeof path, "/bookings/meeting/%s", token);
    e2e_raw(&r, NULL, "HEAD", path, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.raw.body_len, 0);
    e2e_free(&r);

    /* iCalendar */
    e2e_meeting(&r, token, "text/calendar");
    ck_assert_int_eq(r.status, 200);
    char ct[128];
    ck_assert_ptr_nonnull(e2e_header(&r, "Content-Type", ct, sizeof ct));
    ck_assert_msg(strncmp(ct, "text/calendar", 13) == 0, "Content-Type %s", ct);
    const char *ics = r.raw.body;
    ck_assert_msg(strncmp(ics, "BEGIN:VCALENDAR\r\n", 17) == 0, "%s", ics);
    ck_assert_ptr_nonnull(strstr(ics, "\r\nVERSION:2.0\r\n"));
    ck_assert_ptr_nonnull(strstr(ics, "\r\nPRODID:"));
    ck_assert_ptr_nonnull(strstr(ics, "\r\nBEGIN:VEVENT\r\n"));
    ck_assert_ptr_nonnull(strstr(ics, "\r\nUID:"));
    ck_assert_ptr_nonnull(strstr(ics, "\r\nDTSTAMP:"));
    ck_assert_msg(strstr(ics, "\r\nDTSTART:20280623T091500Z\r\n") != NULL, "%s", ics);
    ck_assert_ptr_nonnull(strstr(ics, "\r\nEND:VEVENT\r\n"));
    size_t n = strlen(ics);
    ck_assert(n >= 15 && strcmp(ics + n - 15, "END:VCALENDAR\r\n") == 0);
    ck_assert_ptr_null(strstr(ics, t.id));
    /* every line ends with CRLF and no line is longer than 75 octets (RFC 5545 3.1) */
    for (const char *p = ics; *p;) {
        const char *e = strstr(p, "\r\n");
        ck_assert_msg(e != NULL, "line without CRLF in %s", ics);
        ck_assert_msg(e - p <= 75, "line longer than 75 octets in %s", ics);
        p = e + 2;
    }
    e2e_free(&r);

    /* expired by time: isExpired true */
    e2e_sql("UPDATE bookings SET scheduled_at = now() - interval '2 days', expires_at = now() - "
            "interval '1 day' WHERE id = $1",
            booking_id, E2E_END);
    e2e_meeting(&r, token, NULL);
    e2e_expect(&r, 200);
    ck_assert(json_object_get_boolean(e2e_get(r.json, "isExpired")));
    e2e_free(&r);
    /* a COMPLETED booking is never expired */
    e2e_sql("UPDATE bookings SET status = 'COMPLETED' WHERE id = $1", booking_id, E2E_END);
    e2e_meeting(&r, token, NULL);
    e2e_expect(&r, 200);
    ck_assert(!json_object_get_boolean(e2e_get(r.json, "isExpired")));
    e2e_free(&r);

    /* unknown and malformed tokens: the same 404 */
    struct e2e_resp u;
    e2e_meeting(&r, "00000000-0000-4000-8000-000000000000", NULL);
    e2e_meeting(&u, "not-a-token", NULL);
    e2e_expect_error(&r, 404, NULL);
    e2e_expect_error(&u, 404, NULL);
    ck_assert_str_eq(r.raw.body, u.raw.body);
    e2e_free(&r);
    e2e_free(&u);
}
END_TEST

START_TEST(t_patch_status)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy status", 0);
    char bid[37];
    e2e_lead_new(&t, NULL, "Status lead", 3600, NULL, bid, NULL);
    struct e2e_resp r;
    e2e_callf(&r, &t, "PATCH", "{\"status\":\"CONFIRMED\"}", "/bookings/%s/status", bid);
    e2e_expect(&r, 200);
    e2e_check_booking(r.json);
    ck_assert_str_eq(e2e_str(r.json, "id"), bid);
    ck_assert_str_eq(e2e_str(r.json, "status"), "CONFIRMED");
    ck_assert_int_ge(e2e_ts_us(e2e_str(r.json, "updatedAt")),
                     e2e_ts_us(e2e_str(r.json, "createdAt")));
    e2e_free(&r);
    char who[64];
    e2e_sql_value(who, sizeof who,
                  "SELECT key_id FROM booking_events WHERE booking_id = $1 AND from_status = "
                  "'PENDING' AND to_status = 'CONFIRMED'",
                  bid, E2E_END);
    ck_assert_str_eq(who, t.key_id);
    ck_assert_int_eq(e2e_set_status(&t, bid, "COMPLETED"), 200);
    char st[32];
    e2e_sql_value(st, sizeof st, "SELECT status FROM bookings WHERE id = $1", bid, E2E_END);
    ck_assert_str_eq(st, "COMPLETED");
}
END_TEST

START_TEST(t_agents_crud)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy agents", 0);
    struct e2e_resp r;

    e2e_call(&r, &t, "POST", "/agents",
             "{\"name\":\" Maria \",\"knowledge\":\"Everything about lofts.\"}");
    e2e_expect(&r, 201);
    e2e_check_agent(r.json);
    ck_assert_str_eq(e2e_str(r.json, "name"), "Maria");
    ck_assert_str_eq(e2e_str(r.json, "knowledge"), "Everything about lofts.");
    ck_assert_str_eq(e2e_str(r.json, "tenantId"), t.id);
    ck_assert_int_eq(e2e_int(r.json, "linkExpiryHours"), 24);
    char a1[37], link1[37];
    snprintf(a1, sizeof a1, "%s", e2e_str(r.json, "id"));
    snprintf(link1, sizeof link1, "%s", e2e_str(r.json, "publicLink"));
    json_object *created = json_object_get(r.json);
    e2e_free(&r);

    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"Bo\",\"knowledge\":\"Garden houses only.\",\"linkExpiryHours\":48,"
             "\"tenantId\":\"%s\"}",
             t.id);
    e2e_call(&r, &t, "POST", "/agents", body);
    e2e_expect(&r, 201);
    e2e_check_agent(r.json);
    ck_assert_int_eq(e2e_int(r.json, "linkExpiryHours"), 48);
    char a2[37];
    snprintf(a2, sizeof a2, "%s", e2e_str(r.json, "id"));
    e2e_free(&r);

    /* list: newest first */
    e2e_call(&r, &t, "GET", "/agents", NULL);
    e2e_expect(&r, 200);
    ck_assert(json_object_is_type(r.json, json_type_array));
    ck_assert_int_eq(json_object_array_length(r.json), 3);
    for (size_t i = 0; i < 3; i++)
        e2e_check_agent(json_object_array_get_idx(r.json, i));
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 0), "id"), a2);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 1), "id"), a1);
    ck_assert_str_eq(e2e_str(json_object_array_get_idx(r.json, 2), "id"), t.agent_id);
    e2e_free(&r);

    /* one, and by public link */
    e2e_callf(&r, &t, "GET", NULL, "/agents/%s", a1);
    e2e_expect(&r, 200);
    ck_assert(json_object_equal(r.json, created));
    e2e_free(&r);
    e2e_callf(&r, &t, "GET", NULL, "/agents/by-link/%s", link1);
    e2e_expect(&r, 200);
    ck_assert(json_object_equal(r.json, created));
    e2e_free(&r);

    /* a lead of a1 keeps its expiresAt when a1's linkExpiryHours changes */
    char lead_id[37], bid[37], token[37], expires[40];
    e2e_lead_new(&t, a1, "Lead of Maria", 7200, lead_id, bid, token);
    e2e_sql_value(expires, sizeof expires,
                  "SELECT expires_at - scheduled_at FROM bookings WHERE "
                  "id = $1",
                  bid, E2E_END);
    ck_assert_str_eq(expires, "1 day");

    /* update */
    e2e_callf(&r, &t, "PATCH", "{\"name\":\"Maria Q\",\"linkExpiryHours\":2}", "/agents/%s", a1);
    e2e_expect(&r, 200);
    e2e_check_agent(r.json);
    ck_assert_str_eq(e2e_str(r.json, "id"), a1);
    ck_assert_str_eq(e2e_str(r.json, "name"), "Maria Q");
    ck_assert_str_eq(e2e_str(r.json, "knowledge"), "Everything about lofts.");
    ck_assert_int_eq(e2e_int(r.json, "linkExpiryHours"), 2);
    ck_assert_str_eq(e2e_str(r.json, "createdAt"), e2e_str(created, "createdAt"));
    ck_assert_int_ge(e2e_ts_us(e2e_str(r.json, "updatedAt")),
                     e2e_ts_us(e2e_str(created, "updatedAt")));
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{\"knowledge\":\"Lofts and warehouses.\"}", "/agents/%s", a1);
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "name"), "Maria Q");
    ck_assert_str_eq(e2e_str(r.json, "knowledge"), "Lofts and warehouses.");
    e2e_free(&r);
    e2e_callf(&r, &t, "PATCH", "{}", "/agents/%s", a1); /* empty: changes nothing */
    e2e_expect(&r, 200);
    ck_assert_str_eq(e2e_str(r.json, "knowledge"), "Lofts and warehouses.");
    e2e_free(&r);
    e2e_sql_value(expires, sizeof expires,
                  "SELECT expires_at - scheduled_at FROM bookings WHERE "
                  "id = $1",
                  bid, E2E_END);
    ck_assert_str_eq(expires, "1 day");

    /* delete: the agent, its leads, bookings and their history go */
    e2e_callf(&r, &t, "DELETE", NULL, "/agents/%s", a1);
    e2e_expect(&r, 200);
    e2e_keys(r.json, "message", E2E_END);
    const char *msg = e2e_str(r.json, "message");
    size_t ml = strlen(msg);
    ck_assert_msg(strncmp(msg, "Agent ", 6) == 0 && strstr(msg, a1) && ml > 21 &&
                      strcmp(msg + ml - 21, " successfully deleted") == 0,
                  "message: %s", msg);
    e2e_free(&r);
    e2e_callf(&r, &t, "GET", NULL, "/agents/%s", a1);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_callf(&r, &t, "GET", NULL, "/leads/%s", lead_id);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_callf(&r, &t, "GET", NULL, "/agents/by-link/%s", link1);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_meeting(&r, token, NULL);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    e2e_callf(&r, &t, "DELETE", NULL, "/agents/%s", a1);
    e2e_expect_error(&r, 404, NULL);
    e2e_free(&r);
    /* Its rows are out of sight at once and deleted by the batches of `leadbookctl purge`. */
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads WHERE agent_id = $1", a1, E2E_END),
                     1);
    json_object_put(e2e_ctl("purge", E2E_END));
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads WHERE agent_id = $1", a1, E2E_END),
                     0);
    ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM bookings WHERE agent_id = $1", a1, E2E_END),
                     0);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM booking_events WHERE booking_id = $1", bid, E2E_END), 0);
    ck_assert_int_eq(
        e2e_sql_long("SELECT count(*) FROM agents WHERE tenant_id = $1", t.id, E2E_END), 2);
    json_object_put(created);
}
END_TEST

START_TEST(t_health)
{
    struct e2e_resp r;
    e2e_raw(&r, NULL, "GET", "/healthz", NULL, 0);
    e2e_expect(&r, 200);
    ck_assert_str_eq(r.raw.body, "{\"status\":\"ok\"}");
    e2e_free(&r);
    e2e_raw(&r, NULL, "GET", "/readyz", NULL, 0);
    e2e_expect(&r, 200);
    ck_assert(json_object_is_type(r.json, json_type_object));
    e2e_free(&r);
}
END_TEST

START_TEST(t_readyz_db_down)
{
    /* a stack whose database is a socket directory where nothing listens */
    struct stack s;
    const char *lines[] = {"db = host=/nonexistent/leadbook-no-pg dbname=none", NULL};
    ck_assert_int_eq(stack_start(&s, lines), 0);
    struct httpc_resp r;
    char ra[32], ct[128];
    ck_assert_int_eq(httpc(s.port, "GET", "/healthz", NULL, NULL, 0, &r, 10000), 200);
    httpc_free(&r);
    ck_assert_int_eq(httpc(s.port, "GET", "/readyz", NULL, NULL, 0, &r, 10000), 503);
    ck_assert_ptr_nonnull(httpc_header(&r, "Retry-After", ra, sizeof ra));
    ck_assert_str_eq(httpc_header(&r, "Content-Type", ct, sizeof ct), E2E_JSON_CT);
    json_object *o = json_tokener_parse(r.body);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "statusCode")), 503);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "error")),
                     "Service Unavailable");
    json_object_put(o);
    httpc_free(&r);
    /* an API call cannot check its key: 503 with Retry-After as well, never 401 or 500 */
    ck_assert_int_eq(httpc(s.port, "GET", "/leads", "Authorization: Bearer lbk_whatever\r\n", NULL,
                           0, &r, 10000),
                     503);
    ck_assert_ptr_nonnull(httpc_header(&r, "Retry-After", ra, sizeof ra));
    httpc_free(&r);
    stack_stop(&s);
}
END_TEST

START_TEST(t_request_id_logged)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Happy rid", 0);
    struct e2e_resp r;
    char rid[128], line[200];
    e2e_call(&r, &t, "GET", "/agents", NULL);
    e2e_expect(&r, 200);
    ck_assert_ptr_nonnull(e2e_header(&r, "X-Request-Id", rid, sizeof rid));
    ck_assert_int_eq(e2e_header_count(&r, "X-Request-Id"), 1);
    e2e_free(&r);
    snprintf(line, sizeof line, "rid=%s", rid);
    int seen = 0;
    for (int i = 0; i < 50 && !seen; i++) {
        seen = stack_log_count(&e2e_stack, line);
        if (!seen)
            stack_sleep_ms(20);
    }
    ck_assert_int_eq(seen, 1);
    /* a 401 carries WWW-Authenticate */
    e2e_raw(&r, "Authorization: Bearer lbk_nope\r\n", "GET", "/agents", NULL, 0);
    e2e_expect_401(&r);
    e2e_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_happy");
    TCase *tc = e2e_tcase("happy", 120);
    tcase_add_test(tc, t_create_lead);
    tcase_add_test(tc, t_list_leads);
    tcase_add_test(tc, t_get_lead);
    tcase_add_test(tc, t_stats);
    tcase_add_test(tc, t_meeting_public);
    tcase_add_test(tc, t_patch_status);
    tcase_add_test(tc, t_agents_crud);
    tcase_add_test(tc, t_health);
    tcase_add_test(tc, t_readyz_db_down);
    tcase_add_test(tc, t_request_id_logged);
    suite_add_tcase(s, tc);
    return e2e_main("happy", s);
}
