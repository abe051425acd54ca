/* jsonx_support: helpers shared by the JSON body tests. */
#ifndef LB_TEST_JSONX_SUPPORT_H
#define LB_TEST_JSONX_SUPPORT_H

#include <stddef.h>

#include "jsonx.h"

/* The messages as the JSON array the client receives (a static buffer: use before the next
 * call). */
char *msgs_json(const struct lb_msgs *m);
/* unit repeated n times (malloc'd; the caller frees it). */
char *repeat(const char *unit, size_t n);
/* Parses text as a body; fails the test if it is not an object. */
json_object *body_of(const char *text);

#endif
