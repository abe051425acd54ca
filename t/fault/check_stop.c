/* Stop tests: how leadbookd ends under load, the way it is stopped in production and in dev.
 *  - a TERM to the whole process group (what timeout(1) and systemd's default
 *    KillMode=control-group send) while requests flow through nginx and straight to the FastCGI
 *    socket, and while workers are recycled (max_requests) so that the master forks all along:
 *    repeated 20 times, every stop must end well under shutdown_timeout, no process of the group
 *    may be left, no worker may be spawned once the stop began, and no request that reached the
 *    socket may go unanswered (a 502 from nginx is allowed only where nginx's connect failed,
 *    i.e. the request never reached leadbookd);
 *  - a stop with requests queued on a socket leadbookd owns: each one is answered, served by a
 *    draining worker (200) or refused by the master (503, the application's error shape with
 *    Retry-After), none reset (502);
 *  - a stop with requests queued on an inherited socket (fd:N, as systemd passes it): the queue
 *    is left alone and the next instance serves it.
 * leadbookd runs in its own process group (setpgid in the test's fork); nginx is the project's
 * site (scripts/nginx-conf) on a free loopback port. Everything stays on 127.0.0.1 and a unix
 * socket, and the load is a few threads for a few hundred milliseconds per round. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"
#include "stack.h"

#define ROUNDS 20
#define STOP_LIMIT_MS 5000 /* "well under" shutdown_timeout = 20 s */
#define LOAD_MS 300        /* load before each TERM */
#define NGINX_THREADS 3
#define DIRECT_THREADS 3
/* nginx answers 401 itself without an Authorization header; the test routes are public */
#define AUTH "Authorization: Bearer not-a-real-key\r\n"

/* ---- a minimal FastCGI client (one request per connection, as nginx sends them) ---- */

struct fcgi_result {
    int connected; /* connect() succeeded: the request reached leadbookd's queue */
    int complete;  /* an FCGI_END_REQUEST arrived */
    int status;    /* from the "Status:" line, 0 if none */
    char retry_after[16];
    char body[512];
};

static size_t fcgi_record(unsigned char *out, int type, const void *data, size_t len)
{
    out[0] = 1; /* FCGI_VERSION_1 */
    out[1] = (unsigned char)type;
    out[2] = 0;
    out[3] = 1; /* request id 1 */
    out[4] = (unsigned char)(len >> 8);
    out[5] = (unsigned char)len;
    out[6] = 0;
    out[7] = 0;
    if (len)
        memcpy(out + 8, data, len);
    return 8 + len;
}

static size_t fcgi_pair(unsigned char *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value); /* both < 128 here */
    out[0] = (unsigned char)nl;
    out[1] = (unsigned char)vl;
    memcpy(out + 2, name, nl);
    memcpy(out + 2 + nl, value, vl);
    return 2 + nl + vl;
}

static void header_value(const char *head, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *p = strstr(head, name);
    if (!p)
        return;
    p += strlen(name);
    size_t n = strcspn(p, "\r\n");
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), p);
}

/* Connects to the unix socket at path and sends GET uri ("/path?query") as nginx would.
 * Returns the connection for fcgi_finish (which reads the answer), or -1; r->connected says
 * whether the request reached the socket's queue. */
static int fcgi_send(const char *path, const char *uri, struct fcgi_result *r, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    r->connected = 1;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    unsigned char params[512], msg[1024];
    char docuri[256], query[256];
    const char *q = strchr(uri, '?');
    snprintf(docuri, sizeof docuri, "%.*s", (int)(q ? q - uri : (long)strlen(uri)), uri);
    snprintf(query, sizeof query, "%s", q ? q + 1 : "");
    size_t pl = 0;
    pl += fcgi_pair(params + pl, "REQUEST_METHOD", "GET");
    pl += fcgi_pair(params + pl, "REQUEST_URI", uri);
    pl += fcgi_pair(params + pl, "DOCUMENT_URI", docuri);
    pl += fcgi_pair(params + pl, "QUERY_STRING", query);
    pl += fcgi_pair(params + pl, "CONTENT_LENGTH", "");
    const unsigned char begin[8] = {0, 1 /* RESPONDER */, 0, 0, 0, 0, 0, 0};
    size_t ml = 0;
    ml += fcgi_record(msg + ml, 1 /* BEGIN_REQUEST */, begin, sizeof begin);
    ml += fcgi_record(msg + ml, 4 /* PARAMS */, params, pl);
    ml += fcgi_record(msg + ml, 4, NULL, 0);
    ml += fcgi_record(msg + ml, 5 /* STDIN */, NULL, 0);
    if (write(fd, msg, ml) != (ssize_t)ml) {
        close(fd);
        return -1; /* connected, never answered: r->complete stays 0 */
    }
    return fd;
}

