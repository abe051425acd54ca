/* prefork: php-fpm-style supervision with a self-pipe; handlers only write the signal number. */
#include "prefork.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "worker.h"

#define EARLY_DEATH_MS 2000 /* a worker dying this soon after start counts toward back-off */
#define BACKOFF_AFTER 3     /* consecutive early deaths before respawns are delayed */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000
#define TICK_MS 100
#define DRAIN_MAX_MS 1000     /* a stopping worker serves the queue this long at most */
#define REFUSE_MIN_MS 250     /* the master's 503 pass, even after the workers were killed */
#define RELOAD_WAIT_EXTRA_S 4 /* a reload waits 2 x db_connect_timeout + this for the database */

struct worker {
    pid_t pid;      /* 0 = free entry */
    int generation; /* config generation it was started for */
    int stopping;   /* told to stop (reload, recycle by timeout, shutdown) */
    int64_t started_ms;
    struct lb_slot *slot;
    enum lb_restart_cause stop_cause; /* why it was first told to stop (metrics) */
};

struct master {
    struct lb_config *cfg;
    const char *config_path;
    struct lb_listener *listener;
    int listen_fd;
    int generation;
    int target; /* workers wanted for the current generation */
    struct worker workers[LB_MAX_WORKERS];
    struct lb_slot *slots; /* shared with the workers */
    int shutting_down;
    int64_t shutdown_deadline_ms;
    int early_deaths;
    int64_t backoff_ms;
    int64_t next_spawn_ms;
    /* A reload in progress: the new generation (m->generation, m->cfg) is gated until every
     * one of its workers has reached the database; until then the previous generation (with
     * the config it was started with) keeps serving, and comes back whole if the new one fails. */
    int pending;
    int64_t pending_deadline_ms;
    int prev_generation;
    int prev_target;
    struct lb_config prev_cfg;
    int last_generation; /* generation numbers are never reused */
};

static int signal_pipe[2] = {-1, -1};
/* The first stop signal, set by the handler itself and not only through the pipe: a worker
 * that exits on a TERM sent to the whole process group can be reaped before the master has
 * read its own TERM from the pipe, and must not be respawned. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    int saved = errno;
    if ((sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) && !stop_signal)
        stop_signal = sig;
    unsigned char c = (unsigned char)sig;
    ssize_t w = write(signal_pipe[1], &c, 1);
    (void)w;
    errno = saved;
}

int lb_worker_count(const struct lb_config *cfg)
{
    if (cfg->workers > 0)
        return cfg->workers > LB_MAX_WORKERS / 2 ? LB_MAX_WORKERS / 2 : cfg->workers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return cpus * 2 > LB_MAX_WORKERS / 2 ? LB_MAX_WORKERS / 2 : (int)cpus * 2;
}

/* ---- listening socket ---- */

static int open_unix(const struct lb_config *cfg, const char *path, struct lb_listener *l)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=unix:%s reason=\"path too long\"", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* php-fpm's start-up guard: never steal the socket of a running server */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=unix:%s reason=\"already in use\"", path);
        close(fd);
        return -1;
    }
    close(fd);
    unlink(path);
    /* non-blocking: workers accept after epoll_pwait, and a worker woken in vain must not
     * block there with its stop signals blocked */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, cfg->backlog) != 0) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=unix:%s reason=\"%s\"", path,
               strerror(errno));
        close(fd);
        return -1;
    }
    if (chmod(path, cfg->socket_mode) != 0)
        lb_log(LB_LOG_WARN, "socket_chmod_failed", "path=%s reason=\"%s\"", path, strerror(errno));
    if (cfg->socket_group[0]) {
        struct group *g = getgrnam(cfg->socket_group);
        if (!g || chown(path, (uid_t)-1, g->gr_gid) != 0)
            lb_log(LB_LOG_WARN, "socket_chown_failed", "path=%s group=%s", path, cfg->socket_group);
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        l->dev = st.st_dev;
        l->ino = st.st_ino;
    }
    snprintf(l->unix_path, sizeof l->unix_path, "%s", path);
    return fd;
}

