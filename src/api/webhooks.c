/* api/webhooks: a tenant's webhook endpoints (API.md "Webhooks"): create (the secret shown
 * once), list, get, change, delete, rotate the secret, and the delivery attempts in keyset
 * pages. Delivery itself is the deliverer's (leadbookctl webhooks run). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api.h"
#include "jsonx.h"
#include "store/webhooks.h"

#define DELIVERIES_LIMIT_DEFAULT 100
#define DELIVERIES_LIMIT_MAX 1000
#define SECRET_BYTES 32
/* "whsec_" + base64 of 32 bytes (44 characters) + NUL */
#define SECRET_SIZE (6 + 4 * ((SECRET_BYTES + 2) / 3) + 1)

static const char webhook_not_found[] = "Webhook with id %s not found";

/* A new signing secret: whsec_ + standard base64 of 32 random bytes (Standard Webhooks). */
static int new_secret(char out[SECRET_SIZE])
{
    unsigned char raw[SECRET_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    memcpy(out, "whsec_", 6);
    int n = EVP_EncodeBlock((unsigned char *)out + 6, raw, sizeof raw);
    OPENSSL_cleanse(raw, sizeof raw);
    return n == SECRET_SIZE - 7 ? 0 : -1;
}

static int secret_or_answer(struct lb_ctx *ctx, char out[SECRET_SIZE])
{
    if (new_secret(out) == 0)
        return 0;
    lb_response_status_error(ctx->res, LB_INTERNAL, ctx->app->cfg->retry_after, NULL);
    return -1;
}

/* Parses a create/update body; answers and returns -1 on any refusal. */
static int webhook_body(struct lb_ctx *ctx, struct lb_webhook_input *in,
                        enum lb_status (*parse)(json_object *, const char *,
                                                struct lb_webhook_input *, struct lb_msgs *))
{
    memset(in, 0, sizeof *in);
    json_object *body;
    if (api_check_tenant_query(ctx) != 0 || api_json_body(ctx, &body) != 0)
        return -1;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = parse(body, ctx->app->cfg->webhook_allow_hosts, in, &msgs);
    json_object_put(body);
    return api_validated(ctx, st, &msgs);
}

void lb_api_webhook_create(struct lb_ctx *ctx)
{
    struct lb_webhook_input in;
    struct api_idem idem;
    char secret[SECRET_SIZE];
    int idempotent;
    if (webhook_body(ctx, &in, lb_parse_webhook_create) != 0 ||
        (idempotent = api_idem_begin(ctx, &idem)) < 0)
        return;
    if (secret_or_answer(ctx, secret) != 0) {
        if (idempotent)
            lb_buf_free(&idem.not_found);
        return;
    }
    const char *description = (in.present & LB_WEBHOOK_HAS_DESCRIPTION) ? in.description : NULL;
    lb_response_json(ctx->res, 201);
    enum lb_status st;
    if (idempotent) {
        /* a replay answers the stored body, with the secret made by the first request */
        st = store_webhook_create_idem(ctx->app->db, ctx->tenant_id, in.url, in.events, description,
                                       secret, &idem.store, &ctx->res->body);
        api_idem_answer(ctx, &idem, st, "Tenant %s not found", ctx->tenant_id);
    } else {
        st = store_webhook_create(ctx->app->db, ctx->tenant_id, in.url, in.events, description,
                                  secret, &ctx->res->body);
        if (st != LB_OK)
            api_store_error(ctx, st, "Tenant %s not found", ctx->tenant_id);
    }
    OPENSSL_cleanse(secret, sizeof secret);
}

void lb_api_webhook_list(struct lb_ctx *ctx)
{
    if (api_check_tenant_query(ctx) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_webhook_list(ctx->app->db, ctx->tenant_id, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, "%s", "");
}

void lb_api_webhook_get(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    lb_response_json(ctx->res, 200);
    enum lb_status st = store_webhook_get(ctx->app->db, ctx->tenant_id, id, &ctx->res->body);
    if (st != LB_OK)
        api_store_error(ctx, st, webhook_not_found, id);
}

void lb_api_webhook_update(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_uuid_param(ctx, "id", id) != 0)
        return;
    struct lb_webhook_input in;
    struct api_idem idem;
    int idempotent;
    if (webhook_body(ctx, &in, lb_parse_webhook_update) != 0 ||
        (idempotent = api_idem_begin(ctx, &idem)) < 0)
        return;
    const char *url = (in.present & LB_WEBHOOK_HAS_URL) ? in.url : NULL;
    const char *events = (in.present & LB_WEBHOOK_HAS_EVENTS) ? in.events : NULL;
    const char *description = (in.present & LB_WEBHOOK_HAS_DESCRIPTION) ? in.description : NULL;
    int enabled = (in.present & LB_WEBHOOK_HAS_ENABLED) ? in.enabled : -1;
    lb_response_json(ctx->res, 200);
    enum lb_status st;
    if (idempotent) {
        api_idem_not_found(&idem, webhook_not_found, id);
        st = store_webhook_update_idem(ctx->app->db, ctx->tenant_id, id, url, events, description,
                                       enabled, &idem.store, &ctx->res->body);
        api_idem_answer(ctx, &idem, st, webhook_not_found, id);
    } else {
        st = store_webhook_update(ctx->app->db, ctx->tenant_id, id, url, events, description,
                                  enabled, &ctx->res->body);
        if (st != LB_OK)
            api_store_error(ctx, st, webhook_not_found, id);
    }
}

void lb_api_webhook_delete(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    enum lb_status st = store_webhook_delete(ctx->app->db, ctx->tenant_id, id);
    if (st != LB_OK) {
        api_store_error(ctx, st, webhook_not_found, id);
        return;
    }
    lb_response_json(ctx->res, 200);
    lb_buf_printf(&ctx->res->body, "{\"message\":\"Webhook %s successfully deleted\"}", id);
}

void lb_api_webhook_rotate(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE], secret[SECRET_SIZE];
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0)
        return;
    /* no body is expected (an empty one is fine); one that is there must be {} */
    json_object *body;
    if (api_json_body(ctx, &body) != 0)
        return;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = lb_parse_webhook_rotate(body, &msgs);
    json_object_put(body);
    if (api_validated(ctx, st, &msgs) != 0)
        return;
    struct api_idem idem;
    int idempotent = api_idem_begin(ctx, &idem);
    if (idempotent < 0)
        return;
    if (secret_or_answer(ctx, secret) != 0) {
        if (idempotent)
            lb_buf_free(&idem.not_found);
        return;
    }
    lb_response_json(ctx->res, 200);
    if (idempotent) {
        api_idem_not_found(&idem, webhook_not_found, id);
        st = store_webhook_rotate_idem(ctx->app->db, ctx->tenant_id, id, secret, &idem.store,
                                       &ctx->res->body);
        api_idem_answer(ctx, &idem, st, webhook_not_found, id);
    } else {
        st = store_webhook_rotate(ctx->app->db, ctx->tenant_id, id, secret, &ctx->res->body);
        if (st != LB_OK)
            api_store_error(ctx, st, webhook_not_found, id);
    }
    OPENSSL_cleanse(secret, sizeof secret);
}