/* Reads the answer on a connection from fcgi_send, then closes it. */
static void fcgi_finish(int fd, struct fcgi_result *r)
{
    char out[4096];
    size_t outlen = 0;
    unsigned char h[8];
    for (;;) {
        size_t got = 0;
        while (got < 8) {
            ssize_t n = read(fd, h + got, 8 - got);
            if (n <= 0)
                goto done;
            got += (size_t)n;
        }
        size_t len = ((size_t)h[4] << 8 | h[5]) + h[6];
        unsigned char content[65536 + 256];
        got = 0;
        while (got < len) {
            ssize_t n = read(fd, content + got, len - got);
            if (n <= 0)
                goto done;
            got += (size_t)n;
        }
        size_t clen = (size_t)h[4] << 8 | h[5];
        if (h[1] == 6 /* STDOUT */ && outlen + clen < sizeof out) {
            memcpy(out + outlen, content, clen);
            outlen += clen;
        } else if (h[1] == 3 /* END_REQUEST */) {
            r->complete = 1;
            break;
        }
    }
done:
    close(fd);
    out[outlen] = '\0';
    char st[8];
    header_value(out, "Status: ", st, sizeof st);
    r->status = atoi(st);
    header_value(out, "Retry-After: ", r->retry_after, sizeof r->retry_after);
    const char *body = strstr(out, "\r\n\r\n");
    snprintf(r->body, sizeof r->body, "%s", body ? body + 4 : "");
}

static void fcgi_get(const char *path, const char *uri, struct fcgi_result *r, int timeout_ms)
{
    int fd = fcgi_send(path, uri, r, timeout_ms);
    if (fd >= 0)
        fcgi_finish(fd, r);
}

/* ---- leadbookd in its own process group, nginx in front ---- */

struct env {
    char dir[256];
    char sock[300];
    char conf[300];
    char log[300];
    char nginx_log[320];
    int port;
    pid_t nginx;
    pid_t master; /* also the process group */
};

/* A failed assertion ends a test's process at once (Check's _exit, no atexit): what it
 * started must not outlive it. The tests record their process groups and nginx masters in
 * memory shared with the runner, whose teardown ends what is left. */
#define STARTED_MAX 64
static struct started {
    pid_t pid[STARTED_MAX]; /* > 0: a leadbookd process group; < 0: -pid of an nginx master */
} * started;

static void started_set(pid_t pid, int on)
{
    for (int i = 0; i < STARTED_MAX; i++)
        if (on ? started->pid[i] == 0 : started->pid[i] == pid) {
            started->pid[i] = on ? pid : 0;
            return;
        }
}

