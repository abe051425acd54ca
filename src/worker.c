/* worker: the accept loop. The stop signals (TERM, QUIT, INT) are always blocked in a worker and
 * read from a signalfd that sits in the same epoll set as the listening socket, so a request is
 * never interrupted (libfcgi retries no read() on EINTR, and its accept path drops a connection
 * whose first poll() is interrupted: a 502 for a request never run), a stop can never fall
 * between a check and a blocking call, and it is seen even while connections keep coming. So the
 * worker accepts by itself, from the non-blocking listening socket, and hands each connection to
 * libfcgi, whose own accept is disabled (FCGX_ShutdownPending). */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"

#define GATE_POLL_MS 20 /* how often a gated worker looks for the master's go */

/* xorshift128+ seeded from the OS: request ids need uniqueness, not secrecy. */
static uint64_t rng_state[2];

static void request_id_seed(void)
{
    if (getrandom(rng_state, sizeof rng_state, 0) != sizeof rng_state)
        rng_state[0] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL, rng_state[1] = 1;
}

static void request_id_fresh(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (int half = 0; half < 2; half++) {
        uint64_t s1 = rng_state[0];
        const uint64_t s0 = rng_state[1];
        rng_state[0] = s0;
        s1 ^= s1 << 23;
        rng_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
        uint64_t v = rng_state[1] + s0;
        for (int i = 0; i < 16; i++, v >>= 4)
            out[half * 16 + i] = hex[v & 15];
    }
    out[32] = '\0';
}

/* Reads the body up to the limit; more than the limit is flagged without reading it all. */
static int read_body(FCGX_Request *r, struct lb_request *req, size_t limit)
{
    if (req->content_length == 0)
        return 0;
    /* nginx passes CONTENT_LENGTH "" for every GET: look for a body before allocating (and
     * zeroing) limit + 1 bytes for one (that memset was half of a GET's instructions) */
    if (req->content_length < 0) {
        int c = FCGX_GetChar(r->in);
        if (c == EOF)
            return FCGX_GetError(r->in) != 0 ? -1 : 0;
        FCGX_UnGetChar(c, r->in);
    }
    if (req->content_length > 0 && (uint64_t)req->content_length > limit) {
        req->body_too_large = 1;
        return 0;
    }
    size_t want = req->content_length > 0 ? (size_t)req->content_length : limit + 1;
    if (want > limit + 1)
        want = limit + 1;
    char *buf = lb_arena_alloc(&req->arena, want + 1);
    if (!buf)
        return -1;
    size_t got = 0;
    while (got < want) {
        int n = FCGX_GetStr(buf + got, (int)(want - got), r->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (FCGX_GetError(r->in) != 0)
        return -1;
    if (got > limit) {
        req->body_too_large = 1;
        return 0;
    }
    buf[got] = '\0';
    req->body = buf;
    req->body_len = got;
    return 0;
}

/* t0: monotonic µs when the request was accepted (also the watchdog's start). */
static void serve(FCGX_Request *r, struct lb_app *app, struct lb_request *req,
                  struct lb_response *res, struct lb_buf *out, int64_t t0)
{
    char fresh[33];
    request_id_fresh(fresh);
    if (lb_request_from_params(req, r->envp, fresh) != 0) {
        lb_response_error(res, 500, "Internal server error");
    } else if (read_body(r, req, app->cfg->max_body_bytes) != 0) {
        lb_response_error(res, 400, "Could not read the request body");
    } else {
        lb_app_dispatch(app, req, res);
    }
    if (lb_response_serialize(res, req->request_id, out) != 0) {
        lb_response_reset(res);
        lb_response_error(res, 500, "Internal server error");
        lb_response_serialize(res, req->request_id, out);
    }
    FCGX_PutStr(out->data, (int)out->len, r->out);
    lb_metrics_request(req->method, res->status, lb_monotonic_us() - t0);

    char path[160];
    lb_app_log_path(req->path, path, sizeof path);
    lb_log(LB_LOG_INFO, "access", "method=%.16s path=%s status=%d us=%lld rid=%s worker=%ld",
           req->method_name[0] ? req->method_name : "-", path, res->status,
           (long long)(lb_monotonic_us() - t0), req->request_id, lb_log_pid());
}

/* One connection from the (non-blocking) listening socket, or -1 with errno; EAGAIN: none is
 * queued (another worker took it, or the queue is drained). */
static int accept_conn(int listen_fd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0 || (errno != EINTR && errno != ECONNABORTED && errno != EPROTO))
            return fd;
    }
}

