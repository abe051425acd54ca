/* webhook_deliver: the webhook deliverer, `leadbookctl webhooks run [--once]` (API.md
 * "Webhooks"). It claims due deliveries from the outbox, POSTs them (webhook_http), records
 * each result and schedules the retries (webhook_sign), and sleeps until a NOTIFY on
 * leadbook_webhooks, the next due retry, or a poll every few seconds. Stops on SIGTERM/SIGINT
 * after the request in flight; reconnects to PostgreSQL by itself. */
#ifndef LB_WEBHOOK_DELIVER_H
#define LB_WEBHOOK_DELIVER_H

#define LB_WEBHOOK_CHANNEL "leadbook_webhooks"
#define LB_WEBHOOK_POLL_MS 5000 /* the longest sleep without a NOTIFY */
#define LB_WEBHOOK_BATCH 4      /* deliveries claimed at a time */
#define LB_WEBHOOK_LEASE_S 60   /* how long a claim keeps a delivery from other deliverers */

struct lb_webhook_deliver_options {
    const char *conninfo;    /* libpq conninfo; "" = PG* variables */
    int connect_timeout_s;   /* of one (re)connect attempt */
    const char *allow_hosts; /* webhook_allow_hosts */
    int once;                /* deliver what is due now, then return */
};

/* Runs the deliverer; returns the process exit status: 0 after a stop signal (or, with once,
 * when nothing due is left), 1 when it could not start (or, with once, when the database was
 * unavailable). */
int lb_webhook_deliver_run(const struct lb_webhook_deliver_options *opt);

#endif
