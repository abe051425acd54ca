/* net_check: webhook URLs and the addresses they may reach (see net_check.h). The parser is
 * stricter than WHATWG's and RFC 3986's on purpose: every URL it accepts means the same host to
 * any other reader of it (the deliverer's resolver, the receiver's proxy), so a check made here
 * cannot be bypassed by a spelling another parser reads differently. */
#include "net_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ---- characters ------------------------------------------------------------------------------ */

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 3986's unreserved, gen-delims and sub-delims characters, and '%'. */
static int is_url_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

/* ---- IPv4 ------------------------------------------------------------------------------------ */

/* Exactly four decimal parts of 0-255 without leading zeros: the one spelling that every
 * parser reads alike (inet_aton would also take "127.1", "0x7f.1" and "017700000001"). */
static int parse_ipv4(const char *s, size_t len, uint32_t *out)
{
    uint32_t addr = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return -1;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit((unsigned char)s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return -1;
        addr = addr << 8 | v;
    }
    if (i != len)
        return -1;
    *out = addr;
    return 0;
}

/* The IPv4 ranges that are not public (IANA's special-purpose registry). */
static int v4_public(uint32_t a)
{
    static const struct {
        uint32_t net;
        unsigned bits;
    } refused[] = {
        {0x00000000u, 8},  /* 0.0.0.0/8: this network, unspecified */
        {0x0a000000u, 8},  /* 10.0.0.0/8: private */
        {0x64400000u, 10}, /* 100.64.0.0/10: carrier-grade NAT */
        {0x7f000000u, 8},  /* 127.0.0.0/8: loopback */
        {0xa9fe0000u, 16}, /* 169.254.0.0/16: link-local */
        {0xac100000u, 12}, /* 172.16.0.0/12: private */
        {0xc0000000u, 24}, /* 192.0.0.0/24: IETF protocol assignments */
        {0xc0000200u, 24}, /* 192.0.2.0/24: documentation (TEST-NET-1) */
        {0xc0586300u, 24}, /* 192.88.99.0/24: 6to4 relay anycast (deprecated) */
        {0xc0a80000u, 16}, /* 192.168.0.0/16: private */
        {0xc6120000u, 15}, /* 198.18.0.0/15: benchmarking */
        {0xc6336400u, 24}, /* 198.51.100.0/24: documentation (TEST-NET-2) */
        {0xcb007100u, 24}, /* 203.0.113.0/24: documentation (TEST-NET-3) */
        {0xe0000000u, 4},  /* 224.0.0.0/4: multicast */
        {0xf0000000u, 4},  /* 240.0.0.0/4: reserved, and 255.255.255.255 broadcast */
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - refused[i].bits);
        if ((a & mask) == refused[i].net)
            return 0;
    }
    return 1;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- IPv6 ------------------------------------------------------------------------------------ */

static int all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Public = global unicast (2000::/3) less its special blocks; the forms that carry an IPv4
 * address are judged by it (a translator or tunnel would deliver there). */
static int v6_public(const unsigned char *b)
{
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
        return v4_public(be32(b + 12)); /* ::ffff:0:0/96 IPv4-mapped */
    if (all_zero(b, 12))
        return all_zero(b, 15) && b[15] <= 1 ? 0 : v4_public(be32(b + 12)); /* ::, ::1, ::/96 */
    if (memcmp(b, nat64, 12) == 0)
        return v4_public(be32(b + 12)); /* 64:ff9b::/96 NAT64 */
    if (b[0] == 0x20 && b[1] == 0x02)
        return v4_public(be32(b + 2)); /* 2002::/16 6to4 */
    if ((b[0] & 0xe0) != 0x20)
        return 0; /* not 2000::/3: ULA fc00::/7, link-local fe80::/10, multicast ff00::/8, ... */
    if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0)
        return 0; /* 2001::/23 IETF protocol assignments (Teredo 2001::/32 among them) */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return 0; /* 2001:db8::/32 documentation */
    if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0)
        return 0; /* 3fff::/20 documentation */
    return 1;
}

int lb_addr_is_public(const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return v4_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return v6_public(in6->sin6_addr.s6_addr);
    }
    return 0;
}