static int open_tcp(const struct lb_config *cfg, const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=tcp:%s reason=\"expected HOST:PORT\"", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=tcp:%s reason=\"cannot resolve\"", spec);
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, cfg->backlog) != 0) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=tcp:%s reason=\"%s\"", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    lb_log(LB_LOG_WARN, "listen_tcp",
           "listen=tcp:%s note=\"FastCGI must never be reachable beyond the web server\"", spec);
    return fd;
}

static int open_inherited(const struct lb_config *cfg)
{
    char *end;
    long fd = strtol(cfg->listen + 3, &end, 10);
    int acc = 0;
    socklen_t len = sizeof acc;
    if (*end || end == cfg->listen + 3 || fd < 0 || fd > 65535 ||
        getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || !acc) {
        lb_log(LB_LOG_ERROR, "listen_failed",
               "listen=%s reason=\"not an inherited listening socket\"", cfg->listen);
        return -1;
    }
    int flags = fcntl((int)fd, F_GETFL);
    if (flags < 0 || fcntl((int)fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=%s reason=\"%s\"", cfg->listen,
               strerror(errno));
        return -1;
    }
    return (int)fd;
}

int lb_listen_open(const struct lb_config *cfg, struct lb_listener *l)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    if (strncmp(cfg->listen, "unix:", 5) == 0)
        l->fd = open_unix(cfg, cfg->listen + 5, l);
    else if (strncmp(cfg->listen, "tcp:", 4) == 0)
        l->fd = open_tcp(cfg, cfg->listen + 4);
    else if (strncmp(cfg->listen, "fd:", 3) == 0)
        l->fd = open_inherited(cfg);
    else
        lb_log(LB_LOG_ERROR, "listen_failed", "listen=%s reason=\"expected unix:, tcp: or fd:\"",
               cfg->listen);
    l->owned = strncmp(cfg->listen, "fd:", 3) != 0;
    return l->fd >= 0 ? 0 : -1;
}

