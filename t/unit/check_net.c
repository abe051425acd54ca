/* check_net: net_check — the webhook URL parser, the address classes refused for delivery
 * (every range, for IPv4 and IPv6, incl. the IPv6 forms that carry an IPv4 address), the
 * localhost names, the webhook_allow_hosts list and the combined check of the API. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- addresses ---- */

static const struct {
    const char *addr;
    int pub;
} addr_cases[] = {
    /* IPv4: public */
    {"8.8.8.8", 1},
    {"1.1.1.1", 1},
    {"93.184.216.34", 1},
    {"9.255.255.255", 1},
    {"11.0.0.0", 1},
    {"100.63.255.255", 1},
    {"100.128.0.0", 1},
    {"126.255.255.255", 1},
    {"128.0.0.0", 1},
    {"169.253.255.255", 1},
    {"169.255.0.0", 1},
    {"172.15.255.255", 1},
    {"172.32.0.0", 1},
    {"192.0.1.0", 1},
    {"192.0.3.0", 1},
    {"192.88.98.255", 1},
    {"192.167.255.255", 1},
    {"192.169.0.0", 1},
    {"198.17.255.255", 1},
    {"198.20.0.0", 1},
    {"198.51.99.255", 1},
    {"203.0.112.255", 1},
    {"203.0.114.0", 1},
    {"223.255.255.255", 1},
    /* IPv4: refused, each range at both ends */
    {"0.0.0.0", 0},         /* unspecified */
    {"0.255.255.255", 0},   /* this network */
    {"10.0.0.0", 0},        /* private */
    {"10.255.255.255", 0},  /* private */
    {"100.64.0.0", 0},      /* CGNAT */
    {"100.127.255.255", 0}, /* CGNAT */
    {"127.0.0.1", 0},       /* loopback */
    {"127.255.255.254", 0}, /* loopback */
    {"169.254.0.0", 0},     /* link-local */
    {"169.254.169.254", 0}, /* link-local: cloud metadata */
    {"172.16.0.0", 0},      /* private */
    {"172.31.255.255", 0},  /* private */
    {"192.0.0.0", 0},       /* IETF protocol assignments */
    {"192.0.0.255", 0},     /* IETF protocol assignments */
    {"192.0.2.1", 0},       /* TEST-NET-1 */
    {"192.88.99.1", 0},     /* 6to4 relay anycast */
    {"192.168.0.0", 0},     /* private */
    {"192.168.255.255", 0}, /* private */
    {"198.18.0.0", 0},      /* benchmarking */
    {"198.19.255.255", 0},  /* benchmarking */
    {"198.51.100.7", 0},    /* TEST-NET-2 */
    {"203.0.113.9", 0},     /* TEST-NET-3 */
    {"224.0.0.1", 0},       /* multicast */
    {"239.255.255.255", 0}, /* multicast */
    {"240.0.0.0", 0},       /* reserved */
    {"255.255.255.255", 0}, /* broadcast */
    /* IPv6: public */
    {"2606:4700:4700::1111", 1},
    {"2a00:1450:4001:81b::200e", 1},
    {"2001:200::1", 1},      /* just past 2001::/23 */
    {"2001:db9::1", 1},      /* just past 2001:db8::/32 */
    {"3ffe:ffff::1", 1},     /* just before 3fff::/20 */
    {"3fff:1000::1", 1},     /* just past 3fff::/20 */
    {"::ffff:8.8.8.8", 1},   /* IPv4-mapped, public inside */
    {"::8.8.8.8", 1},        /* IPv4-compatible, public inside */
    {"64:ff9b::808:808", 1}, /* NAT64 of 8.8.8.8 */
    {"2002:808:808::1", 1},  /* 6to4 of 8.8.8.8 */
    /* IPv6: refused */
    {"::", 0},                     /* unspecified */
    {"::1", 0},                    /* loopback */
    {"0:0:0:0:0:0:0:1", 0},        /* loopback, long form */
    {"::ffff:127.0.0.1", 0},       /* IPv4-mapped loopback */
    {"::ffff:7f00:1", 0},          /* the same in hex */
    {"::ffff:10.1.2.3", 0},        /* IPv4-mapped private */
    {"::ffff:169.254.169.254", 0}, /* IPv4-mapped link-local */
    {"::ffff:0.0.0.0", 0},         /* IPv4-mapped unspecified */
    {"::127.0.0.1", 0},            /* IPv4-compatible loopback */
    {"::192.168.1.1", 0},          /* IPv4-compatible private */
    {"::2", 0},                    /* IPv4-compatible 0.0.0.2 */
    {"64:ff9b::7f00:1", 0},        /* NAT64 of loopback */
    {"64:ff9b:1::1", 0},           /* local-use NAT64 */
    {"2002:7f00:1::1", 0},         /* 6to4 of loopback */
    {"2002:c0a8:101::1", 0},       /* 6to4 of 192.168.1.1 */
    {"fc00::1", 0},                /* unique local */
    {"fd12:3456:789a::1", 0},      /* unique local */
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"fe80::1", 0},          /* link-local */
    {"febf:ffff::1", 0},     /* link-local, upper end */
    {"fec0::1", 0},          /* site-local (deprecated) */
    {"ff02::1", 0},          /* multicast */
    {"ff0e::1", 0},          /* multicast, global scope */
    {"100::1", 0},           /* discard-only */
    {"2001::1", 0},          /* Teredo */
    {"2001:1ff:ffff::1", 0}, /* IETF protocol assignments, upper end */
    {"2001:db8::1", 0},      /* documentation */
    {"2001:db8:ffff::1", 0}, /* documentation */
    {"3fff::1", 0},          /* documentation (RFC 9637) */
    {"3fff:fff::1", 0},      /* documentation, upper end */
    {"5f00::1", 0},          /* SRv6 SIDs: outside 2000::/3 */
    {"4000::1", 0},          /* unallocated */
    {"1::1", 0},             /* unallocated */
};

