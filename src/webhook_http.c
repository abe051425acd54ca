/* webhook_http: the POST of one delivery (see the header for the rules). A client keeps one curl
 * handle, and in it at most one connection (CURLOPT_MAXCONNECTS 1), for requests with the same
 * key: scheme, host and port as checked, and the allow-list decision. A request with another key
 * gets a fresh handle (the old one, and its connection, closed): curl itself matches a cached
 * connection by scheme, host name and port, and the key makes it so whatever curl's rules, so a
 * request only ever rides a connection that open_socket let through for its own host. A new
 * connection (the first, or after the receiver closed one) goes through open_socket again. */
#include "webhook_http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lb_build.h"
#include "net_check.h"

#define USER_AGENT "leadbook-webhooks/" PACKAGE_VERSION

struct xfer {
    int check_addresses;
    char refused_addr[64]; /* the first address refused, "" if none */
    char excerpt[160];
    size_t excerpt_len;
    long connects; /* sockets opened (all requests of the client) */
};

/* scheme://host:port plus the allow-list decision */
#define KEY_LEN (LB_URL_HOST_MAX_LEN + 32)

struct lb_webhook_client {
    CURL *c;
    char key[KEY_LEN]; /* of the requests c may carry; "" = none yet */
    struct xfer x;     /* curl keeps pointers to these while c lives */
    char errbuf[CURL_ERROR_SIZE];
};

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)len))
        snprintf(out, len, "?");
}

/* Every socket curl opens to connect comes here with the address it is for: the one place where
 * what was resolved (by curl, at this moment) meets what is connected to. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (x->check_addresses && !lb_addr_is_public(&a->addr)) {
        if (!x->refused_addr[0])
            addr_text(&a->addr, x->refused_addr, sizeof x->refused_addr);
        return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd != CURL_SOCKET_BAD)
        x->connects++;
    return fd;
}

/* Keeps the start of the body (for the delivery's error text) and drops the rest. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct xfer *x = userp;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n && x->excerpt_len + 1 < sizeof x->excerpt; i++) {
        unsigned char c = (unsigned char)data[i];
        x->excerpt[x->excerpt_len++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : ' ';
    }
    x->excerpt[x->excerpt_len] = '\0';
    return n;
}

int lb_webhook_http_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void lb_webhook_http_cleanup(void)
{
    curl_global_cleanup();
}

static const char *url_error_text(enum lb_url_error e)
{
    switch (e) {
    case LB_URL_OK:
        return "ok";
    case LB_URL_TOO_LONG:
        return "the url is too long";
    case LB_URL_SYNTAX:
        return "the url is not a valid absolute http(s) URL";
    case LB_URL_SCHEME:
        return "the url is not https (plain http only for webhook_allow_hosts)";
    case LB_URL_USERINFO:
        return "the url carries credentials";
    case LB_URL_FRAGMENT:
        return "the url has a fragment";
    case LB_URL_NOT_PUBLIC:
        return "not public";
    }
    return "the url is refused";
}

/* Checks the url by the API's own rules (net_check) and rebuilds it from the parsed parts, so
 * that curl connects to the very host, port and target that were checked (no difference
 * between two URL parsers to exploit); key: what a connection of it may be reused for. 0, or
 * -1 with res->error set. */
static int check_url(const struct lb_webhook_request *rq, char *out, size_t outlen, char *host,
                     size_t hostlen, char key[KEY_LEN], int *allowed, struct lb_webhook_result *res)
{
    struct lb_url u;
    enum lb_url_error e = lb_webhook_url_check(rq->url, rq->allow_hosts, &u, allowed);
    if (e == LB_URL_NOT_PUBLIC) {
        struct lb_url p;
        const char *h = lb_url_parse(rq->url, &p) == LB_URL_OK ? p.host : "?";
        snprintf(res->error, sizeof res->error, "%s %.100s is not public",
                 lb_host_is_localhost_name(h) ? "host" : "address", h);
        return -1;
    }
    if (e != LB_URL_OK) {
        snprintf(res->error, sizeof res->error, "%s", url_error_text(e));
        return -1;
    }
    int v6 = u.host_ip == 6;
    int n = snprintf(out, outlen, "%s://%s%s%s:%u%s", u.https ? "https" : "http", v6 ? "[" : "",
                     u.host, v6 ? "]" : "", u.port, u.target);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(res->error, sizeof res->error, "the url is too long");
        return -1;
    }
    snprintf(host, hostlen, "%s", u.host);
    snprintf(key, KEY_LEN, "%s://[%s]:%u %s", u.https ? "https" : "http", u.host, u.port,
             *allowed ? "allowed" : "checked");
    return 0;
}

