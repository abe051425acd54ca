/* api/bookings: the public meeting page (JSON or iCalendar) and status changes. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "jsonx.h"
#include "store/bookings.h"

static const char booking_not_found[] = "Booking with id %s not found";

#define MEETING_MINUTES 30 /* the iCalendar event's length: the contract has no duration */
#define ICAL_LINE_OCTETS 75

/* Appends "NAME:value" as RFC 5545 content line(s): text escaped, folded at 75 octets without
 * splitting a UTF-8 sequence, CRLF-terminated. */
static void ical_line(struct lb_buf *b, const char *name, const char *value, int escape)
{
    struct lb_buf line;
    lb_buf_init(&line);
    lb_buf_printf(&line, "%s:", name);
    for (const char *p = value; *p; p++) {
        if (escape && (*p == '\\' || *p == ';' || *p == ',')) {
            lb_buf_putc(&line, '\\');
            lb_buf_putc(&line, *p);
        } else if (escape && *p == '\n') {
            lb_buf_puts(&line, "\\n");
        } else if ((unsigned char)*p >= 0x20 || *p == '\t') {
            lb_buf_putc(&line, *p);
        }
    }
    size_t col = 0;
    for (size_t i = 0; i < line.len; i++) {
        unsigned char c = (unsigned char)line.data[i];
        size_t seq = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (col + seq > ICAL_LINE_OCTETS) {
            lb_buf_puts(b, "\r\n ");
            col = 1;
        }
        for (size_t k = 0; k < seq && i + k < line.len; k++)
            lb_buf_putc(b, line.data[i + k]);
        i += seq - 1;
        col += seq;
    }
    lb_buf_puts(b, "\r\n");
    lb_buf_free(&line);
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

/* "2025-12-31T10:00:00.000Z" (+ minutes) -> "20251231T100000Z" */
static void ical_time(const char *iso, int64_t plus_minutes, char out[20])
{
    int64_t us;
    out[0] = '\0';
    if (lb_time_parse_iso8601(iso, &us) != 0)
        return;
    char f[LB_TIME_FMT_MS_SIZE];
    lb_time_format_ms(us + plus_minutes * 60 * LB_TIME_US_PER_SEC, f);
    snprintf(out, 20, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", f, f + 5, f + 8, f + 11, f + 14, f + 17);
}

static int meeting_as_ical(struct lb_ctx *ctx, const char *json_text)
{
    json_object *m = json_tokener_parse(json_text);
    if (!m)
        return -1;
    json_object *lead = NULL, *agent = NULL;
    json_object_object_get_ex(m, "lead", &lead);
    json_object_object_get_ex(m, "agent", &agent);
    char start[20], end[20], stamp[20], now[LB_TIME_FMT_MS_SIZE];
    ical_time(jstr(m, "scheduledAt"), 0, start);
    ical_time(jstr(m, "scheduledAt"), MEETING_MINUTES, end);
    lb_time_format_ms(lb_time_now_us(), now);
    ical_time(now, 0, stamp);
    const char *status = jstr(m, "status");
    const char *ical_status = strcmp(status, "CONFIRMED") == 0 || strcmp(status, "COMPLETED") == 0
                                  ? "CONFIRMED"
                              : strcmp(status, "PENDING") == 0 ? "TENTATIVE"
                                                               : "CANCELLED";
    char uid[80], summary[400], mailto[300];
    snprintf(uid, sizeof uid, "%s@leadbook", jstr(m, "id"));
    snprintf(summary, sizeof summary, "Meeting with %s", jstr(agent, "name"));
    snprintf(mailto, sizeof mailto, "mailto:%s", jstr(lead, "email"));

    struct lb_buf *b = &ctx->res->body;
    lb_buf_reset(b);
    lb_buf_puts(b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//leadbook//meeting//EN\r\n"
                   "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n");
    ical_line(b, "UID", uid, 0);
    ical_line(b, "DTSTAMP", stamp, 0);
    ical_line(b, "DTSTART", start, 0);
    ical_line(b, "DTEND", end, 0);
    ical_line(b, "SUMMARY", summary, 1);
    ical_line(b, "DESCRIPTION", jstr(agent, "knowledge"), 1);
    ical_line(b, "STATUS", ical_status, 0);
    char attendee[400];
    snprintf(attendee, sizeof attendee, "ATTENDEE;CN=\"%s\"", jstr(lead, "name"));
    /* a CN with quotes or control characters would break the parameter: leave it out then */
    ical_line(b, strpbrk(jstr(lead, "name"), "\"\r\n") ? "ATTENDEE" : attendee, mailto, 0);
    lb_buf_puts(b, "END:VEVENT\r\nEND:VCALENDAR\r\n");
    json_object_put(m);
    ctx->res->content_type = "text/calendar; charset=utf-8";
    return 0;
}

static int wants_ical(const char *accept)
{
    if (!accept)
        return 0;
    const char *cal = strcasestr(accept, "text/calendar");
    const char *json = strcasestr(accept, "application/json");
    return cal && (!json || cal < json);
}

void lb_api_booking_meeting(struct lb_ctx *ctx)
{
    /* the public route: no enumeration help. Malformed and unknown tokens get the same answer */
    lb_response_header(ctx->res, "Cache-Control", "no-store");
    char token[LB_UUID_SIZE];
    const char *raw = lb_request_param(ctx->req, "meetingToken");
    enum lb_status st = LB_NOT_FOUND;
    lb_response_json(ctx->res, 200);
    if (raw && lb_validate_uuid(raw, token) == 0) {
        /* a lag-tolerant read (db_read); a token the replica does not know yet may be a booking
         * made a moment ago: the primary has the last word on a 404 */
        struct lb_db *db = lb_ctx_read_db(ctx, LB_READ_MEETING);
        st = store_booking_meeting(db, token, &ctx->res->body);
        if (lb_ctx_read_retry(ctx, db, st) || (st == LB_NOT_FOUND && db != ctx->app->db))
            st = store_booking_meeting(ctx->app->db, token, &ctx->res->body);
    }
    if (st == LB_NOT_FOUND) {
        lb_response_error(ctx->res, 404, "Meeting not found");
        return;
    }
    if (st != LB_OK) {
        lb_response_status_error(ctx->res, st, ctx->app->cfg->retry_after, NULL);
        return;
    }
    if (wants_ical(ctx->req->accept) && meeting_as_ical(ctx, ctx->res->body.data) != 0)
        lb_response_status_error(ctx->res, LB_INTERNAL, 0, NULL);
}

void lb_api_booking_status(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    json_object *body;
    if (api_json_body(ctx, &body) != 0)
        return;
    struct lb_status_input in;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = lb_parse_status_change(body, &in, &msgs);
    json_object_put(body);
    if (api_validated(ctx, st, &msgs) != 0)
        return;
    const char *to = lb_booking_status_name(in.status);
    char from[STORE_STATUS_LEN] = "";
    struct store_actor by;
    lb_ctx_actor(ctx, &by);
    struct api_idem idem;
    int idempotent = api_idem_begin(ctx, &idem);
    if (idempotent < 0)
        return;
    lb_response_json(ctx->res, 200);
    if (idempotent) {
        api_idem_not_found(&idem, booking_not_found, id);
        st = store_booking_set_status_idem(ctx->app->db, ctx->tenant_id, id, to, &by, &idem.store,
                                           &ctx->res->body);
        api_idem_answer(ctx, &idem, st, booking_not_found, id);
        return;
    }
    st = store_booking_set_status(ctx->app->db, ctx->tenant_id, id, to, &by, &ctx->res->body, from);
    if (st == LB_CONFLICT) {
        lb_response_error(ctx->res, 409, "Cannot change booking status from %s to %s", from, to);
        return;
    }
    if (st != LB_OK)
        api_store_error(ctx, st, booking_not_found, id);
}