/* Reads the request of an accepted connection through libfcgi. With ipcFd set, FCGX_Accept_r
 * reads from it instead of accepting (the path it takes for a kept connection), and
 * keepConnection stops the FCGX_Finish_r it starts with from closing it. On failure libfcgi has
 * closed the connection (and its accept, reached then, fails at once: shutdown is pending). */
static int fcgi_take(FCGX_Request *r, int conn)
{
    r->ipcFd = conn;
    r->keepConnection = 1;
    int rc = FCGX_Accept_r(r);
    /* one request per connection, as nginx sends them (fastcgi_keep_conn off, see the site
     * file): waiting on an idle kept connection would hold the worker with its signals blocked */
    r->keepConnection = 0;
    return rc;
}

/* 1 if a stop signal was read from the signalfd. */
static int stop_requested(int sfd)
{
    struct signalfd_siginfo si;
    int stop = 0;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
        stop = 1;
    return stop;
}

/* A gated worker (a reload's): reaches the database, says so in its slot (or why not), and
 * waits for the master's go, which comes once every worker of its generation is ready. 1 when
 * let go, 0 when told to stop first (the master gave up on the new generation). */
static int await_go(struct lb_app *app, struct lb_slot *slot, int sfd)
{
    while (!slot->go) {
        if (!slot->db_ready && lb_app_db_reached(app, slot->db_error, sizeof slot->db_error))
            slot->db_ready = 1;
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        if (poll(&p, 1, GATE_POLL_MS) > 0 && stop_requested(sfd))
            return 0;
    }
    return 1;
}

int lb_worker_run(const struct lb_config *cfg, int listen_fd, struct lb_slot *slot, int drain_ms)
{
    lb_log_reset_pid(); /* a fresh fork: the log's cached pid is the master's */
    if (FCGX_Init() != 0) {
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=FCGX_Init");
        return 1;
    }
    FCGX_ShutdownPending(); /* libfcgi never accepts: every connection comes from accept_conn */
    /* The master forked us with every signal blocked. The stop signals stay blocked (they are
     * read from sfd, a TERM sent since the fork included); the others are unblocked once their
     * dispositions are set. */
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGQUIT);
    sigaddset(&stop_set, SIGINT);
    sigprocmask(SIG_SETMASK, &stop_set, NULL);
    request_id_seed();
    int sfd = signalfd(-1, &stop_set, SFD_NONBLOCK | SFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event sev = {.events = EPOLLIN, .data.fd = sfd};
    if (sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &sev) != 0) {
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=epoll reason=\"%s\"", strerror(errno));
        if (ep >= 0)
            close(ep);
        if (sfd >= 0)
            close(sfd);
        return 1;
    }

    struct lb_app app = {
        .cfg = cfg,
        .routes = lb_api_routes,
        .nroutes = lb_api_nroutes,
    };
    const char *hooks = getenv("LEADBOOK_TEST_HOOKS");
    app.test_hooks = hooks && strcmp(hooks, "1") == 0;
    lb_app_worker_init(&app);
    char err[sizeof slot->db_error];
    if (lb_app_db_reached(&app, err, sizeof err))
        slot->db_ready = 1;
    int status = 0, serving = 1;
    if (slot->gated && !await_go(&app, slot, sfd))
        serving = 0; /* told to stop before it was let go: it accepts nothing */
    /* the listening socket only now: a gated worker must not be woken for connections.
     * EPOLLEXCLUSIVE: a connection wakes one idle worker, as a blocking accept() did */
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
    if (serving && epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev) != 0) {
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=epoll reason=\"%s\"", strerror(errno));
        serving = 0;
        status = 1;
    }

    FCGX_Request r;
    FCGX_InitRequest(&r, -1, 0);
    struct lb_request req;
    struct lb_response res;
    struct lb_buf out;
    lb_request_init(&req);
    lb_response_init(&res);
    lb_buf_init(&out);

    long served = 0, drained = 0;
    int worker_stop = 0;
    int64_t drain_start = -1;
    while (serving) {
        if (worker_stop) {
            /* told to stop: the current request is done. On a socket leadbookd owns, whatever
             * is queued would be reset when it closes: serve it for up to drain_ms (the
             * master refuses what is left, once every worker is gone) */
            if (drain_start < 0)
                drain_start = lb_monotonic_ms();
            if (lb_monotonic_ms() - drain_start >= drain_ms)
                break;
        } else {
            /* both events at once when both are ready: the stop is never starved by a queue */
            struct epoll_event got[2];
            int n = epoll_wait(ep, got, 2, -1);
            if (n < 0 && errno != EINTR) {
                lb_log(LB_LOG_ERROR, "accept_failed", "what=epoll_wait reason=\"%s\"",
                       strerror(errno));
                status = 1;
                break;
            }
            int readable = 0;
            for (int i = 0; i < n; i++) {
                if (got[i].data.fd == sfd)
                    worker_stop |= stop_requested(sfd);
                else
                    readable = 1;
            }
            if (worker_stop || !readable)
                continue;
        }
        int conn = accept_conn(listen_fd);
        if (conn < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (worker_stop)
                    break; /* the queue is empty */
                continue;  /* another worker was woken too and took it */
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                lb_log(LB_LOG_ERROR, "accept_failed", "reason=\"%s\" note=\"pausing 1 s\"",
                       strerror(errno));
                struct pollfd pfd = {.fd = sfd, .events = POLLIN};
                poll(&pfd, 1, 1000); /* a stop still ends the pause */
                continue;
            }
            lb_log(LB_LOG_ERROR, "accept_failed", "reason=\"%s\"", strerror(errno));
            status = 1;
            break;
        }
        /* busy from the accept: the watchdog also covers a peer that stalls in its params */
        int64_t t0 = lb_monotonic_us();
        slot->started_ms = t0 / 1000;
        slot->busy = 1;
        if (fcgi_take(&r, conn) == 0) {
            serve(&r, &app, &req, &res, &out, t0);
            FCGX_Finish_r(&r);
            lb_request_reset(&req);
            lb_response_reset(&res);
            lb_buf_trim(&out, 256 * 1024);
            served++;
            drained += worker_stop;
            slot->requests++;
            if (!slot->db_ready && lb_app_db_connected_once(&app))
                slot->db_ready = 1; /* the master's reload compares with it */
        }
        slot->busy = 0;
        if (cfg->max_requests > 0 && served >= cfg->max_requests) {
            lb_log(LB_LOG_INFO, "worker_recycle", "requests=%ld", served);
            break;
        }
    }
    if (drain_start >= 0 && drained > 0)
        lb_log(LB_LOG_INFO, "worker_drain", "requests=%ld ms=%lld", drained,
               (long long)(lb_monotonic_ms() - drain_start));
    FCGX_Free(&r, 1);
    close(ep);
    close(sfd);
    lb_app_worker_free(&app);
    lb_request_free(&req);
    lb_response_free(&res);
    lb_buf_free(&out);
    return status;
}

