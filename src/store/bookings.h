/* store/bookings: the public meeting view, status changes (serialised, with history) and the
 * expiry sweep. */
#ifndef LB_STORE_BOOKINGS_H
#define LB_STORE_BOOKINGS_H

#include "buf.h"
#include "db.h"
#include "store/actor.h"
#include "store/idempotency.h"

extern const struct lb_db_stmt_set store_bookings_statements;

/* Enough for any booking_status name and its NUL. */
#define STORE_STATUS_LEN 16

/* Public: appends the booking with this meeting token without tenantId, plus `isExpired` (at
 * the time of the call), `lead` {id,name,email} and `agent` {id,name,knowledge}.
 * LB_NOT_FOUND for an unknown or malformed token alike. */
enum lb_status store_booking_meeting(struct lb_db *db, const char *meeting_token,
                                     struct lb_buf *out);
/* Changes the status of the tenant's booking under a row lock, recording the change (by `by`;
 * NULL = the system) in the history in the same statement; appends the Booking. from_status
 * receives the status found (on LB_OK and LB_CONFLICT). The same status again is LB_OK and changes
 * nothing (no history row, updatedAt kept). A transition API.md does not allow is LB_CONFLICT
 * (out untouched). LB_NOT_FOUND: not in the tenant; LB_INVALID: not a status name. */
enum lb_status store_booking_set_status(struct lb_db *db, const char *tenant_id,
                                        const char *booking_id, const char *new_status,
                                        const struct store_actor *by, struct lb_buf *out,
                                        char from_status[STORE_STATUS_LEN]);
/* The same with an Idempotency-Key (store/idempotency.h): the answer (200 Booking, 409 refused
 * transition, 404 idem->not_found) is stored with the change. */
enum lb_status store_booking_set_status_idem(struct lb_db *db, const char *tenant_id,
                                             const char *booking_id, const char *new_status,
                                             const struct store_actor *by, struct store_idem *idem,
                                             struct lb_buf *out);
/* Marks every PENDING/CONFIRMED booking with now() >= expiresAt as EXPIRED (history rows by
 * the system), all tenants, in batches; rows another sweeper holds are skipped, so several hosts
 * may run it at once. *count receives the number this call expired. */
enum lb_status store_booking_expire_all(struct lb_db *db, long *count);

#endif