void lb_listen_unlink(struct lb_listener *l)
{
    struct stat st;
    if (!l->unix_path[0])
        return;
    if (stat(l->unix_path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->unix_path);
    l->unix_path[0] = '\0';
}

/* ---- workers ---- */

static int live_workers(const struct master *m, int generation_only)
{
    int n = 0;
    for (int i = 0; i < LB_MAX_WORKERS; i++)
        if (m->workers[i].pid > 0 &&
            (!generation_only ||
             (m->workers[i].generation == m->generation && !m->workers[i].stopping)))
            n++;
    return n;
}

/* How long a stopping worker serves what is queued: up to a second, and no more than a quarter
 * of shutdown_timeout, so that it is done well before the master's SIGKILL. */
static int worker_drain_ms(const struct lb_config *cfg)
{
    int ms = cfg->shutdown_timeout * 1000 / 4;
    return ms < DRAIN_MAX_MS ? ms : DRAIN_MAX_MS;
}

static int count_generation(const struct master *m, int generation)
{
    int n = 0;
    for (int i = 0; i < LB_MAX_WORKERS; i++)
        if (m->workers[i].pid > 0 && m->workers[i].generation == generation &&
            !m->workers[i].stopping)
            n++;
    return n;
}

/* A worker of the given generation, with that generation's config; gated: it accepts nothing
 * before the master's go (a pending reload's). */
static int spawn_worker_for(struct master *m, struct lb_config *cfg, int generation, int gated)
{
    int i;
    for (i = 0; i < LB_MAX_WORKERS && m->workers[i].pid != 0; i++)
        ;
    if (i == LB_MAX_WORKERS)
        return -1;
    struct worker *w = &m->workers[i];
    w->slot = &m->slots[i];
    lb_metrics_slot_reserve(i); /* its metrics slot is NOT reset: the counters are the pool's */
    w->slot->busy = 0;
    w->slot->requests = 0;
    w->slot->gated = gated;
    w->slot->go = 0;
    w->slot->db_ready = 0;
    w->slot->db_error[0] = '\0';
    /* Every signal blocked across fork(): until the child has dropped the master's handlers, a
     * signal reaching it (a TERM to the whole process group, or ours a moment after the fork)
     * would run them there, writing to a self-pipe the child no longer reads, and be lost. The
     * child keeps the mask until lb_worker_run has its own handlers; pending, the TERM waits. */
    sigset_t all, saved;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &saved);
    if (stop_signal) {
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return -1; /* stopping: no new worker, whatever the pipe still holds */
    }
    pid_t pid = fork();
    if (pid < 0) {
        sigprocmask(SIG_SETMASK, &saved, NULL);
        lb_log(LB_LOG_ERROR, "fork_failed", "reason=\"%s\"", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(signal_pipe[0]);
        close(signal_pipe[1]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++)
            if (s != SIGKILL && s != SIGSTOP)
                sigaction(s, &sa, NULL);
        /* the worker needs none of the master's bookkeeping: free it (valgrind-clean exit) */
        if (cfg == &m->prev_cfg) {
            static struct lb_config prev; /* prev_cfg is freed with m */
            prev = m->prev_cfg;
            cfg = &prev;
        }
        int listen_fd = m->listen_fd;
        struct lb_slot *slot = w->slot;
        int drain_ms = m->listener->owned ? worker_drain_ms(cfg) : 0;
        free(m);
        lb_metrics_attach(i);
        _exit(lb_worker_run(cfg, listen_fd, slot, drain_ms));
    }
    sigprocmask(SIG_SETMASK, &saved, NULL);
    w->pid = pid;
    w->generation = generation;
    w->stopping = 0;
    w->started_ms = lb_monotonic_ms();
    lb_metrics_worker_started();
    lb_log(LB_LOG_INFO, "worker_spawn", "worker=%ld slot=%d generation=%d%s", (long)pid, i,
           generation, gated ? " gated=1" : "");
    return 0;
}

static int spawn_worker(struct master *m)
{
    return spawn_worker_for(m, m->cfg, m->generation, m->pending);
}

static void stop_worker(struct worker *w, int sig, const char *why)
{
    if (w->pid <= 0)
        return;
    if (!w->stopping || sig == SIGKILL)
        lb_log(LB_LOG_INFO, "worker_stop", "worker=%ld signal=%d reason=%s", (long)w->pid, sig,
               why);
    if (!w->stopping)
        w->stop_cause = lb_metrics_stop_cause(why);
    w->stopping = 1;
    kill(w->pid, sig);
}

static void reap(struct master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct worker *w = NULL;
        for (int i = 0; i < LB_MAX_WORKERS; i++)
            if (m->workers[i].pid == pid)
                w = &m->workers[i];
        if (!w)
            continue;
        int64_t uptime = lb_monotonic_ms() - w->started_ms;
        int crashed = !w->stopping && (WIFSIGNALED(status) || WEXITSTATUS(status) != 0);
        /* an exit while the pool stops is no restart; unasked, exit 0 is max_requests */
        lb_metrics_worker_exited(m->shutting_down || stop_signal ? LB_RESTART_NONE
                                 : crashed                       ? LB_RESTART_CRASH
                                 : w->stopping                   ? w->stop_cause
                                                                 : LB_RESTART_RECYCLE);
        if (WIFSIGNALED(status))
            lb_log(crashed ? LB_LOG_ERROR : LB_LOG_INFO, "worker_exit",
                   "worker=%ld signal=%d uptime_ms=%lld requests=%llu", (long)pid, WTERMSIG(status),
                   (long long)uptime, (unsigned long long)w->slot->requests);
        else
            lb_log(crashed ? LB_LOG_ERROR : LB_LOG_INFO, "worker_exit",
                   "worker=%ld code=%d uptime_ms=%lld requests=%llu", (long)pid,
                   WEXITSTATUS(status), (long long)uptime, (unsigned long long)w->slot->requests);
        if (crashed && uptime < EARLY_DEATH_MS) {
            m->early_deaths++;
            if (m->early_deaths >= BACKOFF_AFTER) {
                m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_MIN_MS;
                if (m->backoff_ms > BACKOFF_MAX_MS)
                    m->backoff_ms = BACKOFF_MAX_MS;
                m->next_spawn_ms = lb_monotonic_ms() + m->backoff_ms;
                lb_log(LB_LOG_WARN, "respawn_backoff", "early_deaths=%d delay_ms=%lld",
                       m->early_deaths, (long long)m->backoff_ms);
            }
        } else if (uptime >= EARLY_DEATH_MS) {
            m->early_deaths = 0;
            m->backoff_ms = 0;
        }
        memset(w, 0, sizeof *w);
    }
}

