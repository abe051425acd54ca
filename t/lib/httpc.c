/* httpc: one request per connection ("Connection: close"), answer read until EOF. */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A connected socket to 127.0.0.1:port, bound first to source_addr when not NULL; -1 on error. */
static int connect_from(const char *source_addr, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (source_addr) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, source_addr, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int read_answer(int fd, struct httpc_resp *r, int timeout_ms);

int httpc(int port, const char *method, const char *path, const char *extra_headers,
          const char *body, size_t body_len, struct httpc_resp *r, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    int fd = connect_from(NULL, port);
    if (fd < 0)
        return 0;
    char head[8192];
    int n =
        snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
                 method, path, extra_headers ? extra_headers : "");
    if (body)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if ((size_t)n >= sizeof head || send_all(fd, head, (size_t)n) != 0 ||
        (body && send_all(fd, body, body_len) != 0)) {
        close(fd);
        return 0;
    }
    return read_answer(fd, r, timeout_ms);
}

#define HEAD_FMT "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s\r\n"

int httpc_from(const char *source_addr, int port, const char *method, const char *path,
               const char *extra_headers, const char *body, size_t body_len, struct httpc_resp *r,
               int timeout_ms)
{
    memset(r, 0, sizeof *r);
    int fd = connect_from(source_addr, port);
    if (fd < 0)
        return 0;
    const char *extra = extra_headers ? extra_headers : "";
    char clen[48] = "";
    if (body)
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", body_len);
    int n = snprintf(NULL, 0, HEAD_FMT, method, path, extra, clen);
    char *head = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!head) {
        close(fd);
        return 0;
    }
    snprintf(head, (size_t)n + 1, HEAD_FMT, method, path, extra, clen);
    /* A server may answer (and stop reading) before the whole request is sent, e.g. nginx's
     * 400 for a header too large: its answer is read all the same. */
    if (send_all(fd, head, (size_t)n) == 0 && body)
        send_all(fd, body, body_len);
    free(head);
    return read_answer(fd, r, timeout_ms);
}

/* Reads the answer until EOF, closes fd; the status, or 0. */
static int read_answer(int fd, struct httpc_resp *r, int timeout_ms)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return 0;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, timeout_ms);
        if (pr <= 0) {
            free(buf);
            close(fd);
            return 0;
        }
        if (cap - len < 4096) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                close(fd);
                return 0;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (!sep || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
        free(buf);
        r->status = 0;
        return 0;
    }
    *sep = '\0';
    r->head = buf;
    r->body = sep + 4;
    r->body_len = len - (size_t)(r->body - buf);
    return r->status;
}

const char *httpc_header(const struct httpc_resp *r, const char *name, char *out, size_t outlen)
{
    if (!r->head)
        return NULL;
    size_t nl = strlen(name);
    for (const char *line = strstr(r->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *l = line + 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
    }
    return NULL;
}

void httpc_free(struct httpc_resp *r)
{
    free(r->head);
    memset(r, 0, sizeof *r);
}
