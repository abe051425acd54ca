/* stack: the real service for end-to-end tests: leadbookd (the built binary) behind nginx
 * configured from the project's own site file (scripts/nginx-conf), in a temp directory,
 * on a free loopback port. */
#ifndef LB_TEST_STACK_H
#define LB_TEST_STACK_H

#include <sys/types.h>

struct stack {
    char dir[256]; /* temp directory: leadbook.conf, leadbookd.log, app.sock, nginx/ */
    char sock[300];
    char log[300];
    int port;          /* nginx, plain HTTP on 127.0.0.1 */
    pid_t master;      /* leadbookd master */
    pid_t nginx;       /* nginx master */
    int master_status; /* wait status once stack_wait_master has reaped it */
};

/* Starts leadbookd with the given extra config lines ("key = value", NULL-terminated, may be
 * NULL) and LEADBOOK_TEST_HOOKS=1, then nginx; waits until GET /healthz answers 200.
 * Returns 0, or -1 with a message on stderr. */
int stack_start(struct stack *s, const char *const *config_lines);
/* Stops nginx and leadbookd (if still running) and removes the directory. */
void stack_stop(struct stack *s);
/* Waits up to timeout_ms for the master to exit; returns 0 and fills master_status. */
int stack_wait_master(struct stack *s, int timeout_ms);
/* The current children of the master; returns how many were written to out. */
int stack_workers(const struct stack *s, pid_t *out, int max);
/* Counts the lines of leadbookd's log containing needle. */
int stack_log_count(const struct stack *s, const char *needle);
/* The srcdir/builddir paths from the test environment (top_srcdir/top_builddir). */
const char *stack_srcdir(void);
const char *stack_builddir(void);
void stack_sleep_ms(int ms);

#endif
