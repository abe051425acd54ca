/* store/webhook_deliveries: claim, record and release webhook deliveries (see the header). */
#include "store/webhook_deliveries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WHD_CLAIM, WHD_DELIVERED, WHD_FAILED, WHD_RELEASE, WHD_NEXT_DUE };

/* The claim's own statement is its transaction: the row locks last only while it runs. The
 * lease is what keeps the row from other deliverers afterwards, and what a result must match. */
#define SQL_CLAIM                                                                                  \
    "WITH due AS (SELECT id FROM webhook_deliveries "                                              \
    "             WHERE status = 'pending' AND next_attempt_at <= now() "                          \
    "             ORDER BY next_attempt_at LIMIT $1::int FOR UPDATE SKIP LOCKED), "                \
    "claimed AS (UPDATE webhook_deliveries d "                                                     \
    "            SET next_attempt_at = now() + make_interval(secs => $2::int) "                    \
    "            FROM due WHERE d.id = due.id "                                                    \
    "            RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_id, d.attempt, "              \
    "                      d.next_attempt_at) "                                                    \
    "SELECT c.id, c.tenant_id, c.endpoint_id, c.event_id, c.attempt, c.next_attempt_at::text, "    \
    "       w.url, w.enabled, w.secret, "                                                          \
    "       CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END, "           \
    "       e.payload "                                                                            \
    "FROM claimed c "                                                                              \
    "JOIN webhook_endpoints w ON w.tenant_id = c.tenant_id AND w.id = c.endpoint_id "              \
    "JOIN webhook_events e ON e.id = c.event_id "                                                  \
    "ORDER BY c.next_attempt_at, c.id"

/* Only while the claim is ours ($2, the lease): a delivery whose lease ran out may have been
 * claimed again, and then its new owner records it. A success ends the endpoint's run of
 * failures. */
#define SQL_DELIVERED                                                                              \
    "WITH d AS (UPDATE webhook_deliveries SET status = 'delivered', response_status = $3::int, "   \
    "                  delivered_at = now(), next_attempt_at = NULL, error = NULL "                \
    "           WHERE id = $1::uuid AND status = 'pending' "                                       \
    "             AND next_attempt_at = $2::timestamptz "                                          \
    "           RETURNING tenant_id, endpoint_id), "                                               \
    "w AS (UPDATE webhook_endpoints w SET failing_since = NULL FROM d "                            \
    "      WHERE w.tenant_id = d.tenant_id AND w.id = d.endpoint_id "                              \
    "        AND w.failing_since IS NOT NULL RETURNING 1) "                                        \
    "SELECT count(*) FROM d"

/* e decides from the snapshot whether this failure disables the endpoint (a 410, $6, or a run
 * of failures older than five days); d records the attempt (with the retry's time only if
 * there will be one), u starts the run or disables, n inserts the next attempt, x fails the
 * endpoint's other pending deliveries when it was disabled. Every part hangs on d, so nothing is
 * written when the claim was lost. */
#define SQL_FAILED                                                                                 \
    "WITH e AS (SELECT w.tenant_id, w.id, w.enabled AS was_enabled, "                              \
    "                  CASE WHEN NOT w.enabled THEN NULL "                                         \
    "                       WHEN $6::boolean THEN '410 Gone from the receiver' "                   \
    "                       WHEN w.failing_since <= now() - interval '5 days' "                    \
    "                            THEN 'failing for 5 days' END AS disable "                        \
    "           FROM webhook_deliveries p "                                                        \
    "           JOIN webhook_endpoints w ON w.tenant_id = p.tenant_id AND w.id = p.endpoint_id "   \
    "           WHERE p.id = $1::uuid), "                                                          \
    "d AS (UPDATE webhook_deliveries p SET status = 'failed', response_status = $3::int, "         \
    "             error = $4::text, "                                                              \
    "             next_attempt_at = CASE WHEN $5::float8 IS NULL OR e.disable IS NOT NULL "        \
    "                                      OR NOT e.was_enabled THEN NULL "                        \
    "                                    ELSE now() + make_interval(secs => $5::float8) END "      \
    "      FROM e WHERE p.id = $1::uuid AND p.status = 'pending' "                                 \
    "        AND p.next_attempt_at = $2::timestamptz "                                             \
    "      RETURNING p.tenant_id, p.endpoint_id, p.event_id, p.attempt, p.next_attempt_at), "      \
    "u AS (UPDATE webhook_endpoints w "                                                            \
    "      SET failing_since = COALESCE(w.failing_since, now()), "                                 \
    "          enabled = e.disable IS NULL, "                                                      \
    "          disabled_reason = COALESCE(e.disable, w.disabled_reason), "                         \
    "          updated_at = CASE WHEN e.disable IS NULL THEN w.updated_at ELSE now() END "         \
    "      FROM d, e WHERE e.was_enabled AND w.tenant_id = e.tenant_id AND w.id = e.id "           \
    "      RETURNING 1), "                                                                         \
    "n AS (INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, attempt, "            \
    "                                      next_attempt_at) "                                      \
    "      SELECT d.tenant_id, d.endpoint_id, d.event_id, d.attempt + 1, d.next_attempt_at "       \
    "      FROM d WHERE d.next_attempt_at IS NOT NULL RETURNING id), "                             \
    "x AS (UPDATE webhook_deliveries p SET status = 'failed', next_attempt_at = NULL, "            \
    "             error = 'not sent: the endpoint was disabled (' || e.disable || ')' "            \
    "      FROM d, e WHERE e.disable IS NOT NULL AND p.tenant_id = e.tenant_id "                   \
    "        AND p.endpoint_id = e.id AND p.status = 'pending' AND p.id <> $1::uuid "              \
    "      RETURNING 1) "                                                                          \
    "SELECT (SELECT count(*) FROM d), (SELECT id::text FROM n), "                                  \
    "       (SELECT disable FROM e JOIN d ON true), (SELECT count(*) FROM x)"

