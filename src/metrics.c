/* metrics: the scoreboard's layout, its single-writer counters and the text rendering. */
#include "metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"

typedef _Atomic uint64_t counter;

/* The latency buckets' upper bounds in µs (the last, +Inf, is implicit). */
static const uint64_t bucket_us[] = {1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                     250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const bucket_le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                        "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};
#define NFINITE (sizeof bucket_us / sizeof bucket_us[0])
#define NBUCKETS (NFINITE + 1)    /* + Inf */
#define HIST_WORDS (NBUCKETS + 1) /* the buckets (not cumulative), then the sum in µs */

/* The codes the application answers (api/, http.c, app.c); more would only cost a column. */
static const int status_codes[LB_METRICS_NSTATUS - 1] = {200, 201, 204, 400, 401, 403, 404, 405,
                                                         406, 409, 413, 415, 422, 429, 500, 503};
static const char *const status_labels[LB_METRICS_NSTATUS] = {
    "200", "201", "204", "400", "401", "403", "404", "405",  "406",
    "409", "413", "415", "422", "429", "500", "503", "other"};

#define NKINDS 4   /* enum lb_credential */
#define NRESULTS 4 /* enum lb_auth_result */
static const char *const kind_labels[NKINDS] = {"none", "key", "user", "booking_page"};
static const char *const result_labels[NRESULTS] = {"ok", "missing", "invalid", "unavailable"};
static const char *const cause_labels[LB_RESTART_NCAUSES] = {"crash", "recycle", "timeout",
                                                             "reload"};

/* The master's area, first in the region (a cache line of its own). */
struct pool {
    counter restarts[LB_RESTART_NCAUSES];
    counter workers_alive;
    counter slots_used; /* high-water mark of reserved slots */
};
#define POOL_BYTES ((sizeof(struct pool) + 63) / 64 * 64)

/* Word offsets inside a slot. The request counters are [series][status]; a series is a route
 * of the table with its own method, the same GET route asked with HEAD, or an unmatched path
 * by method: so no slot holds the methods a route can never be matched with. The histograms
 * are one per distinct route pattern, plus one for unmatched paths. */
enum {
    W_DEADLINE,
    W_RECONNECTS,
    W_DB_UNAVAILABLE,
    W_AUTH,                               /* [kind][result] */
    W_CACHE = W_AUTH + NKINDS * NRESULTS, /* [kind] */
    W_REQUESTS = W_CACHE + NKINDS,
};

/* Process-local description of the region: computed by the master before it forks, so every
 * worker inherits the same layout. */
static struct {
    unsigned char *area;
    size_t area_len;
    struct pool *pool;
    size_t slot_words; /* a multiple of 8: slots start on their own cache line */
    int nslots;
    const struct lb_route *routes;
    size_t nroutes;
    int nseries;                           /* nroutes + nhead + LB_METRICS_NMETHODS */
    int nhead;                             /* HEAD series, one per GET route */
    int head_of[LB_METRICS_MAX_ROUTES];    /* route -> its HEAD series, -1 if not GET */
    int head_route[LB_METRICS_MAX_ROUTES]; /* HEAD series - nroutes -> route */
    int pattern_of[LB_METRICS_MAX_ROUTES]; /* route -> histogram */
    const char *patterns[LB_METRICS_MAX_ROUTES];
    int npatterns; /* the histogram of unmatched paths is the last, at npatterns */
    size_t w_hist;
} M;

/* The worker's own slot, and the request in progress. */
static counter *self;
static int cur_route = -1;
static int cur_dropped;

static counter *slot_base(int slot)
{
    return (counter *)(M.area + POOL_BYTES) + (size_t)slot * M.slot_words;
}

/* Single writer: a load and a store, not an atomic add (no locked instruction, no contention). */
static void bump(counter *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static uint64_t load(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

int lb_metrics_map(const struct lb_route *routes, size_t nroutes, int nslots)
{
    if (nroutes > LB_METRICS_MAX_ROUTES || nslots <= 0) {
        lb_log(LB_LOG_ERROR, "metrics_init_failed", "routes=%zu max=%d", nroutes,
               LB_METRICS_MAX_ROUTES);
        return -1;
    }
    memset(&M, 0, sizeof M);
    M.routes = routes;
    M.nroutes = nroutes;
    for (size_t r = 0; r < nroutes; r++) {
        M.head_of[r] = -1;
        if (routes[r].method == LB_METHOD_GET) {
            M.head_route[M.nhead] = (int)r;
            M.head_of[r] = (int)nroutes + M.nhead++;
        }
        int p = 0;
        while (p < M.npatterns && strcmp(M.patterns[p], routes[r].pattern) != 0)
            p++;
        if (p == M.npatterns)
            M.patterns[M.npatterns++] = routes[r].pattern;
        M.pattern_of[r] = p;
    }
    M.nseries = (int)nroutes + M.nhead + LB_METRICS_NMETHODS;
    M.w_hist = W_REQUESTS + (size_t)M.nseries * LB_METRICS_NSTATUS;
    size_t words = M.w_hist + (size_t)(M.npatterns + 1) * HIST_WORDS;
    M.slot_words = (words + 7) / 8 * 8;
    M.nslots = nslots;
    M.area_len = POOL_BYTES + (size_t)nslots * M.slot_words * sizeof(counter);
    void *a = mmap(NULL, M.area_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) {
        lb_log(LB_LOG_ERROR, "metrics_init_failed", "reason=\"%s\"", strerror(errno));
        memset(&M, 0, sizeof M);
        return -1;
    }
    M.area = a;
    M.pool = a;
    return 0;
}

void lb_metrics_unmap(void)
{
    if (M.area)
        munmap(M.area, M.area_len);
    memset(&M, 0, sizeof M);
    self = NULL;
}

void lb_metrics_slot_reserve(int slot)
{
    if (!M.pool || slot < 0 || slot >= M.nslots)
        return;
    if (load(&M.pool->slots_used) < (uint64_t)slot + 1)
        atomic_store_explicit(&M.pool->slots_used, (uint64_t)slot + 1, memory_order_release);
}

void lb_metrics_worker_started(void)
{
    if (M.pool)
        bump(&M.pool->workers_alive, 1);
}

void lb_metrics_worker_exited(enum lb_restart_cause cause)
{
    if (!M.pool)
        return;
    uint64_t alive = load(&M.pool->workers_alive);
    atomic_store_explicit(&M.pool->workers_alive, alive ? alive - 1 : 0, memory_order_relaxed);
    if (cause > LB_RESTART_NONE && cause < LB_RESTART_NCAUSES)
        bump(&M.pool->restarts[cause], 1);
}

enum lb_restart_cause lb_metrics_stop_cause(const char *why)
{
    if (why && strcmp(why, "reload") == 0)
        return LB_RESTART_RELOAD;
    if (why && strcmp(why, "request_timeout") == 0)
        return LB_RESTART_TIMEOUT;
    return LB_RESTART_NONE;
}

void lb_metrics_attach(int slot)
{
    self = M.area && slot >= 0 && slot < M.nslots ? slot_base(slot) : NULL;
    cur_route = -1;
    cur_dropped = 0;
}

void lb_metrics_route(int route_index)
{
    cur_route = route_index >= 0 && (size_t)route_index < M.nroutes ? route_index : -1;
}

void lb_metrics_deadline_dropped(void)
{
    cur_dropped = 1;
    if (self)
        bump(&self[W_DEADLINE], 1);
}

int lb_metrics_status_index(int status)
{
    for (int i = 0; i < LB_METRICS_NSTATUS - 1; i++)
        if (status_codes[i] == status)
            return i;
    return LB_METRICS_NSTATUS - 1;
}

const char *lb_metrics_status_label(int index)
{
    return index >= 0 && index < LB_METRICS_NSTATUS ? status_labels[index] : "other";
}

int lb_metrics_method_index(enum lb_method method)
{
    int m = (int)method;
    return m >= 0 && m < LB_METRICS_NMETHODS ? m : (int)LB_METHOD_OTHER;
}

/* The series of a request: its route's own, the route's HEAD series, or unmatched by method. */
static int series_of(int route, enum lb_method method)
{
    if (route >= 0) {
        if (M.routes[route].method == method)
            return route;
        if (method == LB_METHOD_HEAD && M.head_of[route] >= 0)
            return M.head_of[route];
    }
    return (int)M.nroutes + M.nhead + lb_metrics_method_index(method);
}

void lb_metrics_request(enum lb_method method, int status, int64_t duration_us)
{
    int route = cur_route, dropped = cur_dropped;
    cur_route = -1;
    cur_dropped = 0;
    if (!self)
        return;
    int series = series_of(route, method);
    bump(&self[W_REQUESTS + (size_t)series * LB_METRICS_NSTATUS + lb_metrics_status_index(status)],
         1);
    if (status == 503 && !dropped)
        bump(&self[W_DB_UNAVAILABLE], 1);
    uint64_t us = duration_us > 0 ? (uint64_t)duration_us : 0;
    size_t b = 0;
    while (b < NFINITE && us > bucket_us[b])
        b++;
    counter *h =
        &self[M.w_hist + (size_t)(route >= 0 ? M.pattern_of[route] : M.npatterns) * HIST_WORDS];
    bump(&h[b], 1);
    bump(&h[NBUCKETS], us);
}

void lb_metrics_db_reconnect(void)
{
    if (self)
        bump(&self[W_RECONNECTS], 1);
}

void lb_metrics_auth_check(enum lb_credential kind, enum lb_auth_result result)
{
    if (self && (unsigned)kind < NKINDS && (unsigned)result < NRESULTS)
        bump(&self[W_AUTH + (size_t)kind * NRESULTS + (size_t)result], 1);
}

void lb_metrics_auth_cache_hit(enum lb_credential kind)
{
    if (self && (unsigned)kind < NKINDS)
        bump(&self[W_CACHE + (size_t)kind], 1);
}

/* ---- rendering ---- */

/* The pool's value of a slot word: the sum over every slot ever handed out. */
static uint64_t total(size_t word)
{
    if (!M.area)
        return 0;
    uint64_t used = atomic_load_explicit(&M.pool->slots_used, memory_order_acquire);
    uint64_t sum = 0;
    for (uint64_t s = 0; s < used && s < (uint64_t)M.nslots; s++)
        sum += load(&slot_base((int)s)[word]);
    return sum;
}

static void family(struct lb_buf *out, const char *name, const char *type, const char *help)
{
    lb_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format escapes it (backslash, double quote, line feed). */
static void label_value(struct lb_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            lb_buf_putc(out, '\\'), lb_buf_putc(out, *s);
        else if (*s == '\n')
            lb_buf_puts(out, "\\n");
        else
            lb_buf_putc(out, *s);
    }
}

static void series_labels(struct lb_buf *out, int series)
{
    const char *route = "unmatched", *method;
    int unmatched = (int)M.nroutes + M.nhead;
    if (series < (int)M.nroutes) {
        route = M.routes[series].pattern;
        method = lb_method_name(M.routes[series].method);
    } else if (series < unmatched) {
        route = M.routes[M.head_route[series - (int)M.nroutes]].pattern;
        method = "HEAD";
    } else {
        method = lb_method_name((enum lb_method)(series - unmatched));
    }
    lb_buf_puts(out, "route=\"");
    label_value(out, route);
    lb_buf_printf(out, "\",method=\"%s\"", method);
}

static void render_requests(struct lb_buf *out)
{
    family(out, "leadbook_http_requests_total", "counter",
           "Requests answered by the workers, by route pattern, method and status.");
    for (int s = 0; s < M.nseries; s++)
        for (int st = 0; st < LB_METRICS_NSTATUS; st++) {
            uint64_t n = total(W_REQUESTS + (size_t)s * LB_METRICS_NSTATUS + (size_t)st);
            if (!n)
                continue;
            lb_buf_puts(out, "leadbook_http_requests_total{");
            series_labels(out, s);
            lb_buf_printf(out, ",status=\"%s\"} %llu\n", status_labels[st], (unsigned long long)n);
        }
}

static void render_histograms(struct lb_buf *out)
{
    static const char name[] = "leadbook_http_request_duration_seconds";
    family(out, name, "histogram",
           "Time from accepting a request to its answer being written, by route pattern.");
    for (int p = 0; p <= M.npatterns && M.area; p++) {
        size_t base = M.w_hist + (size_t)p * HIST_WORDS;
        uint64_t counts[NBUCKETS], count = 0;
        for (size_t b = 0; b < NBUCKETS; b++)
            count += counts[b] = total(base + b);
        if (!count)
            continue;
        const char *route = p < M.npatterns ? M.patterns[p] : "unmatched";
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += counts[b];
            lb_buf_printf(out, "%s_bucket{route=\"", name);
            label_value(out, route);
            lb_buf_printf(out, "\",le=\"%s\"} %llu\n", b < NFINITE ? bucket_le[b] : "+Inf",
                          (unsigned long long)cum);
        }
        uint64_t sum = total(base + NBUCKETS);
        lb_buf_printf(out, "%s_sum{route=\"", name);
        label_value(out, route);
        lb_buf_printf(out, "\"} %llu.%06llu\n", (unsigned long long)(sum / 1000000),
                      (unsigned long long)(sum % 1000000));
        lb_buf_printf(out, "%s_count{route=\"", name);
        label_value(out, route);
        lb_buf_printf(out, "\"} %llu\n", (unsigned long long)count);
    }
}

static void render_scalar(struct lb_buf *out, const char *name, const char *type, const char *help,
                          uint64_t value)
{
    family(out, name, type, help);
    lb_buf_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

static void render_auth(struct lb_buf *out)
{
    family(out, "leadbook_auth_checks_total", "counter",
           "Credential checks of protected routes, by credential kind and result.");
    for (int k = 0; k < NKINDS; k++)
        for (int r = 0; r < NRESULTS; r++) {
            uint64_t n = total(W_AUTH + (size_t)k * NRESULTS + (size_t)r);
            if (n)
                lb_buf_printf(out, "leadbook_auth_checks_total{kind=\"%s\",result=\"%s\"} %llu\n",
                              kind_labels[k], result_labels[r], (unsigned long long)n);
        }
    family(out, "leadbook_auth_cache_hits_total", "counter",
           "Credentials answered from a worker's cache, by credential kind.");
    for (int k = 1; k < NKINDS; k++) /* "none" is never cached */
        lb_buf_printf(out, "leadbook_auth_cache_hits_total{kind=\"%s\"} %llu\n", kind_labels[k],
                      (unsigned long long)total(W_CACHE + (size_t)k));
}

static void render_webhooks(struct lb_buf *out, const struct lb_metrics_webhooks *wh)
{
    if (!wh || !wh->known)
        return; /* the database did not answer: no figures rather than wrong ones */
    /* a gauge: rows of the delivery log, which the purge trims to 30 days */
    family(out, "leadbook_webhook_deliveries_total", "gauge",
           "Webhook delivery attempts in the delivery log (the last 30 days), by status.");
    lb_buf_printf(out,
                  "leadbook_webhook_deliveries_total{status=\"delivered\"} %lld\n"
                  "leadbook_webhook_deliveries_total{status=\"failed\"} %lld\n"
                  "leadbook_webhook_deliveries_total{status=\"pending\"} %lld\n",
                  wh->delivered, wh->failed, wh->pending);
    family(out, "leadbook_webhook_outbox_lag_seconds", "gauge",
           "Age of the oldest pending webhook delivery that is due (0: none).");
    lb_buf_printf(out, "leadbook_webhook_outbox_lag_seconds %.3f\n",
                  wh->lag_s > 0 ? wh->lag_s : 0.0);
}

void lb_metrics_render(struct lb_buf *out, const struct lb_metrics_webhooks *wh)
{
    render_requests(out);
    render_histograms(out);
    render_scalar(out, "leadbook_requests_deadline_dropped_total", "counter",
                  "Requests answered 503 unrun: they had waited past their deadline.",
                  total(W_DEADLINE));
    render_scalar(out, "leadbook_workers_alive", "gauge", "Worker processes running.",
                  M.pool ? load(&M.pool->workers_alive) : 0);
    family(out, "leadbook_worker_restarts_total", "counter",
           "Workers replaced by the master, by cause.");
    for (int c = 0; c < LB_RESTART_NCAUSES; c++)
        lb_buf_printf(out, "leadbook_worker_restarts_total{cause=\"%s\"} %llu\n", cause_labels[c],
                      (unsigned long long)(M.pool ? load(&M.pool->restarts[c]) : 0));
    render_scalar(out, "leadbook_db_reconnects_total", "counter",
                  "Database connections re-established by the workers.", total(W_RECONNECTS));
    render_scalar(out, "leadbook_db_unavailable_total", "counter",
                  "Requests answered 503 because the database was down or read-only.",
                  total(W_DB_UNAVAILABLE));
    render_auth(out);
    render_webhooks(out, wh);
}
