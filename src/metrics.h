/* metrics: the pool's scoreboard behind GET /metrics (API.md "Metrics"), php-fpm's design
 * without its lock. One MAP_SHARED|MAP_ANONYMOUS region, mapped by the master before it forks:
 * - a pool area written by the master only: workers alive, worker restarts by cause, and how
 *   many slots have ever been handed out (readers sum no further, so the pages of slots never
 *   used are never touched);
 * - one slot per worker entry of the master (LB_MAX_WORKERS), written by the worker that holds
 *   the entry only: plain relaxed-atomic loads and stores, no read-modify-write, no lock.
 * A slot is never reset: when the master reaps a worker and gives its entry to a new one, the
 * new worker goes on counting where the old one stopped, so every counter is the pool's and
 * survives recycling, crashes and reloads. Any worker renders the text by summing the slots; a
 * read may miss an update in flight (a histogram's bucket without its sum), never more.
 * Every function is a no-op (and the renderer shows an empty scoreboard) in a process that has
 * not mapped the region or attached a slot: the master itself, leadbookctl, tests, fuzzers. */
#ifndef LB_METRICS_H
#define LB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "http.h"
#include "router.h"

#define LB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Routes the scoreboard can hold (the table is static; leadbookd refuses to start beyond). */
#define LB_METRICS_MAX_ROUTES 128

/* Why the master replaced a worker (leadbook_worker_restarts_total{cause}). */
enum lb_restart_cause {
    LB_RESTART_NONE = -1, /* not a restart: the pool is shutting down */
    LB_RESTART_CRASH = 0, /* died unasked: a signal or a non-zero exit */
    LB_RESTART_RECYCLE,   /* exited by itself after max_requests */
    LB_RESTART_TIMEOUT,   /* killed by the request_timeout watchdog */
    LB_RESTART_RELOAD,    /* replaced by a SIGHUP reload */
    LB_RESTART_NCAUSES
};

/* ---- the master ---- */

/* Maps the region for nslots worker entries and the route table (which must outlive it: the
 * renderer labels series with its patterns). Call before the first fork. 0, or -1 (logged). */
int lb_metrics_map(const struct lb_route *routes, size_t nroutes, int nslots);
void lb_metrics_unmap(void);
/* Entry slot is about to get a worker: before fork(), so that readers already sum it when the
 * new worker first writes. */
void lb_metrics_slot_reserve(int slot);
void lb_metrics_worker_started(void);
/* A worker was reaped; cause LB_RESTART_NONE counts no restart. */
void lb_metrics_worker_exited(enum lb_restart_cause cause);
/* The restart cause for a worker the master stops, from stop_worker's reason (its log text):
 * "reload", "request_timeout"; anything else (a shutdown) is no restart. */
enum lb_restart_cause lb_metrics_stop_cause(const char *why);

/* ---- a worker (after fork) ---- */

/* This process writes slot from now on (and only it, until the master reaps it). */
void lb_metrics_attach(int slot);
/* The dispatcher's route for the current request: index into the mapped route table. Not
 * called (or -1): the request matched no route (404, 405, OPTIONS, a bad request line). */
void lb_metrics_route(int route_index);
/* The current request was answered 503 unrun, past its deadline. */
void lb_metrics_deadline_dropped(void);
/* One answered request, duration_us from its accept: counts it by route (from lb_metrics_route,
 * then forgotten), method and status, and a 503 that was not a deadline drop as a database
 * unavailability (every other 503 of the application comes from lb_response_status_error's
 * LB_UNAVAILABLE or LB_READ_ONLY). */
void lb_metrics_request(enum lb_method method, int status, int64_t duration_us);
/* The worker's connection was re-established (not its first connect). */
void lb_metrics_db_reconnect(void);
/* One credential check of a protected route; kind LB_CRED_NONE when no credential could be
 * told (missing, malformed header). */
void lb_metrics_auth_check(enum lb_credential kind, enum lb_auth_result result);
/* A credential answered from the worker's cache (no database lookup or signature check). */
void lb_metrics_auth_cache_hit(enum lb_credential kind);

/* ---- exposition ---- */

/* The status codes the application answers have an index each; any other code counts as
 * "other" (the last index). */
#define LB_METRICS_NSTATUS 17
int lb_metrics_status_index(int status);
/* The label of an index: "200", …, "other". */
const char *lb_metrics_status_label(int index);
/* A method's index (enum lb_method's value) and label ("GET", …; "OTHER" for the rest). */
#define LB_METRICS_NMETHODS 8
int lb_metrics_method_index(enum lb_method method);

/* The webhook deliverer's figures, read from the database by the handler. */
struct lb_metrics_webhooks {
    int known; /* 0: the database did not answer; the lines are left out */
    long long delivered, failed, pending;
    double lag_s; /* age of the oldest due pending delivery, 0 if none */
};

/* Appends the exposition (format 0.0.4) of the whole pool to out; wh may be NULL. */
void lb_metrics_render(struct lb_buf *out, const struct lb_metrics_webhooks *wh);

#endif
