/* webhook_http: one webhook POST with libcurl, under the deliverer's rules (API.md "Webhooks"):
 * https only (plain http only for a host of webhook_allow_hosts), every address curl is about to
 * connect to checked against the public-address rule unless the host is allow-listed (so DNS
 * rebinding cannot slip through: the check is on the very socket), no redirects, no proxy, a
 * total time limit, the response body discarded; a connection reused only for the same scheme,
 * host and port (see lb_webhook_client). */
#ifndef LB_WEBHOOK_HTTP_H
#define LB_WEBHOOK_HTTP_H

#include <stddef.h>

#define LB_WEBHOOK_TIMEOUT_MS 10000        /* a 2xx within 10 s is success */
#define LB_WEBHOOK_CONNECT_TIMEOUT_MS 5000 /* of those, at most this for DNS + TCP + TLS */

struct lb_webhook_request {
    const char *url;
    const char *allow_hosts; /* webhook_allow_hosts: space-separated; NULL or "" = none */
    const char *event_id;    /* webhook-id */
    long long timestamp;     /* webhook-timestamp */
    const char *signature;   /* webhook-signature */
    const char *body;
    size_t body_len;
    long timeout_ms; /* 0 = LB_WEBHOOK_TIMEOUT_MS */
};

struct lb_webhook_result {
    int ok;            /* a 2xx arrived */
    long status;       /* the HTTP status, 0 when there was no response */
    int refused;       /* the url or an address was refused: nothing was sent */
    char error[256];   /* why it failed ("" when ok); safe to log: no body in it */
    char excerpt[160]; /* the start of the response body of a failure, printable ASCII only */
};

/* Once per process, before any other thread exists (curl_global_init). 0 or -1. */
int lb_webhook_http_init(void);
void lb_webhook_http_cleanup(void);

/* One sender's HTTP client (one thread's: not shared). It keeps the connection of its last
 * request open for the next one to the same scheme, host and port under the same allow-list
 * decision (a batch of deliveries to one endpoint), and only for that: a request to anything
 * else first closes it, so every connection used was opened, and its address checked, for the
 * very host it carries. */
struct lb_webhook_client;
struct lb_webhook_client *lb_webhook_client_new(void); /* NULL when out of memory */
void lb_webhook_client_free(struct lb_webhook_client *cl);
/* The connections the client has opened so far (for the tests). */
long lb_webhook_client_connects(const struct lb_webhook_client *cl);
/* Sends the request; fills res. Never blocks much longer than the timeout. */
void lb_webhook_post(struct lb_webhook_client *cl, const struct lb_webhook_request *rq,
                     struct lb_webhook_result *res);

#endif
