/* store/webhook_deliveries: claim, record and release webhook deliveries (see the header). */
#include "store/webhook_deliveries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum { WHD_CLAIM, WHD_DELIVERED, WHD_FAILED, WHD_RELEASE, WHD_NEXT_DUE };

/* The claim's own statement is its transaction: the row locks last only while it runs. The
 * lease is what keeps the row from other deliverers afterwards, and what a result must match.
 * cand locks the $1 oldest due rows; of those, only the ones of the oldest's endpoint are
 * claimed (the others are let go at once, still due, for the next claim): a batch goes to one
 * receiver, so a receiver that hangs holds back only its own deliveries. The rows to update are
 * named by an array of ids (an index lookup each): with UPDATE ... FROM cand the generic plan
 * (LB_DB_SESSION_OPTIONS) merge-joined the whole primary key against the batch, 2,500 buffers
 * and 3.5 ms a claim with 5,000 rows in the table. */
#define SQL_CLAIM                                                                                  \
    "WITH cand AS MATERIALIZED ("                                                                  \
    "       SELECT id, tenant_id, endpoint_id, next_attempt_at FROM webhook_deliveries "           \
    "       WHERE status = 'pending' AND next_attempt_at <= now() "                                \
    "       ORDER BY next_attempt_at LIMIT $1::int FOR UPDATE SKIP LOCKED), "                      \
    "first AS (SELECT tenant_id, endpoint_id FROM cand ORDER BY next_attempt_at, id LIMIT 1), "    \
    "claimed AS (UPDATE webhook_deliveries d "                                                     \
    "            SET next_attempt_at = now() + make_interval(secs => $2::int) "                    \
    "            WHERE d.id = ANY (ARRAY(SELECT c.id FROM cand c JOIN first f "                    \
    "                                    ON f.tenant_id = c.tenant_id "                            \
    "                                   AND f.endpoint_id = c.endpoint_id)) "                      \
    "            RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_id, d.attempt, "              \
    "                      d.next_attempt_at) "                                                    \
    "SELECT c.id, c.tenant_id, c.endpoint_id, c.event_id, c.attempt, c.next_attempt_at::text, "    \
    "       w.url, w.enabled, w.secret, "                                                          \
    "       CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END, "           \
    "       e.payload, (SELECT count(*) FROM cand) "                                               \
    "FROM claimed c "                                                                              \
    "JOIN webhook_endpoints w ON w.tenant_id = c.tenant_id AND w.id = c.endpoint_id "              \
    "JOIN webhook_events e ON e.id = c.event_id "                                                  \
    "ORDER BY c.next_attempt_at, c.id"

/* Several successes in one statement: $1 the ids, $2 their leases, $3 their statuses (arrays
 * of the same length). Each row only while its claim is ours (its lease): a delivery whose lease
 * ran out may have been claimed again, and then its new owner records it; the others are
 * recorded all the same. A success ends its endpoint's run of failures. Returns the ids
 * recorded. */
#define SQL_DELIVERED                                                                              \
    "WITH r AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int[]) "                   \
    "                  AS r(id, lease, status)), "                                                 \
    "d AS (UPDATE webhook_deliveries p SET status = 'delivered', response_status = r.status, "     \
    "             delivered_at = now(), next_attempt_at = NULL, error = NULL "                     \
    "      FROM r WHERE p.id = ANY ($1::uuid[]) AND p.id = r.id AND p.status = 'pending' "         \
    "        AND p.next_attempt_at = r.lease "                                                     \
    "      RETURNING p.id, p.tenant_id, p.endpoint_id), "                                          \
    "w AS (UPDATE webhook_endpoints w SET failing_since = NULL "                                   \
    "      FROM (SELECT DISTINCT tenant_id, endpoint_id FROM d) x "                                \
    "      WHERE w.tenant_id = x.tenant_id AND w.id = x.endpoint_id "                              \
    "        AND w.failing_since IS NOT NULL RETURNING 1) "                                        \
    "SELECT id::text FROM d"

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
    batch->count = batch->more = 0;
    enum lb_status s = lb_db_exec(db, &stmts[WHD_CLAIM], 2, v, &batch->res);
    if (s == LB_OK)
        batch->count = PQntuples(batch->res);
    if (batch->count > 0) {
        long seen = atol(PQgetvalue(batch->res, 0, 11));
        batch->more = seen > batch->count || seen >= limit;
    }
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
    batch->count = batch->more = 0;
}

/* The three arrays of SQL_DELIVERED as PostgreSQL array literals, each element double-quoted
 * (ids, timestamps and numbers: no quote or backslash in them). */
enum lb_status store_whd_delivered(struct lb_db *db, const struct store_whd_item *items,
                                   const long *statuses, int n, int *owned)
{
    for (int i = 0; i < n; i++)
        owned[i] = 0;
    if (n <= 0)
        return LB_OK;
    struct lb_buf a_id, a_lease, a_st;
    lb_buf_init(&a_id);
    lb_buf_init(&a_lease);
    lb_buf_init(&a_st);
    for (int i = 0; i < n; i++) {
        const char *sep = i ? "," : "{";
        lb_buf_printf(&a_id, "%s\"%s\"", sep, items[i].id);
        lb_buf_printf(&a_lease, "%s\"%s\"", sep, items[i].lease);
        lb_buf_printf(&a_st, "%s%ld", sep, statuses[i]);
    }
    lb_buf_append(&a_id, "}", 1);
    lb_buf_append(&a_lease, "}", 1);
    lb_buf_append(&a_st, "}", 1);
    enum lb_status s = LB_INTERNAL;
    if (!a_id.failed && !a_lease.failed && !a_st.failed) {
        const char *v[] = {a_id.data, a_lease.data, a_st.data};
        PGresult *res;
        s = lb_db_exec(db, &stmts[WHD_DELIVERED], 3, v, &res);
        if (s == LB_OK) {
            for (int r = 0; r < PQntuples(res); r++)
                for (int i = 0; i < n; i++)
                    if (strcmp(PQgetvalue(res, r, 0), items[i].id) == 0)
                        owned[i] = 1;
            PQclear(res);
        }
    }
    lb_buf_free(&a_id);
    lb_buf_free(&a_lease);
    lb_buf_free(&a_st);
    return s;
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
    return lb_db_exec_script(db, "SET synchronous_commit TO off; "
                                 "SET plan_cache_mode TO force_custom_plan");
}
