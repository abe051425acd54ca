/* prefork: the master process. It only supervises: spawns the workers, respawns one that dies
 * (backing off when they crash in a loop), recycles them, enforces request_timeout, drains on
 * SIGTERM/SIGINT and replaces the workers on SIGHUP after re-reading the config. */
#ifndef LB_PREFORK_H
#define LB_PREFORK_H

#include "config.h"

#define LB_MAX_WORKERS 256

/* config_path may be NULL (defaults and environment only). Returns the process exit status:
 * 0 after a clean stop. */
int lb_master_run(struct lb_config *cfg, const char *config_path, int listen_fd);

/* Opens the listening socket named by cfg->listen ("unix:", "tcp:" or "fd:"). For a unix
 * socket it refuses a path where something already accepts, and sets mode and group.
 * Returns the fd or -1 (logged). *unix_path receives the path to unlink at exit, or "". */
int lb_listen_open(const struct lb_config *cfg, char *unix_path, size_t unix_path_len);

/* The worker count that cfg->workers means (0 = 2 per CPU). */
int lb_worker_count(const struct lb_config *cfg);

#endif
