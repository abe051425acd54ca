/* webhook_deliver: the deliverer's loop. Claiming (store/webhook_deliveries.h): a short claim
 * transaction moves next_attempt_at forward by a lease; the POST happens outside any
 * transaction (a receiver's 10 s must not hold row locks or a connection in a transaction);
 * the result is recorded only while the lease is still ours. A deliverer that dies loses
 * nothing: its claims fall due again when their lease runs out (delivery is at least once).
 * Signals as in prefork.c: the handler sets a flag and writes to a self-pipe; the loop acts.
 *
 * Threads (the service, not --once): LB_WEBHOOK_SENDERS senders, each with its own database
 * connection and HTTP client, claim a batch of one endpoint's deliveries at a time, send them
 * one after the other on one kept-open connection and record the successes together, so a
 * receiver that hangs for the timeout holds one sender (and only its own deliveries) and the
 * others go on. The main thread keeps the LISTEN connection and wakes the senders on a NOTIFY; it
 * alone takes the signals. */
#include "webhook_deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "store/webhook_deliveries.h"
#include "webhook_http.h"
#include "webhook_sign.h"

#define TICK_MS 200          /* how often the LISTEN connection is looked at */
#define DB_RETRY_MIN_MS 1000 /* after a failed pass or reconnect, doubling up to the max */
#define DB_RETRY_MAX_MS 10000
#define LEASE_MARGIN_MS 5000 /* a claim is sent only if its lease outlasts the request by this */
#define RECORD_TRIES 3       /* a result is written again this often when the database breaks */
#define FLUSH_MS 1000        /* the longest a success waits for those after it to be recorded */

static const struct lb_db_stmt_set *const deliverer_catalog[] = {
    &store_webhook_deliveries_statements, NULL};

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_signal;

/* The senders' wake-up. All of them (the stop): the main thread bumps wake_gen and
 * broadcasts; a sender passes when the generation it saw has changed. One of them (a NOTIFY, a
 * reconnected listener, a sender whose claim left more due): a token, taken by the first sender
 * to look, so that a NOTIFY for one event starts one claim, not one per sender. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long wake_gen;
    int token;
} senders = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void wake_senders(void)
{
    pthread_mutex_lock(&senders.mu);
    senders.wake_gen++;
    pthread_cond_broadcast(&senders.cv);
    pthread_mutex_unlock(&senders.mu);
}

static void wake_one_sender(void)
{
    pthread_mutex_lock(&senders.mu);
    senders.token = 1;
    pthread_cond_signal(&senders.cv);
    pthread_mutex_unlock(&senders.mu);
}

static void on_signal(int sig)
{
    int saved = errno;
    if (!stop_signal)
        stop_signal = sig;
    unsigned char c = (unsigned char)sig;
    ssize_t w = write(signal_pipe[1], &c, 1);
    (void)w;
    errno = saved;
}

struct deliverer {
    const struct lb_webhook_deliver_options *opt;
    struct lb_db *db;     /* claims and results */
    struct lb_db *listen; /* LISTEN leadbook_webhooks only (NULL with once) */
    unsigned long listen_generation;
    int listen_up;
    int64_t listen_retry_ms, listen_backoff_ms;
    int wake; /* a NOTIFY arrived (or the listener reconnected): pass now */
    int sent; /* deliveries claimed by the last pass (a busy pass: look again soon) */
    unsigned long session_generation; /* the db connection store_whd_session was run on */
    struct lb_webhook_client *http;   /* this sender's (keeps a batch's connection open) */
    pthread_t thread;                 /* a sender's */
    int started;
};

/* Uniform in [0, 1) for the retry jitter; not a secret, so a weak fallback is fine. */
static double jitter_random(void)
{
    unsigned int r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned int)lb_monotonic_us() * 2654435761u;
    return (double)r / 4294967296.0;
}

/* Writes results, retrying across a reconnect: losing them would resend the deliveries after
 * the lease (still correct, at least once, but duplicates the receiver must absorb). */
static enum lb_status record_delivered(struct lb_db *db, const struct store_whd_item *items,
                                       const long *statuses, int n, int *owned)
{
    enum lb_status s = LB_UNAVAILABLE;
    for (int i = 0; i < RECORD_TRIES && s == LB_UNAVAILABLE; i++) {
        if (i)
            usleep(300 * 1000);
        s = store_whd_delivered(db, items, statuses, n, owned);
    }
    return s;
}

