/* api/routes: the service's route table — every path of API.md, with who may call it.
 * Literal segments beat :params (the router picks the most specific pattern). */
#include "api.h"

const struct lb_route lb_api_routes[] = {
    {LB_METHOD_POST, "/leads", lb_api_lead_create, 0},
    {LB_METHOD_GET, "/leads", lb_api_lead_list, 0},
    {LB_METHOD_GET, "/leads/stats", lb_api_lead_stats, 0},
    {LB_METHOD_GET, "/leads/:id", lb_api_lead_get, 0},
    {LB_METHOD_GET, "/bookings/meeting/:meetingToken", lb_api_booking_meeting, 1},
    {LB_METHOD_PATCH, "/bookings/:id/status", lb_api_booking_status, 0},
    {LB_METHOD_POST, "/agents", lb_api_agent_create, 0},
    {LB_METHOD_GET, "/agents", lb_api_agent_list, 0},
    {LB_METHOD_GET, "/agents/by-link/:publicLink", lb_api_agent_by_link, 0},
    {LB_METHOD_GET, "/agents/:id", lb_api_agent_get, 0},
    {LB_METHOD_PATCH, "/agents/:id", lb_api_agent_update, 0},
    {LB_METHOD_DELETE, "/agents/:id", lb_api_agent_delete, 0},
    {LB_METHOD_GET, "/healthz", lb_api_healthz, 1},
    {LB_METHOD_GET, "/readyz", lb_api_readyz, 1},
    {LB_METHOD_GET, "/_test/sleep", lb_api_test_sleep, 1},
    {LB_METHOD_GET, "/_test/crash", lb_api_test_crash, 1},
};

const size_t lb_api_nroutes = sizeof lb_api_routes / sizeof lb_api_routes[0];