static void kill_leftovers(void)
{
    for (int i = 0; i < STARTED_MAX; i++) {
        if (started->pid[i] > 0)
            kill(-started->pid[i], SIGKILL);
        else if (started->pid[i] < 0)
            kill(-started->pid[i], SIGQUIT);
        started->pid[i] = 0;
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A temp directory and leadbook.conf: "listen = unix:DIR/app.sock" unless lines set listen. */
static void env_init(struct env *e, const char *const *lines)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/leadbook-stop.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    chmod(e->dir, 0755);
    snprintf(e->sock, sizeof e->sock, "%s/app.sock", e->dir);
    snprintf(e->conf, sizeof e->conf, "%s/leadbook.conf", e->dir);
    snprintf(e->log, sizeof e->log, "%s/leadbookd.log", e->dir);
    snprintf(e->nginx_log, sizeof e->nginx_log, "%s/nginx/error.log", e->dir);
    FILE *f = fopen(e->conf, "w");
    ck_assert_ptr_nonnull(f);
    int has_listen = 0;
    for (const char *const *l = lines; l && *l; l++) {
        fprintf(f, "%s\n", *l);
        has_listen |= strncmp(*l, "listen", 6) == 0;
    }
    if (!has_listen)
        fprintf(f, "listen = unix:%s\n", e->sock);
    fclose(f);
}

/* Starts leadbookd as the leader of a new process group; inherit_fd >= 0 is passed as fd 3.
 * one_cpu pins it (and so its workers) to one CPU, as CPUAffinity= or a 1-vCPU machine would:
 * a child forked there cannot run before the master sleeps again, so a TERM that comes while
 * the master respawns reaches the child before it has set up anything of its own.
 * Waits until a direct GET /healthz answers 200. */
static void master_start(struct env *e, int inherit_fd, int one_cpu)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        cpu_set_t set;
        if (one_cpu && sched_getaffinity(0, sizeof set, &set) == 0) {
            int first = 0;
            while (first < CPU_SETSIZE && !CPU_ISSET(first, &set))
                first++;
            CPU_ZERO(&set);
            CPU_SET(first, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        int fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        close(fd);
        if (inherit_fd >= 0) {
            dup2(inherit_fd, 3);
            if (inherit_fd != 3)
                close(inherit_fd);
        }
        setenv("LEADBOOK_TEST_HOOKS", "1", 1);
        char bin[400];
        snprintf(bin, sizeof bin, "%s/leadbookd", stack_builddir());
        execl(bin, "leadbookd", "-c", e->conf, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid); /* also from here: the TERM may come before the child ran */
    e->master = pid;
    started_set(pid, 1);
    for (int i = 0; i < 200; i++) {
        struct fcgi_result r;
        fcgi_get(e->sock, "/healthz", &r, 2000);
        if (r.status == 200)
            return;
        stack_sleep_ms(25);
    }
    ck_abort_msg("leadbookd did not answer on %s (see %s)", e->sock, e->log);
}

static void nginx_start(struct env *e)
{
    e->port = free_port();
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s/scripts/nginx-conf --out %s/nginx --listen 127.0.0.1:%d --socket %s >/dev/null"
             " && nginx -p %s/nginx -c %s/nginx/nginx.conf 2>%s/nginx-start.log",
             stack_srcdir(), e->dir, e->port, e->sock, e->dir, e->dir, e->dir);
    int rc = system(cmd);
    ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "nginx did not start: %s", cmd);
    char pidfile[400];
    snprintf(pidfile, sizeof pidfile, "%s/nginx/nginx.pid", e->dir);
    for (int i = 0; i < 100 && e->nginx == 0; i++) {
        FILE *f = fopen(pidfile, "r");
        long pid = 0;
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        e->nginx = (pid_t)pid;
        if (!e->nginx)
            stack_sleep_ms(20);
    }
    ck_assert_int_gt(e->nginx, 0);
    started_set(-e->nginx, 1);
}

/* Waits up to timeout_ms for the master; returns the ms it took from since_ms, or -1. */
static int64_t master_wait(struct env *e, int64_t since_ms, int timeout_ms, int *status)
{
    for (;;) {
        if (waitpid(e->master, status, WNOHANG) == e->master)
            return now_ms() - since_ms;
        if (now_ms() - since_ms > timeout_ms)
            return -1;
        stack_sleep_ms(5);
    }
}

/* 1 while any process of the group is left (zombies of orphans are reaped by init: a while). */
static int group_alive(pid_t pgid)
{
    for (int i = 0; i < 100; i++) {
        if (kill(-pgid, 0) != 0 && errno == ESRCH) {
            started_set(pgid, 0); /* gone: the number may be reused */
            return 0;
        }
        stack_sleep_ms(10);
    }
    return 1;
}

static void env_destroy(struct env *e)
{

    if (e->master > 0) {
        kill(-e->master, SIGKILL);
        waitpid(e->master, NULL, 0);
        group_alive(e->master);
    }
    if (e->nginx > 0) {
        started_set(-e->nginx, 0);
        kill(e->nginx, SIGQUIT);
        for (int i = 0; i < 100 && kill(e->nginx, 0) == 0; i++)
            stack_sleep_ms(20);
    }
    if (!getenv("LEADBOOK_KEEP_TEST_DIRS")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "check_stop: could not remove %s\n", e->dir);
    } else {
        fprintf(stderr, "check_stop: kept %s\n", e->dir);
    }
}

static int file_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
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

/* nginx error-log lines saying that a request which had reached leadbookd lost its answer. */
static int nginx_lost_answers(const char *path)
{
    return file_count(path, "prematurely closed") + file_count(path, "reset by peer") +
           file_count(path, "recv() failed") + file_count(path, "readv() failed") +
           file_count(path, "writev() failed") + file_count(path, "upstream timed out");
}

/* nginx error-log lines saying that nginx could not connect: the request never reached us. */
static int nginx_connect_failures(const char *path)
{
    return file_count(path, "connect() to unix:") + file_count(path, "no live upstreams");
}

