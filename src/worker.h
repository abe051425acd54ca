/* worker: one request at a time through FCGX_Accept_r, reporting to the master's scoreboard. */
#ifndef LB_WORKER_H
#define LB_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "config.h"

/* One slot per worker in memory shared with the master (written by the worker, except gated
 * and go). */
struct lb_slot {
    volatile sig_atomic_t busy;  /* 1 while a request is being served */
    volatile int64_t started_ms; /* monotonic ms when the current request was accepted */
    volatile uint64_t requests;  /* requests served by this worker */
    /* A reload's new workers are gated: they accept nothing until they have reached the
     * database (db_ready, or db_error says why not) and the master, once every one of the new
     * generation is ready, lets them all go (API.md "Deadlines": a config that only some
     * workers could use is never half-applied). Set by the master before the fork: gated, go. */
    volatile sig_atomic_t gated;
    volatile sig_atomic_t go;
    volatile sig_atomic_t db_ready;
    char db_error[160];
};

/* Runs the worker until it is told to stop (SIGTERM, SIGQUIT, SIGINT) or has served
 * cfg->max_requests; returns the exit status for the process. listen_fd must be non-blocking.
 * Call it with every signal blocked (as the master forks): it installs its handlers before it
 * unblocks any, so a stop signal sent since the fork is not lost. Once told to stop it finishes
 * the current request, then serves what is still queued for up to drain_ms (0: none). */
int lb_worker_run(const struct lb_config *cfg, int listen_fd, struct lb_slot *slot, int drain_ms);

/* For the master at shutdown, once its workers are gone, on a socket it owns: answers each
 * connection still queued with a 503 in the application's error shape (with Retry-After),
 * without running it, until the queue is empty or the monotonic clock reaches until_ms. Closing
 * the socket would otherwise reset them (nginx: 502). Returns how many were answered. */
int lb_worker_refuse_queued(const struct lb_config *cfg, int listen_fd, int64_t until_ms);

#endif
