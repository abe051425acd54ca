/* db: one PostgreSQL connection per worker; connect/reconnect with throttling, every statement
 * prepared once per connection, SQLSTATE -> lb_status in one place, LISTEN/NOTIFY polling. */
#ifndef LB_DB_H
#define LB_DB_H

#include <libpq-fe.h>

#include "status.h"

struct lb_db_options {
    const char *conninfo;       /* libpq conninfo; NULL or "" = libpq's PG* environment */
    int connect_timeout_s;      /* bound of one (re)connect attempt; libpq's minimum is 2 */
    int statement_timeout_ms;   /* PostgreSQL statement_timeout; 0 = server default */
    const char *listen_channel; /* NULL = none; LISTENed on after every connect */
    /* db_pool_mode = transaction (a PgBouncer in transaction pooling): no named prepared
     * statements (PgBouncer 1.18 does not carry them from one server connection to the next),
     * each statement sent with its text (PQsendQueryParams: Parse/Bind/Execute in one round
     * trip), and no startup "options" (PgBouncer refuses the parameter): the session settings
     * of LB_DB_SESSION_OPTIONS come from PgBouncer's connect_query, checked at connect. */
    int unnamed;
};

/* A prepared statement: name (unique), constant SQL text, number of parameters. */
struct lb_db_stmt {
    const char *name;
    const char *sql;
    int nparams;
    /* 1: a change of the one row that $1, $2 name (tenant, id), which may be locked by a stuck
     * transaction: one request at a time waits for that row (lock_timeout); another that comes
     * meanwhile gets LB_BUSY after LB_DB_QUEUE_WAIT_MS instead of waiting too, so that a stuck
     * row holds one worker, not all of them (API.md "Deadlines"). */
    int one_waiter;
};

/* The statements of one store module. */
struct lb_db_stmt_set {
    const struct lb_db_stmt *stmts;
    int count;
};

/* Every statement of the store (src/store/catalog.c), NULL-terminated; lb_db_ready prepares
 * them all. */
extern const struct lb_db_stmt_set *const lb_db_catalog[];

struct lb_db;

/* Does not connect yet; copies the strings. NULL only when out of memory. */
struct lb_db *lb_db_new(const struct lb_db_options *opt);
void lb_db_free(struct lb_db *db);
/* Replaces the statements prepared at connect (default lb_db_catalog); NULL = none, for a
 * connection that must work on an empty database (leadbookctl migrate). Call before ready. */
void lb_db_set_statements(struct lb_db *db, const struct lb_db_stmt_set *const *catalog);

/* Session settings of every connection (startup options, before statement_timeout):
 * - generic plans: every statement of the catalog is written to have one good plan for any
 *   tenant (doc/schema.md); with custom plans the choice after 5 executions depends on which
 *   tenant came first (a small one keeps custom plans, re-planned on every call: 1-8 ms), and
 *   a custom plan for a large tenant can go parallel;
 * - no parallel query: an API request must not start background workers (10+ ms each to
 *   launch, and a pool of 8 per server shared by every connection);
 * - no JIT: a generic plan's row estimates are for "any tenant", so the cost of a page of
 *   GET /leads passes jit_above_cost and every call compiled its expressions (2 ms -> 60-600
 *   ms measured); no statement here runs long enough to win it back. */
/* - lock_timeout: no request waits longer than 2 s for a row lock (API.md "Deadlines"): a
 *   booking held by a stuck transaction answers 409 + Retry-After, and one tenant's stuck row
 *   cannot tie up the workers every other tenant needs. */
/* - no sequential scan where an index can serve: a generic plan is made once per connection,
 *   and one made while a table was (analyzed as) empty scans it whole for ever after: POST
 *   /leads with an Idempotency-Key fell to a third of the plain rate as idempotency_keys grew
 *   (t/bench idem_pairs), until an analyze replanned it. Every statement here is written for
 *   an index; where none serves, the planner still falls back to the scan. */
#define LB_DB_LOCK_TIMEOUT_MS 2000
#define LB_DB_QUEUE_WAIT_MS 50 /* one_waiter statements: the wait for the row's queue */
#define LB_DB_SESSION_OPTIONS                                                                      \
    "-c plan_cache_mode=force_generic_plan -c max_parallel_workers_per_gather=0 -c jit=off "       \
    "-c lock_timeout=2000 -c enable_seqscan=off"

/* Connects or reconnects if needed and prepares every statement. LB_OK or LB_UNAVAILABLE.
 * Never blocks longer than connect_timeout_s; while the server is down, attempts are throttled
 * to one per LB_DB_RETRY_MS (in between it answers LB_UNAVAILABLE at once). */
#define LB_DB_RETRY_MS 100
/* A query the server has not answered statement_timeout + this long after it was sent is given
 * up (cancelled, the connection dropped: LB_UNAVAILABLE). */
#define LB_DB_DEADLINE_MARGIN_MS 1500
/* A write is committed only up to this long before the worker stops waiting for it (the time
 * its answer needs to come back); later, it is rolled back by the server itself. */
#define LB_DB_COMMIT_GRACE_MS 1000
enum lb_status lb_db_ready(struct lb_db *db);
/* The wall-clock ms (CLOCK_REALTIME, as nginx's $msec) by which the current request must be
 * answered, 0 = none: no statement is waited for beyond it, none is sent within
 * LB_DB_COMMIT_GRACE_MS of it, and no write commits later than LB_DB_COMMIT_GRACE_MS before
 * it (nor later than statement_timeout + the margin - the grace after it was sent). */
void lb_db_set_deadline(struct lb_db *db, long long realtime_ms);
/* A real round trip (for GET /readyz): LB_OK or LB_UNAVAILABLE. */
enum lb_status lb_db_ping(struct lb_db *db);
/* Increments on every successful (re)connect, so per-connection caches can be flushed. */
unsigned long lb_db_generation(const struct lb_db *db);
/* One round trip (reconnecting if need be): delivers to cb every notification committed before
 * the call; returns how many, -1 if the connection is broken (or could not be made). */
int lb_db_sync_notifications(struct lb_db *db,
                             void (*cb)(void *ctx, const char *channel, const char *payload),
                             void *ctx);
/* Non-blocking: delivers queued notifications to cb; returns how many, -1 if the connection
 * is broken (or absent). */
int lb_db_poll_notifications(struct lb_db *db,
                             void (*cb)(void *ctx, const char *channel, const char *payload),
                             void *ctx);

/* Runs a prepared statement of the catalog with nparams text parameters (NULL = SQL NULL).
 * LB_OK: *res holds the result (tuples or command), the caller PQclear()s it. Otherwise *res is
 * NULL and the status is mapped from the SQLSTATE; a broken connection gives LB_UNAVAILABLE and
 * the next lb_db_ready reconnects. Calls lb_db_ready itself first. */
enum lb_status lb_db_exec(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                          const char *const *values, PGresult **res);
/* For constant one-off SQL (the operator CLI, tests): parameterised, unprepared. */
enum lb_status lb_db_exec_once(struct lb_db *db, const char *sql, int nparams,
                               const char *const *values, PGresult **res);
/* Runs trusted SQL text with the simple protocol (several statements allowed): migration files
 * and BEGIN/COMMIT/ROLLBACK. Never for text containing input. */
enum lb_status lb_db_exec_script(struct lb_db *db, const char *sql);
/* The last error's primary message (empty if none); for the operator CLI's messages. */
const char *lb_db_last_error(const struct lb_db *db);

/* The one SQLSTATE -> status mapping (NULL or unknown -> LB_INTERNAL). */
enum lb_status lb_db_status_from_sqlstate(const char *sqlstate);

#endif
