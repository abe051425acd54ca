/* db: the worker's PostgreSQL connection. A broken connection is closed at once and replaced
 * by the next lb_db_ready (throttled), so a database outage costs 503s, never a hang or a crash;
 * each new connection gets every statement prepared again and bumps the generation. */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

struct lb_db {
    char *conninfo;
    char *listen_channel;
    int connect_timeout_s;
    int statement_timeout_ms;
    int unnamed; /* statements sent unprepared, no startup options (db_pool_mode=transaction) */
    const struct lb_db_stmt_set *const *catalog;
    PGconn *conn;           /* NULL when not connected (or after a break) */
    long long last_attempt; /* monotonic ms of the last connect attempt; 0 = none */
    long long deadline_rt;  /* wall-clock ms the current request must be answered by; 0 = none */
    long long clock_offset; /* the server's wall clock minus ours, in ms (measured at connect) */
    unsigned long generation;
    char last_error[256];
};

/* Copies a libpq message to dst as one line without double quotes (log values are quoted). */
static void one_line(char *dst, size_t len, const char *src)
{
    size_t n = 0;
    for (; src && *src && n + 1 < len; src++)
        dst[n++] = (*src == '\n' || *src == '\r' || *src == '\t') ? ' ' : *src == '"' ? '\'' : *src;
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct lb_db *lb_db_new(const struct lb_db_options *opt)
{
    struct lb_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->conninfo = strdup(opt->conninfo ? opt->conninfo : "");
    db->listen_channel = dup_or_null(opt->listen_channel);
    if (!db->conninfo || (opt->listen_channel && !db->listen_channel)) {
        lb_db_free(db);
        return NULL;
    }
    db->connect_timeout_s = opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 3;
    db->statement_timeout_ms = opt->statement_timeout_ms > 0 ? opt->statement_timeout_ms : 0;
    db->unnamed = opt->unnamed != 0;
    db->catalog = lb_db_catalog;
    return db;
}

void lb_db_free(struct lb_db *db)
{
    if (!db)
        return;
    if (db->conn)
        PQfinish(db->conn);
    free(db->conninfo);
    free(db->listen_channel);
    free(db);
}

void lb_db_set_statements(struct lb_db *db, const struct lb_db_stmt_set *const *catalog)
{
    db->catalog = catalog;
}

unsigned long lb_db_generation(const struct lb_db *db)
{
    return db->generation;
}

const char *lb_db_last_error(const struct lb_db *db)
{
    return db->last_error;
}

enum lb_status lb_db_status_from_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return LB_INTERNAL;
    if (strcmp(s, "23505") == 0)
        return LB_CONFLICT; /* unique_violation */
    if (strcmp(s, "23503") == 0)
        return LB_NOT_FOUND; /* foreign_key_violation: the referenced row is not there */
    if (strcmp(s, "23514") == 0 || strcmp(s, "23502") == 0 || strncmp(s, "22", 2) == 0)
        return LB_INVALID; /* check / not-null violation, data exception (bad uuid, date...) */
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0 || strcmp(s, "57014") == 0)
        return LB_UNAVAILABLE; /* connection exception, shutdown, statement timeout */
    if (strncmp(s, "53", 2) == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return LB_UNAVAILABLE; /* out of resources, serialisation failure, deadlock: retry */
    if (strcmp(s, "55P03") == 0)
        return LB_BUSY; /* lock_not_available: lock_timeout passed, a stuck holder */
    if (strcmp(s, "25006") == 0)
        return LB_READ_ONLY; /* read_only_sql_transaction: read-only, or a standby */
    return LB_INTERNAL;
}

/* SQLSTATEs after which the session is gone even if libpq has not noticed yet. */
static int sqlstate_kills_session(const char *s)
{
    return s && (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0);
}

/* Server notices (e.g. "relation already exists, skipping") are not errors: debug log only. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    char line[256];
    one_line(line, sizeof line, message);
    lb_log(LB_LOG_DEBUG, "db_notice", "message=\"%s\"", line);
}

static void disconnect(struct lb_db *db)
{
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
}

/* Through a transaction pooler the session settings cannot be sent at startup: they must be
 * the pooler's connect_query (or the role's defaults, ALTER ROLE ... SET). Says so, once per
 * connection, when the server connection this lands on does not have them. */