static void check_timeouts(struct master *m)
{
    if (m->cfg->request_timeout <= 0)
        return;
    int64_t now = lb_monotonic_ms();
    for (int i = 0; i < LB_MAX_WORKERS; i++) {
        struct worker *w = &m->workers[i];
        if (w->pid > 0 && w->slot->busy &&
            now - w->slot->started_ms > (int64_t)m->cfg->request_timeout * 1000) {
            lb_log(LB_LOG_ERROR, "request_timeout", "worker=%ld busy_ms=%lld", (long)w->pid,
                   (long long)(now - w->slot->started_ms));
            stop_worker(w, SIGKILL, "request_timeout");
        }
    }
}

/* How long a reload's new workers get to reach the database: two connect attempts and some. */
static int64_t reload_wait_ms(const struct lb_config *cfg)
{
    return ((int64_t)cfg->db_connect_timeout * 2 + RELOAD_WAIT_EXTRA_S) * 1000;
}

static void set_log_level(const struct lb_config *cfg)
{
    int level = lb_log_level_parse(cfg->log_level);
    lb_log_init("leadbookd", level < 0 ? LB_LOG_INFO : (enum lb_log_level)level);
}

static void reload(struct master *m)
{
    struct lb_config fresh;
    lb_config_defaults(&fresh);
    char err[512];
    if (lb_config_load(&fresh, m->config_path, m->config_path != NULL, err, sizeof err) != 0 ||
        lb_app_check_config(&fresh, err, sizeof err) != 0) {
        lb_log(LB_LOG_ERROR, "reload_failed", "reason=\"%s\" note=\"keeping the old config\"", err);
        return;
    }
    if (strcmp(fresh.listen, m->cfg->listen) != 0)
        lb_log(LB_LOG_WARN, "reload_listen_unchanged",
               "listen=%s note=\"a new listen address needs a restart\"", fresh.listen);
    snprintf(fresh.listen, sizeof fresh.listen, "%s", m->cfg->listen);
    if (m->pending) {
        /* a newer SIGHUP while the last one waits: that one is dropped, the serving pool stays */
        lb_log(LB_LOG_WARN, "generation_superseded", "generation=%d", m->generation);
        for (int i = 0; i < LB_MAX_WORKERS; i++)
            if (m->workers[i].pid > 0 && m->workers[i].generation == m->generation)
                stop_worker(&m->workers[i], SIGTERM, "reload_superseded");
        *m->cfg = m->prev_cfg;
        m->generation = m->prev_generation;
        m->target = m->prev_target;
    }
    m->prev_cfg = *m->cfg;
    m->prev_generation = m->generation;
    m->prev_target = m->target;
    *m->cfg = fresh;
    set_log_level(m->cfg);
    m->generation = ++m->last_generation;
    m->target = lb_worker_count(m->cfg);
    m->early_deaths = 0;
    m->backoff_ms = 0;
    m->next_spawn_ms = 0;
    m->pending = 1;
    m->pending_deadline_ms = lb_monotonic_ms() + reload_wait_ms(m->cfg);
    lb_log(LB_LOG_INFO, "reload", "generation=%d workers=%d wait_ms=%lld", m->generation, m->target,
           (long long)reload_wait_ms(m->cfg));
    /* the new workers first, gated: the old ones serve until every new one has reached the
     * database (check_reload), so that a config whose database cannot be reached changes
     * nothing */
    for (int i = 0; i < m->target; i++)
        spawn_worker(m);
}

