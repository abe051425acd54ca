/* store/webhook_deliveries: the deliverer's SQL (leadbookctl webhooks run). A delivery is
 * claimed by moving its next_attempt_at forward by a lease, in a short transaction of its own
 * (FOR UPDATE SKIP LOCKED: deliverers on several hosts take disjoint rows); it is then sent
 * outside any transaction and its result recorded only if the lease is still the one the claim
 * set. A deliverer that dies holds nothing: when the lease runs out, the row is due again. */
#ifndef LB_STORE_WEBHOOK_DELIVERIES_H
#define LB_STORE_WEBHOOK_DELIVERIES_H

#include "db.h"

extern const struct lb_db_stmt_set store_webhook_deliveries_statements;

/* One claimed delivery; the strings live in the batch's result. */
struct store_whd_item {
    const char *id, *tenant_id, *endpoint_id, *event_id;
    int attempt;
    const char *lease;    /* the next_attempt_at the claim set: the proof of ownership */
    const char *url;      /* the endpoint's */
    int enabled;          /* 0: the endpoint is disabled, the delivery must not be sent */
    const char *secret;   /* signing secret (never logged) */
    const char *previous; /* the previous secret while it is still valid, else NULL */
    const char *payload;  /* the exact body */
    size_t payload_len;
};

struct store_whd_batch {
    PGresult *res;
    int count;
    int more; /* other due deliveries were seen (another endpoint's, or past the limit) */
};

/* Claims, for lease_s seconds, the due pending deliveries of one endpoint (the oldest due
 * delivery's) among the limit oldest due ones, oldest first: a batch for one receiver. */
enum lb_status store_whd_claim(struct lb_db *db, int limit, int lease_s,
                               struct store_whd_batch *batch);
void store_whd_item(const struct store_whd_batch *batch, int i, struct store_whd_item *out);
void store_whd_batch_free(struct store_whd_batch *batch);

/* Records n successes (items[i] answered statuses[i]) in one statement. owned[i] = 0 when that
 * claim was lost (the lease ran out and another deliverer took the row, or the endpoint was
 * deleted): nothing was written for it; the others are recorded all the same. */
enum lb_status store_whd_delivered(struct lb_db *db, const struct store_whd_item *items,
                                   const long *statuses, int n, int *owned);

struct store_whd_failure {
    long status;       /* HTTP status, 0 = none (no response) */
    const char *error; /* what went wrong, for the delivery log */
    double retry_s;    /* delay before the next attempt; < 0 = no further attempt */
    int gone;          /* the receiver answered 410: disable the endpoint now */
};
struct store_whd_failed {
    int owned;
    char next_id[37];  /* the next attempt's row, "" when none was scheduled */
    char disabled[64]; /* why the endpoint was disabled by this failure, "" if it was not */
    long cancelled;    /* other pending deliveries failed because of that */
};
/* Marks the attempt failed, schedules the next one (a new pending row, attempt + 1), starts or
 * continues the endpoint's run of failures (failing_since) and disables the endpoint on a 410 or
 * when it has been failing for five days; then its other pending deliveries fail too. */
enum lb_status store_whd_failed(struct lb_db *db, const struct store_whd_item *it,
                                const struct store_whd_failure *f, struct store_whd_failed *out);

/* Gives a claimed delivery back unsent (a stopping deliverer): due again at once. */
enum lb_status store_whd_release(struct lb_db *db, const struct store_whd_item *it);

/* Seconds until the earliest pending delivery is due (<= 0: due now); *none = 1 when there is
 * none. */
enum lb_status store_whd_next_due(struct lb_db *db, double *seconds, int *none);
/* The deliverer's session setting, once per connection: its commits do not wait for the WAL
 * flush (synchronous_commit off). What a crash of PostgreSQL may then lose is a claim or a
 * result of the last few hundred milliseconds: the delivery falls due again and is sent again,
 * which at-least-once delivery allows; never an event (the outbox is written by the changes'
 * own transactions). And custom plans (not LB_DB_SESSION_OPTIONS' generic ones): the outbox
 * tables start empty and grow by hundreds of rows a second, and a generic plan made while they
 * were small joined webhook_events by a full index scan per delivery (t/bench wh_pairs: claims
 * of 8,000-16,000 buffers, the write rate with a webhook falling run after run) until an
 * autovacuum analyze replanned it; a custom plan is made for the table as it is now, and costs
 * a planning per statement, which for a batch of deliveries is little. These statements are
 * not tenant-scoped, so the reason for generic plans (one plan whichever tenant comes first)
 * does not apply. Not for a connection through a transaction pooler, where a session setting
 * would reach other clients (unnamed statements are planned at each execution there anyway). */
enum lb_status store_whd_session(struct lb_db *db);

#endif
