/* webhook_deliver: the webhook deliverer, `leadbookctl webhooks run [--once]` (API.md
 * "Webhooks"). It claims due deliveries from the outbox in batches of one endpoint's, POSTs
 * them (webhook_http), records the results and schedules the retries (webhook_sign), and sleeps
 * until a NOTIFY on leadbook_webhooks, the next due retry, or a poll every few seconds. Stops on
 * SIGTERM/SIGINT after the request in flight; reconnects to PostgreSQL by itself. */
#ifndef LB_WEBHOOK_DELIVER_H
#define LB_WEBHOOK_DELIVER_H

#define LB_WEBHOOK_CHANNEL "leadbook_webhooks"
#define LB_WEBHOOK_POLL_MS 5000     /* the longest sleep without a NOTIFY */
#define LB_WEBHOOK_BUSY_POLL_MS 300 /* the longest sleep after a pass that delivered anything */
/* Deliveries claimed at a time, at most: those of one endpoint among this many oldest due ones
 * (store_whd_claim). A claimed delivery waits for those of its batch before it, so a batch goes
 * to one receiver only: one that hangs for the 10 s timeout holds back its own deliveries, not
 * other endpoints' (check_webhooks_deliver test_hang_past_timeout). A batch costs one claim
 * statement, one connection to the receiver and one statement for its successes
 * (t/bench/results-pairs.md, issue 18, the deliverer's work per delivery). */
#define LB_WEBHOOK_BATCH 16
/* Deliveries in flight at once per deliverer (threads, each with its own connection): a hanging
 * receiver holds one of them; --once sends one at a time. */
#define LB_WEBHOOK_SENDERS 4
#define LB_WEBHOOK_LEASE_S 60 /* how long a claim keeps a delivery from other deliverers */

struct lb_webhook_deliver_options {
    const char *conninfo;        /* libpq conninfo; "" = PG* variables */
    int connect_timeout_s;       /* of one (re)connect attempt */
    const char *allow_hosts;     /* webhook_allow_hosts */
    int once;                    /* deliver what is due now, then return */
    const char *listen_conninfo; /* db_listen: direct to the primary for LISTEN; NULL = conninfo */
    int unnamed;                 /* db_pool_mode = transaction (lb_db_options) */
};

/* Runs the deliverer; returns the process exit status: 0 after a stop signal (or, with once,
 * when nothing due is left), 1 when it could not start (or, with once, when the database was
 * unavailable). */
int lb_webhook_deliver_run(const struct lb_webhook_deliver_options *opt);

#endif
