/* whrx: the tests' webhook receiver (see the header). Deliberately simple: one request per
 * connection unless whrx_keepalive, Content-Length bodies only, no pipelining. */
#include "whrx.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_check.h"

#define MAX_REQS 2048 /* the fault scenario records several hundred */

static struct {
    int fd, port;
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t mu;
    struct whrx_req reqs[MAX_REQS];
    int n, conns;
    int script[16], nscript;
    int delay_ms;
    char hang_prefix[64]; /* requests whose target starts with it wait hang_ms */
    int hang_ms;
    int keepalive; /* answer without Connection: close and read the next request */
} rx = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

static void parse_head(char *head, struct whrx_req *r)
{
    char *save = NULL, *line = strtok_r(head, "\r\n", &save);
    if (!line || sscanf(line, "%15s %255s", r->method, r->target) != 2)
        return;
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL && r->nheaders < WHRX_MAX_HEADERS) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        int i = r->nheaders++;
        snprintf(r->name[i], sizeof r->name[i], "%s", line);
        for (char *p = r->name[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(r->value[i], sizeof r->value[i], "%s", v);
    }
}

/* Reads, records and answers one request; 1 when the connection stays open for another. */
static int serve_one(int fd, struct whrx_req *rp)
{
    memset(rp, 0, sizeof *rp);
#define r (*rp)
    char buf[32768];
    buf[0] = '\0';
    size_t len = 0;
    char *end = NULL;
    while (len < sizeof buf - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
        ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
        if (k <= 0)
            break;
        len += (size_t)k;
        buf[len] = '\0';
    }
    if (!end)
        return 0;
    size_t head_len = (size_t)(end - buf) + 4;
    *end = '\0';
    parse_head(buf, &r);
    size_t want = (size_t)atol(whrx_header(&r, "content-length"));
    if (want > sizeof r.body)
        want = sizeof r.body;
    size_t have = len - head_len;
    memcpy(r.body, buf + head_len, have < want ? have : want);
    while (have < want) {
        ssize_t k = read(fd, r.body + have, want - have);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    r.body_len = have < want ? have : want;
    pthread_mutex_lock(&rx.mu);
    int i = rx.n;
    if (rx.n < MAX_REQS)
        rx.reqs[rx.n++] = r;
    int status = rx.nscript ? rx.script[i < rx.nscript ? i : rx.nscript - 1] : 200;
    int delay = rx.delay_ms;
    if (rx.hang_prefix[0] && strncmp(r.target, rx.hang_prefix, strlen(rx.hang_prefix)) == 0)
        delay = rx.hang_ms;
    int keep = rx.keepalive;
    const char *conn = keep ? "keep-alive" : "close";
    pthread_mutex_unlock(&rx.mu);
    if (delay)
        usleep((useconds_t)delay * 1000);
    char out[512];
    int n;
    if (status >= 300 && status < 400)
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d Scripted\r\nLocation: http://127.0.0.1:%d/elsewhere\r\n"
                     "Connection: %s\r\nContent-Length: 8\r\n\r\nanswered",
                     status, rx.port, conn);
    else
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d Scripted\r\nConnection: %s\r\nContent-Length: 8\r\n\r\n"
                     "answered",
                     status, conn);
    ssize_t w = write(fd, out, (size_t)n);
    return keep && w == n;
}
#undef r

static void *serve_conn(void *arg)
{
    int fd = (int)(long)arg;
    struct whrx_req *rp = calloc(1, sizeof *rp);
    ck_assert_ptr_nonnull(rp);
    while (serve_one(fd, rp) && !rx.stop)
        ;
    close(fd);
    free(rp);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    while (!rx.stop) {
        struct pollfd p = {.fd = rx.fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(rx.fd, NULL, NULL);
        if (c < 0)
            continue;
        pthread_mutex_lock(&rx.mu);
        rx.conns++;
        pthread_mutex_unlock(&rx.mu);
        pthread_t t;
        if (pthread_create(&t, NULL, serve_conn, (void *)(long)c) == 0)
            pthread_detach(t);
        else
            close(c);
    }
    return NULL;
}

void whrx_start(void)
{
    rx.n = rx.conns = 0;
    whrx_start_on(0);
}

void whrx_start_on(int port)
{
    rx.nscript = rx.delay_ms = rx.hang_ms = rx.keepalive = 0;
    rx.hang_prefix[0] = '\0';
    rx.stop = 0;
    rx.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(rx.fd, 0);
    int one = 1;
    setsockopt(rx.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((unsigned short)port)};
    socklen_t alen = sizeof a;
    ck_assert_int_eq(bind(rx.fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(rx.fd, 64), 0);
    ck_assert_int_eq(getsockname(rx.fd, (struct sockaddr *)&a, &alen), 0);
    rx.port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&rx.thread, NULL, accept_loop, NULL), 0);
}

void whrx_stop(void)
{
    rx.stop = 1;
    pthread_join(rx.thread, NULL);
    close(rx.fd);
    rx.fd = -1;
}

int whrx_port(void)
{
    return rx.port;
}

void whrx_script(int n, const int *statuses)
{
    pthread_mutex_lock(&rx.mu);
    rx.nscript = n < 16 ? n : 16;
    memcpy(rx.script, statuses, sizeof(int) * (size_t)rx.nscript);
    pthread_mutex_unlock(&rx.mu);
}

void whrx_hang(const char *prefix, int ms)
{
    pthread_mutex_lock(&rx.mu);
    snprintf(rx.hang_prefix, sizeof rx.hang_prefix, "%s", prefix);
    rx.hang_ms = ms;
    pthread_mutex_unlock(&rx.mu);
}

void whrx_keepalive(int on)
{
    pthread_mutex_lock(&rx.mu);
    rx.keepalive = on;
    pthread_mutex_unlock(&rx.mu);
}

void whrx_delay(int ms)
{
    pthread_mutex_lock(&rx.mu);
    rx.delay_ms = ms;
    pthread_mutex_unlock(&rx.mu);
}

int whrx_count(void)
{
    pthread_mutex_lock(&rx.mu);
    int n = rx.n;
    pthread_mutex_unlock(&rx.mu);
    return n;
}

int whrx_connections(void)
{
    pthread_mutex_lock(&rx.mu);
    int n = rx.conns;
    pthread_mutex_unlock(&rx.mu);
    return n;
}

void whrx_get(int i, struct whrx_req *out)
{
    pthread_mutex_lock(&rx.mu);
    ck_assert_int_lt(i, rx.n);
    *out = rx.reqs[i];
    pthread_mutex_unlock(&rx.mu);
}

const char *whrx_header(const struct whrx_req *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->name[i], name) == 0)
            return r->value[i];
    return "";
}

int whrx_distinct_ids(void)
{
    pthread_mutex_lock(&rx.mu);
    int distinct = 0;
    for (int i = 0; i < rx.n; i++) {
        const char *id = whrx_header(&rx.reqs[i], "webhook-id");
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(id, whrx_header(&rx.reqs[j], "webhook-id")) == 0;
        distinct += !seen && *id;
    }
    pthread_mutex_unlock(&rx.mu);
    return distinct;
}

int whrx_name_is_private(const char *host)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (lb_host_is_localhost_name(host) || getaddrinfo(host, "443", &hints, &res) != 0)
        return 0;
    int any = 0, all_private = 1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        any = 1;
        if (lb_addr_is_public(a->ai_addr))
            all_private = 0;
    }
    freeaddrinfo(res);
    return any && all_private;
}
