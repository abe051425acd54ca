/* net_check: where a webhook may be sent (API.md "Webhooks"). Pure functions, shared by the API
 * (refusals at creation) and the deliverer (the same refusals, and the address check of every
 * resolved address at delivery):
 *  - lb_url_parse: a strict parser of absolute http/https URLs (RFC 3986 characters only, one
 *    spelling of every IPv4 literal, bracketed IPv6 literals without zone ids);
 *  - lb_addr_is_public: whether an address may be connected to (not loopback, private, CGNAT,
 *    link-local, multicast, unspecified, broadcast, documentation or otherwise reserved;
 *    IPv4-mapped, -compatible, NAT64 and 6to4 IPv6 addresses are judged by their IPv4 address);
 *  - lb_host_allowed: the webhook_allow_hosts exceptions of leadbook.conf;
 *  - lb_webhook_url_check: all of it, as the API applies it to a URL it is given.
 * No I/O, no allocation, no locale dependence; every function takes arbitrary NUL-terminated
 * bytes. */
#ifndef LB_NET_CHECK_H
#define LB_NET_CHECK_H

#include <stddef.h>
#include <sys/socket.h>

#define LB_URL_MAX_LEN 2048 /* bytes (the parser accepts ASCII only, so characters too) */
#define LB_URL_HOST_MAX_LEN 253

enum lb_url_error {
    LB_URL_OK = 0,
    LB_URL_TOO_LONG,   /* more than LB_URL_MAX_LEN bytes */
    LB_URL_SYNTAX,     /* not an absolute URL with a host (or a character outside RFC 3986) */
    LB_URL_SCHEME,     /* another scheme than http/https, or http where only https is allowed */
    LB_URL_USERINFO,   /* user:password@ in the authority */
    LB_URL_FRAGMENT,   /* a '#' anywhere */
    LB_URL_NOT_PUBLIC, /* an IP literal that is not public, or a localhost name */
};

struct lb_url {
    int https;                          /* 1: https, 0: http */
    char host[LB_URL_HOST_MAX_LEN + 1]; /* lowercased; an IPv6 literal without its brackets */
    int host_ip;                        /* 0: a name, 4: an IPv4 literal, 6: an IPv6 literal */
    unsigned port;                      /* the given port, else 443 / 80 */
    char target[LB_URL_MAX_LEN + 1];    /* path and query as given, "/" when empty */
};

/* Parses url (scheme case-insensitive, host lowercased). Refused: anything but http:// and
 * https://, userinfo, a fragment, an empty or malformed host (labels of 1-63 letters, digits,
 * '-' and '_', no empty label, no trailing dot), a name whose last label looks numeric unless
 * it is a canonical dotted-quad IPv4 address (so "127.1", "0x7f.0.0.1" and "2130706433", which
 * other parsers read as 127.0.0.1, are refused), an IPv6 literal that inet_pton refuses or
 * that has a zone id, a port that is empty, zero or over 65535, characters outside RFC 3986
 * (controls, space, non-ASCII, '\\', '"', '<', '>', '^', '`', '{', '|', '}') and a '%' not
 * followed by two hex digits. Fills *out only on LB_URL_OK. */
enum lb_url_error lb_url_parse(const char *url, struct lb_url *out);

/* 1 when the address may be connected to (a public unicast address), else 0 (also for other
 * families than AF_INET and AF_INET6). */
int lb_addr_is_public(const struct sockaddr *sa);

/* Whether host (a URL's host as lb_url_parse writes it) is an IP literal; if so writes it to
 * *out (struct sockaddr_in or sockaddr_in6, port 0) and returns 4 or 6, else 0. */
int lb_host_ip(const char *host, struct sockaddr_storage *out);

/* 1 for the names that mean this machine: "localhost", any name under ".localhost"
 * (RFC 6761), "localhost.localdomain", "ip6-localhost", "ip6-loopback" (case-insensitive). */
int lb_host_is_localhost_name(const char *host);

/* 1 when host is in allow_list: host names and IP addresses separated by spaces or tabs
 * (IPv6 with or without brackets), compared case-insensitively, IP addresses by value
 * ("::1" matches "0:0:0:0:0:0:0:1"). NULL or "" allows nothing. */
int lb_host_allowed(const char *allow_list, const char *host);

/* A webhook URL as API.md wants it: lb_url_parse, then https unless the host is in allow_list,
 * then no IP literal that is not public and no localhost name unless the host is in
 * allow_list. On LB_URL_OK fills *out and sets *allowed to whether the host is in the list
 * (the deliverer then skips the check of the addresses it resolves). */
enum lb_url_error lb_webhook_url_check(const char *url, const char *allow_list, struct lb_url *out,
                                       int *allowed);

#endif
