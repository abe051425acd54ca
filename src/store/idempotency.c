/* store/idempotency: running the idempotent statements and purging old records. */
#include "store/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/util.h"

#define PURGE_BATCH 5000

enum { IDEM_PURGE };

static const struct lb_db_stmt stmts[] = {
    [IDEM_PURGE] = {"idem_purge",
                    "WITH old AS (SELECT scope, key FROM idempotency_keys "
                    "             WHERE expires_at <= now() LIMIT $1::int FOR UPDATE SKIP LOCKED) "
                    "DELETE FROM idempotency_keys i USING old "
                    "WHERE i.scope = old.scope AND i.key = old.key",
                    1},
};

const struct lb_db_stmt_set store_idempotency_statements = {stmts, sizeof stmts / sizeof stmts[0]};

/* Columns of SQL_IDEM_TAIL: got, stored fingerprint, stored status, stored body, new status,
 * new body. */
static enum lb_status interpret(PGresult *res, struct store_idem *idem, struct lb_buf *out)
{
    if (PQntuples(res) != 1)
        return LB_INTERNAL;
    if (!PQgetisnull(res, 0, 1)) {
        if (strcmp(PQgetvalue(res, 0, 1), idem->fingerprint) != 0) {
            idem->outcome = STORE_IDEM_MISMATCH;
            return LB_OK;
        }
        idem->outcome = STORE_IDEM_REPLAY;
        idem->status = atoi(PQgetvalue(res, 0, 2));
        return store_append(out, PQgetvalue(res, 0, 3));
    }
    if (PQgetvalue(res, 0, 0)[0] != 't') {
        idem->outcome = STORE_IDEM_BUSY;
        return LB_OK;
    }
    if (PQgetisnull(res, 0, 4))
        return LB_INTERNAL; /* the statement gave no answer: a bug in its SQL */
    idem->outcome = STORE_IDEM_NEW;
    idem->status = atoi(PQgetvalue(res, 0, 4));
    return store_append(out, PQgetvalue(res, 0, 5));
}

enum lb_status store_idem_exec(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                               const char *const *values, struct store_idem *idem,
                               struct lb_buf *out)
{
    /* A unique violation is the race of two requests with one key that both saw no stored
     * answer: the loser rolled back, and running it again replays the winner's answer. */
    for (int attempt = 0;; attempt++) {
        PGresult *res;
        enum lb_status s = lb_db_exec(db, stmt, nparams, values, &res);
        if (s == LB_CONFLICT && attempt == 0)
            continue;
        if (s != LB_OK)
            return s;
        s = interpret(res, idem, out);
        PQclear(res);
        return s;
    }
}

enum lb_status store_idem_purge(struct lb_db *db, long *count)
{
    char batch[16];
    snprintf(batch, sizeof batch, "%d", PURGE_BATCH);
    const char *v[] = {batch};
    *count = 0;
    for (;;) {
        PGresult *res;
        enum lb_status s = lb_db_exec(db, &stmts[IDEM_PURGE], 1, v, &res);
        if (s != LB_OK)
            return s;
        long n = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        *count += n;
        if (n < PURGE_BATCH)
            return LB_OK;
    }
}
