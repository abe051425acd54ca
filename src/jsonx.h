/* jsonx: strict request-body parsing on top of json-c. A body is checked against RFC 8259
 * ourselves first (json-c 0.16 even in STRICT mode accepts NaN, single-quoted names, raw control
 * characters in strings, "-01", "1." and overlong UTF-8), then handed to json-c; each endpoint's
 * validator turns the json_object into a typed struct and collects every violated rule as a
 * NestJS/class-validator-worded message ("email must be an email").
 *
 * Message rules (the same for every endpoint):
 *  - "property X should not exist" for every unknown member, first, in body order (as
 *    class-validator's forbidNonWhitelisted does); X has control chars replaced by '?' and is cut
 *    to LB_JSON_NAME_SHOW_MAX bytes (plus "...").
 *  - then the known fields in the DTO's order; per field: the type/format message, then
 *    "X should not be empty" (required fields only: missing, null, "" or whitespace-only), then
 *    length/range messages. Length/range rules are checked only once the type is right (a
 *    number for a string field gives only "X must be a string"; class-validator would add the
 *    length message too).
 *  - null is never "absent": for an optional field it is a type error like true, [] or {}.
 *  - Integers follow JavaScript: 24, 24.0 and 2.4e1 are the integer 24; 24.5 is not an integer
 *    (and is range-checked); 1e999 / -1e999 (json-c: +-inf) give only the integer message;
 *    integers beyond int64 are clamped by json-c (never wrapped) and fail the range check.
 *  - A string containing U+0000 (escaped as \u0000) cannot be stored by PostgreSQL: for name and
 *    knowledge it gives "X must not contain null characters"; other fields fail their format.
 *  - Duplicate member names (at any level) are rejected by lb_json_parse_body ("body must not
 *    contain duplicate property names"): JavaScript would silently keep the last one, but two
 *    readers of one body must not be able to disagree. */
#ifndef LB_JSONX_H
#define LB_JSONX_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "status.h"
#include "validate.h"

/* ---- Bounded list of violation messages --------------------------------------------------- */

#define LB_MSGS_MAX 32           /* messages kept; more are counted in dropped */
#define LB_MSG_MAX_BYTES 256     /* per message, NUL included; cut at a UTF-8 boundary */
#define LB_JSON_NAME_SHOW_MAX 64 /* bytes of an unknown property name shown in a message */

struct lb_msgs {
    size_t count;   /* messages in msg[] */
    size_t dropped; /* messages that did not fit */
    char msg[LB_MSGS_MAX][LB_MSG_MAX_BYTES];
};

void lb_msgs_clear(struct lb_msgs *m);
/* Appends a printf-formatted message (cut to fit). Returns 0, or -1 when the list was full (the
 * message is counted in dropped). */
