/* api/common: the checks every handler shares, each answering the request when it refuses. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "jsonx.h"

int api_query_single(struct lb_ctx *ctx, const char *name, const char **value)
{
    size_t count;
    *value = lb_request_query(ctx->req, name, &count);
    if (count > 1) {
        char msgs[160];
        snprintf(msgs, sizeof msgs, "[\"%s must be given at most once\"]", name);
        lb_response_error_array(ctx->res, 400, msgs);
        return -1;
    }
    return 0;
}

int api_check_tenant_value(struct lb_ctx *ctx, const char *tenant_id)
{
    if (tenant_id[0] && strcmp(tenant_id, ctx->tenant_id) != 0) {
        lb_response_error(ctx->res, 403, "tenantId does not match the tenant of the API key");
        return -1;
    }
    return 0;
}

int api_check_tenant_query(struct lb_ctx *ctx)
{
    const char *tenant;
    if (api_query_single(ctx, "tenantId", &tenant) != 0)
        return -1;
    if (!tenant)
        return 0;
    char id[LB_UUID_SIZE];
    if (lb_validate_uuid(tenant, id) != 0) {
        lb_response_error_array(ctx->res, 400, "[\"tenantId must be a UUID\"]");
        return -1;
    }
    return api_check_tenant_value(ctx, id);
}

int api_uuid_param(struct lb_ctx *ctx, const char *name, char out[LB_UUID_SIZE])
{
    const char *v = lb_request_param(ctx->req, name);
    if (!v || lb_validate_uuid(v, out) != 0) {
        lb_response_error(ctx->res, 400, "Validation failed (uuid is expected)");
        return -1;
    }
    return 0;
}

static int is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    static const char json[] = "application/json";
    if (strncasecmp(ct, json, sizeof json - 1) != 0)
        return 0;
    char next = ct[sizeof json - 1];
    return next == '\0' || next == ';' || next == ' ';
}

void api_validation_error(struct lb_ctx *ctx, const struct lb_msgs *msgs)
{
    struct lb_buf arr;
    lb_buf_init(&arr);
    lb_msgs_to_json(msgs, &arr);
    lb_response_error_array(ctx->res, 400, arr.data ? arr.data : "[]");
    lb_buf_free(&arr);
}

int api_validated(struct lb_ctx *ctx, enum lb_status st, const struct lb_msgs *msgs)
{
    if (st == LB_OK)
        return 0;
    if (st == LB_INVALID)
        api_validation_error(ctx, msgs);
    else
        lb_response_status_error(ctx->res, st, ctx->app->cfg->retry_after, NULL);
    return -1;
}

int api_json_body(struct lb_ctx *ctx, json_object **obj)
{
    *obj = NULL;
    if (ctx->req->body_len == 0) {
        /* no body at all: the fields it lacks are what is wrong (API.md: 400, not 415) */
        *obj = json_object_new_object();
        if (!*obj) {
            lb_response_status_error(ctx->res, LB_INTERNAL, ctx->app->cfg->retry_after, NULL);
            return -1;
        }
        return 0;
    }
    if (!is_json_type(ctx->req->content_type)) {
        lb_response_error(ctx->res, 415, "Content-Type must be application/json");
        return -1;
    }
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st =
        lb_json_parse_body(ctx->req->body ? ctx->req->body : "", ctx->req->body_len, obj, &msgs);
    if (st == LB_INVALID) {
        api_validation_error(ctx, &msgs);
        return -1;
    }
    if (st != LB_OK) {
        lb_response_status_error(ctx->res, st, ctx->app->cfg->retry_after, NULL);
        return -1;
    }
    return 0;
}

void api_store_error(struct lb_ctx *ctx, enum lb_status st, const char *not_found_fmt,
                     const char *id)
{
    if (st == LB_NOT_FOUND) {
        lb_response_error(ctx->res, 404, not_found_fmt, id);
        return;
    }
    if (st == LB_BUSY) {
        /* "Booking with id %s not found" -> "Booking <id> is being changed, retry" */
        size_t noun = strcspn(not_found_fmt, " %");
        char msg[160];
        snprintf(msg, sizeof msg, "%.*s%s%.40s is being changed, retry", noun ? (int)noun : 6,
                 noun ? not_found_fmt : "Record", id && *id ? " " : "", id ? id : "");
        lb_response_status_error(ctx->res, st, ctx->app->cfg->retry_after, msg);
        return;
    }
    lb_response_status_error(ctx->res, st, ctx->app->cfg->retry_after, NULL);
}