static void check_pooled_session(struct lb_db *db)
{
    PGresult *r = PQexec(db->conn, "SELECT current_setting('plan_cache_mode') = "
                                   "'force_generic_plan' AND current_setting('jit') = 'off' AND "
                                   "current_setting('enable_seqscan') = 'off' AND "
                                   "current_setting('max_parallel_workers_per_gather') = '0' AND "
                                   "current_setting('lock_timeout') = '2s'");
    int ok =
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!ok)
        lb_log(LB_LOG_WARN, "db_session_options_missing",
               "note=\"db_pool_mode=transaction: set them in the pooler's connect_query\" "
               "options=\"%s\"",
               LB_DB_SESSION_OPTIONS);
}

/* one_waiter's queue (exec_guarded), in one statement evaluated left to right: the short
 * lock_timeout for the advisory lock on the row's key (read when the wait starts), the lock,
 * then the usual lock_timeout for the row itself. The guard of a write: the last statement of
 * its implicit transaction (the pipeline runs until its Sync as one), run after the write
 * itself; past commit_by (the server's clock) it fails (division by zero), and the write is
 * rolled back. Both are prepared with the catalog (setup_session): a write costs no extra
 * parse and plan. */
/* clang-format off */
#define ROW_QUEUE_SQL                                                                          \
    "SELECT set_config('lock_timeout', $2, true), "                                            \
    "       pg_advisory_xact_lock(hashtextextended($1, 0)), "                                  \
    "       set_config('lock_timeout', $3, true)"
/* clang-format on */
#define COMMIT_BY_SQL "SELECT 1 / (clock_timestamp() <= to_timestamp($1::float8 / 1000))::int"
static const struct lb_db_stmt guard_stmts[] = {
    {"lb_row_queue", ROW_QUEUE_SQL, 3, 0},
    {"lb_commit_by", COMMIT_BY_SQL, 1, 0},
};

/* Prepares the catalog and LISTENs; 0 or -1 (logged). */
static int setup_session(struct lb_db *db)
{
    if (db->unnamed)
        check_pooled_session(db);
    for (const struct lb_db_stmt_set *const *set = db->unnamed ? NULL : db->catalog; set && *set;
         set++) {
        for (int i = 0; i < (*set)->count; i++) {
            const struct lb_db_stmt *st = &(*set)->stmts[i];
            PGresult *r = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                one_line(db->last_error, sizeof db->last_error, PQresultErrorMessage(r));
                const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                lb_log(LB_LOG_ERROR, "db_prepare_failed", "stmt=%s sqlstate=%s error=\"%s\"",
                       st->name, state ? state : "-", db->last_error);
                PQclear(r);
                return -1;
            }
            PQclear(r);
        }
    }
    for (size_t i = 0; !db->unnamed && i < sizeof guard_stmts / sizeof guard_stmts[0]; i++) {
        PGresult *r = PQprepare(db->conn, guard_stmts[i].name, guard_stmts[i].sql,
                                guard_stmts[i].nparams, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            one_line(db->last_error, sizeof db->last_error, PQresultErrorMessage(r));
            lb_log(LB_LOG_ERROR, "db_prepare_failed", "stmt=%s sqlstate=- error=\"%s\"",
                   guard_stmts[i].name, db->last_error);
        }
        PQclear(r);
        if (!ok)
            return -1;
    }
    if (db->listen_channel) {
        char *ident = PQescapeIdentifier(db->conn, db->listen_channel, strlen(db->listen_channel));
        char sql[256];
        int n = ident ? snprintf(sql, sizeof sql, "LISTEN %s", ident) : -1;
        PQfreemem(ident);
        PGresult *r = (n > 0 && (size_t)n < sizeof sql) ? PQexec(db->conn, sql) : NULL;
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            one_line(db->last_error, sizeof db->last_error,
                     r ? PQresultErrorMessage(r) : "channel name too long");
            lb_log(LB_LOG_ERROR, "db_listen_failed", "channel=\"%s\" error=\"%s\"",
                   db->listen_channel, db->last_error);
        }
        PQclear(r);
        if (!ok)
            return -1;
    }
    return 0;
}

