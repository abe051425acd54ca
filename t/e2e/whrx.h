/* whrx: a webhook receiver for the deliverer's tests: HTTP/1.1 on 127.0.0.1 (an ephemeral port),
 * a thread per connection, every request recorded, statuses answered from a script. */
#ifndef LB_WHRX_H
#define LB_WHRX_H

#include <stddef.h>

#define WHRX_MAX_HEADERS 32

struct whrx_req {
    char method[16];
    char target[256];
    int nheaders;
    char name[WHRX_MAX_HEADERS][64]; /* lowercased */
    char value[WHRX_MAX_HEADERS][512];
    char body[16384];
    size_t body_len;
};

void whrx_start(void);
/* Listens again on port (0: an ephemeral one) keeping what was recorded: a receiver that was
 * down (whrx_stop: connections refused) comes back at the same address. */
void whrx_start_on(int port);
void whrx_stop(void);
int whrx_port(void);
/* Request i is answered with statuses[min(i, n - 1)] (default: 200); a 3xx carries a Location
 * to this receiver's /elsewhere. */
void whrx_script(int n, const int *statuses);
/* Requests whose target starts with prefix wait ms before their answer (a hanging receiver);
 * the others are answered as usual meanwhile. */
void whrx_hang(const char *prefix, int ms);
/* Every answer waits this long first. */
void whrx_delay(int ms);
/* 1: connections stay open after an answer (Connection: keep-alive), for the next request. */
void whrx_keepalive(int on);
int whrx_count(void);       /* requests recorded */
int whrx_connections(void); /* connections accepted */
void whrx_get(int i, struct whrx_req *out);
/* The value of header name (lowercase) of r, "" when absent. */
const char *whrx_header(const struct whrx_req *r, const char *name);
/* How many different webhook-id values the recorded requests carry. */
int whrx_distinct_ids(void);
/* 1 when host resolves, and only to non-public addresses (for the SSRF test by name). */
int whrx_name_is_private(const char *host);

#endif
