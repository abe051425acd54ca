/* jsonx_webhooks: the bodies of POST /webhooks and PATCH /webhooks/:id (message rules:
 * jsonx.h; the URL rules: net_check.h). */
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "jsonx_fields.h"
#include "net_check.h"

static const char *const event_names[LB_WEBHOOK_EVENT_COUNT] = {
    "booking.created", "booking.status_changed", "booking.rescheduled"};

const char *lb_webhook_event_name(size_t i)
{
    return i < LB_WEBHOOK_EVENT_COUNT ? event_names[i] : NULL;
}

/* The string of member name, or NULL (absent, null or another type); *present says whether
 * the member is there at all, *v is its value (NULL for JSON null). */
static const char *member_string(json_object *body, const char *name, int *present, json_object **v,
                                 size_t *len)
{
    *v = NULL;
    *present = json_object_object_get_ex(body, name, v) ? 1 : 0;
    if (!*present || !*v || !json_object_is_type(*v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(*v);
    return json_object_get_string(*v);
}

static void check_url(json_object *body, const char *allow_hosts, int required,
                      struct lb_webhook_input *in, struct lb_msgs *msgs)
{
    int present;
    json_object *v;
    size_t len = 0;
    const char *s = member_string(body, "url", &present, &v, &len);
    if (!present && !required)
        return;
    if (!s || len == 0 || memchr(s, '\0', len)) {
        lb_msgs_add(msgs, "url must be a URL address");
        if (required && (!v || (s && len == 0)))
            lb_msgs_add(msgs, "url should not be empty");
        return;
    }
    if (lb_utf8_length_n(s, len) > LB_WEBHOOK_URL_MAX_CHARS) {
        lb_msgs_add(msgs, "url must be shorter than or equal to %d characters",
                    LB_WEBHOOK_URL_MAX_CHARS);
        return;
    }
    struct lb_url u;
    int allowed = 0;
    switch (lb_webhook_url_check(s, allow_hosts, &u, &allowed)) {
    case LB_URL_OK:
        memcpy(in->url, s, len + 1); /* fits: at most LB_URL_MAX_LEN ASCII bytes */
        in->present |= LB_WEBHOOK_HAS_URL;
        return;
    case LB_URL_TOO_LONG: /* more bytes than characters allowed: non-ASCII, not a URL */
    case LB_URL_SYNTAX:
        lb_msgs_add(msgs, "url must be a URL address");
        return;
    case LB_URL_SCHEME:
        lb_msgs_add(msgs, "url must use https");
        return;
    case LB_URL_USERINFO:
        lb_msgs_add(msgs, "url must not contain credentials");
        return;
    case LB_URL_FRAGMENT:
        lb_msgs_add(msgs, "url must not contain a fragment");
        return;
    case LB_URL_NOT_PUBLIC:
        lb_msgs_add(msgs, "url must not point to a loopback, private or otherwise non-public "
                          "address");
        return;
    }
}

static void check_events(json_object *body, int required, struct lb_webhook_input *in,
                         struct lb_msgs *msgs)
{
    json_object *v = NULL;
    int present = json_object_object_get_ex(body, "events", &v) ? 1 : 0;
    if (!present && !required)
        return;
    if (!v || !json_object_is_type(v, json_type_array)) {
        lb_msgs_add(msgs, "events must be an array");
        if (required && !v)
            lb_msgs_add(msgs, "events should not be empty");
        return;
    }
    size_t n = json_object_array_length(v);
    if (n == 0) {
        lb_msgs_add(msgs, "events should not be empty");
        return;
    }
    int seen[LB_WEBHOOK_EVENT_COUNT] = {0}, unknown = 0, duplicate = 0;
    size_t order[LB_WEBHOOK_EVENT_COUNT], count = 0;
    for (size_t i = 0; i < n && !unknown; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        const char *name =
            e && json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
        size_t k = 0;
        /* the length too: "booking.created\u0000x" is not booking.created */
        while (name && k < LB_WEBHOOK_EVENT_COUNT &&
               ((size_t)json_object_get_string_len(e) != strlen(event_names[k]) ||
                strcmp(name, event_names[k]) != 0))
            k++;
        if (!name || k == LB_WEBHOOK_EVENT_COUNT)
            unknown = 1;
        else if (seen[k])
            duplicate = 1;
        else {
            seen[k] = 1;
            order[count++] = k;
        }
    }
    if (unknown)
        lb_msgs_add(msgs, "events must contain only booking.created, booking.status_changed, "
                          "booking.rescheduled");
    else if (duplicate)
        lb_msgs_add(msgs, "events must not contain duplicates");
    if (unknown || duplicate)
        return;
    size_t o = 0;
    in->events[o++] = '{';
    for (size_t i = 0; i < count; i++) {
        int w = snprintf(in->events + o, sizeof in->events - o, "%s%s", i ? "," : "",
                         event_names[order[i]]);
        o += (size_t)w; /* fits: the three names take 58 bytes */
    }
    snprintf(in->events + o, sizeof in->events - o, "}");
    in->present |= LB_WEBHOOK_HAS_EVENTS;
}

static void check_description(json_object *body, struct lb_webhook_input *in, struct lb_msgs *msgs)
{
    int present;
    json_object *v;
    size_t len = 0;
    const char *s = member_string(body, "description", &present, &v, &len);
    if (!present)
        return;
    if (!s) {
        lb_msgs_add(msgs, "description must be a string");
        return;
    }
    int ok = 1;
    if (memchr(s, '\0', len)) {
        lb_msgs_add(msgs, "description must not contain null characters");
        ok = 0;
    }
    if (lb_utf8_length_n(s, len) > LB_WEBHOOK_DESCRIPTION_MAX_CHARS ||
        len >= sizeof in->description) {
        lb_msgs_add(msgs, "description must be shorter than or equal to %d characters",
                    LB_WEBHOOK_DESCRIPTION_MAX_CHARS);
        ok = 0;
    }
    if (!ok)
        return;
    memcpy(in->description, s, len + 1);
    in->present |= LB_WEBHOOK_HAS_DESCRIPTION;
}

static enum lb_status parse_webhook(json_object *body, const char *allow_hosts,
                                    struct lb_webhook_input *in, struct lb_msgs *msgs, int create)
{
    static const char *const known[] = {"url", "events", "description", "enabled"};
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    memset(in, 0, sizeof *in);
    in->enabled = 1;
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    /* a new endpoint is enabled: "enabled" is PATCH's */
    lb_json_reject_unknown(body, known, create ? 3 : 4, msgs);
    check_url(body, allow_hosts, create, in, msgs);
    check_events(body, create, in, msgs);
    check_description(body, in, msgs);
    json_object *v = NULL;
    if (!create && json_object_object_get_ex(body, "enabled", &v)) {
        if (v && json_object_is_type(v, json_type_boolean)) {
            in->enabled = json_object_get_boolean(v) ? 1 : 0;
            in->present |= LB_WEBHOOK_HAS_ENABLED;
        } else {
            lb_msgs_add(msgs, "enabled must be a boolean value");
        }
    }
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}

enum lb_status lb_parse_webhook_create(json_object *body, const char *allow_hosts,
                                       struct lb_webhook_input *in, struct lb_msgs *msgs)
{
    return parse_webhook(body, allow_hosts, in, msgs, 1);
}

enum lb_status lb_parse_webhook_update(json_object *body, const char *allow_hosts,
                                       struct lb_webhook_input *in, struct lb_msgs *msgs)
{
    return parse_webhook(body, allow_hosts, in, msgs, 0);
}

enum lb_status lb_parse_webhook_rotate(json_object *body, struct lb_msgs *msgs)
{
    size_t before = lb_msgs_count(msgs) + msgs->dropped;
    if (!body || !json_object_is_type(body, json_type_object)) {
        lb_msgs_add(msgs, "body must be a JSON object");
        return LB_INVALID;
    }
    lb_json_reject_unknown(body, NULL, 0, msgs);
    return lb_msgs_count(msgs) + msgs->dropped == before ? LB_OK : LB_INVALID;
}