static enum lb_status record_failed(struct lb_db *db, const struct store_whd_item *it,
                                    const struct store_whd_failure *f, struct store_whd_failed *out)
{
    enum lb_status s = LB_UNAVAILABLE;
    for (int i = 0; i < RECORD_TRIES && s == LB_UNAVAILABLE; i++) {
        if (i)
            usleep(300 * 1000);
        s = store_whd_failed(db, it, f, out);
    }
    return s;
}

static void log_ids(char *out, size_t len, const struct store_whd_item *it)
{
    snprintf(out, len, "delivery=%s event_id=%s endpoint=%s tenant=%s attempt=%d", it->id,
             it->event_id, it->endpoint_id, it->tenant_id, it->attempt);
}

/* Records a failure; returns 1 when it disabled the endpoint. */
static int fail_one(struct deliverer *d, const struct store_whd_item *it, long status,
                    const char *error, const char *excerpt, double retry_s, long ms)
{
    char ids[256], text[480];
    log_ids(ids, sizeof ids, it);
    /* The stored error may quote the receiver's answer (the tenant reads it in the delivery
     * log); the log line does not, nor the payload or a secret. */
    if (excerpt && *excerpt)
        snprintf(text, sizeof text, "%s: %s", error, excerpt);
    else
        snprintf(text, sizeof text, "%s", error);
    struct store_whd_failure f = {status, text, retry_s, status == 410};
    struct store_whd_failed out;
    enum lb_status s = record_failed(d->db, it, &f, &out);
    if (s != LB_OK) {
        lb_log(LB_LOG_ERROR, "webhook_record_failed", "%s result=failed db_status=%d", ids, s);
        return 0;
    }
    if (!out.owned) {
        lb_log(LB_LOG_WARN, "webhook_claim_lost", "%s result=failed", ids);
        return 0;
    }
    char next[64] = "none";
    if (out.next_id[0])
        snprintf(next, sizeof next, "%.0f", retry_s);
    lb_log(LB_LOG_WARN, "webhook_failed", "%s status=%ld ms=%ld retry_in_s=%s error=\"%s\"", ids,
           status, ms, next, error);
    if (out.disabled[0])
        lb_log(LB_LOG_WARN, "webhook_endpoint_disabled",
               "endpoint=%s tenant=%s reason=\"%s\" pending_cancelled=%ld", it->endpoint_id,
               it->tenant_id, out.disabled, out.cancelled);
    return out.disabled[0] != '\0';
}

/* The successes of a batch not yet recorded: written together, in one statement (flush_ok),
 * when the batch is done, before a failure is (results in the order of the attempts: a success
 * ends a run of failures), and when the oldest has waited FLUSH_MS. */
struct ok_list {
    struct store_whd_item items[LB_WEBHOOK_BATCH];
    long status[LB_WEBHOOK_BATCH], ms[LB_WEBHOOK_BATCH];
    int n;
    int64_t first_ms; /* when items[0] was answered */
};

static void flush_ok(struct deliverer *d, struct ok_list *ok)
{
    if (ok->n == 0)
        return;
    int owned[LB_WEBHOOK_BATCH];
    enum lb_status s = record_delivered(d->db, ok->items, ok->status, ok->n, owned);
    for (int i = 0; i < ok->n; i++) {
        char ids[256];
        log_ids(ids, sizeof ids, &ok->items[i]);
        if (s != LB_OK)
            lb_log(LB_LOG_ERROR, "webhook_record_failed", "%s result=delivered db_status=%d", ids,
                   s);
        else if (!owned[i])
            lb_log(LB_LOG_WARN, "webhook_claim_lost", "%s result=delivered", ids);
        else
            lb_log(LB_LOG_INFO, "webhook_delivered", "%s status=%ld ms=%ld", ids, ok->status[i],
                   ok->ms[i]);
    }
    ok->n = 0;
}

/* Sends one delivery; a success joins ok, a failure is recorded at once (after the successes
 * before it). Returns 1 when the endpoint got disabled. */