int lb_worker_refuse_queued(const struct lb_config *cfg, int listen_fd, int64_t until_ms)
{
    if (FCGX_Init() != 0)
        return 0;
    FCGX_ShutdownPending();
    request_id_seed();
    FCGX_Request r;
    FCGX_InitRequest(&r, -1, 0);
    struct lb_request req;
    struct lb_response res;
    struct lb_buf out;
    lb_request_init(&req);
    lb_response_init(&res);
    lb_buf_init(&out);
    int refused = 0;
    int conn;
    while (lb_monotonic_ms() < until_ms && (conn = accept_conn(listen_fd)) >= 0) {
        /* a peer that sends nothing, or reads nothing, must not hold up the stop */
        struct timeval tv = {.tv_sec = 0, .tv_usec = 500 * 1000};
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (fcgi_take(&r, conn) != 0)
            continue;
        char fresh[33];
        request_id_fresh(fresh);
        lb_request_from_params(&req, r.envp, fresh);
        /* read the body to its end: closing a unix socket with unread data resets the peer
         * (nginx would turn the 503 into a 502) */
        char sink[4096];
        while (FCGX_GetStr(sink, sizeof sink, r.in) > 0)
            ;
        lb_response_error(&res, 503, "the service is restarting, retry later");
        lb_response_header(&res, "Retry-After", "%d", cfg->retry_after);
        res.head_only = strcmp(req.method_name, "HEAD") == 0;
        if (lb_response_serialize(&res, req.request_id, &out) == 0)
            FCGX_PutStr(out.data, (int)out.len, r.out);
        /* all of the request is read, so a plain close resets nothing; libfcgi's own close
         * would first wait up to 2 s for the peer to close (per queued request, at a stop) */
        r.detached = 1;
        FCGX_Finish_r(&r);
        char path[160];
        lb_app_log_path(req.path, path, sizeof path);
        lb_log(LB_LOG_INFO, "access", "method=%.16s path=%s status=503 rid=%s queued=refused",
               req.method_name[0] ? req.method_name : "-", path, req.request_id);
        lb_request_reset(&req);
        lb_response_reset(&res);
        refused++;
    }
    FCGX_Free(&r, 1);
    lb_request_free(&req);
    lb_response_free(&res);
    lb_buf_free(&out);
    return refused;
}
