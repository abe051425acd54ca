/* fuzz_url: the webhook URL parser and the address classes (src/net_check.c). Any URL that
 * lb_url_parse accepts must be unambiguous: a lowercase host that libc reads the same way (a
 * name is never something inet_aton takes for an IPv4 address; an IPv4 literal is canonical
 * dotted-quad, an IPv6 literal one inet_pton accepts), a port in 1..65535, a target starting
 * with '/' holding only RFC 3986 characters and no '#', and it parses again, rebuilt from its
 * parts, to the same parts. lb_webhook_url_check accepts nothing that is not https or not
 * public unless the host is listed. The address classes agree across the IPv4-mapped form. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "net_check.h"

#define ALLOW "127.0.0.1 localhost [::1]"

static void check_parsed(const char *s, const struct lb_url *u)
{
    size_t hlen = strlen(u->host);
    FUZZ_ASSERT(hlen >= 1 && hlen <= LB_URL_HOST_MAX_LEN, "host of %zu bytes from \"%s\"", hlen, s);
    for (size_t i = 0; i < hlen; i++) {
        char c = u->host[i];
        FUZZ_ASSERT((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                        c == '_' || (u->host_ip == 6 && c == ':'),
                    "host \"%s\" has 0x%02x", u->host, (unsigned char)c);
    }
    FUZZ_ASSERT(u->port >= 1 && u->port <= 65535, "port %u", u->port);
    FUZZ_ASSERT(u->target[0] == '/', "target \"%s\" does not start with /", u->target);
    for (const char *p = u->target; *p; p++)
        FUZZ_ASSERT((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '#' && *p != '\\',
                    "target \"%s\" has 0x%02x", u->target, (unsigned char)*p);
    struct in_addr a4;
    struct in6_addr a6;
    if (u->host_ip == 4) {
        char back[INET_ADDRSTRLEN];
        FUZZ_ASSERT(inet_pton(AF_INET, u->host, &a4) == 1 &&
                        inet_ntop(AF_INET, &a4, back, sizeof back) && strcmp(back, u->host) == 0,
                    "IPv4 host \"%s\" is not canonical", u->host);
    } else if (u->host_ip == 6) {
        FUZZ_ASSERT(inet_pton(AF_INET6, u->host, &a6) == 1, "IPv6 host \"%s\"", u->host);
    } else {
        FUZZ_ASSERT(u->host_ip == 0 && inet_aton(u->host, &a4) == 0,
                    "name \"%s\" reads as an IPv4 address", u->host);
    }
    /* rebuilt from its parts, it parses to the same parts */
    char again[LB_URL_MAX_LEN + 300];
    snprintf(again, sizeof again, "%s://%s%s%s:%u%s", u->https ? "https" : "http",
             u->host_ip == 6 ? "[" : "", u->host, u->host_ip == 6 ? "]" : "", u->port, u->target);
    struct lb_url v;
    enum lb_url_error e = lb_url_parse(again, &v);
    if (strlen(again) <= LB_URL_MAX_LEN) {
        FUZZ_ASSERT(e == LB_URL_OK, "\"%s\" rebuilt as \"%s\" fails (%d)", s, again, (int)e);
        FUZZ_ASSERT(v.https == u->https && v.port == u->port && v.host_ip == u->host_ip &&
                        strcmp(v.host, u->host) == 0 && strcmp(v.target, u->target) == 0,
                    "\"%s\" rebuilt as \"%s\" parses differently", s, again);
    }
}

static void check_policy(const char *s)
{
    struct lb_url u;
    int allowed = -1;
    if (lb_webhook_url_check(s, ALLOW, &u, &allowed) != LB_URL_OK)
        return;
    FUZZ_ASSERT(allowed == lb_host_allowed(ALLOW, u.host), "allowed flag");
    if (allowed)
        return;
    FUZZ_ASSERT(u.https, "plain http accepted for \"%s\"", s);
    FUZZ_ASSERT(!lb_host_is_localhost_name(u.host), "localhost name accepted: \"%s\"", s);
    struct sockaddr_storage ss;
    if (lb_host_ip(u.host, &ss))
        FUZZ_ASSERT(lb_addr_is_public((struct sockaddr *)&ss), "non-public literal \"%s\"", s);
}

/* The first 16 bytes as an IPv6 address, the first 4 as an IPv4 one: the mapped, compatible
 * and NAT64 forms of an IPv4 address get its verdict. */
static void check_addresses(const uint8_t *data, size_t size)
{
    if (size < 16)
        return;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    memset(&in4, 0, sizeof in4);
    memset(&in6, 0, sizeof in6);
    in4.sin_family = AF_INET;
    memcpy(&in4.sin_addr, data, 4);
    in6.sin6_family = AF_INET6;
    memcpy(&in6.sin6_addr, data, 16);
    int v4 = lb_addr_is_public((struct sockaddr *)&in4);
    (void)lb_addr_is_public((struct sockaddr *)&in6);
    static const unsigned char prefixes[2][12] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},    /* ::ffff:0:0/96 */
        {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, /* 64:ff9b::/96 */
    };
    for (int i = 0; i < 2; i++) {
        memcpy(&in6.sin6_addr, prefixes[i], 12);
        memcpy((unsigned char *)&in6.sin6_addr + 12, data, 4);
        FUZZ_ASSERT(lb_addr_is_public((struct sockaddr *)&in6) == v4,
                    "IPv6 form %d of %u.%u.%u.%u judged differently", i, data[0], data[1], data[2],
                    data[3]);
    }
    if (data[0] == 127 || data[0] == 10 || (data[0] == 192 && data[1] == 168) || data[0] >= 224)
        FUZZ_ASSERT(!v4, "%u.%u.%u.%u judged public", data[0], data[1], data[2], data[3]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    struct lb_url u;
    if (lb_url_parse(s, &u) == LB_URL_OK)
        check_parsed(s, &u);
    check_policy(s);
    /* the input as an allow list, too: any bytes, no crash, and a listed host is found */
    (void)lb_host_allowed(s, "localhost");
    if (size > 0 && size <= LB_URL_HOST_MAX_LEN && strlen(s) == size && !strpbrk(s, " \t") &&
        s[0] != '[')
        FUZZ_ASSERT(lb_host_allowed(s, s), "\"%s\" is not in the list \"%s\"", s, s);
    free(s);
    check_addresses(data, size);
    return 0;
}