/* PQstatus stays CONNECTION_OK on a socket the server has closed while we were idle (a restart
 * sends FATAL 57P01 and EOF): read what is pending, without blocking, so that such a connection
 * is noticed here and replaced before a request is spent on it. Notifications read this way
 * stay queued for PQnotifies. */
static int conn_alive(PGconn *conn)
{
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
        if (p.fd < 0)
            return 0;
        if (poll(&p, 1, 0) <= 0)
            return 1; /* nothing pending: as alive as we can tell */
        if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)
            return 0;
    }
    return PQstatus(conn) == CONNECTION_OK;
}

static long long realtime_ms(void);

/* The guard of a write (exec_guarded) compares the server's clock with a time of ours: measure
 * how far apart they are (a database on another host), once per connection. */
static void measure_clock(struct lb_db *db)
{
    long long t0 = realtime_ms();
    PGresult *r = PQexec(db->conn, "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
    long long t1 = realtime_ms();
    db->clock_offset = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        db->clock_offset = strtoll(PQgetvalue(r, 0, 0), NULL, 10) - (t0 + t1) / 2;
    PQclear(r);
    if (db->clock_offset > 1000 || db->clock_offset < -1000)
        lb_log(LB_LOG_WARN, "db_clock_skew", "offset_ms=%lld note=\"keep the clocks in sync\"",
               db->clock_offset);
}

enum lb_status lb_db_ready(struct lb_db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK && conn_alive(db->conn))
        return LB_OK;
    disconnect(db);
    long long now = lb_monotonic_ms();
    if (db->last_attempt && now - db->last_attempt < LB_DB_RETRY_MS && now >= db->last_attempt)
        return LB_UNAVAILABLE;
    db->last_attempt = now;

    /* Our connect_timeout and statement_timeout come after the expanded conninfo, so they win
     * over values in it (libpq: later keywords override earlier ones). */
    char timeout[16], options[256];
    snprintf(timeout, sizeof timeout, "%d", db->connect_timeout_s);
    if (db->statement_timeout_ms > 0)
        snprintf(options, sizeof options, "%s -c statement_timeout=%d", LB_DB_SESSION_OPTIONS,
                 db->statement_timeout_ms);
    else
        snprintf(options, sizeof options, "%s", LB_DB_SESSION_OPTIONS);
    const char *keys[] = {"dbname", "connect_timeout", db->unnamed ? NULL : "options", NULL};
    const char *vals[] = {db->conninfo, timeout, db->unnamed ? NULL : options, NULL};
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        one_line(db->last_error, sizeof db->last_error,
                 db->conn ? PQerrorMessage(db->conn) : "out of memory");
        lb_log(LB_LOG_WARN, "db_connect_failed", "error=\"%s\"", db->last_error);
        disconnect(db);
        return LB_UNAVAILABLE;
    }
    PQsetNoticeProcessor(db->conn, on_notice, NULL);
    if (setup_session(db) != 0) {
        disconnect(db);
        return LB_UNAVAILABLE;
    }
    measure_clock(db);
    db->generation++;
    if (db->generation > 1)
        lb_metrics_db_reconnect(); /* the first connect of a worker is none */
    db->last_error[0] = '\0';
    lb_log(LB_LOG_INFO, "db_connected", "generation=%lu server_version=%d", db->generation,
           PQserverVersion(db->conn));
    return LB_OK;
}

/* Turns a finished result into a status; clears r unless LB_OK (then *res takes it). */
static enum lb_status finish(struct lb_db *db, const char *what, PGresult *r, PGresult **res)
{
    ExecStatusType st = PQresultStatus(r);
    if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
        if (res)
            *res = r;
        else
            PQclear(r);
        return LB_OK;
    }
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    enum lb_status status = lb_db_status_from_sqlstate(state);
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(db->last_error, sizeof db->last_error, primary ? primary : PQerrorMessage(db->conn));
    int broken = PQstatus(db->conn) != CONNECTION_OK || sqlstate_kills_session(state);
    if (broken)
        status = LB_UNAVAILABLE;
    /* Messages of data errors (class 22/23) may quote the input (emails...): log only the
     * SQLSTATE and the constraint for those. */
    const char *constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    int quiet = state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0);
    lb_log(status == LB_INTERNAL || broken ? LB_LOG_ERROR : LB_LOG_INFO, "db_error",
           "stmt=%s sqlstate=%s constraint=%s broken=%d error=\"%s\"", what, state ? state : "-",
           constraint ? constraint : "-", broken, quiet ? "(data error)" : db->last_error);
    PQclear(r);
    if (broken)
        disconnect(db);
    return status;
}

