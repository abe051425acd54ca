/* jsonx_fields: what the body validators of src/jsonx_*.c share (not for the handlers). */
#ifndef LB_JSONX_FIELDS_H
#define LB_JSONX_FIELDS_H

#include <stddef.h>

#include <json-c/json.h>

#include "jsonx.h"

/* "property X should not exist" for every member of body not in known[] (in body order; X
 * shown as jsonx.h says). */
void lb_json_reject_unknown(json_object *body, const char *const *known, size_t nknown,
                            struct lb_msgs *msgs);

#endif
