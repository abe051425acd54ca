/* api: the handlers, one file per resource, and the checks they share (api/common.c). */
#ifndef LB_API_H
#define LB_API_H

#include <json-c/json.h>

#include "app.h"
#include "digest.h"
#include "store/idempotency.h"
#include "validate.h"

void lb_api_healthz(struct lb_ctx *ctx);
void lb_api_readyz(struct lb_ctx *ctx);
void lb_api_metrics(struct lb_ctx *ctx); /* api/metrics.c */
void lb_api_test_sleep(struct lb_ctx *ctx);
void lb_api_test_crash(struct lb_ctx *ctx);

void lb_api_tenant_create(struct lb_ctx *ctx);
void lb_api_tenant_list(struct lb_ctx *ctx);
void lb_api_tenant_me(struct lb_ctx *ctx);
void lb_api_tenant_update(struct lb_ctx *ctx);
void lb_api_tenant_by_user(struct lb_ctx *ctx);

void lb_api_lead_create(struct lb_ctx *ctx);
void lb_api_lead_list(struct lb_ctx *ctx);
void lb_api_lead_stats(struct lb_ctx *ctx);
void lb_api_lead_get(struct lb_ctx *ctx);

void lb_api_booking_meeting(struct lb_ctx *ctx);
void lb_api_booking_status(struct lb_ctx *ctx);
void lb_api_booking_reschedule(struct lb_ctx *ctx);
void lb_api_booking_prospect(struct lb_ctx *ctx);
void lb_api_booking_events(struct lb_ctx *ctx);

void lb_api_agent_create(struct lb_ctx *ctx);
void lb_api_agent_list(struct lb_ctx *ctx);
void lb_api_agent_get(struct lb_ctx *ctx);
void lb_api_agent_by_link(struct lb_ctx *ctx);
void lb_api_agent_update(struct lb_ctx *ctx);
void lb_api_agent_delete(struct lb_ctx *ctx);

void lb_api_webhook_create(struct lb_ctx *ctx);
void lb_api_webhook_list(struct lb_ctx *ctx);
void lb_api_webhook_get(struct lb_ctx *ctx);
void lb_api_webhook_update(struct lb_ctx *ctx);
void lb_api_webhook_delete(struct lb_ctx *ctx);
void lb_api_webhook_rotate(struct lb_ctx *ctx);
void lb_api_webhook_deliveries(struct lb_ctx *ctx);

/* Each check below answers the request itself (an error response) and returns -1 when the
 * input is refused; 0 means go on. */

/* A `tenantId` query parameter (old clients send it): absent is fine; malformed is 400;
 * another tenant's is 403. */
int api_check_tenant_query(struct lb_ctx *ctx);
/* A body's tenantId (already a valid lowercase UUID, or ""): another tenant's is 403. */
int api_check_tenant_value(struct lb_ctx *ctx, const char *tenant_id);
/* The route parameter name must be a UUID (400, NestJS ParseUUIDPipe's message); out gets it
 * lowercased. */
int api_uuid_param(struct lb_ctx *ctx, const char *name, char out[LB_UUID_SIZE]);
/* An optional query parameter given at most once; *value NULL when absent. */
int api_query_single(struct lb_ctx *ctx, const char *name, const char **value);
/* Content-Type must be application/json (415), the body valid JSON object (400). The caller
 * json_object_put()s *obj. */
int api_json_body(struct lb_ctx *ctx, json_object **obj);
/* 400 with the messages of a validation as the message array. */
struct lb_msgs;
void api_validation_error(struct lb_ctx *ctx, const struct lb_msgs *msgs);
/* After a body validator: LB_OK goes on (0); LB_INVALID answers 400 with msgs, anything else
 * its error status; both return -1. */
int api_validated(struct lb_ctx *ctx, enum lb_status st, const struct lb_msgs *msgs);
/* Answers a store failure: not_found_fmt (with one %s: the id) for LB_NOT_FOUND, 503 with
 * Retry-After for LB_UNAVAILABLE, 500 without detail for LB_INTERNAL. */
void api_store_error(struct lb_ctx *ctx, enum lb_status st, const char *not_found_fmt,
                     const char *id);

/* ---- Idempotency-Key (api/idempotency.c) ---- */
struct api_idem {
    char scope[300];
    char key[LB_IDEMPOTENCY_KEY_MAX_LEN + 1];
    char fingerprint[2 * LB_SHA256_LEN + 1];
    struct lb_buf not_found; /* the pre-rendered 404 answer */
    struct store_idem store; /* what the store call takes and gives */
};
/* 0: no Idempotency-Key; 1: idem is ready for an idempotent store call; -1: answered (400).
 * Call after the body was validated (a 400 is never stored). */
int api_idem_begin(struct lb_ctx *ctx, struct api_idem *idem);
/* Pre-renders the 404 answer (fmt with one %s: id) that the statement stores if it finds no
 * target. */
void api_idem_not_found(struct api_idem *idem, const char *fmt, const char *id);
/* Answers from an idempotent store call whose answer body is in ctx->res->body: the stored or
 * new answer (Idempotent-Replayed: true when replayed), 422, 409 + Retry-After, or the store's
 * error. Frees what api_idem_begin allocated. */
void api_idem_answer(struct lb_ctx *ctx, struct api_idem *idem, enum lb_status st,
                     const char *not_found_fmt, const char *id);

#endif
