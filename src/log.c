/* log: structured key=value lines, one write(2) each so lines from workers never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_program[32] = "leadbook";
static enum lb_log_level log_min = LB_LOG_INFO;

static long log_pid; /* 0 = not read yet */

long lb_log_pid(void)
{
    if (!log_pid)
        log_pid = (long)getpid();
    return log_pid;
}

void lb_log_reset_pid(void)
{
    log_pid = 0;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void lb_log_init(const char *program, enum lb_log_level level)
{
    snprintf(log_program, sizeof log_program, "%s", program);
    log_min = level;
}

int lb_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void lb_log(enum lb_log_level level, const char *event, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n =
        snprintf(line, sizeof line,
                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=%s pid=%ld event=%s",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long)(tv.tv_usec / 1000), level_names[level], log_program, lb_log_pid(), event);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && *fmt && len < sizeof line - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
