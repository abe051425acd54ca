/* api/tenants: the web frontend provisions one tenant per signed-in user (POST /tenants) and
 * reads it back; every route shows only the caller's own tenant (the old service listed every
 * tenant to anyone, and answered anyone about any user: API.md defect 8). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonx.h"
#include "store/tenants.h"

static const char tenant_not_found[] = "Tenant not found";
static const char tenant_exists[] = "Tenant already exists for this user";

/* Parses a tenant body; answers and returns -1 on a refusal. */
static int tenant_body(struct lb_ctx *ctx, struct lb_tenant_input *in,
                       enum lb_status (*parse)(json_object *, struct lb_tenant_input *,
                                               struct lb_msgs *))
{
    json_object *body;
    if (api_json_body(ctx, &body) != 0)
        return -1;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = parse(body, in, &msgs);
    json_object_put(body);
    return api_validated(ctx, st, &msgs);
}

void lb_api_tenant_create(struct lb_ctx *ctx)
{
    struct lb_tenant_input in;
    if (tenant_body(ctx, &in, lb_parse_tenant_create) != 0)
        return; /* validation (400) is judged before who may create (403) */
    if (ctx->cred != LB_CRED_USER) {
        lb_response_error(ctx->res, 403, "Tenants are created by signed-in users");
        return;
    }
    if (strcmp(in.user_id, ctx->user_id) != 0) {
        lb_response_error(ctx->res, 403, "userId does not match the signed-in user");
        return;
    }
    struct api_idem idem;
    int idempotent = api_idem_begin(ctx, &idem);
    if (idempotent < 0)
        return;
    lb_response_json(ctx->res, 201);
    if (idempotent) {
        struct lb_buf conflict;
        lb_buf_init(&conflict);
        lb_error_body(&conflict, 409, "%s", tenant_exists);
        enum lb_status st =
            store_tenant_create_for_user_idem(ctx->app->db, ctx->user_id, in.name, &idem.store,
                                              conflict.data ? conflict.data : "", &ctx->res->body);
        lb_buf_free(&conflict);
        api_idem_answer(ctx, &idem, st, "%s", "");
        return;
    }
    enum lb_status st =
        store_tenant_create_for_user(ctx->app->db, ctx->user_id, in.name, &ctx->res->body);
    if (st == LB_CONFLICT)
        lb_response_error(ctx->res, 409, "%s", tenant_exists);
    else if (st != LB_OK)
        api_store_error(ctx, st, "%s", "");
}

void lb_api_tenant_by_user(struct lb_ctx *ctx)
{
    const char *user = lb_request_param(ctx->req, "userId");
    enum lb_status st = LB_NOT_FOUND;
    if (ctx->cred == LB_CRED_USER && !ctx->tenant_id[0] && (!user || strcmp(user, ctx->user_id))) {
        /* a user without a tenant may ask only about themself (API.md) */
        lb_response_error(ctx->res, 403, "No tenant for user %.255s: create it with POST /tenants",
                          ctx->user_id);
        return;
    }
    if (api_check_tenant_query(ctx) != 0)
        return;
    lb_response_json(ctx->res, 200);
    if (!user || !ctx->tenant_id[0]) {
        st = LB_NOT_FOUND;
    } else if (ctx->cred == LB_CRED_USER) {
        /* the caller's own user id, and only once that user has a tenant */
        if (strcmp(user, ctx->user_id) == 0)
            st = store_tenant_get(ctx->app->db, ctx->tenant_id, &ctx->res->body);
    } else {
        st = store_tenant_get_by_user(ctx->app->db, ctx->tenant_id, user, &ctx->res->body);
    }
    if (st != LB_OK)
        api_store_error(ctx, st, tenant_not_found, "");
}

void lb_api_tenant_me(struct lb_ctx *ctx)
{
    if (ctx->tenant_id[0] && api_check_tenant_query(ctx) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = ctx->tenant_id[0]
                            ? store_tenant_get(ctx->app->db, ctx->tenant_id, &ctx->res->body)
                            : LB_NOT_FOUND;
    if (st != LB_OK)
        api_store_error(ctx, st, tenant_not_found, "");
}

void lb_api_tenant_list(struct lb_ctx *ctx)
{
    if (api_check_tenant_query(ctx) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = lb_buf_putc(&ctx->res->body, '[') == 0 ? LB_OK : LB_INTERNAL;
    if (st == LB_OK)
        st = store_tenant_get(ctx->app->db, ctx->tenant_id, &ctx->res->body);
    if (st == LB_NOT_FOUND) /* deleted since the credential was checked */
        st = LB_OK;
    if (st == LB_OK && lb_buf_putc(&ctx->res->body, ']') != 0)
        st = LB_INTERNAL;
    if (st != LB_OK)
        api_store_error(ctx, st, "%s", "");
}

void lb_api_tenant_update(struct lb_ctx *ctx)
{
    struct lb_tenant_input in;
    struct api_idem idem;
    int idempotent;
    if (api_check_tenant_query(ctx) != 0 || tenant_body(ctx, &in, lb_parse_tenant_update) != 0 ||
        (idempotent = api_idem_begin(ctx, &idem)) < 0)
        return;
    lb_response_json(ctx->res, 200);
    if (idempotent) {
        api_idem_not_found(&idem, tenant_not_found, "");
        enum lb_status st = store_tenant_rename_idem(ctx->app->db, ctx->tenant_id, in.name,
                                                     &idem.store, &ctx->res->body);
        api_idem_answer(ctx, &idem, st, tenant_not_found, "");
        return;
    }
    enum lb_status st = store_tenant_rename(ctx->app->db, ctx->tenant_id, in.name, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, tenant_not_found, "");
}