static const struct lb_db_stmt stmts[] = {
    [WHD_CLAIM] = {"whd_claim", SQL_CLAIM, 2},
    [WHD_DELIVERED] = {"whd_delivered", SQL_DELIVERED, 3},
    [WHD_FAILED] = {"whd_failed", SQL_FAILED, 6},
    [WHD_RELEASE] = {"whd_release",
                     "UPDATE webhook_deliveries SET next_attempt_at = now() "
                     "WHERE id = $1::uuid AND status = 'pending' "
                     "AND next_attempt_at = $2::timestamptz",
                     2},
    [WHD_NEXT_DUE] = {"whd_next_due",
                      "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 "
                      "FROM webhook_deliveries WHERE status = 'pending'",
                      0},
};

const struct lb_db_stmt_set store_webhook_deliveries_statements = {stmts,
                                                                   sizeof stmts / sizeof stmts[0]};

enum lb_status store_whd_claim(struct lb_db *db, int limit, int lease_s,
                               struct store_whd_batch *batch)
{
    char lim[16], lease[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(lease, sizeof lease, "%d", lease_s);
    const char *v[] = {lim, lease};
    batch->res = NULL;
    batch->count = 0;
    enum lb_status s = lb_db_exec(db, &stmts[WHD_CLAIM], 2, v, &batch->res);
    if (s == LB_OK)
        batch->count = PQntuples(batch->res);
    return s;
}

static const char *nullable(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void store_whd_item(const struct store_whd_batch *batch, int i, struct store_whd_item *out)
{
    PGresult *r = batch->res;
    out->id = PQgetvalue(r, i, 0);
    out->tenant_id = PQgetvalue(r, i, 1);
    out->endpoint_id = PQgetvalue(r, i, 2);
    out->event_id = PQgetvalue(r, i, 3);
    out->attempt = atoi(PQgetvalue(r, i, 4));
    out->lease = PQgetvalue(r, i, 5);
    out->url = PQgetvalue(r, i, 6);
    out->enabled = PQgetvalue(r, i, 7)[0] == 't';
    out->secret = PQgetvalue(r, i, 8);
    out->previous = nullable(r, i, 9);
    out->payload = PQgetvalue(r, i, 10);
    out->payload_len = (size_t)PQgetlength(r, i, 10);
}

void store_whd_batch_free(struct store_whd_batch *batch)
{
    PQclear(batch->res);
    batch->res = NULL;
    batch->count = 0;
}

enum lb_status store_whd_delivered(struct lb_db *db, const struct store_whd_item *it, long status,
                                   int *owned)
{
    char st[16];
    snprintf(st, sizeof st, "%ld", status);
    const char *v[] = {it->id, it->lease, st};
    PGresult *res;
    *owned = 0;
    enum lb_status s = lb_db_exec(db, &stmts[WHD_DELIVERED], 3, v, &res);
    if (s != LB_OK)
        return s;
    *owned = atoi(PQgetvalue(res, 0, 0)) > 0;
    PQclear(res);
    return LB_OK;
}

enum lb_status store_whd_failed(struct lb_db *db, const struct store_whd_item *it,
                                const struct store_whd_failure *f, struct store_whd_failed *out)
{
    char st[16], delay[32];
    snprintf(st, sizeof st, "%ld", f->status);
    snprintf(delay, sizeof delay, "%.3f", f->retry_s);
    const char *v[] = {it->id,
                       it->lease,
                       f->status > 0 ? st : NULL,
                       f->error,
                       f->retry_s >= 0 ? delay : NULL,
                       f->gone ? "true" : "false"};
    memset(out, 0, sizeof *out);
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[WHD_FAILED], 6, v, &res);
    if (s != LB_OK)
        return s;
    out->owned = atoi(PQgetvalue(res, 0, 0)) > 0;
    snprintf(out->next_id, sizeof out->next_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->disabled, sizeof out->disabled, "%s", PQgetvalue(res, 0, 2));
    out->cancelled = atol(PQgetvalue(res, 0, 3));
    PQclear(res);
    return LB_OK;
}

enum lb_status store_whd_release(struct lb_db *db, const struct store_whd_item *it)
{
    const char *v[] = {it->id, it->lease};
    return lb_db_exec(db, &stmts[WHD_RELEASE], 2, v, NULL);
}

enum lb_status store_whd_next_due(struct lb_db *db, double *seconds, int *none)
{
    PGresult *res;
    enum lb_status s = lb_db_exec(db, &stmts[WHD_NEXT_DUE], 0, NULL, &res);
    if (s != LB_OK)
        return s;
    *none = PQgetisnull(res, 0, 0);
    *seconds = *none ? 0 : atof(PQgetvalue(res, 0, 0));
    PQclear(res);
    return LB_OK;
}

enum lb_status store_whd_session(struct lb_db *db)
{
    return lb_db_exec_script(db, "SET synchronous_commit TO off");
}
