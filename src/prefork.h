/* prefork: the master process. It only supervises: spawns the workers, respawns one that dies
 * (backing off when they crash in a loop), recycles them, enforces request_timeout, drains on
 * SIGTERM/SIGINT and replaces the workers on SIGHUP after re-reading the config. */
#ifndef LB_PREFORK_H
#define LB_PREFORK_H

#include <sys/types.h>

#include "config.h"

#define LB_MAX_WORKERS 256

/* The listening socket. A socket leadbookd created (unix:, tcp:) is its own to drain at
 * shutdown; an inherited one (fd:, systemd) is not: its queue outlives us for the next start. */
struct lb_listener {
    int fd;              /* non-blocking */
    int owned;           /* 1: created here; 0: inherited */
    char unix_path[512]; /* path of a unix socket created here, or "" once removed */
    dev_t dev;           /* that path's inode when we bound it: only our own socket is removed */
    ino_t ino;
};

/* config_path may be NULL (defaults and environment only). On SIGTERM/SIGINT/SIGQUIT, with an
 * owned socket it stops accepting (removes the unix path), lets the workers finish and drain
 * the queue, and answers what is left with 503 before it returns. Returns the process exit
 * status: 0 after a clean stop. */
int lb_master_run(struct lb_config *cfg, const char *config_path, struct lb_listener *l);

/* Opens the listening socket named by cfg->listen ("unix:", "tcp:" or "fd:"). For a unix
 * socket it refuses a path where something already accepts, and sets mode and group.
 * Returns 0 and fills *l, or -1 (logged). */
int lb_listen_open(const struct lb_config *cfg, struct lb_listener *l);
/* Removes the unix socket's path if it is still the socket bound there by lb_listen_open (a
 * server started since may have bound its own). Does nothing the second time. */
void lb_listen_unlink(struct lb_listener *l);

/* The worker count that cfg->workers means (0 = 2 per CPU). */
int lb_worker_count(const struct lb_config *cfg);

#endif
