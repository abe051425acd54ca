/* auth: "Authorization: Bearer <credential>" -> who is asking (API.md "Credentials and
 * tenancy"): a tenant key, a signed-in user (a JWT of the web frontend's identity provider), or
 * the booking page's key. */
#ifndef LB_AUTH_H
#define LB_AUTH_H

struct lb_app;

enum lb_auth_result {
    LB_AUTH_OK = 0,
    LB_AUTH_MISSING,     /* no header */
    LB_AUTH_INVALID,     /* malformed header, unknown, expired or revoked credential */
    LB_AUTH_UNAVAILABLE, /* the database could not be asked */
};

enum lb_credential {
    LB_CRED_NONE = 0,     /* a public route: nobody was asked for a credential */
    LB_CRED_TENANT_KEY,   /* lbk_… of one tenant */
    LB_CRED_USER,         /* a verified sign-in token */
    LB_CRED_BOOKING_PAGE, /* lbk_… of the booking page: no tenant */
};

#define LB_USER_ID_MAX 255

/* Who is asking. tenant_id is "" for a booking-page key and for a signed-in user who has no
 * tenant yet; key_id is "" for a user; user_id is "" for a key. */
struct lb_principal {
    enum lb_credential cred;
    char tenant_id[37];
    char key_id[37];
    char user_id[LB_USER_ID_MAX + 1];
};

struct lb_auth;

/* The per-worker caches (keys, verified tokens). */
struct lb_auth *lb_auth_new(void);
void lb_auth_free(struct lb_auth *auth);

/* Resolves the credential into who (zeroed first; filled on LB_AUTH_OK). */
enum lb_auth_result lb_auth_check(struct lb_app *app, const char *authorization,
                                  struct lb_principal *who);

/* The name of a credential kind for logs ("key", "user", "booking_page", "-"). */
const char *lb_credential_name(enum lb_credential cred);

#endif
