/* store_stub: the store (src/db.h and src/store/ headers) replaced at its interface for the
 * whole-request fuzz target. Every function answers from a per-request control (a status chosen
 * by the fuzz input, canned JSON otherwise) and checks what the handlers pass it: the caller's
 * tenant only with a valid credential, ids as lowercase UUIDs, names and texts within the API's
 * bounds, timestamps that parse. A violated check aborts with "INVARIANT FAILED". */
#ifndef LB_FUZZ_STORE_STUB_H
#define LB_FUZZ_STORE_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* The one API key the stub knows, and its owner. */
#define STUB_KEY "lbk_fuzz0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
#define STUB_TENANT "7b0e2c9a-1f3d-4e5a-9b6c-0d1e2f3a4b5c"
#define STUB_KEY_ID "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"

struct stub_control {
    enum lb_status answer; /* what the data calls of this request return */
    int more;              /* store_lead_list: another page follows */
    int revoke;            /* the key is revoked (announced by NOTIFY) before this request */
    int reconnect;         /* the connection was re-established before this request */
    int64_t next_created_us;
    const char *booking_status; /* status of canned bookings, and the "from" of a conflict */
    char text[256];             /* valid UTF-8 put into canned names, e-mails, texts */
    int text_as_time;           /* canned scheduledAt is text (for the iCalendar writer) */
};

struct stub_observed {
    int unavailable; /* some call of this request answered LB_UNAVAILABLE */
    int data_calls;  /* calls other than the key lookup */
    enum lb_status data_status;
    int tenant_calls; /* calls scoped to a tenant */
    int credential;   /* the request carries the live key */
};

/* Per fuzz input: a fresh key (not revoked), generation 1. */
void stub_begin_input(void);
/* Per request: its control, and whether its Authorization header carries the live key. */
void stub_begin_request(const struct stub_control *ctl, int credential_ok);
const struct stub_observed *stub_observed(void);
/* Parses an "@..." control line (see fuzz_request.c) into ctl. */
void stub_parse_control(const char *line, struct stub_control *ctl);

#endif
