/* log: one structured line per event on stderr (journald takes it from there). */
#ifndef LB_LOG_H
#define LB_LOG_H

enum lb_log_level { LB_LOG_DEBUG = 0, LB_LOG_INFO, LB_LOG_WARN, LB_LOG_ERROR };

/* program names the process in every line; level is the least severe level written. */
void lb_log_init(const char *program, enum lb_log_level level);
/* "debug", "info", "warn", "error" -> level; -1 when unknown. */
int lb_log_level_parse(const char *name);
/* The pid the log lines carry, read once per process (call lb_log_reset_pid after fork). */
long lb_log_pid(void);
void lb_log_reset_pid(void);
/* Writes "ts=… level=… prog=… pid=… event=<event> <fmt…>\n" with one write(2).
 * fmt holds further key=value pairs; values with spaces should be quoted by the caller. */
void lb_log(enum lb_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