int lb_host_ip(const char *host, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strnlen(host, INET6_ADDRSTRLEN + 1);
    if (len > INET6_ADDRSTRLEN)
        return 0;
    if (memchr(host, ':', len)) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)out;
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            return 0;
        in6->sin6_family = AF_INET6;
        return 6;
    }
    uint32_t a;
    if (parse_ipv4(host, len, &a) != 0)
        return 0;
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)out;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(a);
    return 4;
}

/* ---- names ----------------------------------------------------------------------------------- */

int lb_host_is_localhost_name(const char *host)
{
    static const char *const names[] = {"localhost", "localhost.localdomain", "ip6-localhost",
                                        "ip6-loopback"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(host, names[i]) == 0)
            return 1;
    static const char sub[] = ".localhost";
    size_t n = strlen(host);
    return n > sizeof sub - 1 && strcasecmp(host + n - (sizeof sub - 1), sub) == 0;
}

/* Host-name rules: labels of 1-63 of [A-Za-z0-9_-], not starting or ending with '-'; the last
 * label must not look like a number (WHATWG reads such a host as IPv4) unless the whole host
 * is a canonical dotted quad. Returns 4 for an IPv4 literal, 0 for a name, -1 if refused. */
static int check_name(const char *h, size_t len)
{
    if (len == 0 || len > LB_URL_HOST_MAX_LEN)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && h[i] != '.') {
            unsigned char c = (unsigned char)h[i];
            if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
                return -1;
            continue;
        }
        size_t n = i - start;
        if (n == 0 || n > 63 || h[start] == '-' || h[i - 1] == '-')
            return -1;
        if (i < len)
            start = i + 1;
    }
    const char *last = h + start;
    size_t n = len - start, k = 0;
    if (n > 1 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
        k = 2; /* "0x" + hex digits is a number to WHATWG; so is a bare "0x" */
    int numeric = 1;
    for (size_t i = k; i < n; i++)
        if (k ? !is_hex((unsigned char)last[i]) : !is_digit((unsigned char)last[i]))
            numeric = 0;
    if (!numeric)
        return 0;
    uint32_t a;
    return parse_ipv4(h, len, &a) == 0 ? 4 : -1;
}

/* ---- URLs ------------------------------------------------------------------------------------ */

enum lb_url_error lb_url_parse(const char *url, struct lb_url *out)
{
    size_t len = strnlen(url, LB_URL_MAX_LEN + 1);
    if (len > LB_URL_MAX_LEN)
        return LB_URL_TOO_LONG;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (!is_url_char(c))
            return LB_URL_SYNTAX;
        if (c == '%' && (i + 2 >= len || !is_hex((unsigned char)url[i + 1]) ||
                         !is_hex((unsigned char)url[i + 2])))
            return LB_URL_SYNTAX;
    }
    if (memchr(url, '#', len))
        return LB_URL_FRAGMENT;
    const char *colon = memchr(url, ':', len);
    if (!colon || colon == url)
        return LB_URL_SYNTAX;
    size_t slen = (size_t)(colon - url);
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)url[i];
        if (!is_alpha(c) && (i == 0 || (!is_digit(c) && c != '+' && c != '-' && c != '.')))
            return LB_URL_SYNTAX;
    }
    struct lb_url u;
    memset(&u, 0, sizeof u);
    if (slen == 5 && strncasecmp(url, "https", 5) == 0)
        u.https = 1;
    else if (!(slen == 4 && strncasecmp(url, "http", 4) == 0))
        return LB_URL_SCHEME;
    if (strncmp(colon + 1, "//", 2) != 0)
        return LB_URL_SYNTAX;
    const char *auth = colon + 3, *end = url + len;
    const char *auth_end = auth;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?')
        auth_end++;
    if (memchr(auth, '@', (size_t)(auth_end - auth)))
        return LB_URL_USERINFO;

    const char *host = auth, *host_end, *p;
    if (auth < auth_end && *auth == '[') {
        host = auth + 1;
        host_end = memchr(host, ']', (size_t)(auth_end - host));
        if (!host_end || (size_t)(host_end - host) >= INET6_ADDRSTRLEN)
            return LB_URL_SYNTAX;
        p = host_end + 1;
        u.host_ip = 6;
    } else {
        host_end = auth;
        while (host_end < auth_end && *host_end != ':')
            host_end++;
        p = host_end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen > LB_URL_HOST_MAX_LEN)
        return LB_URL_SYNTAX;
    for (size_t i = 0; i < hlen; i++)
        u.host[i] = lower(host[i]);
    u.host[hlen] = '\0';
    if (u.host_ip == 6) {
        struct in6_addr a6;
        if (strchr(u.host, '%') || inet_pton(AF_INET6, u.host, &a6) != 1)
            return LB_URL_SYNTAX; /* no zone ids: they name an interface of this machine */
    } else {
        int kind = check_name(u.host, hlen);
        if (kind < 0)
            return LB_URL_SYNTAX;
        u.host_ip = kind;
    }

    u.port = u.https ? 443 : 80;
    if (p < auth_end) {
        if (*p != ':' || p + 1 == auth_end || auth_end - (p + 1) > 5)
            return LB_URL_SYNTAX;
        unsigned port = 0;
        for (const char *q = p + 1; q < auth_end; q++) {
            if (!is_digit((unsigned char)*q))
                return LB_URL_SYNTAX;
            port = port * 10 + (unsigned)(*q - '0');
        }
        if (port == 0 || port > 65535)
            return LB_URL_SYNTAX;
        u.port = port;
    }

    size_t tlen = (size_t)(end - auth_end), o = 0;
    if (tlen == 0 || *auth_end == '?')
        u.target[o++] = '/';
    if (o + tlen > LB_URL_MAX_LEN)
        return LB_URL_TOO_LONG; /* "https://h?" + 2038 bytes: the "/" would not fit */
    memcpy(u.target + o, auth_end, tlen);
    u.target[o + tlen] = '\0';
    *out = u;
    return LB_URL_OK;
}

