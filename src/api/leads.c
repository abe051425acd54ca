/* api/leads: POST /leads, GET /leads (keyset pages), GET /leads/stats, GET /leads/:id. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonx.h"
#include "store/leads.h"

#define LEADS_LIMIT_DEFAULT 100
#define LEADS_LIMIT_MAX 1000

static const char lead_not_found[] = "Lead with id %s not found";
static const char agent_not_found[] = "Agent with id %s not found";

void lb_api_lead_create(struct lb_ctx *ctx)
{
    if (api_check_tenant_query(ctx) != 0)
        return;
    json_object *body;
    if (api_json_body(ctx, &body) != 0)
        return;
    struct lb_lead_input in;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = lb_parse_lead_create(body, &in, &msgs, lb_time_now_us());
    json_object_put(body);
    if (api_validated(ctx, st, &msgs) != 0)
        return;
    char when[LB_TIME_FMT_PG_SIZE];
    lb_time_format_pg(in.scheduled_at_us, when);
    struct store_actor by;
    lb_ctx_actor(ctx, &by);
    struct api_idem idem;
    int idempotent = api_idem_begin(ctx, &idem);
    if (idempotent < 0)
        return;
    lb_response_json(ctx->res, 201);
    /* the booking page's key belongs to no tenant: the agent names it */
    if (idempotent) {
        api_idem_not_found(&idem, agent_not_found, in.agent_id);
        st = store_lead_create_idem(
            ctx->app->db, ctx->cred == LB_CRED_BOOKING_PAGE ? NULL : ctx->tenant_id, in.agent_id,
            in.name, in.email, when, &by, &idem.store, &ctx->res->body);
        api_idem_answer(ctx, &idem, st, agent_not_found, in.agent_id);
        return;
    }
    if (ctx->cred == LB_CRED_BOOKING_PAGE)
        st = store_lead_create_for_agent(ctx->app->db, in.agent_id, in.name, in.email, when, &by,
                                         &ctx->res->body);
    else
        st = store_lead_create(ctx->app->db, ctx->tenant_id, in.agent_id, in.name, in.email, when,
                               &by, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, agent_not_found, in.agent_id);
}

/* The optional agentId filter of the list and the statistics. */
static int agent_filter(struct lb_ctx *ctx, char id[LB_UUID_SIZE], const char **filter)
{
    const char *agent;
    *filter = NULL;
    if (api_query_single(ctx, "agentId", &agent) != 0)
        return -1;
    if (!agent)
        return 0;
    if (lb_validate_uuid(agent, id) != 0) {
        lb_response_error_array(ctx->res, 400, "[\"agentId must be a UUID\"]");
        return -1;
    }
    *filter = id;
    return 0;
}

static void add_next_link(struct lb_ctx *ctx, const char *agent, long limit,
                          const struct store_cursor *next)
{
    char cursor[LB_CURSOR_SIZE];
    if (lb_cursor_encode(next->created_us, next->id, cursor, sizeof cursor) != 0)
        return;
    const char *tenant = lb_request_query(ctx->req, "tenantId", NULL);
    lb_response_header(ctx->res, "Link", "</leads?limit=%ld&cursor=%s%s%s%s%s>; rel=\"next\"",
                       limit, cursor, agent ? "&agentId=" : "", agent ? agent : "",
                       tenant ? "&tenantId=" : "", tenant ? ctx->tenant_id : "");
}

void lb_api_lead_list(struct lb_ctx *ctx)
{
    char agent_id[LB_UUID_SIZE];
    const char *agent, *limit_text, *cursor_text;
    if (api_check_tenant_query(ctx) != 0 || agent_filter(ctx, agent_id, &agent) != 0 ||
        api_query_single(ctx, "limit", &limit_text) != 0 ||
        api_query_single(ctx, "cursor", &cursor_text) != 0)
        return;
    long limit = LEADS_LIMIT_DEFAULT;
    if (limit_text && lb_parse_limit(limit_text, 1, LEADS_LIMIT_MAX, &limit) != 0) {
        lb_response_error_array(ctx->res, 400, "[\"limit must be an integer between 1 and 1000\"]");
        return;
    }
    struct store_cursor after, next;
    if (cursor_text && lb_cursor_decode(cursor_text, &after.created_us, after.id) != 0) {
        lb_response_error_array(ctx->res, 400, "[\"cursor is not a valid page cursor\"]");
        return;
    }
    int has_more = 0;
    lb_response_json(ctx->res, 200);
    enum lb_status st =
        store_lead_list(ctx->app->db, ctx->tenant_id, agent, (int)limit,
                        cursor_text ? &after : NULL, &next, &has_more, &ctx->res->body);
    if (st != LB_OK) {
        api_store_error(ctx, st, "%s", "");
        return;
    }
    if (has_more)
        add_next_link(ctx, agent, limit, &next);
}

void lb_api_lead_stats(struct lb_ctx *ctx)
{
    char agent_id[LB_UUID_SIZE];
    const char *agent;
    if (api_check_tenant_query(ctx) != 0 || agent_filter(ctx, agent_id, &agent) != 0)
        return;
    lb_response_json(ctx->res, 200);
    struct lb_db *db = lb_ctx_read_db(ctx, LB_READ_STATS); /* lag-tolerant (db_read) */
    enum lb_status st = store_lead_stats(db, ctx->tenant_id, agent, &ctx->res->body);
    if (lb_ctx_read_retry(ctx, db, st))
        st = store_lead_stats(ctx->app->db, ctx->tenant_id, agent, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, "%s", "");
}

void lb_api_lead_get(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_lead_get(ctx->app->db, ctx->tenant_id, id, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, lead_not_found, id);
}
