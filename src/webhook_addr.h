/* webhook_addr: which addresses the deliverer may connect to (API.md "Webhooks": a tenant's url
 * must not reach loopback, private, link-local, multicast or otherwise non-public addresses),
 * and the webhook_allow_hosts exceptions. Pure functions. (The deliverer's own copy: the shared
 * src/net_check module was not there yet when the deliverer was written.) */
#ifndef LB_WEBHOOK_ADDR_H
#define LB_WEBHOOK_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* 1 when addr (AF_INET or AF_INET6; IPv4-mapped, NAT64 and 6to4 IPv6 judged by the IPv4 address
 * they carry) is a public unicast address; 0 for anything else, unknown families included. */
int lb_webhook_addr_public(const struct sockaddr *addr, socklen_t len);
/* The numeric text of addr into out ("10.0.0.1", "::1"); "?" when it has none. */
void lb_webhook_addr_text(const struct sockaddr *addr, socklen_t len, char *out, size_t outlen);
/* 1 when host (a URL's host; an IPv6 literal with or without brackets) is one of the
 * space-separated names of list, compared without regard to case; 0 otherwise (NULL list). */
int lb_webhook_host_allowed(const char *list, const char *host);

#endif