static int deliver_one(struct deliverer *d, const struct store_whd_item *it, struct ok_list *ok)
{
    if (!it->enabled) {
        flush_ok(d, ok);
        return fail_one(d, it, 0, "not sent: the endpoint is disabled", NULL, -1, 0);
    }
    long long ts = (long long)time(NULL);
    char sig[LB_WEBHOOK_SIG_HEADER_LEN];
    double retry_s = lb_webhook_retry_delay_s(it->attempt, jitter_random());
    if (lb_webhook_signature_header(it->secret, it->previous, it->event_id, ts, it->payload,
                                    it->payload_len, sig) != 0) {
        flush_ok(d, ok);
        return fail_one(d, it, 0, "not sent: the endpoint's signing secret is malformed", NULL,
                        retry_s, 0);
    }
    struct lb_webhook_request rq = {.url = it->url,
                                    .allow_hosts = d->opt->allow_hosts,
                                    .event_id = it->event_id,
                                    .timestamp = ts,
                                    .signature = sig,
                                    .body = it->payload,
                                    .body_len = it->payload_len,
                                    .timeout_ms = LB_WEBHOOK_TIMEOUT_MS};
    struct lb_webhook_result res;
    int64_t t0 = lb_monotonic_ms();
    lb_webhook_post(d->http, &rq, &res);
    int64_t t1 = lb_monotonic_ms();
    long ms = (long)(t1 - t0);
    if (!res.ok) {
        /* A refusal (a non-public address) is retried like any failure: the name may resolve
         * elsewhere later, and the endpoint is disabled after five days of it anyway. */
        flush_ok(d, ok);
        return fail_one(d, it, res.status, res.error, res.excerpt, retry_s, ms);
    }
    if (ok->n == 0)
        ok->first_ms = t1;
    ok->items[ok->n] = *it;
    ok->status[ok->n] = res.status;
    ok->ms[ok->n] = ms;
    ok->n++;
    if (ok->n == LB_WEBHOOK_BATCH || t1 - ok->first_ms >= FLUSH_MS)
        flush_ok(d, ok);
    return 0;
}

/* Whether endpoint is among the n ids of gone (endpoints disabled during this batch, whose
 * other claimed deliveries the same statement already marked failed: not to be sent). */
static int in_list(char gone[][37], int n, const char *endpoint)
{
    for (int i = 0; i < n; i++)
        if (strcmp(gone[i], endpoint) == 0)
            return 1;
    return 0;
}

/* Claims and delivers batches until none is due (as the last claim saw it). 0, or -1 when the
 * database failed. */
static int run_pass(struct deliverer *d)
{
    d->sent = 0;
    /* once per connection (not through a transaction pooler: a session setting would stay on
     * the server connection for other clients) */
    if (!d->opt->unnamed && lb_db_ready(d->db) == LB_OK &&
        lb_db_generation(d->db) != d->session_generation) {
        if (store_whd_session(d->db) != LB_OK)
            return -1;
        d->session_generation = lb_db_generation(d->db);
    }
    struct ok_list ok;
    for (;;) {
        if (stop_signal)
            return 0;
        struct store_whd_batch batch;
        if (store_whd_claim(d->db, LB_WEBHOOK_BATCH, LB_WEBHOOK_LEASE_S, &batch) != LB_OK)
            return -1;
        int64_t claimed_ms = lb_monotonic_ms();
        if (batch.more && !d->opt->once)
            wake_one_sender(); /* another sender takes the next batch meanwhile */
        char gone[LB_WEBHOOK_BATCH][37];
        int ngone = 0;
        ok.n = 0;
        for (int i = 0; i < batch.count; i++) {
            struct store_whd_item it;
            store_whd_item(&batch, i, &it);
            if (in_list(gone, ngone, it.endpoint_id))
                continue;
            int64_t left = claimed_ms + LB_WEBHOOK_LEASE_S * 1000 - lb_monotonic_ms();
            if (stop_signal || left < LB_WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS) {
                /* Not sent: give it back at once rather than let it wait for the lease. */
                if (store_whd_release(d->db, &it) == LB_OK)
                    lb_log(LB_LOG_INFO, "webhook_released", "delivery=%s reason=%s", it.id,
                           stop_signal ? "stopping" : "lease_short");
                continue;
            }
            if (deliver_one(d, &it, &ok) && ngone < LB_WEBHOOK_BATCH)
                snprintf(gone[ngone++], sizeof gone[0], "%s", it.endpoint_id);
        }
        flush_ok(d, &ok); /* before the batch's result (whose strings ok points into) is freed */
        int more = batch.more;
        d->sent += batch.count;
        store_whd_batch_free(&batch);
        if (!more)
            return 0;
    }
}

