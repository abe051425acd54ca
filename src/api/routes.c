/* api/routes: the service's route table — every path of API.md, with who may call it. */
#include "api.h"

const struct lb_route lb_api_routes[] = {
    {LB_METHOD_GET, "/healthz", lb_api_healthz, 1},
    {LB_METHOD_GET, "/_test/sleep", lb_api_test_sleep, 1},
    {LB_METHOD_GET, "/_test/crash", lb_api_test_crash, 1},
};

const size_t lb_api_nroutes = sizeof lb_api_routes / sizeof lb_api_routes[0];
