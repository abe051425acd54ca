/* jsonx_support: helpers shared by the JSON body tests (check_jsonx, check_jsonx_dto). */
#include "jsonx_support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *msgs_json(const struct lb_msgs *m)
{
    static char out[16384];
    struct lb_buf b;
    lb_buf_init(&b);
    lb_msgs_to_json(m, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    lb_buf_free(&b);
    return out;
}

char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* Parses text as a body; fails the test if it is not an object. */
json_object *body_of(const char *text)
{
    struct lb_msgs m;
    json_object *o = NULL;
    lb_msgs_clear(&m);
    enum lb_status st = lb_json_parse_body(text, strlen(text), &o, &m);
    ck_assert_msg(st == LB_OK, "body %s: %s", text, msgs_json(&m));
    return o;
}