/* The pending reload: once every new worker has reached the database, they are let go and the
 * old ones drain (the socket's queue holds what arrives in between); if that has not happened
 * by the deadline, the new generation is stopped and the old one keeps serving, whole. When no
 * old worker has reached the database either (it is down, or a new config is to fix that), the
 * new generation takes over at once: there is nothing to keep. */
static void check_reload(struct master *m)
{
    if (!m->pending)
        return;
    int ready = 0, n = 0, old_ready = 0;
    const char *why = NULL;
    for (int i = 0; i < LB_MAX_WORKERS; i++) {
        struct worker *w = &m->workers[i];
        if (w->pid > 0 && w->generation == m->prev_generation && !w->stopping)
            old_ready += w->slot->db_ready != 0;
        if (w->pid <= 0 || w->generation != m->generation || w->stopping)
            continue;
        n++;
        ready += w->slot->db_ready != 0;
        if (!w->slot->db_ready && w->slot->db_error[0])
            why = w->slot->db_error;
    }
    /* when the old workers have not reached the database either, there is nothing to keep */
    if (n >= m->target && (ready >= m->target || old_ready == 0)) {
        for (int i = 0; i < LB_MAX_WORKERS; i++)
            if (m->workers[i].pid > 0 && m->workers[i].generation == m->generation)
                m->workers[i].slot->go = 1;
        for (int i = 0; i < LB_MAX_WORKERS; i++)
            if (m->workers[i].pid > 0 && m->workers[i].generation != m->generation)
                stop_worker(&m->workers[i], SIGTERM, "reload");
        m->pending = 0;
        lb_log(LB_LOG_INFO, "generation_live", "generation=%d workers=%d", m->generation, n);
        return;
    }
    if (lb_monotonic_ms() < m->pending_deadline_ms)
        return;
    char reason[256];
    snprintf(reason, sizeof reason, "%d of %d new workers reached the database within %lld ms%s%s",
             ready, m->target, (long long)reload_wait_ms(m->cfg), why ? ": " : "", why ? why : "");
    for (size_t i = 0; reason[i]; i++)
        if (reason[i] == '"')
            reason[i] = '\'';
    for (int i = 0; i < LB_MAX_WORKERS; i++)
        if (m->workers[i].pid > 0 && m->workers[i].generation == m->generation)
            stop_worker(&m->workers[i], SIGTERM, "reload_failed");
    lb_log(LB_LOG_ERROR, "reload_failed",
           "generation=%d reason=\"%s\" note=\"keeping the old config\"", m->generation, reason);
    *m->cfg = m->prev_cfg;
    set_log_level(m->cfg);
    m->generation = m->prev_generation;
    m->target = m->prev_target;
    m->pending = 0;
}

static void begin_shutdown(struct master *m, int sig)
{
    if (m->shutting_down)
        return;
    m->shutting_down = 1;
    m->shutdown_deadline_ms = lb_monotonic_ms() + (int64_t)m->cfg->shutdown_timeout * 1000;
    lb_log(LB_LOG_INFO, "shutdown", "signal=%d workers=%d timeout_s=%d", sig, live_workers(m, 0),
           m->cfg->shutdown_timeout);
    /* Stop accepting first. Without the path nginx's next connect fails at once (a 502 for a
     * request that never reached us), instead of joining a queue that the close would reset.
     * The queue already there is the workers' to serve, then ours to refuse. A tcp: socket
     * cannot be unhooked like that: it is drained the same way, but a connection that arrives
     * after the last accept is reset. */
    if (m->listener->unix_path[0]) {
        lb_log(LB_LOG_INFO, "listen_stop", "listen=%s", m->cfg->listen);
        lb_listen_unlink(m->listener);
    }
    for (int i = 0; i < LB_MAX_WORKERS; i++)
        stop_worker(&m->workers[i], SIGTERM, "shutdown");
}

