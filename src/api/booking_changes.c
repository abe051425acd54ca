/* api/booking_changes: PATCH /bookings/:id (reschedule), PATCH /bookings/meeting/:meetingToken
 * (the prospect's own changes; public: the token is the credential) and GET
 * /bookings/:id/events (the history). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonx.h"
#include "store/booking_changes.h"

static const char booking_not_found[] = "Booking with id %s not found";
static const char meeting_not_found[] = "Meeting not found";

/* A body validated by parse; answers and returns -1 on a refusal. */
static int change_body(struct lb_ctx *ctx, struct lb_change_input *in,
                       enum lb_status (*parse)(json_object *, struct lb_change_input *,
                                               struct lb_msgs *, int64_t))
{
    json_object *body;
    if (api_json_body(ctx, &body) != 0)
        return -1;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = parse(body, in, &msgs, lb_time_now_us());
    json_object_put(body);
    return api_validated(ctx, st, &msgs);
}

/* Answers with what a change statement gave: its status and body (or the key's outcome). */
static void change_answer(struct lb_ctx *ctx, enum lb_status st, int idempotent,
                          struct api_idem *idem, const struct store_answer *ans,
                          const char *not_found_fmt, const char *id)
{
    if (idempotent) {
        api_idem_answer(ctx, idem, st, not_found_fmt, id);
        return;
    }
    if (st != LB_OK) {
        api_store_error(ctx, st, not_found_fmt, id);
        return;
    }
    ctx->res->status = ans->status;
    ctx->res->content_type = NULL;
}

void lb_api_booking_reschedule(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    struct lb_change_input in;
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0 ||
        change_body(ctx, &in, lb_parse_reschedule) != 0)
        return;
    struct api_idem idem;
    int idempotent = api_idem_begin(ctx, &idem);
    if (idempotent < 0)
        return;
    char when[LB_TIME_FMT_PG_SIZE];
    lb_time_format_pg(in.scheduled_at_us, when);
    struct store_actor by;
    lb_ctx_actor(ctx, &by);
    struct lb_buf nf;
    lb_buf_init(&nf);
    lb_error_body(&nf, 404, booking_not_found, id);
    struct store_answer ans = {nf.data ? nf.data : "", 0};
    if (idempotent)
        api_idem_not_found(&idem, booking_not_found, id);
    lb_response_json(ctx->res, 200);
    enum lb_status st =
        store_booking_reschedule(ctx->app->db, ctx->tenant_id, id, when, &by,
                                 idempotent ? &idem.store : NULL, &ans, &ctx->res->body);
    lb_buf_free(&nf);
    change_answer(ctx, st, idempotent, &idem, &ans, booking_not_found, id);
}

void lb_api_booking_prospect(struct lb_ctx *ctx)
{
    lb_response_header(ctx->res, "Cache-Control", "no-store");
    char token[LB_UUID_SIZE];
    const char *raw = lb_request_param(ctx->req, "meetingToken");
    if (!raw || lb_validate_uuid(raw, token) != 0) {
        lb_response_error(ctx->res, 404, meeting_not_found); /* the same answer as GET */
        return;
    }
    struct lb_change_input in;
    if (change_body(ctx, &in, lb_parse_prospect_change) != 0)
        return;
    struct api_idem idem;
    int idempotent = api_idem_begin(ctx, &idem);
    if (idempotent < 0)
        return;
    char when[LB_TIME_FMT_PG_SIZE];
    lb_time_format_pg(in.scheduled_at_us, when);
    struct lb_buf nf;
    lb_buf_init(&nf);
    lb_error_body(&nf, 404, meeting_not_found);
    struct store_answer ans = {nf.data ? nf.data : "", 0};
    if (idempotent)
        api_idem_not_found(&idem, meeting_not_found, "");
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_booking_prospect_change(
        ctx->app->db, token, in.reschedule ? NULL : lb_booking_status_name(in.status),
        in.reschedule ? when : NULL, idempotent ? &idem.store : NULL, &ans, &ctx->res->body);
    lb_buf_free(&nf);
    change_answer(ctx, st, idempotent, &idem, &ans, meeting_not_found, "");
}

void lb_api_booking_events(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_booking_events(ctx->app->db, ctx->tenant_id, id, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, booking_not_found, id);
}
