/* worker: one request at a time through FCGX_Accept_r, reporting to the master's scoreboard. */
#ifndef LB_WORKER_H
#define LB_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "config.h"

/* One slot per worker in memory shared with the master (written by the worker only). */
struct lb_slot {
    volatile sig_atomic_t busy;  /* 1 while a request is being served */
    volatile int64_t started_ms; /* monotonic ms when the current request was accepted */
    volatile uint64_t requests;  /* requests served by this worker */
};

/* Runs the worker until it is told to stop or has served cfg->max_requests; returns the exit
 * status for the process. */
int lb_worker_run(const struct lb_config *cfg, int listen_fd, struct lb_slot *slot);

#endif