/* ---- 1. TERM to the process group under load, 20 times ---- */

struct load {
    const struct env *e;
    int direct;
    volatile int *stop;
    int sent, ok, refused, other;
    int bad502;       /* through nginx */
    int unanswered;   /* through nginx: no answer at all */
    int not_accepted; /* direct: connect failed (the socket was gone) */
    int dropped;      /* direct: connected, but no complete answer */
};

static void *load_thread(void *arg)
{
    struct load *l = arg;
    for (int i = 0; !*l->stop; i++) {
        const char *uri = i % 2 ? "/_test/sleep?ms=20" : "/healthz";
        int status;
        if (l->direct) {
            struct fcgi_result r;
            fcgi_get(l->e->sock, uri, &r, 10000);
            if (!r.connected) {
                l->not_accepted++;
                stack_sleep_ms(5);
                continue;
            }
            if (!r.complete) {
                l->dropped++;
                continue;
            }
            status = r.status;
        } else {
            struct httpc_resp r;
            status = httpc(l->e->port, "GET", uri, AUTH, NULL, 0, &r, 10000);
            httpc_free(&r);
            if (status == 0) {
                l->unanswered++;
                continue;
            }
        }
        l->sent++;
        if (status == 502)
            stack_sleep_ms(5); /* nginx could not connect: the socket is gone; do not spin */
        if (status == 200)
            l->ok++;
        else if (status == 503)
            l->refused++;
        else if (status == 502)
            l->bad502++;
        else
            l->other++;
    }
    return NULL;
}

/* Sends the TERM to the group while the master respawns workers: with max_requests = 1 each
 * answer ends its worker, so right after our own four answers the master forks four, and the
 * TERM follows 0 to 1.9 ms later (another offset each round). */
static void term_while_forking(const struct env *e, int round)
{
    int fds[4];
    struct fcgi_result r[4];
    for (int i = 0; i < 4; i++)
        fds[i] = fcgi_send(e->sock, "/healthz", &r[i], 5000);
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0)
            fcgi_finish(fds[i], &r[i]);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long wait_ns = (long)(round % 20) * 100000L;
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < wait_ns);
    ck_assert_int_eq(kill(-e->master, SIGTERM), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(r[i].complete && r[i].status == 200, "trigger request %d: status %d", i,
                      r[i].status);
}

