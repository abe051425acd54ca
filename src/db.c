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
    const struct lb_db_stmt_set *const *catalog;
    PGconn *conn;           /* NULL when not connected (or after a break) */
    long long last_attempt; /* monotonic ms of the last connect attempt; 0 = none */
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

/* Prepares the catalog and LISTENs; 0 or -1 (logged). */
static int setup_session(struct lb_db *db)
{
    for (const struct lb_db_stmt_set *const *set = db->catalog; set && *set; set++) {
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
    const char *keys[] = {"dbname", "connect_timeout", "options", NULL};
    const char *vals[] = {db->conninfo, timeout, options, NULL};
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
static PGresult *await_result(struct lb_db *db, const char *what)
{
    long long deadline =
        db->statement_timeout_ms > 0
            ? lb_monotonic_ms() + db->statement_timeout_ms + LB_DB_DEADLINE_MARGIN_MS
            : 0;
    PGresult *last = NULL;
    for (;;) {
        while (PQisBusy(db->conn)) {
            int timeout = -1;
            if (deadline) {
                long long left = deadline - lb_monotonic_ms();
                if (left <= 0) {
                    lb_log(LB_LOG_ERROR, "db_deadline", "stmt=%s waited_ms=%d", what,
                           db->statement_timeout_ms + LB_DB_DEADLINE_MARGIN_MS);
                    PQclear(last);
                    snprintf(db->last_error, sizeof db->last_error,
                             "no answer from the database within %d ms",
                             db->statement_timeout_ms + LB_DB_DEADLINE_MARGIN_MS);
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
    if (!PQsendQueryPrepared(db->conn, stmt->name, nparams, values, NULL, NULL, 0))
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
