/* webhook_sign: the pure parts of webhook delivery (API.md "Webhooks"): the Standard Webhooks
 * signature and the retry schedule. No I/O, so that both are unit-tested on their own. */
#ifndef LB_WEBHOOK_SIGN_H
#define LB_WEBHOOK_SIGN_H

#include <stddef.h>

/* "v1," + base64 of a SHA-256 HMAC: 3 + 44 characters. */
#define LB_WEBHOOK_SIG_LEN 47
/* The webhook-signature header: at most two signatures (current, previous) and a space. */
#define LB_WEBHOOK_SIG_HEADER_LEN (2 * LB_WEBHOOK_SIG_LEN + 2)

/* Writes "v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">" and a NUL to
 * out[LB_WEBHOOK_SIG_LEN + 1], the key being the base64-decoded bytes after "whsec_" of secret.
 * Returns 0, or -1 when the secret is not "whsec_" + canonical base64 of 1..64 bytes. */
int lb_webhook_sign(const char *secret, const char *id, long long timestamp, const char *body,
                    size_t body_len, char out[LB_WEBHOOK_SIG_LEN + 1]);

/* The header value: the signature with secret, then (if previous is not NULL) a space and the
 * one with previous, so that a receiver holding either secret during a rotation verifies it.
 * out must hold LB_WEBHOOK_SIG_HEADER_LEN bytes. Returns 0 or -1 (a bad secret). */
int lb_webhook_signature_header(const char *secret, const char *previous, const char *id,
                                long long timestamp, const char *body, size_t body_len,
                                char out[LB_WEBHOOK_SIG_HEADER_LEN]);

/* The retry schedule after a failed attempt (API.md): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 14 h, 20 h, so at most LB_WEBHOOK_MAX_ATTEMPTS attempts in all. */
#define LB_WEBHOOK_MAX_ATTEMPTS 9
/* Nominal seconds between failed attempt `attempt` (1-based) and the next; -1 when attempt was
 * the last (or is out of range). */
long lb_webhook_retry_base_s(int attempt);
/* The delay actually used: the nominal one scaled by a jitter factor in [0.9, 1.1), which
 * spreads the retries of many deliveries that failed together (a receiver's outage) so that
 * they do not all come back at the same second. rnd is uniform in [0, 1). -1 when none. */
double lb_webhook_retry_delay_s(int attempt, double rnd);

#endif