START_TEST(test_addr_class)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *a = addr_cases[_i].addr;
    if (strchr(a, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
        in6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
        in->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, a, &in->sin_addr), 1);
    }
    ck_assert_msg(lb_addr_is_public((struct sockaddr *)&ss) == addr_cases[_i].pub,
                  "%s: expected %s", a, addr_cases[_i].pub ? "public" : "refused");
    /* lb_host_ip reads the same text to the same verdict */
    struct sockaddr_storage h;
    ck_assert_int_eq(lb_host_ip(a, &h), strchr(a, ':') ? 6 : 4);
    ck_assert_int_eq(lb_addr_is_public((struct sockaddr *)&h), addr_cases[_i].pub);
}
END_TEST

START_TEST(test_addr_other_family)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    ck_assert_int_eq(lb_addr_is_public((struct sockaddr *)&ss), 0);
    ck_assert_int_eq(lb_addr_is_public(NULL), 0);
}
END_TEST

START_TEST(test_host_ip)
{
    struct sockaddr_storage ss;
    ck_assert_int_eq(lb_host_ip("example.com", &ss), 0);
    ck_assert_int_eq(lb_host_ip("127.1", &ss), 0);
    ck_assert_int_eq(lb_host_ip("127.0.0.01", &ss), 0);
    ck_assert_int_eq(lb_host_ip("256.0.0.1", &ss), 0);
    ck_assert_int_eq(lb_host_ip("1.2.3.4.5", &ss), 0);
    ck_assert_int_eq(lb_host_ip("", &ss), 0);
    ck_assert_int_eq(lb_host_ip(":::", &ss), 0);
    ck_assert_int_eq(lb_host_ip("0.0.0.0", &ss), 4);
    ck_assert_int_eq(lb_host_ip("::", &ss), 6);
}
END_TEST

/* ---- localhost names and the allow list ---- */