START_TEST(t_group_term_under_load)
{
    /* max_requests = 1: every request ends its worker, so the master forks all along and the
     * TERM lands between a fork and the child's signal set-up */
    const char *lines[] = {"workers = 4", "max_requests = 1", "shutdown_timeout = 20",
                           "request_timeout = 30", NULL};
    struct env e;
    env_init(&e, lines);
    nginx_start(&e);

    int64_t worst = 0, total_ms = 0;
    int sum_ok = 0, sum_refused = 0, sum_502 = 0, sum_not_accepted = 0, sum_dropped = 0;
    int sum_unanswered = 0, sum_other = 0, sum_sent = 0, left_behind = 0, late_spawns = 0;
    for (int round = 0; round < ROUNDS; round++) {
        master_start(&e, -1, 1);
        volatile int stop = 0;
        struct load loads[NGINX_THREADS + DIRECT_THREADS];
        pthread_t th[NGINX_THREADS + DIRECT_THREADS];
        for (int i = 0; i < NGINX_THREADS + DIRECT_THREADS; i++) {
            memset(&loads[i], 0, sizeof loads[i]);
            loads[i].e = &e;
            loads[i].direct = i >= NGINX_THREADS;
            loads[i].stop = &stop;
            ck_assert_int_eq(pthread_create(&th[i], NULL, load_thread, &loads[i]), 0);
        }
        stack_sleep_ms(LOAD_MS);
        int64_t t0 = now_ms();
        term_while_forking(&e, round);
        int status = 0;
        int64_t took = master_wait(&e, t0, 25000, &status);
        stack_sleep_ms(50); /* the load goes on a moment after: its requests must fail cleanly */
        stop = 1;
        for (int i = 0; i < NGINX_THREADS + DIRECT_THREADS; i++)
            pthread_join(th[i], NULL);
        pid_t pgid = e.master;
        if (took < 0) {
            kill(-pgid, SIGKILL);
            waitpid(pgid, NULL, 0);
        }
        e.master = 0;
        int alive = group_alive(pgid);
        if (alive) {
            left_behind++;
            kill(-pgid, SIGKILL);
        }
        int r_ok = 0, r_ref = 0, r_502 = 0, r_na = 0, r_drop = 0;
        for (int i = 0; i < NGINX_THREADS + DIRECT_THREADS; i++) {
            r_ok += loads[i].ok;
            r_ref += loads[i].refused;
            r_502 += loads[i].bad502;
            r_na += loads[i].not_accepted;
            r_drop += loads[i].dropped;
            sum_unanswered += loads[i].unanswered;
            sum_other += loads[i].other;
            sum_sent += loads[i].sent;
        }
        fprintf(stderr,
                "check_stop: round %2d: stop %5lld ms, exit %d, 200=%d 503=%d 502=%d "
                "direct-not-accepted=%d direct-dropped=%d group-left=%d\n",
                round + 1, (long long)took, WIFEXITED(status) ? WEXITSTATUS(status) : -1, r_ok,
                r_ref, r_502, r_na, r_drop, alive);
        ck_assert_msg(took >= 0, "round %d: the master did not exit within 25 s", round + 1);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "round %d: master exit status %d", round + 1, status);
        if (took > worst)
            worst = took;
        total_ms += took;
        sum_ok += r_ok;
        sum_refused += r_ref;
        sum_502 += r_502;
        sum_not_accepted += r_na;
        sum_dropped += r_drop;
    }
    /* every round appended "event=shutdown" then "event=master_exit": no spawn in between */
    FILE *lf = fopen(e.log, "r");
    ck_assert_ptr_nonnull(lf);
    char line[4096];
    int stopping = 0;
    while (fgets(line, sizeof line, lf)) {
        if (strstr(line, "event=shutdown "))
            stopping = 1;
        else if (strstr(line, "event=master_start"))
            stopping = 0;
        else if (stopping && strstr(line, "event=worker_spawn"))
            late_spawns++;
    }
    fclose(lf);
    int lost = nginx_lost_answers(e.nginx_log),
        refused_connects = nginx_connect_failures(e.nginx_log);
    fprintf(stderr,
            "check_stop: %d rounds: stop worst %lld ms, mean %lld ms; %d answers (200=%d 503=%d "
            "502=%d other=%d), direct: %d not accepted, %d dropped; nginx: %d connect failures, "
            "%d lost answers; %d spawns after a stop began; %d rounds left processes; %d "
            "shutdown_timeout kills\n",
            ROUNDS, (long long)worst, (long long)(total_ms / ROUNDS), sum_sent, sum_ok, sum_refused,
            sum_502, sum_other, sum_not_accepted, sum_dropped, refused_connects, lost, late_spawns,
            left_behind, file_count(e.log, "reason=shutdown_timeout"));
    ck_assert_msg(worst < STOP_LIMIT_MS, "a stop took %lld ms (shutdown_timeout is 20 s)",
                  (long long)worst);
    ck_assert_int_eq(left_behind, 0);
    ck_assert_int_eq(late_spawns, 0);
    ck_assert_int_eq(file_count(e.log, "reason=shutdown_timeout"), 0);
    ck_assert_int_eq(sum_dropped, 0);
    ck_assert_int_eq(sum_unanswered, 0);
    ck_assert_int_eq(sum_other, 0);
    ck_assert_msg(lost == 0, "nginx lost %d answers of requests that had reached leadbookd", lost);
    ck_assert_msg(sum_502 <= refused_connects,
                  "%d answers were 502 but nginx failed to connect only %d times", sum_502,
                  refused_connects);
    ck_assert_int_gt(sum_ok, ROUNDS * 10); /* the load was real */
    env_destroy(&e);
}
END_TEST

/* ---- 2. a stop with requests queued on the socket leadbookd owns ---- */

#define QUEUED_DIRECT 8
#define QUEUED_NGINX 8

struct queued {
    const struct env *e;
    int fd;                /* direct: connected and sent before the stop */
    struct fcgi_result fr; /* direct */
    int status;            /* through nginx */
    char body[512], retry_after[16];
};

static void *queued_direct(void *arg)
{
    struct queued *q = arg;
    fcgi_finish(q->fd, &q->fr);
    return NULL;
}

static void *queued_nginx(void *arg)
{
    struct queued *q = arg;
    struct httpc_resp r;
    q->status = httpc(q->e->port, "GET", "/_test/sleep?ms=300", AUTH, NULL, 0, &r, 20000);
    snprintf(q->body, sizeof q->body, "%s", r.body ? r.body : "");
    httpc_header(&r, "Retry-After", q->retry_after, sizeof q->retry_after);
    httpc_free(&r);
    return NULL;
}