static void on_notify(void *ctx, const char *channel, const char *payload)
{
    (void)channel;
    (void)payload;
    ((struct deliverer *)ctx)->wake = 1;
}

/* Keeps the LISTEN connection up (reconnecting with back-off) and reads what it has. */
static void check_listener(struct deliverer *d)
{
    int64_t now = lb_monotonic_ms();
    if (!d->listen_up && now >= d->listen_retry_ms) {
        if (lb_db_ready(d->listen) == LB_OK) {
            d->listen_up = 1;
            d->listen_backoff_ms = DB_RETRY_MIN_MS;
            if (lb_db_generation(d->listen) != d->listen_generation) {
                d->listen_generation = lb_db_generation(d->listen);
                d->wake = 1; /* notifications sent while it was down are lost: look now */
            }
        } else {
            d->listen_retry_ms = now + d->listen_backoff_ms;
            if (d->listen_backoff_ms < DB_RETRY_MAX_MS)
                d->listen_backoff_ms *= 2;
        }
    }
    if (d->listen_up && lb_db_poll_notifications(d->listen, on_notify, d) < 0) {
        d->listen_up = 0;
        d->listen_retry_ms = now; /* reconnect at once; back off if that fails */
    }
}

/* Sleeps up to ms, or until a signal arrives; drains the pipe. */
static void sleep_ms(int64_t ms)
{
    struct pollfd p = {.fd = signal_pipe[0], .events = POLLIN};
    if (poll(&p, 1, ms > 0 ? (int)ms : 0) > 0) {
        unsigned char buf[16];
        while (read(signal_pipe[0], buf, sizeof buf) > 0)
            ;
    }
}

static int64_t next_pass_in_ms(struct deliverer *d, int pass_failed, int64_t *backoff)
{
    if (pass_failed) {
        int64_t wait = *backoff;
        if (*backoff < DB_RETRY_MAX_MS)
            *backoff *= 2;
        return wait;
    }
    *backoff = DB_RETRY_MIN_MS;
    double due_s = 0;
    int none = 1;
    if (store_whd_next_due(d->db, &due_s, &none) != LB_OK || none)
        return d->sent > 0 ? LB_WEBHOOK_BUSY_POLL_MS : LB_WEBHOOK_POLL_MS;
    int64_t ms = (int64_t)(due_s * 1000) + 1; /* just after, so the row is due when we look */
    if (ms < TICK_MS)
        ms = TICK_MS; /* due now yet not claimed: rows another deliverer is claiming */
    /* After a busy pass, look again soon: the outbox trigger does not NOTIFY while a due
     * delivery is waiting (sql/008_webhook_notify.sql), so an event committed just after this
     * pass found the queue empty may have woken nobody. */
    int64_t most = d->sent > 0 ? LB_WEBHOOK_BUSY_POLL_MS : LB_WEBHOOK_POLL_MS;
    return ms < most ? ms : most;
}

/* A sender's loop: a pass when woken or when its own next pass is due, else a wait of at most
 * TICK_MS (the stop flag is looked at that often). */
static void *sender(void *arg)
{
    struct deliverer *d = arg;
    pthread_mutex_lock(&senders.mu);
    unsigned long seen = senders.wake_gen;
    pthread_mutex_unlock(&senders.mu);
    int64_t next_pass = 0, backoff = DB_RETRY_MIN_MS;
    while (!stop_signal) {
        pthread_mutex_lock(&senders.mu);
        int woke = senders.wake_gen != seen || senders.token;
        senders.token = 0;
        seen = senders.wake_gen;
        pthread_mutex_unlock(&senders.mu);
        int64_t now = lb_monotonic_ms();
        if (woke || now >= next_pass) {
            int failed = run_pass(d) != 0;
            if (stop_signal)
                break;
            next_pass = lb_monotonic_ms() + next_pass_in_ms(d, failed, &backoff);
            continue;
        }
        int64_t wait = next_pass - now;
        if (wait > TICK_MS)
            wait = TICK_MS;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(wait / 1000);
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&senders.mu);
        if (senders.wake_gen == seen && !senders.token && !stop_signal)
            pthread_cond_timedwait(&senders.cv, &senders.mu, &until);
        pthread_mutex_unlock(&senders.mu);
    }
    return NULL;
}

