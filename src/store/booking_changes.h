/* store/booking_changes: the booking lifecycle beyond status changes by a tenant: reschedules
 * (PATCH /bookings/:id), the prospect's own changes by meeting token (PATCH
 * /bookings/meeting/:meetingToken: confirm, cancel, reschedule) and the readable history
 * (GET /bookings/:id/events). Each change is one statement: the row is locked, the change
 * judged on its current state, made and recorded in booking_events together. Each gives the
 * whole answer (status and body, 409 messages included), with or without an Idempotency-Key,
 * so that what is stored for a key is byte for byte what was sent. */
#ifndef LB_STORE_BOOKING_CHANGES_H
#define LB_STORE_BOOKING_CHANGES_H

#include "buf.h"
#include "db.h"
#include "store/actor.h"
#include "store/idempotency.h"

extern const struct lb_db_stmt_set store_booking_changes_statements;

/* An answer: *status is 200, 404 (body = not_found) or 409; the body is appended to out. */
struct store_answer {
    const char *not_found; /* in: the whole 404 body (the same as idem->not_found) */
    int status;            /* out */
};

/* Reschedules the tenant's booking to scheduled_at (ISO 8601 text): allowed while it is
 * PENDING or CONFIRMED and not expired; expiresAt is recomputed from the agent's current
 * linkExpiryHours, status and token stay; the same time again changes nothing. Recorded
 * (kind rescheduled, from and to) by `by`. 200 Booking / 409 / 404. idem NULL: no key. */
enum lb_status store_booking_reschedule(struct lb_db *db, const char *tenant_id,
                                        const char *booking_id, const char *scheduled_at,
                                        const struct store_actor *by, struct store_idem *idem,
                                        struct store_answer *ans, struct lb_buf *out);

/* The prospect's change by meeting token (no tenant: the token is the credential): new_status
 * CONFIRMED (from PENDING) or CANCELLED (from PENDING or CONFIRMED), or, new_status NULL, a
 * reschedule to scheduled_at. A final or expired booking is a 409; the status it already has
 * is a no-op 200. The answer is the public projection (as GET /bookings/meeting/:token), the
 * history row is by the prospect. */
enum lb_status store_booking_prospect_change(struct lb_db *db, const char *meeting_token,
                                             const char *new_status, const char *scheduled_at,
                                             struct store_idem *idem, struct store_answer *ans,
                                             struct lb_buf *out);

/* Appends the tenant's booking's history, oldest first:
 * [{id,kind,fromStatus,toStatus,fromScheduledAt,toScheduledAt,at,by:{kind,id}}].
 * LB_NOT_FOUND: no such booking in the tenant. */
enum lb_status store_booking_events(struct lb_db *db, const char *tenant_id, const char *booking_id,
                                    struct lb_buf *out);

#endif
