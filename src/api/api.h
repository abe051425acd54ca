/* api: the handlers, one file per resource. */
#ifndef LB_API_H
#define LB_API_H

#include "app.h"

void lb_api_healthz(struct lb_ctx *ctx);
void lb_api_test_sleep(struct lb_ctx *ctx);
void lb_api_test_crash(struct lb_ctx *ctx);

#endif