/* The main thread: the listener, the signals; the senders do the work. */
static int serve(struct deliverer *main_d, struct deliverer *s, int nsenders)
{
    if (main_d->opt->once)
        return run_pass(main_d) == 0 ? 0 : 1;
    /* the signals go to this thread only */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (int i = 0; i < nsenders; i++)
        s[i].started = pthread_create(&s[i].thread, NULL, sender, &s[i]) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int running = 0;
    for (int i = 0; i < nsenders; i++)
        running += s[i].started;
    while (!stop_signal && running) {
        check_listener(main_d);
        if (main_d->wake) {
            main_d->wake = 0;
            wake_one_sender();
        }
        sleep_ms(TICK_MS);
    }
    wake_senders(); /* they see the stop flag at once */
    for (int i = 0; i < nsenders; i++)
        if (s[i].started)
            pthread_join(s[i].thread, NULL);
    lb_log(LB_LOG_INFO, "webhooks_stop", "signal=%d", (int)stop_signal);
    return running ? 0 : 1;
}

int lb_webhook_deliver_run(const struct lb_webhook_deliver_options *opt)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0 || lb_webhook_http_init() != 0) {
        lb_log(LB_LOG_ERROR, "webhooks_init_failed", "reason=\"%s\"", strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct lb_db_options dbo = {.conninfo = opt->conninfo,
                                .connect_timeout_s = opt->connect_timeout_s,
                                .statement_timeout_ms = 30000,
                                .listen_channel = NULL,
                                .unnamed = opt->unnamed};
    struct deliverer d = {.opt = opt,
                          .listen_backoff_ms = DB_RETRY_MIN_MS,
                          .db = lb_db_new(&dbo),
                          .http = opt->once ? lb_webhook_client_new() : NULL};
    if (d.db)
        lb_db_set_statements(d.db, deliverer_catalog);
    if (!opt->once) {
        dbo.listen_channel = LB_WEBHOOK_CHANNEL;
        if (opt->listen_conninfo && *opt->listen_conninfo) {
            dbo.conninfo = opt->listen_conninfo; /* LISTEN cannot go through a pooler */
            dbo.unnamed = 0;
        }
        d.listen = lb_db_new(&dbo);
        if (d.listen)
            lb_db_set_statements(d.listen, NULL);
    }
    /* the senders' connections (the main one, d.db, does the passes of --once) */
    struct deliverer s[LB_WEBHOOK_SENDERS];
    int nsenders = opt->once ? 0 : LB_WEBHOOK_SENDERS, ok = 1;
    memset(s, 0, sizeof s);
    dbo.conninfo = opt->conninfo;
    dbo.unnamed = opt->unnamed;
    dbo.listen_channel = NULL;
    for (int i = 0; i < nsenders; i++) {
        s[i].opt = opt;
        s[i].db = lb_db_new(&dbo);
        s[i].http = lb_webhook_client_new();
        if (s[i].db)
            lb_db_set_statements(s[i].db, deliverer_catalog);
        if (!s[i].db || !s[i].http)
            ok = 0;
    }
    int rc = 1;
    if (ok && d.db && (opt->once ? d.http != NULL : d.listen != NULL)) {
        lb_log(LB_LOG_INFO, "webhooks_start", "once=%d senders=%d batch=%d lease_s=%d poll_ms=%d",
               opt->once, opt->once ? 1 : nsenders, LB_WEBHOOK_BATCH, LB_WEBHOOK_LEASE_S,
               LB_WEBHOOK_POLL_MS);
        rc = serve(&d, s, nsenders);
    } else {
        lb_log(LB_LOG_ERROR, "webhooks_init_failed", "reason=\"out of memory\"");
    }
    for (int i = 0; i < nsenders; i++) {
        lb_db_free(s[i].db);
        lb_webhook_client_free(s[i].http);
    }
    lb_db_free(d.listen);
    lb_db_free(d.db);
    lb_webhook_client_free(d.http);
    lb_webhook_http_cleanup();
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    return rc;
}