/* The last step of a stop on a socket we own: nobody else accepts any more. */
static void refuse_queue(struct master *m)
{
    if (!m->listener->owned)
        return; /* inherited: the queue is the next instance's */
    int64_t until = m->shutdown_deadline_ms;
    if (until < lb_monotonic_ms() + REFUSE_MIN_MS)
        until = lb_monotonic_ms() + REFUSE_MIN_MS;
    int n = lb_worker_refuse_queued(m->cfg, m->listen_fd, until);
    if (n > 0)
        lb_log(LB_LOG_WARN, "queue_refused", "requests=%d status=503", n);
}

int lb_master_run(struct lb_config *cfg, const char *config_path, struct lb_listener *l)
{
    struct master *m = calloc(1, sizeof *m);
    if (!m)
        return 1;
    m->cfg = cfg;
    m->config_path = config_path;
    m->listener = l;
    m->listen_fd = l->fd;
    m->slots = mmap(NULL, sizeof(struct lb_slot) * LB_MAX_WORKERS, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m->slots == MAP_FAILED ||
        lb_metrics_map(lb_api_routes, lb_api_nroutes, LB_MAX_WORKERS) != 0 ||
        pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        lb_log(LB_LOG_ERROR, "master_init_failed", "reason=\"%s\"", strerror(errno));
        free(m);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    m->target = lb_worker_count(cfg);
    lb_log(LB_LOG_INFO, "master_start", "workers=%d listen=%s max_requests=%ld", m->target,
           cfg->listen, cfg->max_requests);
    for (int i = 0; i < m->target; i++)
        spawn_worker(m);

    for (;;) {
        struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
        int rc = poll(&pfd, 1, TICK_MS);
        if (rc > 0) {
            unsigned char sigbuf[64];
            ssize_t n;
            while ((n = read(signal_pipe[0], sigbuf, sizeof sigbuf)) > 0) {
                for (ssize_t i = 0; i < n; i++) {
                    switch (sigbuf[i]) {
                    case SIGCHLD:
                        reap(m);
                        break;
                    case SIGHUP:
                        if (!m->shutting_down && !stop_signal)
                            reload(m);
                        break;
                    default:
                        begin_shutdown(m, sigbuf[i]);
                    }
                }
            }
        }
        reap(m);
        if (stop_signal && !m->shutting_down)
            begin_shutdown(m, stop_signal); /* before any respawn below */
        if (m->shutting_down) {
            if (live_workers(m, 0) == 0) {
                refuse_queue(m);
                break;
            }
            if (lb_monotonic_ms() >= m->shutdown_deadline_ms) {
                for (int i = 0; i < LB_MAX_WORKERS; i++)
                    stop_worker(&m->workers[i], SIGKILL, "shutdown_timeout");
                m->shutdown_deadline_ms = lb_monotonic_ms() + 5000;
            }
            continue;
        }
        check_timeouts(m);
        check_reload(m);
        /* while a reload waits, the serving generation is kept whole (max_requests, crashes) */
        while (m->pending && count_generation(m, m->prev_generation) < m->prev_target &&
               lb_monotonic_ms() >= m->next_spawn_ms)
            if (spawn_worker_for(m, &m->prev_cfg, m->prev_generation, 0) != 0)
                break;
        while (live_workers(m, 1) < m->target && lb_monotonic_ms() >= m->next_spawn_ms) {
            if (spawn_worker(m) != 0)
                break;
            if (m->backoff_ms) {
                m->next_spawn_ms = lb_monotonic_ms() + m->backoff_ms;
                break;
            }
        }
    }
    lb_log(LB_LOG_INFO, "master_exit", "status=0");
    munmap(m->slots, sizeof(struct lb_slot) * LB_MAX_WORKERS);
    lb_metrics_unmap();
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    free(m);
    return 0;
}