START_TEST(test_localhost_names)
{
    const char *yes[] = {"localhost",     "LOCALHOST",     "LocalHost",
                         "a.localhost",   "x.y.localhost", "localhost.localdomain",
                         "ip6-localhost", "ip6-loopback"};
    const char *no[] = {"localhost.example.com",
                        "mylocalhost",
                        "localhostx",
                        "example.com",
                        ".localhost",
                        "local",
                        ""};
    for (size_t i = 0; i < N(yes); i++)
        ck_assert_msg(lb_host_is_localhost_name(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < N(no); i++)
        ck_assert_msg(!lb_host_is_localhost_name(no[i]), "%s", no[i]);
}
END_TEST

START_TEST(test_allow_list)
{
    const char *list = "  127.0.0.1\tlocalhost [::1]  hooks.internal ";
    ck_assert(lb_host_allowed(list, "127.0.0.1"));
    ck_assert(lb_host_allowed(list, "localhost"));
    ck_assert(lb_host_allowed(list, "LOCALHOST"));
    ck_assert(lb_host_allowed(list, "::1"));
    ck_assert(lb_host_allowed(list, "0:0:0:0:0:0:0:1")); /* by value */
    ck_assert(lb_host_allowed(list, "hooks.internal"));
    ck_assert(!lb_host_allowed(list, "127.0.0.2"));
    ck_assert(!lb_host_allowed(list, "::ffff:127.0.0.1")); /* another address */
    ck_assert(!lb_host_allowed(list, "a.localhost"));      /* exact names only */
    ck_assert(!lb_host_allowed(list, "internal"));
    ck_assert(!lb_host_allowed(list, "hooks.internal.evil.com"));
    ck_assert(!lb_host_allowed(list, "127.0.0.1x"));
    ck_assert(!lb_host_allowed(list, ""));
    ck_assert(!lb_host_allowed("", "localhost"));
    ck_assert(!lb_host_allowed(NULL, "localhost"));
    ck_assert(!lb_host_allowed("   ", "localhost"));
    ck_assert(lb_host_allowed("::1", "::1"));
    ck_assert(!lb_host_allowed("[]", "localhost"));
    ck_assert(!lb_host_allowed("127.0.0.1:8080", "127.0.0.1")); /* hosts, not host:port */
}
END_TEST

/* ---- URL parsing ---- */

static const struct {
    const char *url;
    enum lb_url_error err;
    const char *host, *target; /* on LB_URL_OK */
    unsigned port;
    int https, ip;
} url_cases[] = {
    {"https://example.com", LB_URL_OK, "example.com", "/", 443, 1, 0},
    {"https://example.com/", LB_URL_OK, "example.com", "/", 443, 1, 0},
    {"HTTPS://Example.COM/Hook?X=1", LB_URL_OK, "example.com", "/Hook?X=1", 443, 1, 0},
    {"https://example.com?a=b", LB_URL_OK, "example.com", "/?a=b", 443, 1, 0},
    {"http://example.com:8080/x", LB_URL_OK, "example.com", "/x", 8080, 0, 0},
    {"https://a.b-c.d_e.example:1/p%20q", LB_URL_OK, "a.b-c.d_e.example", "/p%20q", 1, 1, 0},
    {"https://x.io:65535", LB_URL_OK, "x.io", "/", 65535, 1, 0},
    {"https://127.0.0.1:9000/h", LB_URL_OK, "127.0.0.1", "/h", 9000, 1, 4},
    {"https://[::1]:8443/h", LB_URL_OK, "::1", "/h", 8443, 1, 6},
    {"https://[2606:4700::1111]", LB_URL_OK, "2606:4700::1111", "/", 443, 1, 6},
    {"https://[::FFFF:127.0.0.1]/", LB_URL_OK, "::ffff:127.0.0.1", "/", 443, 1, 6},
    {"https://example.com/a[]=1/@x:y", LB_URL_OK, "example.com", "/a[]=1/@x:y", 443, 1, 0},
    {"https://1.2.3.4.example", LB_URL_OK, "1.2.3.4.example", "/", 443, 1, 0},
    {"https://123abc", LB_URL_OK, "123abc", "/", 443, 1, 0},
    /* schemes */
    {"ftp://example.com/", LB_URL_SCHEME, 0, 0, 0, 0, 0},
    {"file:///etc/passwd", LB_URL_SCHEME, 0, 0, 0, 0, 0},
    {"gopher://example.com", LB_URL_SCHEME, 0, 0, 0, 0, 0},
    {"httpx://example.com", LB_URL_SCHEME, 0, 0, 0, 0, 0},
    {"https:example.com", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https:/example.com", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"//example.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"example.com", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"1https://example.com", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {":", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    /* credentials and fragments */
    {"https://user:pass@example.com/", LB_URL_USERINFO, 0, 0, 0, 0, 0},
    {"https://user@example.com/", LB_URL_USERINFO, 0, 0, 0, 0, 0},
    {"https://@example.com/", LB_URL_USERINFO, 0, 0, 0, 0, 0},
    {"https://example.com@127.0.0.1/", LB_URL_USERINFO, 0, 0, 0, 0, 0},
    {"https://example.com/#frag", LB_URL_FRAGMENT, 0, 0, 0, 0, 0},
    {"https://example.com#", LB_URL_FRAGMENT, 0, 0, 0, 0, 0},
    {"https://evil.com#@example.com/", LB_URL_FRAGMENT, 0, 0, 0, 0, 0},
    /* hosts */
    {"https://", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https:///path", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://:443/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://exa mple.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com./", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://.example.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://a..b/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://-a.example/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://a-.example/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://ex%61mple.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://exa!mple.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://b\xc3\xbc"
     "cher.example/",
     LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com\\@evil.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://127.1/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://2130706433/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://0x7f.0.0.1/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://0x7f000001/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://017700000001/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://127.0.0.01/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://1.2.3.4.5/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://256.1.1.1/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.0x/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.123/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://[::1/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://[]/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://[127.0.0.1]/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://[fe80::1%25eth0]/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://[v1.fe80::a]/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://[::1]x/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://::1/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://ex]ample.com/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    /* ports */
    {"https://example.com:/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com:0/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com:65536/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com:123456/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com:-1/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com:80:80/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com:8o/", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    /* characters */
    {"https://example.com/a b", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/a\tb", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/a\r\nHost: x", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/\"", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/<x>", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/{x}", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/a|b", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/a^b", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/a`b", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/%", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/%4", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/%zz", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
    {"https://example.com/\x7f", LB_URL_SYNTAX, 0, 0, 0, 0, 0},
};

START_TEST(test_url_parse)
{
    struct lb_url u;
    memset(&u, 0x5a, sizeof u);
    enum lb_url_error e = lb_url_parse(url_cases[_i].url, &u);
    ck_assert_msg(e == url_cases[_i].err, "%s: got %d, expected %d", url_cases[_i].url, (int)e,
                  (int)url_cases[_i].err);
    if (e != LB_URL_OK)
        return;
    ck_assert_str_eq(u.host, url_cases[_i].host);
    ck_assert_str_eq(u.target, url_cases[_i].target);
    ck_assert_uint_eq(u.port, url_cases[_i].port);
    ck_assert_int_eq(u.https, url_cases[_i].https);
    ck_assert_int_eq(u.host_ip, url_cases[_i].ip);
}
END_TEST

START_TEST(test_url_lengths)
{
    char url[LB_URL_MAX_LEN + 8];
    struct lb_url u;
    /* exactly 2048 characters is fine, 2049 is too long */
    int n = snprintf(url, sizeof url, "https://example.com/");
    memset(url + n, 'a', (size_t)(LB_URL_MAX_LEN - n));
    url[LB_URL_MAX_LEN] = '\0';
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_OK);
    ck_assert_uint_eq(strlen(u.target), LB_URL_MAX_LEN - 19);
    url[LB_URL_MAX_LEN] = 'a';
    url[LB_URL_MAX_LEN + 1] = '\0';
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_TOO_LONG);
    /* a query right after the host gets a "/" in front, which still fits at the limit */
    n = snprintf(url, sizeof url, "https://h?");
    memset(url + n, 'q', (size_t)(LB_URL_MAX_LEN - n));
    url[LB_URL_MAX_LEN] = '\0';
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_OK);
    ck_assert_int_eq(u.target[0], '/');
    ck_assert_uint_eq(strlen(u.target), LB_URL_MAX_LEN - 8);
    /* labels of 63 are fine, 64 are not; hosts up to 253 */
    char label[70];
    memset(label, 'l', 64);
    label[64] = '\0';
    snprintf(url, sizeof url, "https://%s.example/", label);
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_SYNTAX);
    label[63] = '\0';
    snprintf(url, sizeof url, "https://%s.example/", label);
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_OK);
    snprintf(url, sizeof url, "https://%s.%s.%s.%s/", label, label, label,
             "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_SYNTAX); /* 254 characters */
    snprintf(url, sizeof url, "https://%s.%s.%s.%s/", label, label, label,
             "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwx");
    ck_assert_int_eq(lb_url_parse(url, &u), LB_URL_OK); /* 252 */
}
END_TEST

/* ---- the API's check ---- */

static const struct {
    const char *url;
    enum lb_url_error err;
    int allowed;
} check_cases[] = {
    {"https://hooks.example.com/x", LB_URL_OK, 0},
    {"https://93.184.216.34/x", LB_URL_OK, 0},
    {"https://[2606:4700::1111]/x", LB_URL_OK, 0},
    {"http://hooks.example.com/x", LB_URL_SCHEME, 0},
    {"http://127.0.0.1:9000/x", LB_URL_OK, 1}, /* listed: http and loopback */
    {"https://127.0.0.1:9000/x", LB_URL_OK, 1},
    {"http://localhost:9000/x", LB_URL_OK, 1},
    {"http://[::1]:9000/x", LB_URL_OK, 1},
    {"http://127.0.0.2/x", LB_URL_SCHEME, 0}, /* not listed: http first */
    {"https://127.0.0.2/x", LB_URL_NOT_PUBLIC, 0},
    {"https://10.0.0.1/x", LB_URL_NOT_PUBLIC, 0},
    {"https://100.64.1.1/x", LB_URL_NOT_PUBLIC, 0},
    {"https://169.254.169.254/latest/meta-data", LB_URL_NOT_PUBLIC, 0},
    {"https://172.16.5.4/x", LB_URL_NOT_PUBLIC, 0},
    {"https://192.168.1.1/x", LB_URL_NOT_PUBLIC, 0},
    {"https://224.0.0.1/x", LB_URL_NOT_PUBLIC, 0},
    {"https://0.0.0.0/x", LB_URL_NOT_PUBLIC, 0},
    {"https://255.255.255.255/x", LB_URL_NOT_PUBLIC, 0},
    {"https://192.0.2.1/x", LB_URL_NOT_PUBLIC, 0},
    {"https://240.1.2.3/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[fe80::1]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[fd00::1]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[ff02::1]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[::]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[::ffff:127.0.0.1]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[::ffff:a9fe:a9fe]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://[2001:db8::1]/x", LB_URL_NOT_PUBLIC, 0},
    {"https://app.localhost/x", LB_URL_NOT_PUBLIC, 0},
    {"https://LOCALHOST.localdomain/x", LB_URL_NOT_PUBLIC, 0},
    {"https://user:pw@hooks.example.com/", LB_URL_USERINFO, 0},
    {"https://hooks.example.com/#x", LB_URL_FRAGMENT, 0},
};

START_TEST(test_webhook_url_check)
{
    struct lb_url u;
    int allowed = -1;
    enum lb_url_error e =
        lb_webhook_url_check(check_cases[_i].url, "127.0.0.1 localhost ::1", &u, &allowed);
    ck_assert_msg(e == check_cases[_i].err, "%s: got %d, expected %d", check_cases[_i].url, (int)e,
                  (int)check_cases[_i].err);
    if (e == LB_URL_OK)
        ck_assert_int_eq(allowed, check_cases[_i].allowed);
}
END_TEST

START_TEST(test_webhook_url_check_no_list)
{
    struct lb_url u;
    int allowed = -1;
    ck_assert_int_eq(lb_webhook_url_check("https://localhost/x", "", &u, &allowed),
                     LB_URL_NOT_PUBLIC);
    ck_assert_int_eq(lb_webhook_url_check("https://127.0.0.1/x", NULL, &u, &allowed),
                     LB_URL_NOT_PUBLIC);
    ck_assert_int_eq(lb_webhook_url_check("http://localhost/x", NULL, &u, &allowed), LB_URL_SCHEME);
    ck_assert_int_eq(lb_webhook_url_check("https://example.com/x", NULL, &u, &allowed), LB_URL_OK);
    ck_assert_int_eq(allowed, 0);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net_check");
    TCase *tc = tcase_create("addresses");
    tcase_add_loop_test(tc, test_addr_class, 0, N(addr_cases));
    tcase_add_test(tc, test_addr_other_family);
    tcase_add_test(tc, test_host_ip);
    suite_add_tcase(s, tc);
    tc = tcase_create("hosts");
    tcase_add_test(tc, test_localhost_names);
    tcase_add_test(tc, test_allow_list);
    suite_add_tcase(s, tc);
    tc = tcase_create("urls");
    tcase_add_loop_test(tc, test_url_parse, 0, N(url_cases));
    tcase_add_test(tc, test_url_lengths);
    tcase_add_loop_test(tc, test_webhook_url_check, 0, N(check_cases));
    tcase_add_test(tc, test_webhook_url_check_no_list);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