void lb_api_webhook_deliveries(struct lb_ctx *ctx)
{
    char id[LB_UUID_SIZE];
    const char *limit_text, *cursor_text;
    if (api_check_tenant_query(ctx) != 0 || api_uuid_param(ctx, "id", id) != 0 ||
        api_query_single(ctx, "limit", &limit_text) != 0 ||
        api_query_single(ctx, "cursor", &cursor_text) != 0)
        return;
    long limit = DELIVERIES_LIMIT_DEFAULT;
    if (limit_text && lb_parse_limit(limit_text, 1, DELIVERIES_LIMIT_MAX, &limit) != 0) {
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
        store_webhook_deliveries(ctx->app->db, ctx->tenant_id, id, (int)limit,
                                 cursor_text ? &after : NULL, &next, &has_more, &ctx->res->body);
    if (st != LB_OK) {
        api_store_error(ctx, st, webhook_not_found, id);
        return;
    }
    char cursor[LB_CURSOR_SIZE];
    if (!has_more || lb_cursor_encode(next.created_us, next.id, cursor, sizeof cursor) != 0)
        return;
    const char *tenant = lb_request_query(ctx->req, "tenantId", NULL);
    lb_response_header(ctx->res, "Link",
                       "</webhooks/%s/deliveries?limit=%ld&cursor=%s%s%s>; rel=\"next\"", id, limit,
                       cursor, tenant ? "&tenantId=" : "", tenant ? ctx->tenant_id : "");
}