static void *in_flight(void *arg)
{
    struct queued *q = arg;
    fcgi_get(q->e->sock, "/_test/sleep?ms=1500", &q->fr, 20000);
    return NULL;
}

static const char refused_body[] = "{\"statusCode\":503,\"message\":\"the service is restarting, "
                                   "retry later\",\"error\":\"Service Unavailable\"}";

START_TEST(t_stop_answers_queued_requests)
{
    const char *lines[] = {"workers = 1", "shutdown_timeout = 20", NULL};
    struct env e;
    env_init(&e, lines);
    nginx_start(&e);
    master_start(&e, -1, 0);

    /* the one worker is busy for 1.5 s; 16 requests queue up behind it */
    struct queued busy = {.e = &e};
    pthread_t busy_th;
    ck_assert_int_eq(pthread_create(&busy_th, NULL, in_flight, &busy), 0);
    stack_sleep_ms(200);
    struct queued q[QUEUED_DIRECT + QUEUED_NGINX];
    pthread_t th[QUEUED_DIRECT + QUEUED_NGINX];
    for (int i = 0; i < QUEUED_DIRECT + QUEUED_NGINX; i++) {
        memset(&q[i], 0, sizeof q[i]);
        q[i].e = &e;
        if (i < QUEUED_DIRECT) {
            q[i].fd = fcgi_send(e.sock, "/_test/sleep?ms=300", &q[i].fr, 20000);
            ck_assert_int_ge(q[i].fd, 0);
            ck_assert_int_eq(pthread_create(&th[i], NULL, queued_direct, &q[i]), 0);
        } else {
            ck_assert_int_eq(pthread_create(&th[i], NULL, queued_nginx, &q[i]), 0);
        }
    }
    stack_sleep_ms(300); /* nginx has connected: its requests are queued too */
    int64_t t0 = now_ms();
    ck_assert_int_eq(kill(e.master, SIGTERM), 0);
    /* stopping accepting: the path is gone at once, the queue is still answered */
    stack_sleep_ms(100);
    ck_assert_int_ne(access(e.sock, F_OK), 0);
    int status;
    int64_t took = master_wait(&e, t0, 25000, &status);
    pthread_join(busy_th, NULL);
    for (int i = 0; i < QUEUED_DIRECT + QUEUED_NGINX; i++)
        pthread_join(th[i], NULL);
    pid_t pgid = e.master;
    e.master = took < 0 ? e.master : 0;
    ck_assert_msg(took >= 0, "the master did not exit within 25 s");
    ck_assert_int_eq(group_alive(pgid), 0);

    ck_assert_int_eq(busy.fr.status, 200);
    ck_assert_str_eq(busy.fr.body, "{\"slept\":1500}");
    int served = 0, refused = 0, bad = 0;
    for (int i = 0; i < QUEUED_DIRECT + QUEUED_NGINX; i++) {
        int st = i < QUEUED_DIRECT ? (q[i].fr.complete ? q[i].fr.status : 0) : q[i].status;
        const char *body = i < QUEUED_DIRECT ? q[i].fr.body : q[i].body;
        const char *ra = i < QUEUED_DIRECT ? q[i].fr.retry_after : q[i].retry_after;
        if (st == 200 && strcmp(body, "{\"slept\":300}") == 0) {
            served++;
        } else if (st == 503 && strcmp(body, refused_body) == 0 && strcmp(ra, "1") == 0) {
            refused++;
        } else {
            bad++;
            fprintf(stderr, "check_stop: queued request %d (%s): status %d body %s\n", i,
                    i < QUEUED_DIRECT ? "direct" : "nginx", st, body);
        }
    }
    int drained_line = file_count(e.log, "event=worker_drain requests=");
    fprintf(stderr,
            "check_stop: queued stop: %lld ms; 16 queued: %d served by the draining worker, %d "
            "refused 503 by the master, %d other; nginx lost answers %d\n",
            (long long)took, served, refused, bad, nginx_lost_answers(e.nginx_log));
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(served + refused, QUEUED_DIRECT + QUEUED_NGINX);
    /* both paths ran: the worker served for its second of grace, the master refused the rest */
    ck_assert_int_ge(served, 1);
    ck_assert_int_ge(refused, 1);
    ck_assert_int_eq(drained_line, 1);
    char want[64];
    snprintf(want, sizeof want, "event=queue_refused requests=%d ", refused);
    ck_assert_int_eq(file_count(e.log, want), 1);
    ck_assert_int_eq(file_count(e.log, "queued=refused"), refused);
    ck_assert_int_eq(nginx_lost_answers(e.nginx_log), 0);
    ck_assert_int_lt(took, STOP_LIMIT_MS);
    env_destroy(&e);
}
END_TEST