/* ---- the allow list -------------------------------------------------------------------------- */

static int same_host(const char *host, const char *entry, size_t elen)
{
    char e[INET6_ADDRSTRLEN + 3];
    if (elen >= 2 && entry[0] == '[' && entry[elen - 1] == ']') {
        entry++;
        elen -= 2;
    }
    if (elen == 0 || elen > LB_URL_HOST_MAX_LEN)
        return 0;
    if (elen < sizeof e) {
        memcpy(e, entry, elen);
        e[elen] = '\0';
        struct sockaddr_storage a, b;
        int fa = lb_host_ip(host, &a), fb = lb_host_ip(e, &b);
        if (fa && fb) {
            if (fa != fb)
                return 0;
            if (fa == 4)
                return ((struct sockaddr_in *)(void *)&a)->sin_addr.s_addr ==
                       ((struct sockaddr_in *)(void *)&b)->sin_addr.s_addr;
            return memcmp(&((struct sockaddr_in6 *)(void *)&a)->sin6_addr,
                          &((struct sockaddr_in6 *)(void *)&b)->sin6_addr,
                          sizeof(struct in6_addr)) == 0;
        }
    }
    return strlen(host) == elen && strncasecmp(host, entry, elen) == 0;
}

int lb_host_allowed(const char *allow_list, const char *host)
{
    if (!allow_list || !host || !*host)
        return 0;
    const char *p = allow_list;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p > start && same_host(host, start, (size_t)(p - start)))
            return 1;
    }
    return 0;
}

enum lb_url_error lb_webhook_url_check(const char *url, const char *allow_list, struct lb_url *out,
                                       int *allowed)
{
    struct lb_url u;
    enum lb_url_error e = lb_url_parse(url, &u);
    if (e != LB_URL_OK)
        return e;
    int listed = lb_host_allowed(allow_list, u.host);
    if (!u.https && !listed)
        return LB_URL_SCHEME;
    if (!listed) {
        struct sockaddr_storage ss;
        if (lb_host_ip(u.host, &ss) && !lb_addr_is_public((const struct sockaddr *)&ss))
            return LB_URL_NOT_PUBLIC;
        if (lb_host_is_localhost_name(u.host))
            return LB_URL_NOT_PUBLIC;
    }
    *out = u;
    *allowed = listed;
    return LB_URL_OK;
}