static void set_error(struct lb_webhook_result *res, CURLcode rc, const char *errbuf)
{
    snprintf(res->error, sizeof res->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    for (char *p = res->error; *p; p++)
        if (*p == '"' || *p == '\n' || *p == '\r')
            *p = '\'';
}

struct lb_webhook_client *lb_webhook_client_new(void)
{
    return calloc(1, sizeof(struct lb_webhook_client));
}

void lb_webhook_client_free(struct lb_webhook_client *cl)
{
    if (!cl)
        return;
    if (cl->c)
        curl_easy_cleanup(cl->c);
    free(cl);
}

long lb_webhook_client_connects(const struct lb_webhook_client *cl)
{
    return cl->x.connects;
}

/* The handle for key: the client's, if its last request had the same key; else a new one with
 * the options every request shares. NULL when out of memory. */
static CURL *handle_for(struct lb_webhook_client *cl, const char *key)
{
    if (cl->c && strcmp(cl->key, key) == 0)
        return cl->c;
    if (cl->c)
        curl_easy_cleanup(cl->c); /* closes its connection */
    cl->key[0] = '\0';
    CURL *c = cl->c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* a 3xx is a failure */
    curl_easy_setopt(c, CURLOPT_PROXY, "");          /* never a proxy from the environment */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &cl->x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &cl->x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cl->errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    snprintf(cl->key, sizeof cl->key, "%s", key);
    return c;
}

void lb_webhook_post(struct lb_webhook_client *cl, const struct lb_webhook_request *rq,
                     struct lb_webhook_result *res)
{
    memset(res, 0, sizeof *res);
    struct xfer *x = &cl->x;
    x->refused_addr[0] = '\0';
    x->excerpt[0] = '\0';
    x->excerpt_len = 0;
    char url[LB_URL_MAX_LEN + 300];
    char host[LB_URL_HOST_MAX_LEN + 1], key[KEY_LEN];
    int allowed = 0;
    if (check_url(rq, url, sizeof url, host, sizeof host, key, &allowed, res) != 0) {
        res->refused = 1;
        return;
    }
    x->check_addresses = !allowed;
    CURL *c = handle_for(cl, key);
    if (!c) {
        snprintf(res->error, sizeof res->error, "out of memory");
        return;
    }

    char h_id[128], h_ts[64], h_sig[160];
    snprintf(h_id, sizeof h_id, "webhook-id: %s", rq->event_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", rq->timestamp);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", rq->signature);
    struct curl_slist *hdrs = NULL, *h;
    /* "Expect:" turns off curl's 100-continue wait for bodies above 1 KiB. */
    const char *lines[] = {"Content-Type: application/json", h_id, h_ts, h_sig, "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        h = curl_slist_append(hdrs, lines[i]);
        if (!h) {
            snprintf(res->error, sizeof res->error, "out of memory");
            curl_slist_free_all(hdrs);
            return;
        }
        hdrs = h;
    }
    cl->errbuf[0] = '\0';
    long timeout = rq->timeout_ms > 0 ? rq->timeout_ms : LB_WEBHOOK_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < LB_WEBHOOK_CONNECT_TIMEOUT_MS ? timeout
                                                             : LB_WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);

    CURLcode rc = curl_easy_perform(c);
    /* nothing of this request stays in the handle */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdrs);
    if (x->refused_addr[0] && rc != CURLE_OK) {
        res->refused = 1;
        snprintf(res->error, sizeof res->error, "address %s of host %.100s is not public",
                 x->refused_addr, host);
        return;
    }
    if (rc != CURLE_OK) {
        set_error(res, rc, cl->errbuf);
        return;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    res->ok = res->status >= 200 && res->status < 300;
    if (res->status >= 300 && res->status < 400)
        snprintf(res->error, sizeof res->error, "HTTP %ld: redirects are not followed",
                 res->status);
    else if (!res->ok)
        snprintf(res->error, sizeof res->error, "HTTP %ld", res->status);
    if (!res->ok)
        snprintf(res->excerpt, sizeof res->excerpt, "%s", x->excerpt);
}