/* ---- 3. an inherited socket: the queue is left for the next instance ---- */

START_TEST(t_inherited_socket_keeps_its_queue)
{
    const char *lines[] = {"listen = fd:3", "workers = 1", "shutdown_timeout = 20", NULL};
    struct env e;
    env_init(&e, lines);
    /* the test holds the socket, as systemd's leadbook.socket does */
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(e.sock), sizeof sa.sun_path);
    memcpy(sa.sun_path, e.sock, strlen(e.sock) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(lfd, 64), 0);
    int child_fd = dup(lfd); /* without CLOEXEC, for the exec */
    master_start(&e, child_fd, 0);

    struct queued busy = {.e = &e};
    pthread_t busy_th;
    ck_assert_int_eq(pthread_create(&busy_th, NULL, in_flight, &busy), 0);
    stack_sleep_ms(200);
    struct queued q[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&q[i], 0, sizeof q[i]);
        q[i].e = &e;
        q[i].fd = fcgi_send(e.sock, "/healthz", &q[i].fr, 20000);
        ck_assert_int_ge(q[i].fd, 0);
        ck_assert_int_eq(pthread_create(&th[i], NULL, queued_direct, &q[i]), 0);
    }
    stack_sleep_ms(100);
    int64_t t0 = now_ms();
    ck_assert_int_eq(kill(e.master, SIGTERM), 0);
    int status;
    int64_t took = master_wait(&e, t0, 25000, &status);
    ck_assert_msg(took >= 0, "the master did not exit within 25 s");
    ck_assert_int_eq(group_alive(e.master), 0);
    e.master = 0;
    pthread_join(busy_th, NULL);
    ck_assert_int_eq(busy.fr.status, 200);
    /* nothing refused, nothing reset: the four wait in the socket's queue, still unanswered */
    stack_sleep_ms(200);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(q[i].fr.complete, 0);
    ck_assert_int_eq(file_count(e.log, "event=queue_refused"), 0);
    ck_assert_int_eq(access(e.sock, F_OK), 0); /* not ours to remove */

    master_start(&e, child_fd, 0); /* the next instance, on the same socket */
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(q[i].fr.complete, 1);
        ck_assert_int_eq(q[i].fr.status, 200);
        ck_assert_str_eq(q[i].fr.body, "{\"status\":\"ok\"}");
    }
    fprintf(stderr,
            "check_stop: inherited socket: stop %lld ms, 4 queued requests kept and served by the "
            "next instance\n",
            (long long)took);
    kill(e.master, SIGTERM);
    ck_assert_int_ge(master_wait(&e, now_ms(), 25000, &status), 0);
    ck_assert_int_eq(group_alive(e.master), 0);
    e.master = 0;
    close(child_fd);
    close(lfd);
    env_destroy(&e);
}
END_TEST

/* ---- 4. a TERM that reaches a worker between fork() and its own signal set-up ---- */

/* A race of microseconds, made certain: leadbookd's master is traced (PTRACE_O_TRACEFORK), so
 * the worker it forks is held before its first instruction; the TERM goes to the whole group
 * (the master then TERMs the held worker too), and only then is the worker let go, with the
 * signal pending. If the master's handlers were still in place in the child, the signal would
 * run them there and be lost: the worker would never stop and the stop would last until the
 * SIGKILL after shutdown_timeout (20 s). */
static void *trigger_request(void *arg)
{
    struct queued *q = arg;
    fcgi_get(q->e->sock, "/healthz", &q->fr, 10000);
    return NULL;
}

