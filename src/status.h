/* status: the result of every store/db/validation call; mapped to HTTP in exactly one place
 * (lb_status_http in http.c). */
#ifndef LB_STATUS_H
#define LB_STATUS_H

enum lb_status {
    LB_OK = 0,
    LB_INVALID,     /* bad input (400) */
    LB_FORBIDDEN,   /* tenant mismatch (403) */
    LB_NOT_FOUND,   /* no such row in the caller's tenant (404) */
    LB_CONFLICT,    /* unique violation, refused transition (409) */
    LB_UNAVAILABLE, /* database down or unreachable (503 + Retry-After) */
    LB_BUSY,        /* a row lock not granted within lock_timeout (409 + Retry-After) */
    LB_READ_ONLY,   /* the database does not accept writes: read-only, a standby (503) */
    LB_INTERNAL,    /* anything else (500, no detail in the body) */
};

#endif
