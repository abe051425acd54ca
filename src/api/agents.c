/* api/agents: the tenant's agents (the prerequisite for leads). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonx.h"
#include "store/agents.h"

static const char agent_not_found[] = "Agent with id %s not found";

/* Parses a create/update body; answers and returns -1 on any refusal (incl. a tenantId that
 * is not the key's). The caller frees in. */
static int agent_body(struct lb_ctx *ctx, struct lb_agent_input *in,
                      enum lb_status (*parse)(json_object *, struct lb_agent_input *,
                                              struct lb_msgs *))
{
    memset(in, 0, sizeof *in);
    json_object *body;
    if (api_check_tenant_query(ctx) != 0 || api_json_body(ctx, &body) != 0)
        return -1;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = parse(body, in, &msgs);
    json_object_put(body);
    if (api_validated(ctx, st, &msgs) != 0)
        return -1;
    if ((in->present & LB_AGENT_HAS_TENANT_ID) && api_check_tenant_value(ctx, in->tenant_id) != 0)
        return -1;
    return 0;
}

void lb_api_agent_create(struct lb_ctx *ctx)
{
    struct lb_agent_input in;
    struct api_idem idem;
    int idempotent;
    if (agent_body(ctx, &in, lb_parse_agent_create) == 0 &&
        (idempotent = api_idem_begin(ctx, &idem)) >= 0) {
        lb_response_json(ctx->res, 201);
        int hours = (in.present & LB_AGENT_HAS_LINK_EXPIRY) ? (int)in.link_expiry_hours : 0;
        enum lb_status st;
        if (idempotent) {
            st = store_agent_create_idem(ctx->app->db, ctx->tenant_id, in.name, in.knowledge, hours,
                                         &idem.store, &ctx->res->body);
            api_idem_answer(ctx, &idem, st, "Tenant %s not found", ctx->tenant_id);
        } else {
            st = store_agent_create(ctx->app->db, ctx->tenant_id, in.name, in.knowledge, hours,
                                    &ctx->res->body);
            if (st != LB_OK)
                api_store_error(ctx, st, "Tenant %s not found", ctx->tenant_id);
        }
    }
    lb_agent_input_free(&in);
}

void lb_api_agent_list(struct lb_ctx *ctx)
{
    if (api_check_tenant_query(ctx) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_agent_list(ctx->app->db, ctx->tenant_id, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, "%s", "");
}

void lb_api_agent_get(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_agent_get(ctx->app->db, ctx->tenant_id, id, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, agent_not_found, id);
}

void lb_api_agent_by_link(struct lb_ctx *ctx)
{
    char link[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "publicLink", link) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st =
        ctx->cred == LB_CRED_BOOKING_PAGE
            ? store_agent_by_link_for_booking_page(ctx->app->db, link, &ctx->res->body)
            : store_agent_by_link(ctx->app->db, ctx->tenant_id, link, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, "Agent with public link %s not found", link);
}

void lb_api_agent_update(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_uuid_param(ctx, "id", id) != 0)
        return;
    struct lb_agent_input in;
    struct api_idem idem;
    int idempotent;
    if (agent_body(ctx, &in, lb_parse_agent_update) == 0 &&
        (idempotent = api_idem_begin(ctx, &idem)) >= 0) {
        lb_response_json(ctx->res, 200);
        const char *name = (in.present & LB_AGENT_HAS_NAME) ? in.name : NULL;
        const char *knowledge = (in.present & LB_AGENT_HAS_KNOWLEDGE) ? in.knowledge : NULL;
        int hours = (in.present & LB_AGENT_HAS_LINK_EXPIRY) ? (int)in.link_expiry_hours : -1;
        enum lb_status st;
        if (idempotent) {
            api_idem_not_found(&idem, agent_not_found, id);
            st = store_agent_update_idem(ctx->app->db, ctx->tenant_id, id, name, knowledge, hours,
                                         &idem.store, &ctx->res->body);
            api_idem_answer(ctx, &idem, st, agent_not_found, id);
        } else {
            st = store_agent_update(ctx->app->db, ctx->tenant_id, id, name, knowledge, hours,
                                    &ctx->res->body);
            if (st != LB_OK)
                api_store_error(ctx, st, agent_not_found, id);
        }
    }
    lb_agent_input_free(&in);
}

void lb_api_agent_delete(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    enum lb_status st = store_agent_delete(ctx->app->db, ctx->tenant_id, id);
    if (st != LB_OK) {
        api_store_error(ctx, st, agent_not_found, id);
        return;
    }
    lb_response_json(ctx->res, 200);
    lb_buf_printf(&ctx->res->body, "{\"message\":\"Agent %s successfully deleted\"}", id);
}