/* Waits for the result of the query just sent, but not forever: the server enforces
 * statement_timeout itself, so a server that has not answered LB_DB_DEADLINE_MARGIN_MS later
 * is not running it (stopped, frozen, a dead network path). Then the connection is dropped
 * (the next call reconnects; the server's statement_timeout aborts the query if it ever runs
 * again), and the caller gets LB_UNAVAILABLE (503) instead of the worker hanging until the
 * master's watchdog kills it. No PQcancel: it waits for the server without any timeout, which
 * is what a frozen server never ends. Returns the last
 * result (NULL when the wait was given up), having read every result of the query. */
static PGresult *await_until(struct lb_db *db, const char *what, long long deadline)
{
    PGresult *last = NULL;
    for (;;) {
        while (PQisBusy(db->conn)) {
            int timeout = -1;
            if (deadline) {
                long long left = deadline - lb_monotonic_ms();
                if (left <= 0) {
                    lb_log(LB_LOG_ERROR, "db_deadline", "stmt=%s", what);
                    PQclear(last);
                    snprintf(db->last_error, sizeof db->last_error,
                             "no answer from the database in time");
                    disconnect(db);
                    return NULL;
                }
                timeout = left > 1000000 ? 1000000 : (int)left;
            }
            struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN};
            int n = poll(&p, 1, timeout);
            if (n < 0 && errno != EINTR)
                break;
            if (n > 0 && !PQconsumeInput(db->conn))
                break; /* the connection broke: PQgetResult reports it */
        }
        PGresult *r = PQgetResult(db->conn);
        if (!r)
            return last;
        PQclear(last);
        last = r;
        if (PQstatus(db->conn) != CONNECTION_OK)
            return last;
    }
}

/* Wall-clock ms now. */
static long long realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The monotonic ms a query sent now is waited for until (0 = for ever): statement_timeout and
 * the margin, and no later than the request's own deadline (its answer is worth nothing then). */
static long long wait_deadline(const struct lb_db *db)
{
    long long now = lb_monotonic_ms(), until = 0;
    if (db->statement_timeout_ms > 0)
        until = now + db->statement_timeout_ms + LB_DB_DEADLINE_MARGIN_MS;
    if (db->deadline_rt > 0) {
        long long by = now + (db->deadline_rt - realtime_ms());
        if (!until || by < until)
            until = by;
    }
    return until;
}

static PGresult *await_result(struct lb_db *db, const char *what)
{
    return await_until(db, what, wait_deadline(db));
}

void lb_db_set_deadline(struct lb_db *db, long long realtime_ms_by)
{
    if (db)
        db->deadline_rt = realtime_ms_by > 0 ? realtime_ms_by : 0;
}

/* Whether the statement changes data (or locks rows for a change). */
static int stmt_writes(const char *sql)
{
    return strstr(sql, "INSERT INTO") || strstr(sql, "UPDATE ") || strstr(sql, "DELETE FROM");
}

/* Sends stmt: by name once prepared, with its text on a pooled connection (db_pool_mode). */
static int send_stmt(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                     const char *const *values)
{
    return db->unnamed
               ? PQsendQueryParams(db->conn, stmt->sql, nparams, NULL, values, NULL, NULL, 0)
               : PQsendQueryPrepared(db->conn, stmt->name, nparams, values, NULL, NULL, 0);
}

/* A write, in one round trip: the statement, then the guard, then Sync. commit_by is when the
 * worker stops waiting, less LB_DB_COMMIT_GRACE_MS (the time for the answer to come back), so
 * that a write either commits while its answer can still reach the client, or not at all: a
 * frozen server that wakes up later, a statement that waited for a lock, a request that waited
 * in the queue, all run their write and then roll it back. */
