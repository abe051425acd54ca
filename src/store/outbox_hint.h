/* store/outbox_hint: which variant of a writing statement to send (src/store/sqloutbox.h).
 *
 * Lead creation and PATCH /bookings/:id/status come in two variants, and both are always
 * correct: the quiet one probes for an enabled endpoint of the tenant and leaves the events, if
 * there are endpoints, to the outbox trigger; the outbox one writes the events itself (faster
 * when there are endpoints, about 40 us slower when there are none: the executor sets up its
 * two inserts whether or not they write a row). Each statement answers whether the tenant had
 * an enabled endpoint, and the next statement for that tenant in this process is chosen by it.
 * So the hint only ever picks the faster of two correct statements: a stale one costs one
 * statement's difference, never an event. A small direct-mapped table per process (leadbookd's
 * workers are single-threaded); a collision only forgets a tenant. */
#ifndef LB_STORE_OUTBOX_HINT_H
#define LB_STORE_OUTBOX_HINT_H

/* 1 when the last statement for key (a tenant id, or an agent id for the booking page's
 * writes) found an enabled endpoint; 0 otherwise or when unknown. */
int store_outbox_hint(const char *key);

/* Records what a statement for key found. */
void store_outbox_hint_set(const char *key, int hooked);

#endif