int lb_msgs_add(struct lb_msgs *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t lb_msgs_count(const struct lb_msgs *m);
/* Message i, or NULL when i >= count. */
const char *lb_msgs_get(const struct lb_msgs *m, size_t i);
/* Appends the messages as a JSON array of strings: ["a","b"]. Returns lb_buf's status. */
int lb_msgs_to_json(const struct lb_msgs *m, struct lb_buf *b);

/* ---- Body parsing ------------------------------------------------------------------------ */

#define LB_JSON_MAX_DEPTH 16 /* nesting of objects/arrays; the top-level object is level 1 */
/* Hard cap of this parser (the configured max_body_bytes, 64 KiB by default, is enforced
 * earlier by the HTTP layer with a 413). */
#define LB_JSON_MAX_BODY_BYTES (16u * 1024 * 1024)

/* RFC 8259 syntax check without building anything: valid UTF-8 (lb_validate_utf8 rules), no
 * unpaired surrogate escapes, no raw control characters in strings, numbers in JSON's grammar,
 * one value surrounded only by whitespace, nesting <= max_depth. Returns 0 or -1 with the byte
 * offset of the first error in *err_off (if non-NULL). max_depth is capped at 256 (a negative
 * value means 256). Iterative; O(len). */
int lb_json_check_syntax(const char *s, size_t len, int max_depth, size_t *err_off);

/* Parses a request body into a JSON object. Returns LB_OK with *out set (caller owns it:
 * json_object_put), LB_INVALID with one message in msgs and *out = NULL, or LB_INTERNAL when
 * json-c could not allocate. Messages:
 *   "body should not be empty"             len 0 or whitespace only
 *   "body must be valid UTF-8"
 *   "body is too large"                    len > LB_JSON_MAX_BODY_BYTES
 *   "body must not be nested deeper than 16 levels"
 *   "body must be valid JSON (error at byte N)"
 *   "body must be a JSON object"           valid JSON, but an array, string, number, ...
 *   "property names must not contain null characters"   a name with \u0000 in it
 *   "body must not contain duplicate property names"    in any object of the body */
enum lb_status lb_json_parse_body(const char *body, size_t len, json_object **out,
                                  struct lb_msgs *msgs);

/* ---- Endpoint bodies ---------------------------------------------------------------------- */

/* Rules in code points; buffers in bytes (4 per code point at most). */
#define LB_LEAD_NAME_MAX_CHARS 200
#define LB_AGENT_NAME_MAX_CHARS 100
#define LB_AGENT_KNOWLEDGE_MIN_CHARS 10
#define LB_LINK_EXPIRY_HOURS_MIN 1
#define LB_LINK_EXPIRY_HOURS_MAX 168
#define LB_LINK_EXPIRY_HOURS_DEFAULT 24
/* "not in the past" tolerates this much: a form filled in with "now" is still accepted after
 * the request's trip and a slightly fast client clock. */
#define LB_SCHEDULE_PAST_SKEW_US (INT64_C(5) * 60 * LB_TIME_US_PER_SEC)
/* ... and at most this far ahead: the answer's expiresAt (up to 168 h later) must stay a date
 * that JavaScript and iCalendar can read. */
#define LB_SCHEDULE_HORIZON_DAYS 730
#define LB_SCHEDULE_HORIZON_US ((int64_t)LB_SCHEDULE_HORIZON_DAYS * 86400 * LB_TIME_US_PER_SEC)

/* POST /leads. name is trimmed (lb_trim) before the checks and stored trimmed. */
struct lb_lead_input {
    char agent_id[LB_UUID_SIZE]; /* lowercase */
    char name[LB_LEAD_NAME_MAX_CHARS * 4 + 1];
    char email[LB_EMAIL_MAX_LEN + 1]; /* as given (not case-folded) */
    int64_t scheduled_at_us;          /* UTC microseconds */
};

/* Returns LB_OK (in filled) or LB_INVALID (messages in msgs; the struct's content is then
 * unspecified). scheduledAt earlier than now_us - LB_SCHEDULE_PAST_SKEW_US is "in the past". */
enum lb_status lb_parse_lead_create(json_object *body, struct lb_lead_input *in,
                                    struct lb_msgs *msgs, int64_t now_us);

/* PATCH /bookings/:id/status */
struct lb_status_input {
    enum lb_booking_status status;
};
enum lb_status lb_parse_status_change(json_object *body, struct lb_status_input *in,
                                      struct lb_msgs *msgs);

/* POST /agents and PATCH /agents/:id. Which fields the body had: */
#define LB_AGENT_HAS_NAME 0x1u
#define LB_AGENT_HAS_KNOWLEDGE 0x2u
#define LB_AGENT_HAS_LINK_EXPIRY 0x4u
#define LB_AGENT_HAS_TENANT_ID 0x8u

struct lb_agent_input {
    unsigned present;                           /* LB_AGENT_HAS_* */
    char name[LB_AGENT_NAME_MAX_CHARS * 4 + 1]; /* trimmed */
    /* malloc'd copy (NUL-terminated, valid UTF-8, not trimmed) owned by the struct; NULL when
     * absent. Its length is bounded by the body. Free with lb_agent_input_free. */
    char *knowledge;
    size_t knowledge_len;         /* bytes */
    long link_expiry_hours;       /* LB_LINK_EXPIRY_HOURS_DEFAULT when absent */
    char tenant_id[LB_UUID_SIZE]; /* lowercase; "" when absent. The caller answers 403
                                     when it is not the key's tenant. */
};

/* Always call lb_agent_input_free afterwards, whatever the result (it is safe on a struct the
 * parser initialised and on one that was zeroed). Create: name and knowledge required,
 * linkExpiryHours and tenantId optional. Update: every field optional; an empty object is valid
 * and changes nothing (present == 0), as NestJS's PartialType DTO accepted it.
 * Return LB_OK, LB_INVALID (msgs) or LB_INTERNAL (out of memory). */
enum lb_status lb_parse_agent_create(json_object *body, struct lb_agent_input *in,
                                     struct lb_msgs *msgs);
enum lb_status lb_parse_agent_update(json_object *body, struct lb_agent_input *in,
                                     struct lb_msgs *msgs);
void lb_agent_input_free(struct lb_agent_input *in);

/* PATCH /bookings/:id {scheduledAt} (reschedule = 1) and PATCH /bookings/meeting/:meetingToken
 * (exactly one of {status: CONFIRMED | CANCELLED} and {scheduledAt}; scheduledAt follows the
 * rules of POST /leads). */
struct lb_change_input {
    int reschedule;                /* 1: scheduled_at_us; 0: status */
    enum lb_booking_status status; /* CONFIRMED or CANCELLED */
    int64_t scheduled_at_us;
};
enum lb_status lb_parse_reschedule(json_object *body, struct lb_change_input *in,
                                   struct lb_msgs *msgs, int64_t now_us);
enum lb_status lb_parse_prospect_change(json_object *body, struct lb_change_input *in,
                                        struct lb_msgs *msgs, int64_t now_us);

/* POST /tenants {userId, name} and PATCH /tenants/me {name}. name is trimmed; userId is kept
 * exactly as given (it is compared with the sign-in token's sub) but judged trimmed. */
#define LB_TENANT_NAME_MAX_CHARS 200
#define LB_TENANT_USER_ID_MAX_CHARS 255
struct lb_tenant_input {
    char user_id[LB_TENANT_USER_ID_MAX_CHARS * 4 + 1];
    char name[LB_TENANT_NAME_MAX_CHARS * 4 + 1];
};
enum lb_status lb_parse_tenant_create(json_object *body, struct lb_tenant_input *in,
                                      struct lb_msgs *msgs);
enum lb_status lb_parse_tenant_update(json_object *body, struct lb_tenant_input *in,
                                      struct lb_msgs *msgs);

/* POST /webhooks {url, events, description?} and PATCH /webhooks/:id (any of url, events,
 * description, enabled). url: a webhook URL as lb_webhook_url_check (net_check.h) judges it
 * with allow_hosts (the webhook_allow_hosts of leadbook.conf), one message per URL naming the
 * first rule it breaks; events: a non-empty array of distinct names of LB_WEBHOOK_EVENTS, kept
 * in the given order; description: any text of at most 500 characters (not trimmed; "" is
 * the default); enabled: a boolean (PATCH only). */
#define LB_WEBHOOK_URL_MAX_CHARS 2048
#define LB_WEBHOOK_DESCRIPTION_MAX_CHARS 500
#define LB_WEBHOOK_EVENT_COUNT 3
#define LB_WEBHOOK_HAS_URL 0x1u
#define LB_WEBHOOK_HAS_EVENTS 0x2u
#define LB_WEBHOOK_HAS_DESCRIPTION 0x4u
#define LB_WEBHOOK_HAS_ENABLED 0x8u

struct lb_webhook_input {
    unsigned present; /* LB_WEBHOOK_HAS_* */
    char url[LB_WEBHOOK_URL_MAX_CHARS + 1];
    /* the events as a PostgreSQL text[] literal in the given order, e.g.
     * "{booking.created,booking.rescheduled}" */
    char events[96];
    char description[LB_WEBHOOK_DESCRIPTION_MAX_CHARS * 4 + 1];
    int enabled;
};
/* The event names, in API.md's order; NULL past the last. */
const char *lb_webhook_event_name(size_t i);
enum lb_status lb_parse_webhook_create(json_object *body, const char *allow_hosts,
                                       struct lb_webhook_input *in, struct lb_msgs *msgs);
enum lb_status lb_parse_webhook_update(json_object *body, const char *allow_hosts,
                                       struct lb_webhook_input *in, struct lb_msgs *msgs);
/* POST /webhooks/:id/rotate-secret takes no fields: {} (or no body at all). */
enum lb_status lb_parse_webhook_rotate(json_object *body, struct lb_msgs *msgs);

#endif