static enum lb_status exec_guarded(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                                   const char *const *values, PGresult **res, long long until)
{
    char by[32];
    snprintf(by, sizeof by, "%lld",
             realtime_ms() + db->clock_offset + (until - lb_monotonic_ms()) -
                 LB_DB_COMMIT_GRACE_MS);
    const char *guard[] = {by};
    /* one waiter per row: the queue is an advisory lock on the row's key ($1, $2), waited for
     * no longer than LB_DB_QUEUE_WAIT_MS (55P03: LB_BUSY), then the row itself as usual */
    char key[200], qwait[16], lwait[16];
    snprintf(key, sizeof key, "%s:%s:%s", stmt->name, nparams > 0 && values[0] ? values[0] : "",
             nparams > 1 && values[1] ? values[1] : "");
    snprintf(qwait, sizeof qwait, "%d", LB_DB_QUEUE_WAIT_MS);
    snprintf(lwait, sizeof lwait, "%d", LB_DB_LOCK_TIMEOUT_MS);
    const char *qv[] = {key, qwait, lwait};
    int queued = stmt->one_waiter;
    if (!PQenterPipelineMode(db->conn))
        return finish(db, stmt->name, NULL, res);
    int sent = (!queued || send_stmt(db, &guard_stmts[0], 3, qv)) &&
               send_stmt(db, stmt, nparams, values) && send_stmt(db, &guard_stmts[1], 1, guard) &&
               PQpipelineSync(db->conn);
    if (!sent) {
        one_line(db->last_error, sizeof db->last_error, PQerrorMessage(db->conn));
        lb_log(LB_LOG_ERROR, "db_error", "stmt=%s sqlstate=- broken=1 error=\"%s\"", stmt->name,
               db->last_error);
        disconnect(db);
        return LB_UNAVAILABLE;
    }
    if (queued) {
        PGresult *q = await_until(db, "row_queue", until);
        if (db->conn && PQresultStatus(q) == PGRES_FATAL_ERROR) {
            /* another request waits for this row already: the rest is skipped (aborted) */
            for (int j = 0; j < 3 && db->conn; j++) /* the write, the guard and the Sync */
                PQclear(await_until(db, "row_queue", until));
            if (db->conn && !PQexitPipelineMode(db->conn))
                disconnect(db);
            return finish(db, stmt->name, q, res);
        }
        PQclear(q);
        if (!db->conn)
            return finish(db, stmt->name, NULL, res);
    }
    PGresult *w = await_until(db, stmt->name, until);
    if (!db->conn) { /* given up: dropped, so the guard rolls it back whenever it runs */
        PQclear(w);
        return finish(db, stmt->name, NULL, res);
    }
    PGresult *g = await_until(db, "commit_by", until);
    PGresult *sync = db->conn ? await_until(db, "sync", until) : NULL;
    int guard_failed = db->conn && PQresultStatus(g) == PGRES_FATAL_ERROR;
    int synced = db->conn && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (db->conn && !PQexitPipelineMode(db->conn))
        disconnect(db);
    if (guard_failed && db->conn) {
        PQclear(w);
        PQclear(g);
        lb_log(LB_LOG_WARN, "db_commit_too_late", "stmt=%s note=\"rolled back\"", stmt->name);
        snprintf(db->last_error, sizeof db->last_error, "the write finished too late: rolled back");
        return LB_UNAVAILABLE;
    }
    PQclear(g);
    if (!synced || !db->conn) { /* commit not seen: broken, given up */
        PQclear(w);
        return finish(db, stmt->name, NULL, res);
    }
    return finish(db, stmt->name, w, res);
}

