/* webhook_addr: the public-address rule (IANA special-purpose registries, RFC 6890 and later),
 * so that a tenant's webhook url cannot make the deliverer reach the operator's own network. */
#include "webhook_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Non-public IPv4 blocks: network (host order) and prefix length. */
static const struct {
    uint32_t net;
    int bits;
} v4_blocked[] = {
    {0x00000000, 8},  /* 0.0.0.0/8 "this network", unspecified */
    {0x0a000000, 8},  /* 10/8 private */
    {0x64400000, 10}, /* 100.64/10 carrier-grade NAT */
    {0x7f000000, 8},  /* 127/8 loopback */
    {0xa9fe0000, 16}, /* 169.254/16 link-local (cloud metadata services live here) */
    {0xac100000, 12}, /* 172.16/12 private */
    {0xc0000000, 24}, /* 192.0.0/24 IETF protocol assignments */
    {0xc0000200, 24}, /* 192.0.2/24 documentation */
    {0xc0586300, 24}, /* 192.88.99/24 6to4 relay anycast */
    {0xc0a80000, 16}, /* 192.168/16 private */
    {0xc6120000, 15}, /* 198.18/15 benchmarking */
    {0xc6336400, 24}, /* 198.51.100/24 documentation */
    {0xcb007100, 24}, /* 203.0.113/24 documentation */
    {0xe0000000, 4},  /* 224/4 multicast */
    {0xf0000000, 4},  /* 240/4 reserved, and 255.255.255.255 broadcast */
};

static int v4_public(uint32_t a)
{
    for (size_t i = 0; i < sizeof v4_blocked / sizeof v4_blocked[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - v4_blocked[i].bits);
        if ((a & mask) == v4_blocked[i].net)
            return 0;
    }
    return 1;
}

static uint32_t v4_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int v6_public(const unsigned char *b)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    /* Forms that carry an IPv4 address reach that address: judge it. */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_public(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 */
        return v4_public(v4_at(b + 2));
    /* Only global unicast 2000::/3 is public: this leaves out ::, ::1, the IPv4-compatible
     * ::/96, 100::/64 discard, fc00::/7 unique local, fe80::/10 link-local, ff00::/8
     * multicast and everything unassigned. */
    if ((b[0] & 0xe0) != 0x20)
        return 0;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) /* 2001::/23 IETF (Teredo, ORCHID...) */
        return 0;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 docs */
        return 0;
    if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) /* 3fff::/20 documentation */
        return 0;
    return 1;
}

int lb_webhook_addr_public(const struct sockaddr *addr, socklen_t len)
{
    if (!addr)
        return 0;
    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
        return v4_public(ntohl(in->sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
        return v6_public(in6->sin6_addr.s6_addr);
    }
    return 0;
}

void lb_webhook_addr_text(const struct sockaddr *addr, socklen_t len, char *out, size_t outlen)
{
    const char *r = NULL;
    if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
        r = inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, out,
                      (socklen_t)outlen);
    else if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
        r = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, out,
                      (socklen_t)outlen);
    if (!r)
        snprintf(out, outlen, "?");
}

int lb_webhook_host_allowed(const char *list, const char *host)
{
    if (!list || !host)
        return 0;
    size_t hlen = strlen(host);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen == 0)
        return 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',')
            p++;
        size_t n = (size_t)(p - start);
        if (n >= 2 && start[0] == '[' && start[n - 1] == ']') {
            start++;
            n -= 2;
        }
        if (n == hlen && n > 0 && strncasecmp(start, host, n) == 0)
            return 1;
    }
    return 0;
}
