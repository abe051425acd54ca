/* worker: the accept loop. Signals never interrupt a request: SIGTERM/SIGQUIT/SIGINT are blocked
 * from the return of FCGX_Accept_r until FCGX_Finish_r (libfcgi retries no read() on EINTR); when
 * one arrives while idle, the handler swaps the listening fd for a dead socket so the pending
 * accept() fails at once (php-fpm's trick) and the loop ends. */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "log.h"

static volatile sig_atomic_t worker_stop;
static int worker_listen_fd = -1;
static int worker_dead_fd = -1;

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    worker_stop = 1;
    FCGX_ShutdownPending();
    if (worker_dead_fd >= 0 && worker_listen_fd >= 0)
        dup2(worker_dead_fd, worker_listen_fd);
    errno = saved;
}

/* xorshift128+ seeded from the OS: request ids need uniqueness, not secrecy. */
static uint64_t rng_state[2];

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

    char path[160];
    lb_app_log_path(req->path, path, sizeof path);
    lb_log(LB_LOG_INFO, "access", "method=%.16s path=%s status=%d us=%lld rid=%s worker=%ld",
           req->method_name[0] ? req->method_name : "-", path, res->status,
           (long long)(lb_monotonic_us() - t0), req->request_id, lb_log_pid());
}

int lb_worker_run(const struct lb_config *cfg, int listen_fd, struct lb_slot *slot)
{
    lb_log_reset_pid(); /* a fresh fork: the log's cached pid is the master's */
    if (FCGX_Init() != 0) {
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=FCGX_Init");
        return 1;
    }
    worker_listen_fd = listen_fd;
    worker_dead_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (getrandom(rng_state, sizeof rng_state, 0) != sizeof rng_state)
        rng_state[0] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL, rng_state[1] = 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: an idle accept() must return */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGQUIT);
    sigaddset(&stop_set, SIGINT);
    sigprocmask(SIG_UNBLOCK, &stop_set, NULL);

    struct lb_app app = {
        .cfg = cfg,
        .routes = lb_api_routes,
        .nroutes = lb_api_nroutes,
    };
    const char *hooks = getenv("LEADBOOK_TEST_HOOKS");
    app.test_hooks = hooks && strcmp(hooks, "1") == 0;
    lb_app_worker_init(&app);

    FCGX_Request r;
    if (FCGX_InitRequest(&r, listen_fd, 0) != 0) {
        lb_log(LB_LOG_ERROR, "worker_init_failed", "what=FCGX_InitRequest");
        return 1;
    }
    struct lb_request req;
    struct lb_response res;
    struct lb_buf out;
    lb_request_init(&req);
    lb_response_init(&res);
    lb_buf_init(&out);

    long served = 0;
    int status = 0;
    while (!worker_stop) {
        int rc = FCGX_Accept_r(&r);
        if (rc < 0) {
            if (!worker_stop) {
                lb_log(LB_LOG_ERROR, "accept_failed", "rc=%d", rc);
                status = 1;
            }
            break;
        }
        sigprocmask(SIG_BLOCK, &stop_set, NULL);
        int64_t t0 = lb_monotonic_us();
        slot->started_ms = t0 / 1000;
        slot->busy = 1;
        serve(&r, &app, &req, &res, &out, t0);
        FCGX_Finish_r(&r);
        lb_request_reset(&req);
        lb_response_reset(&res);
        lb_buf_trim(&out, 256 * 1024);
        served++;
        slot->requests++;
        slot->busy = 0;
        sigprocmask(SIG_UNBLOCK, &stop_set, NULL);
        if (cfg->max_requests > 0 && served >= cfg->max_requests) {
            lb_log(LB_LOG_INFO, "worker_recycle", "requests=%ld", served);
            break;
        }
    }
    FCGX_Free(&r, 1);
    lb_app_worker_free(&app);
    lb_request_free(&req);
    lb_response_free(&res);
    lb_buf_free(&out);
    if (worker_dead_fd >= 0)
        close(worker_dead_fd);
    return status;
}
