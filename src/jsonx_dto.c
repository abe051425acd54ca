/* jsonx_dto: one validator per endpoint body, turning a parsed json_object into a typed struct
 * and collecting every violated rule (message rules: see jsonx.h). */
#include "jsonx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx_fields.h"

/* A member of the body: absent, present (v may be NULL for a JSON null). */
struct field {
    int present;
    json_object *v;
};

static struct field get_field(json_object *body, const char *name)
{
    struct field f = {0, NULL};
    f.present = json_object_object_get_ex(body, name, &f.v) ? 1 : 0;
    return f;
}

/* The string value of f, or NULL if f is not a JSON string. */
static const char *field_string(struct field f, size_t *len)
{
    if (!f.present || !f.v || !json_object_is_type(f.v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(f.v);
    return json_object_get_string(f.v);
}

/* jsonx_fields.h */
void lb_json_reject_unknown(json_object *body, const char *const *known, size_t nknown,
                            struct lb_msgs *msgs)
{
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        size_t k = 0;
        while (k < nknown && strcmp(key, known[k]) != 0)
            k++;
        if (k < nknown)
            continue;
        char shown[LB_JSON_NAME_SHOW_MAX + 4];
        size_t n = strlen(key), o = 0;
        size_t cut = n > LB_JSON_NAME_SHOW_MAX ? LB_JSON_NAME_SHOW_MAX : n;
        while (cut > 0 && cut < n && ((unsigned char)key[cut] & 0xc0u) == 0x80u)
            cut--; /* do not split a UTF-8 sequence */
        for (size_t i = 0; i < cut; i++) {
            unsigned char c = (unsigned char)key[i];
            shown[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
        if (cut < n) {
            memcpy(shown + o, "...", 3);
            o += 3;
        }
        shown[o] = '\0';
        lb_msgs_add(msgs, "property %s should not exist", shown);
    }
}

/* A UUID field ("X must be a UUID"); required adds "X should not be empty" for missing, null
 * and "". Returns 1 when out was filled. */
static int check_uuid(struct field f, const char *name, int required, char out[LB_UUID_SIZE],
                      struct lb_msgs *msgs)
{
    size_t len = 0;
    const char *s = field_string(f, &len);
    if (!f.present && !required)
        return 0;
    if (s && strlen(s) == len && lb_validate_uuid(s, out) == 0)
        return 1;
    lb_msgs_add(msgs, "%s must be a UUID", name);
    if (required && (!f.v || (s && len == 0)))
        lb_msgs_add(msgs, "%s should not be empty", name);
    return 0;
}

/* A trimmed text field of min_chars..max_chars code points (max_chars 0: no maximum).
 * On success, returns 1 with the trimmed span in *start, *tlen (bytes of s). */
static int check_text(struct field f, const char *name, int required, size_t min_chars,
                      size_t max_chars, const char **s_out, size_t *start, size_t *tlen,
                      struct lb_msgs *msgs)
{
    size_t len = 0;
    const char *s = field_string(f, &len);
    if (!f.present && !required)
        return 0;
    if (!s) {
        lb_msgs_add(msgs, "%s must be a string", name);
        if (required && !f.v)
            lb_msgs_add(msgs, "%s should not be empty", name);
        return 0;
    }
    int ok = 1;
    if (memchr(s, '\0', len)) {
        lb_msgs_add(msgs, "%s must not contain null characters", name);
        ok = 0;
    }
    lb_trim(s, len, start, tlen);
    size_t chars = lb_utf8_length_n(s + *start, *tlen);
    if (*tlen == 0) {
        lb_msgs_add(msgs, "%s should not be empty", name);
        ok = 0;
    }
    if (chars < min_chars) {
        lb_msgs_add(msgs, "%s must be longer than or equal to %zu characters", name, min_chars);
        ok = 0;
    }
    if (max_chars && chars > max_chars) {
        lb_msgs_add(msgs, "%s must be shorter than or equal to %zu characters", name, max_chars);
        ok = 0;
    }
    *s_out = s;
    return ok;
}

/* Copies the span into a buffer of size cap (the rules guarantee it fits; checked anyway). */
static int copy_span(char *dst, size_t cap, const char *s, size_t start, size_t len)
{
    if (len >= cap)
        return -1;
    memcpy(dst, s + start, len);
    dst[len] = '\0';
    return 0;
}

/* An integer (JavaScript semantics, see jsonx.h) within [min, max]. */
static int check_int(struct field f, const char *name, long min, long max, long *out,
                     struct lb_msgs *msgs)
{
    double d = 0;
    int64_t i = 0;
    int is_int = 0, is_num = 0;
    if (!f.present)
        return 0;
    if (f.v && json_object_is_type(f.v, json_type_int)) {
        i = json_object_get_int64(f.v); /* clamped to INT64_MIN/MAX by json-c */
        is_int = is_num = 1;
    } else if (f.v && json_object_is_type(f.v, json_type_double)) {
        d = json_object_get_double(f.v);
        if (isfinite(d)) {
            is_num = 1;
            /* beyond +-9e15 (> 2^53) every double is an integer (as Number.isInteger says);
             * within, it converts exactly and is integral iff it round-trips */
            if (d > 9e15 || d < -9e15) {
                i = d > 0 ? INT64_MAX : INT64_MIN;
                is_int = 1;
            } else if (d == (double)(int64_t)d) {
                i = (int64_t)d;
                is_int = 1;
            }
        }
    }
    if (!is_int)
        lb_msgs_add(msgs, "%s must be an integer number", name);
    if (!is_num)
        return 0;
    int below = is_int ? i < min : d < (double)min;
    int above = is_int ? i > max : d > (double)max;
    if (below)
        lb_msgs_add(msgs, "%s must not be less than %ld", name, min);
    if (above)
        lb_msgs_add(msgs, "%s must not be greater than %ld", name, max);
    if (!is_int || below || above)
        return 0;
    *out = (long)i;
    return 1;
}

/* scheduledAt (POST /leads, reschedules): ISO 8601 with a zone, not in the past (with the
 * grace), at most LB_SCHEDULE_HORIZON_DAYS ahead. */
static void check_scheduled_at(struct field f, int64_t *out_us, struct lb_msgs *msgs,
                               int64_t now_us)
{
    size_t len = 0;
    const char *s = field_string(f, &len);
    if (s && strlen(s) == len && lb_time_parse_iso8601(s, out_us) == 0) {
        if (*out_us < now_us - LB_SCHEDULE_PAST_SKEW_US)
            lb_msgs_add(msgs, "scheduledAt must not be in the past");
        else if (*out_us > now_us + LB_SCHEDULE_HORIZON_US)
            lb_msgs_add(msgs, "scheduledAt must be within %d days", LB_SCHEDULE_HORIZON_DAYS);
    } else {
        lb_msgs_add(msgs, "scheduledAt must be a valid ISO 8601 date string");
        if (!f.v || (s && len == 0))
            lb_msgs_add(msgs, "scheduledAt should not be empty");
    }
}

enum lb_status lb_parse_lead_create(json_object *body, struct lb_lead_input *in,
                                    struct lb_msgs *msgs, int64_t now_us)
{
    static const char *const known[] = {"agentId", "name", "email", "scheduledAt"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, known, sizeof known / sizeof known[0], msgs);

    check_uuid(get_field(body, "agentId"), "agentId", 1, in->agent_id, msgs);

    const char *s = NULL;
    size_t start = 0, tlen = 0, len = 0;
    if (check_text(get_field(body, "name"), "name", 1, 0, LB_LEAD_NAME_MAX_CHARS, &s, &start, &tlen,
                   msgs) &&
        copy_span(in->name, sizeof in->name, s, start, tlen) != 0)
        lb_msgs_add(msgs, "name must be shorter than or equal to %d characters",
                    LB_LEAD_NAME_MAX_CHARS);

    struct field f = get_field(body, "email");
    s = field_string(f, &len);
    if (s && strlen(s) == len && lb_validate_email(s) == 0) {
        copy_span(in->email, sizeof in->email, s, 0, len);
    } else {
        lb_msgs_add(msgs, "email must be an email");
        if (!f.v || (s && len == 0))
            lb_msgs_add(msgs, "email should not be empty");
    }

    check_scheduled_at(get_field(body, "scheduledAt"), &in->scheduled_at_us, msgs, now_us);
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}

enum lb_status lb_parse_status_change(json_object *body, struct lb_status_input *in,
                                      struct lb_msgs *msgs)
{
    static const char *const known[] = {"status"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, known, 1, msgs);
    size_t len = 0;
    struct field f = get_field(body, "status");
    const char *s = field_string(f, &len);
    if (!s || strlen(s) != len || lb_booking_status_parse(s, &in->status) != 0) {
        lb_msgs_add(msgs, "status must be one of the following values: PENDING, CONFIRMED, "
                          "COMPLETED, EXPIRED, CANCELLED");
        if (!f.v || (s && len == 0))
            lb_msgs_add(msgs, "status should not be empty");
    }
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}

static enum lb_status parse_agent(json_object *body, struct lb_agent_input *in,
                                  struct lb_msgs *msgs, int required)
{
    static const char *const known[] = {"name", "knowledge", "linkExpiryHours", "tenantId"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    in->knowledge = NULL;
    in->link_expiry_hours = LB_LINK_EXPIRY_HOURS_DEFAULT;
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, known, sizeof known / sizeof known[0], msgs);

    const char *s = NULL;
    size_t start = 0, tlen = 0;
    if (check_text(get_field(body, "name"), "name", required, 0, LB_AGENT_NAME_MAX_CHARS, &s,
                   &start, &tlen, msgs)) {
        if (copy_span(in->name, sizeof in->name, s, start, tlen) == 0)
            in->present |= LB_AGENT_HAS_NAME;
        else
            lb_msgs_add(msgs, "name must be shorter than or equal to %d characters",
                        LB_AGENT_NAME_MAX_CHARS);
    }

    if (check_text(get_field(body, "knowledge"), "knowledge", required,
                   LB_AGENT_KNOWLEDGE_MIN_CHARS, 0, &s, &start, &tlen, msgs)) {
        in->knowledge = malloc(tlen + 1);
        if (!in->knowledge)
            return LB_INTERNAL;
        memcpy(in->knowledge, s + start, tlen);
        in->knowledge[tlen] = '\0';
        in->knowledge_len = tlen;
        in->present |= LB_AGENT_HAS_KNOWLEDGE;
    }

    if (check_int(get_field(body, "linkExpiryHours"), "linkExpiryHours", LB_LINK_EXPIRY_HOURS_MIN,
                  LB_LINK_EXPIRY_HOURS_MAX, &in->link_expiry_hours, msgs))
        in->present |= LB_AGENT_HAS_LINK_EXPIRY;

    if (check_uuid(get_field(body, "tenantId"), "tenantId", 0, in->tenant_id, msgs))
        in->present |= LB_AGENT_HAS_TENANT_ID;

    if (lb_msgs_count(msgs) + msgs->dropped != before) {
        lb_agent_input_free(in);
        return LB_INVALID;
    }
    return LB_OK;
}

enum lb_status lb_parse_agent_create(json_object *body, struct lb_agent_input *in,
                                     struct lb_msgs *msgs)
{
    return parse_agent(body, in, msgs, 1);
}

enum lb_status lb_parse_agent_update(json_object *body, struct lb_agent_input *in,
                                     struct lb_msgs *msgs)
{
    return parse_agent(body, in, msgs, 0);
}

void lb_agent_input_free(struct lb_agent_input *in)
{
    free(in->knowledge);
    in->knowledge = NULL;
    in->knowledge_len = 0;
}

/* POST /tenants ({userId, name}) and PATCH /tenants/me ({name}). */
static enum lb_status parse_tenant(json_object *body, struct lb_tenant_input *in,
                                   struct lb_msgs *msgs, int with_user)
{
    static const char *const known[] = {"name", "userId"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, known, with_user ? 2 : 1, msgs);
    const char *s = NULL;
    size_t start = 0, tlen = 0;
    if (with_user) {
        /* judged on the trimmed text like every field, but kept exactly as given: it must be
         * byte for byte the token's sub */
        struct field f = get_field(body, "userId");
        if (check_text(f, "userId", 1, 0, LB_TENANT_USER_ID_MAX_CHARS, &s, &start, &tlen, msgs)) {
            size_t len = 0;
            s = field_string(f, &len);
            if (copy_span(in->user_id, sizeof in->user_id, s, 0, len) != 0)
                lb_msgs_add(msgs, "userId must be shorter than or equal to %d characters",
                            LB_TENANT_USER_ID_MAX_CHARS);
        }
    }
    if (check_text(get_field(body, "name"), "name", 1, 0, LB_TENANT_NAME_MAX_CHARS, &s, &start,
                   &tlen, msgs) &&
        copy_span(in->name, sizeof in->name, s, start, tlen) != 0)
        lb_msgs_add(msgs, "name must be shorter than or equal to %d characters",
                    LB_TENANT_NAME_MAX_CHARS);
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}

enum lb_status lb_parse_tenant_create(json_object *body, struct lb_tenant_input *in,
                                      struct lb_msgs *msgs)
{
    return parse_tenant(body, in, msgs, 1);
}

enum lb_status lb_parse_tenant_update(json_object *body, struct lb_tenant_input *in,
                                      struct lb_msgs *msgs)
{
    return parse_tenant(body, in, msgs, 0);
}

/* PATCH /bookings/:id {scheduledAt} */
enum lb_status lb_parse_reschedule(json_object *body, struct lb_change_input *in,
                                   struct lb_msgs *msgs, int64_t now_us)
{
    static const char *const known[] = {"scheduledAt"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, known, 1, msgs);
    in->reschedule = 1;
    check_scheduled_at(get_field(body, "scheduledAt"), &in->scheduled_at_us, msgs, now_us);
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}

/* PATCH /bookings/meeting/:meetingToken: exactly one of {status: CONFIRMED | CANCELLED} and
 * {scheduledAt}. */
enum lb_status lb_parse_prospect_change(json_object *body, struct lb_change_input *in,
                                        struct lb_msgs *msgs, int64_t now_us)
{
    static const char *const known[] = {"status", "scheduledAt"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, known, 2, msgs);
    struct field status = get_field(body, "status"), when = get_field(body, "scheduledAt");
    if (status.present == when.present) {
        lb_msgs_add(msgs, "body must have exactly one of status and scheduledAt");
    } else if (status.present) {
        size_t len = 0;
        const char *s = field_string(status, &len);
        if (!s || strlen(s) != len || lb_booking_status_parse(s, &in->status) != 0 ||
            (in->status != LB_BOOKING_CONFIRMED && in->status != LB_BOOKING_CANCELLED))
            lb_msgs_add(msgs, "status must be one of the following values: CONFIRMED, CANCELLED");
    } else {
        in->reschedule = 1;
        check_scheduled_at(when, &in->scheduled_at_us, msgs, now_us);
    }
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}
