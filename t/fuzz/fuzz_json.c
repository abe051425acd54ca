/* fuzz_json: request bodies. The RFC 8259 pre-check (lb_json_check_syntax) is compared with an
 * independent recursive-descent checker at several depth limits; lb_json_parse_body must agree
 * with json-c (our check passing while json-c fails would be a 500); then every endpoint
 * validator (lead create, status change, agent create/update) runs on the object and what it
 * accepts must satisfy the API's rules, what it refuses must come with well-formed messages. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "jsonx.h"
#include "validate.h"

static int64_t now_us;

static void check_text(const char *what, const char *s, size_t min, size_t max)
{
    size_t len = strlen(s);
    FUZZ_ASSERT(ref_utf8_valid(s, len), "%s is not valid UTF-8", what);
    size_t chars = ref_utf8_count(s, len);
    FUZZ_ASSERT(chars >= min && (max == 0 || chars <= max), "%s has %zu characters", what, chars);
    if (len) {
        size_t n;
        int32_t first = ref_utf8_decode((const unsigned char *)s, len, &n);
        size_t k = len - 1;
        while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
        int32_t last = ref_utf8_decode((const unsigned char *)s + k, len - k, &n);
        FUZZ_ASSERT(!ref_js_space(first) && !ref_js_space(last), "%s is not trimmed", what);
    }
}

static void check_uuid_out(const char *what, const char *id)
{
    char canon[LB_UUID_SIZE];
    FUZZ_ASSERT(lb_validate_uuid(id, canon) == 0 && strcmp(canon, id) == 0,
                "%s \"%s\" is not a lowercase UUID", what, id);
}

static void check_msgs(const struct lb_msgs *msgs, enum lb_status st, size_t before)
{
    if (st == LB_OK) {
        FUZZ_ASSERT(msgs->count == before && msgs->dropped == 0, "LB_OK with messages");
        return;
    }
    FUZZ_ASSERT(st == LB_INVALID, "validator returned %d", (int)st);
    FUZZ_ASSERT(msgs->count > before || msgs->dropped > 0, "LB_INVALID without a message");
    for (size_t i = 0; i < msgs->count; i++) {
        const char *m = lb_msgs_get(msgs, i);
        size_t len = strlen(m);
        FUZZ_ASSERT(len > 0 && len < LB_MSG_MAX_BYTES, "message %zu has length %zu", i, len);
        FUZZ_ASSERT(ref_utf8_valid(m, len), "message %zu is not valid UTF-8: %s", i, m);
    }
    struct lb_buf b;
    lb_buf_init(&b);
    lb_msgs_to_json(msgs, &b);
    FUZZ_ASSERT(!b.failed && ref_json_valid(b.data, b.len, 1),
                "lb_msgs_to_json output is not a valid JSON array: %s", b.data);
    json_object *arr = json_tokener_parse(b.data);
    FUZZ_ASSERT(arr && json_object_is_type(arr, json_type_array) &&
                    json_object_array_length(arr) == msgs->count,
                "messages array does not round-trip");
    json_object_put(arr);
    lb_buf_free(&b);
}

static void run_validators(json_object *obj)
{
    struct lb_msgs msgs;

    struct lb_lead_input lead;
    lb_msgs_clear(&msgs);
    enum lb_status st = lb_parse_lead_create(obj, &lead, &msgs, now_us);
    check_msgs(&msgs, st, 0);
    if (st == LB_OK) {
        check_uuid_out("agentId", lead.agent_id);
        check_text("lead name", lead.name, 1, LB_LEAD_NAME_MAX_CHARS);
        FUZZ_ASSERT(lb_validate_email(lead.email) == 0 && strlen(lead.email) <= LB_EMAIL_MAX_LEN,
                    "accepted email \"%s\" is invalid", lead.email);
        FUZZ_ASSERT(lead.scheduled_at_us >= now_us - LB_SCHEDULE_PAST_SKEW_US,
                    "scheduledAt in the past accepted");
        /* what the store receives must be readable again as the same instant */
        char pg[LB_TIME_FMT_PG_SIZE];
        int64_t back;
        FUZZ_ASSERT(lb_time_format_pg(lead.scheduled_at_us, pg) == 0, "format_pg failed");
        FUZZ_ASSERT(lb_time_parse_iso8601(pg, &back) == 0 && back == lead.scheduled_at_us,
                    "scheduledAt %lld does not round-trip through \"%s\"",
                    (long long)lead.scheduled_at_us, pg);
    }

    struct lb_status_input sti;
    lb_msgs_clear(&msgs);
    st = lb_parse_status_change(obj, &sti, &msgs);
    check_msgs(&msgs, st, 0);
    if (st == LB_OK)
        FUZZ_ASSERT(lb_booking_status_name(sti.status)[0] != '\0', "status out of range");

    for (int update = 0; update <= 1; update++) {
        struct lb_agent_input in;
        lb_msgs_clear(&msgs);
        st = update ? lb_parse_agent_update(obj, &in, &msgs)
                    : lb_parse_agent_create(obj, &in, &msgs);
        check_msgs(&msgs, st, 0);
        if (st == LB_OK) {
            if (!update)
                FUZZ_ASSERT((in.present & (LB_AGENT_HAS_NAME | LB_AGENT_HAS_KNOWLEDGE)) ==
                                (LB_AGENT_HAS_NAME | LB_AGENT_HAS_KNOWLEDGE),
                            "agent create without name or knowledge");
            if (in.present & LB_AGENT_HAS_NAME)
                check_text("agent name", in.name, 1, LB_AGENT_NAME_MAX_CHARS);
            if (in.present & LB_AGENT_HAS_KNOWLEDGE) {
                FUZZ_ASSERT(in.knowledge && strlen(in.knowledge) == in.knowledge_len,
                            "knowledge length or NUL");
                check_text("knowledge", in.knowledge, LB_AGENT_KNOWLEDGE_MIN_CHARS, 0);
            } else {
                FUZZ_ASSERT(in.knowledge == NULL, "knowledge set but not present");
            }
            if (in.present & LB_AGENT_HAS_LINK_EXPIRY)
                FUZZ_ASSERT(in.link_expiry_hours >= LB_LINK_EXPIRY_HOURS_MIN &&
                                in.link_expiry_hours <= LB_LINK_EXPIRY_HOURS_MAX,
                            "linkExpiryHours %ld accepted", in.link_expiry_hours);
            if (in.present & LB_AGENT_HAS_TENANT_ID)
                check_uuid_out("tenantId", in.tenant_id);
        }
        lb_agent_input_free(&in);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!now_us)
        now_us = lb_time_now_us();
    /* an exact-size heap copy (not NUL-terminated): ASan sees any read past len */
    char *body = malloc(size ? size : 1);
    if (size)
        memcpy(body, data, size);

    static const int depths[] = {0, 1, 2, 16, 300, -1};
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
        size_t off = (size_t)-1;
        int ours = lb_json_check_syntax(body, size, depths[d], &off) == 0;
        int ref = ref_json_valid(body, size, depths[d] < 0 || depths[d] > 256 ? 256 : depths[d]);
        FUZZ_ASSERT(ours == ref, "lb_json_check_syntax says %s, reference says %s (depth %d)",
                    ours ? "valid" : "invalid", ref ? "valid" : "invalid", depths[d]);
        FUZZ_ASSERT(ours || off <= size, "error offset %zu beyond %zu", off, size);
    }

    json_object *obj = (json_object *)1;
    struct lb_msgs msgs;
    lb_msgs_clear(&msgs);
    enum lb_status st = lb_json_parse_body(body, size, &obj, &msgs);
    FUZZ_ASSERT(st != LB_INTERNAL,
                "lb_json_parse_body: our syntax check passed but json-c refused the body (500)");
    if (st == LB_OK) {
        FUZZ_ASSERT(obj && json_object_is_type(obj, json_type_object), "LB_OK without object");
        FUZZ_ASSERT(ref_json_valid(body, size, LB_JSON_MAX_DEPTH), "accepted an invalid body");
        FUZZ_ASSERT(msgs.count == 0, "LB_OK with a message");
        run_validators(obj);
        json_object_put(obj);
    } else {
        FUZZ_ASSERT(st == LB_INVALID && obj == NULL && msgs.count == 1,
                    "refusal must be LB_INVALID, no object, one message");
        check_msgs(&msgs, st, 0);
        if (size > 0 && ref_json_valid(body, size, LB_JSON_MAX_DEPTH)) {
            size_t i = 0;
            while (i < size && strchr(" \t\r\n", body[i]) && body[i])
                i++;
            const char *m = lb_msgs_get(&msgs, 0);
            FUZZ_ASSERT(body[i] != '{' || strstr(m, "duplicate") || strstr(m, "null characters"),
                        "valid JSON object refused: %s", m);
        }
    }
    free(body);
    return 0;
}
