/* stack: start and stop leadbookd + nginx for a test. */
#include "stack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

const char *stack_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s ? s : "..";
}

const char *stack_builddir(void)
{
    const char *s = getenv("top_builddir");
    return s ? s : ".";
}

void stack_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* A failing Check assertion ends the test process with exit(): the stacks it started must not
 * outlive it, so every started stack is stopped at exit unless stack_stop already did. */
#define STACKS_MAX 8
static struct stack *started[STACKS_MAX];
static pid_t started_by;

static void stop_leftovers(void)
{
    if (getpid() != started_by)
        return; /* a forked client of the test, not the test itself */
    for (int i = 0; i < STACKS_MAX; i++)
        if (started[i])
            stack_stop(started[i]);
}

static void remember(struct stack *s)
{
    if (started_by != getpid()) {
        memset(started, 0, sizeof started);
        started_by = getpid();
        atexit(stop_leftovers);
    }
    for (int i = 0; i < STACKS_MAX; i++)
        if (!started[i]) {
            started[i] = s;
            return;
        }
}

int stack_start(struct stack *s, const char *const *config_lines)
{
    memset(s, 0, sizeof *s);
    remember(s);
    snprintf(s->dir, sizeof s->dir, "/tmp/leadbook-e2e.XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    chmod(s->dir, 0755);
    snprintf(s->sock, sizeof s->sock, "%s/app.sock", s->dir);
    snprintf(s->log, sizeof s->log, "%s/leadbookd.log", s->dir);
    s->port = free_port();

    char conf[400];
    snprintf(conf, sizeof conf, "%s/leadbook.conf", s->dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f, "listen = unix:%s\nworkers = 2\nshutdown_timeout = 10\n", s->sock);
    for (const char *const *l = config_lines; l && *l; l++)
        fprintf(f, "%s\n", *l);
    fclose(f);

    s->master = fork();
    if (s->master == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        close(fd);
        setenv("LEADBOOK_TEST_HOOKS", "1", 1);
        char bin[400];
        snprintf(bin, sizeof bin, "%s/leadbookd", stack_builddir());
        execl(bin, "leadbookd", "-c", conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && access(s->sock, F_OK) != 0; i++)
        stack_sleep_ms(50);

    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s/scripts/nginx-conf --out %s/nginx --listen 127.0.0.1:%d --socket %s >/dev/null"
             " && nginx -p %s/nginx -c %s/nginx/nginx.conf 2>%s/nginx-start.log",
             stack_srcdir(), s->dir, s->port, s->sock, s->dir, s->dir, s->dir);
    if (run(cmd) != 0) {
        fprintf(stderr, "stack: nginx did not start (%s)\n", cmd);
        stack_stop(s);
        return -1;
    }
    char pidfile[400];
    snprintf(pidfile, sizeof pidfile, "%s/nginx/nginx.pid", s->dir);
    for (int i = 0; i < 50 && (s->nginx = read_pid(pidfile)) == 0; i++)
        stack_sleep_ms(50);

    for (int i = 0; i < 200; i++) {
        struct httpc_resp r;
        int st = httpc(s->port, "GET", "/healthz", NULL, NULL, 0, &r, 2000);
        httpc_free(&r);
        if (st == 200)
            return 0;
        stack_sleep_ms(50);
    }
    fprintf(stderr, "stack: /healthz never answered 200 (see %s)\n", s->log);
    stack_stop(s);
    return -1;
}

int stack_wait_master(struct stack *s, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        pid_t p = waitpid(s->master, &s->master_status, WNOHANG);
        if (p == s->master) {
            s->master = 0;
            return 0;
        }
        stack_sleep_ms(20);
    }
    return -1;
}

void stack_stop(struct stack *s)
{
    for (int i = 0; i < STACKS_MAX; i++)
        if (started[i] == s)
            started[i] = NULL;
    if (s->nginx > 0) {
        kill(s->nginx, SIGQUIT);
        for (int i = 0; i < 100 && kill(s->nginx, 0) == 0; i++)
            stack_sleep_ms(20);
        s->nginx = 0;
    }
    if (s->master > 0) {
        kill(s->master, SIGTERM);
        if (stack_wait_master(s, 15000) != 0) {
            kill(s->master, SIGKILL);
            waitpid(s->master, NULL, 0);
        }
        s->master = 0;
    }
    if (s->dir[0] && !getenv("LEADBOOK_KEEP_TEST_DIRS")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        run(cmd);
    }
}

int stack_workers(const struct stack *s, pid_t *out, int max)
{
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        long ppid = 0;
        char state = 0;
        if (fgets(line, sizeof line, f)) {
            const char *rp = strrchr(line, ')');
            if (rp && sscanf(rp + 2, "%c %ld", &state, &ppid) != 2)
                ppid = 0;
        }
        fclose(f);
        if (ppid == s->master && state != 'Z')
            out[n++] = (pid_t)pid;
    }
    closedir(d);
    return n;
}

int stack_log_count(const struct stack *s, const char *needle)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}