START_TEST(t_term_between_fork_and_setup)
{
    /* max_requests = 2: master_start's probe is the worker's first request, the trigger below
     * its last */
    const char *lines[] = {"workers = 1", "max_requests = 2", "shutdown_timeout = 20", NULL};
    struct env e;
    env_init(&e, lines);
    /* LeakSanitizer cannot run in a traced process (it stops the world with ptrace itself):
     * under the sanitizer build the master would exit 1 at the end for that reason alone.
     * Leaks are checked by every other stop of this program and by t/leaks/run. */
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    master_start(&e, -1, 0);
    unsetenv("ASAN_OPTIONS");
    pid_t master = e.master;
    if (ptrace(PTRACE_SEIZE, master, NULL, (void *)(long)PTRACE_O_TRACEFORK) != 0) {
        fprintf(stderr, "check_stop: ptrace unavailable (%s): fork-window case not run\n",
                strerror(errno));
        kill(master, SIGTERM);
        int st;
        master_wait(&e, now_ms(), 25000, &st);
        e.master = 0;
        env_destroy(&e);
        return;
    }
    /* the answer to this ends the worker, and the master forks a new one (from a thread, so
     * that nothing here waits while a worker is held) */
    struct queued trigger = {.e = &e};
    pthread_t trigger_th;
    ck_assert_int_eq(pthread_create(&trigger_th, NULL, trigger_request, &trigger), 0);

    pid_t held = 0;
    int held_stopped = 0, term_sent = 0, released = 0, master_status = 0;
    int64_t t_term = 0, t_release = 0, took = -1;
    int64_t t_start = now_ms();
    while (now_ms() - t_start < 30000) {
        int st;
        pid_t p = waitpid(-1, &st, __WALL | WNOHANG);
        if (p == 0) {
            if (held_stopped && !term_sent) {
                t_term = now_ms();
                ck_assert_int_eq(kill(-master, SIGTERM), 0);
                term_sent = 1;
            } else if (term_sent && !released && now_ms() - t_term >= 200) {
                /* the master has had the time to TERM it as well: both are pending now */
                ck_assert_int_eq(ptrace(PTRACE_DETACH, held, NULL, NULL), 0);
                released = 1;
                t_release = now_ms();
            }
            stack_sleep_ms(1);
            continue;
        }
        if (p < 0)
            break;
        if (p == master && (WIFEXITED(st) || WIFSIGNALED(st))) {
            master_status = st;
            took = now_ms() - t_term;
            break;
        }
        if (!WIFSTOPPED(st))
            continue;
        int event = st >> 16;
        if (p == master) {
            if (event == PTRACE_EVENT_FORK) {
                unsigned long child = 0;
                ptrace(PTRACE_GETEVENTMSG, master, NULL, &child);
                if (!held)
                    held = (pid_t)child;
                ptrace(PTRACE_CONT, master, NULL, NULL);
            } else if (event == PTRACE_EVENT_STOP) {
                ptrace(PTRACE_CONT, master, NULL, NULL);
            } else {
                /* a signal for the master: deliver it */
                ptrace(PTRACE_CONT, master, NULL, (void *)(long)WSTOPSIG(st));
            }
        } else if (p == held && !held_stopped) {
            held_stopped = 1; /* stopped before it ran: keep it there */
        } else {
            ptrace(PTRACE_DETACH, p, NULL, NULL); /* any later child goes free at once */
        }
    }
    e.master = took >= 0 ? 0 : master;
    if (took < 0)
        kill(-master, SIGKILL);
    pthread_join(trigger_th, NULL);
    fprintf(stderr,
            "check_stop: TERM between fork and set-up: worker %d held %lld ms, stop took %lld "
            "ms\n",
            (int)held, (long long)(t_release - t_term), (long long)took);
    ck_assert_msg(held_stopped && released, "no worker was forked and held");
    ck_assert_msg(took >= 0 && took < STOP_LIMIT_MS,
                  "the stop took %lld ms: the worker that got the TERM before its set-up stayed",
                  (long long)took);
    ck_assert(WIFEXITED(master_status) && WEXITSTATUS(master_status) == 0);
    ck_assert_int_eq(group_alive(master), 0);
    ck_assert(trigger.fr.complete && trigger.fr.status == 200);
    ck_assert_int_eq(file_count(e.log, "event=worker_recycle requests=2"), 1);
    ck_assert_int_eq(file_count(e.log, "reason=shutdown_timeout"), 0);
    env_destroy(&e);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    started =
        mmap(NULL, sizeof *started, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (started == MAP_FAILED)
        return EXIT_FAILURE;
    memset(started, 0, sizeof *started);
    Suite *su = suite_create("stop");
    TCase *tc = tcase_create("leadbookd stop");
    tcase_set_timeout(tc, 170);
    tcase_add_unchecked_fixture(tc, NULL, kill_leftovers);
    tcase_add_test(tc, t_group_term_under_load);
    tcase_add_test(tc, t_stop_answers_queued_requests);
    tcase_add_test(tc, t_inherited_socket_keeps_its_queue);
    tcase_add_test(tc, t_term_between_fork_and_setup);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
