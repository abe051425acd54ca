/* api/idempotency: the Idempotency-Key of a POST or PATCH (API.md "Idempotency"): the key's
 * scope (the credential), the request's fingerprint, and the answer of an idempotent store
 * call (new, replayed, 422, 409 while the first is running). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api.h"
#include "digest.h"

int api_idem_begin(struct lb_ctx *ctx, struct api_idem *idem)
{
    memset(idem, 0, sizeof *idem);
    const char *key = ctx->req->idempotency_key;
    if (!key)
        return 0;
    if (lb_validate_idempotency_key(key) != 0) {
        lb_response_error_array(
            ctx->res, 400, "[\"Idempotency-Key must be 1 to 255 printable ASCII characters\"]");
        return -1;
    }
    switch (ctx->cred) {
    case LB_CRED_TENANT_KEY:
    case LB_CRED_BOOKING_PAGE:
        snprintf(idem->scope, sizeof idem->scope, "key:%s", ctx->key_id);
        break;
    case LB_CRED_USER:
        snprintf(idem->scope, sizeof idem->scope, "user:%s", ctx->user_id);
        break;
    case LB_CRED_NONE: {
        /* the public meeting path: the meeting token is the credential, in its canonical
         * spelling (lower case), so that one booking is one scope however its token is
         * written: ...BBAA and ...bbaa with the same key are the same key (a retry spelled
         * differently is a different path: 422, not a second run) */
        const char *raw = lb_request_param(ctx->req, "meetingToken");
        char token[LB_UUID_SIZE];
        if (!raw || lb_validate_uuid(raw, token) != 0)
            token[0] = '\0';
        snprintf(idem->scope, sizeof idem->scope, "meeting:%s", token);
        break;
    }
    }
    /* method, path, query and body, each length-prefixed so that no two requests share a
     * fingerprint by moving bytes between the parts */
    const struct lb_request *req = ctx->req;
    const char *parts[] = {req->method_name, req->path, req->raw_query ? req->raw_query : ""};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[LB_SHA256_LEN];
    unsigned int dlen = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < 4; i++) {
        const char *p = i < 3 ? parts[i] : (req->body ? req->body : "");
        size_t n = i < 3 ? strlen(p) : req->body_len;
        char len[24];
        int ln = snprintf(len, sizeof len, "%zu:", n);
        ok = EVP_DigestUpdate(md, len, (size_t)ln) == 1 && EVP_DigestUpdate(md, p, n) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == LB_SHA256_LEN;
    EVP_MD_CTX_free(md);
    if (!ok) {
        lb_response_status_error(ctx->res, LB_INTERNAL, ctx->app->cfg->retry_after, NULL);
        return -1;
    }
    lb_hex(digest, LB_SHA256_LEN, idem->fingerprint);
    snprintf(idem->key, sizeof idem->key, "%s", key);
    lb_buf_init(&idem->not_found);
    idem->store.scope = idem->scope;
    idem->store.key = idem->key;
    idem->store.fingerprint = idem->fingerprint;
    idem->store.not_found = "";
    return 1;
}

void api_idem_not_found(struct api_idem *idem, const char *fmt, const char *id)
{
    lb_buf_reset(&idem->not_found);
    char msg[256];
    snprintf(msg, sizeof msg, fmt, id);
    lb_error_body(&idem->not_found, 404, "%s", msg);
    idem->store.not_found = idem->not_found.data ? idem->not_found.data : "";
}

void api_idem_answer(struct lb_ctx *ctx, struct api_idem *idem, enum lb_status st,
                     const char *not_found_fmt, const char *id)
{
    struct lb_response *res = ctx->res;
    lb_buf_free(&idem->not_found);
    if (st != LB_OK) {
        api_store_error(ctx, st, not_found_fmt, id);
        return;
    }
    switch (idem->store.outcome) {
    case STORE_IDEM_MISMATCH:
        lb_response_error(res, 422, "Idempotency-Key %.255s was used with a different request",
                          idem->key);
        return;
    case STORE_IDEM_BUSY:
        lb_response_error(res, 409, "A request with Idempotency-Key %.255s is still running",
                          idem->key);
        lb_response_header(res, "Retry-After", "1");
        return;
    case STORE_IDEM_REPLAY:
        lb_response_header(res, "Idempotent-Replayed", "true");
        /* fall through */
    case STORE_IDEM_NEW:
        res->status = idem->store.status;
        res->content_type = NULL;
        return;
    }
}
