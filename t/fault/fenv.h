/* fenv: support for the fault and security programs. Each program runs its OWN throwaway
 * PostgreSQL cluster (t/lib/pgctl in a temp directory, so it may stop and start it), migrates
 * it with the built leadbookctl, provisions a tenant, an API key and an agent, and starts the
 * real stack (t/lib/stack: leadbookd behind nginx with the project's site file) on it. */
#ifndef LB_TEST_FENV_H
#define LB_TEST_FENV_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "stack.h"

struct fenv {
    char dir[256]; /* temp directory; the cluster lives in dir/pg */
    char pgdir[300];
    char conninfo[512]; /* libpq conninfo of the cluster's "postgres" database */
    char db_line[600];  /* "db = <conninfo>" for leadbookd's config */
    char tenant[37];
    char key_id[37];
    char key[128]; /* the API key text (shown once by leadbookctl) */
    char agent[37];
    char agent_link[37];
};

/* Creates the temp directory, starts the cluster, migrates it. 0 or -1 (printed). */
int fenv_cluster_start(struct fenv *e);
/* Fast shutdown / start again (same data). 0 or -1. */
int fenv_pg_stop(struct fenv *e);
int fenv_pg_start(struct fenv *e);
/* Stops and removes the cluster and the directory (kept if LEADBOOK_KEEP_TEST_DIRS is set). */
void fenv_destroy(struct fenv *e);
/* Creates tenant (name), key and agent with leadbookctl. 0 or -1 (printed). */
int fenv_provision(struct fenv *e, const char *tenant_name);
/* leadbookctl --db conninfo --sql-dir SRC/sql ARGS... (NULL-terminated); exit status. */
int fenv_ctl(const struct fenv *e, struct lb_buf *out, ...);
/* Runs argv (argv[0] a path) with stdout to out (if non-NULL), stderr inherited. */
int fenv_run(char *const argv[], struct lb_buf *out);
/* Starts the stack on this cluster with extra config lines (NULL-terminated, may be NULL). */
int fenv_stack_start(const struct fenv *e, struct stack *s, const char *const *extra);

/* Copies the string at a dotted path ("lead.id") of a JSON text; 0, or -1 if absent. */
int fenv_json_str(const char *json, const char *path, char *out, size_t outlen);
/* A fresh libpq connection to the cluster (NULL + message on failure). */
PGconn *fenv_pg(const struct fenv *e);
/* Runs sql (no parameters) on c; 0, or -1 with the error printed. */
int fenv_sql(PGconn *c, const char *sql);
/* Sends sig to the cluster's postmaster and to every process it started (SIGSTOP/SIGCONT: a
 * frozen database); 0 or -1. */
int fenv_pg_signal(const struct fenv *e, int sig);

/* Monotonic microseconds. */
int64_t fenv_now_us(void);
/* Open descriptors (/proc/PID/fd) and resident set size in KiB (VmRSS); -1 if unreadable. */
int fenv_proc_fds(pid_t pid);
long fenv_proc_rss_kb(pid_t pid);
/* Reads a whole file into out (appending); 0 or -1. */
int fenv_slurp(const char *path, struct lb_buf *out);
/* Percent-encodes s for a path segment or query value into out. */
void fenv_urlencode(const char *s, char *out, size_t outlen);

#endif
