/* api/routes: the service's route table — every path of API.md, with who may call it (besides
 * a tenant's own credential, which may call every non-public route: router.h).
 * Literal segments beat :params (the router picks the most specific pattern). */
#include "api.h"

#define BOOKING_PAGE LB_ACCESS_BOOKING_PAGE
#define NO_TENANT LB_ACCESS_NO_TENANT
#define PUBLIC LB_ACCESS_PUBLIC

const struct lb_route lb_api_routes[] = {
    {LB_METHOD_POST, "/tenants", lb_api_tenant_create, NO_TENANT},
    {LB_METHOD_GET, "/tenants", lb_api_tenant_list, 0},
    {LB_METHOD_GET, "/tenants/me", lb_api_tenant_me, NO_TENANT},
    {LB_METHOD_PATCH, "/tenants/me", lb_api_tenant_update, 0},
    {LB_METHOD_GET, "/tenants/by-user/:userId", lb_api_tenant_by_user, NO_TENANT},
    {LB_METHOD_POST, "/leads", lb_api_lead_create, BOOKING_PAGE},
    {LB_METHOD_GET, "/leads", lb_api_lead_list, 0},
    {LB_METHOD_GET, "/leads/stats", lb_api_lead_stats, 0},
    {LB_METHOD_GET, "/leads/:id", lb_api_lead_get, 0},
    {LB_METHOD_GET, "/bookings/meeting/:meetingToken", lb_api_booking_meeting, PUBLIC},
    {LB_METHOD_PATCH, "/bookings/meeting/:meetingToken", lb_api_booking_prospect, PUBLIC},
    {LB_METHOD_PATCH, "/bookings/:id/status", lb_api_booking_status, 0},
    {LB_METHOD_PATCH, "/bookings/:id", lb_api_booking_reschedule, 0},
    {LB_METHOD_GET, "/bookings/:id/events", lb_api_booking_events, 0},
    {LB_METHOD_POST, "/agents", lb_api_agent_create, 0},
    {LB_METHOD_GET, "/agents", lb_api_agent_list, 0},
    {LB_METHOD_GET, "/agents/by-link/:publicLink", lb_api_agent_by_link, BOOKING_PAGE},
    {LB_METHOD_GET, "/agents/:id", lb_api_agent_get, 0},
    {LB_METHOD_PATCH, "/agents/:id", lb_api_agent_update, 0},
    {LB_METHOD_DELETE, "/agents/:id", lb_api_agent_delete, 0},
    {LB_METHOD_POST, "/webhooks", lb_api_webhook_create, 0},
    {LB_METHOD_GET, "/webhooks", lb_api_webhook_list, 0},
    {LB_METHOD_GET, "/webhooks/:id", lb_api_webhook_get, 0},
    {LB_METHOD_PATCH, "/webhooks/:id", lb_api_webhook_update, 0},
    {LB_METHOD_DELETE, "/webhooks/:id", lb_api_webhook_delete, 0},
    {LB_METHOD_POST, "/webhooks/:id/rotate-secret", lb_api_webhook_rotate, 0},
    {LB_METHOD_GET, "/webhooks/:id/deliveries", lb_api_webhook_deliveries, 0},
    {LB_METHOD_GET, "/healthz", lb_api_healthz, PUBLIC},
    {LB_METHOD_GET, "/readyz", lb_api_readyz, PUBLIC},
    {LB_METHOD_GET, "/_test/sleep", lb_api_test_sleep, PUBLIC},
    {LB_METHOD_GET, "/_test/crash", lb_api_test_crash, PUBLIC},
    {LB_METHOD_GET, "/metrics", lb_api_metrics, PUBLIC},
};

const size_t lb_api_nroutes = sizeof lb_api_routes / sizeof lb_api_routes[0];