enum lb_status lb_db_exec(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                          const char *const *values, PGresult **res)
{
    if (res)
        *res = NULL;
    if (nparams != stmt->nparams) {
        lb_log(LB_LOG_ERROR, "db_bad_call", "stmt=%s nparams=%d expected=%d", stmt->name, nparams,
               stmt->nparams);
        return LB_INTERNAL;
    }
    enum lb_status s = lb_db_ready(db);
    if (s != LB_OK)
        return s;
    long long until = wait_deadline(db);
    if (until && until - lb_monotonic_ms() <= LB_DB_COMMIT_GRACE_MS) {
        lb_log(LB_LOG_WARN, "db_deadline", "stmt=%s note=\"not sent: the request's time is up\"",
               stmt->name);
        snprintf(db->last_error, sizeof db->last_error, "the request's time is up");
        return LB_UNAVAILABLE;
    }
    if (until && stmt_writes(stmt->sql))
        return exec_guarded(db, stmt, nparams, values, res, until);
    int sent = db->unnamed
                   ? PQsendQueryParams(db->conn, stmt->sql, nparams, NULL, values, NULL, NULL, 0)
                   : PQsendQueryPrepared(db->conn, stmt->name, nparams, values, NULL, NULL, 0);
    if (!sent)
        return finish(db, stmt->name, NULL, res);
    return finish(db, stmt->name, await_result(db, stmt->name), res);
}

enum lb_status lb_db_exec_once(struct lb_db *db, const char *sql, int nparams,
                               const char *const *values, PGresult **res)
{
    if (res)
        *res = NULL;
    enum lb_status s = lb_db_ready(db);
    if (s != LB_OK)
        return s;
    if (!PQsendQueryParams(db->conn, sql, nparams, NULL, values, NULL, NULL, 0))
        return finish(db, "once", NULL, res);
    return finish(db, "once", await_result(db, "once"), res);
}

enum lb_status lb_db_exec_script(struct lb_db *db, const char *sql)
{
    enum lb_status s = lb_db_ready(db);
    if (s != LB_OK)
        return s;
    return finish(db, "script", PQexec(db->conn, sql), NULL);
}

enum lb_status lb_db_ping(struct lb_db *db)
{
    PGresult *r = NULL;
    enum lb_status s = lb_db_exec_once(db, "SELECT 1", 0, NULL, &r);
    PQclear(r);
    return s == LB_OK ? LB_OK : LB_UNAVAILABLE;
}

/* Hands the notifications libpq has already read (while reading a result, or just now). */
static int deliver_notifications(struct lb_db *db,
                                 void (*cb)(void *ctx, const char *channel, const char *payload),
                                 void *ctx)
{
    int delivered = 0;
    PGnotify *n;
    while ((n = PQnotifies(db->conn)) != NULL) {
        if (cb)
            cb(ctx, n->relname, n->extra);
        PQfreemem(n);
        delivered++;
    }
    return delivered;
}

int lb_db_sync_notifications(struct lb_db *db,
                             void (*cb)(void *ctx, const char *channel, const char *payload),
                             void *ctx)
{
    if (lb_db_ready(db) != LB_OK)
        return -1;
    /* An empty query: the server sends every notification committed before it read the query
     * ahead of its answer (a listening backend handles the notify signal before it reads the
     * next command, and again before it reports ready). */
    PGresult *r = PQsendQuery(db->conn, "") ? await_result(db, "notify_sync") : NULL;
    if (PQresultStatus(r) != PGRES_EMPTY_QUERY) {
        enum lb_status s = finish(db, "notify_sync", r, NULL);
        if (s == LB_OK) /* an answer, but not the empty query's: nothing is known */
            disconnect(db);
        return -1;
    }
    PQclear(r);
    return deliver_notifications(db, cb, ctx);
}

int lb_db_poll_notifications(struct lb_db *db,
                             void (*cb)(void *ctx, const char *channel, const char *payload),
                             void *ctx)
{
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
        return -1;
    /* Nothing to read in the steady state: one poll() says so, where PQconsumeInput would
     * spend a recv() (EAGAIN) and then its own poll() for the EOF check. Readable means a
     * notification or a closed connection; PQconsumeInput tells which. */
    struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};
    int ready = poll(&pfd, 1, 0);
    if (ready == 0)
        return deliver_notifications(db, cb, ctx);
    if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
        one_line(db->last_error, sizeof db->last_error, PQerrorMessage(db->conn));
        lb_log(LB_LOG_WARN, "db_connection_lost", "error=\"%s\"", db->last_error);
        disconnect(db);
        return -1;
    }
    return deliver_notifications(db, cb, ctx);
}
