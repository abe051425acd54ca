/* store/idempotency: POST and PATCH requests with an Idempotency-Key (API.md "Idempotency").
 * Every idempotent write is one statement (one round trip, as without a key) that
 *  - takes a transaction-scoped advisory lock on (scope, key) without waiting: a request with
 *    the same key still running makes it answer "busy" (409 + Retry-After);
 *  - reads the stored answer of (scope, key): if there is one, it writes nothing and the stored
 *    answer is replayed (or 422 when the fingerprint differs);
 *  - otherwise makes its change and stores the answer it gives in the same statement, so a
 *    crash keeps both or neither. Two racing requests that both saw no stored answer both try
 *    to store one; the primary key makes the second fail (its change rolls back with it) and
 *    it is run again, to replay the first one's answer.
 * The statements are written with the SQL_IDEM_* macros of store/sqlidem.h; their last three
 * parameters are scope, key and fingerprint, then the pre-rendered answers the statement may
 * store for a missing row (404) or a refusal (409). */
#ifndef LB_STORE_IDEMPOTENCY_H
#define LB_STORE_IDEMPOTENCY_H

#include "buf.h"
#include "db.h"

enum store_idem_outcome {
    STORE_IDEM_NEW,      /* ran now; its answer is stored */
    STORE_IDEM_REPLAY,   /* an answer was stored before: replayed, nothing changed */
    STORE_IDEM_MISMATCH, /* the key was used with another request (422) */
    STORE_IDEM_BUSY,     /* the first request with this key is still running (409) */
};

struct store_idem {
    /* in */
    const char *scope;       /* "key:<id>", "user:<sub>", "meeting:<token>" */
    const char *key;         /* the Idempotency-Key (1..255 printable ASCII) */
    const char *fingerprint; /* SHA-256 of method, path and body, 64 hex digits */
    const char *not_found;   /* the whole 404 answer body to store if the target is missing */
    /* out */
    enum store_idem_outcome outcome;
    int status; /* HTTP status of the answer appended to out (NEW and REPLAY) */
};

extern const struct lb_db_stmt_set store_idempotency_statements;

/* Runs an idempotent statement: values[0..nparams) end with the parameters named above (the
 * caller puts scope, key, fingerprint and the pre-rendered answers in its positions). On LB_OK
 * fills idem->outcome and idem->status and appends the answer body (NEW, REPLAY) to out. */
enum lb_status store_idem_exec(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                               const char *const *values, struct store_idem *idem,
                               struct lb_buf *out);

/* Deletes the records past their expiry (at least 24 hours old), in batches; *count gets how
 * many. Safe from several hosts at once. */
enum lb_status store_idem_purge(struct lb_db *db, long *count);

#endif
