/* auth: "Authorization: Bearer <key>" -> the key's tenant. */
#ifndef LB_AUTH_H
#define LB_AUTH_H

struct lb_app;

enum lb_auth_result {
    LB_AUTH_OK = 0,
    LB_AUTH_MISSING,     /* no header */
    LB_AUTH_INVALID,     /* malformed header, unknown or revoked key */
    LB_AUTH_UNAVAILABLE, /* the database could not be asked */
};

struct lb_auth;

/* The per-worker key cache. */
struct lb_auth *lb_auth_new(void);
void lb_auth_free(struct lb_auth *auth);

/* Resolves the credential; on LB_AUTH_OK fills tenant_id and key_id (lowercase UUIDs). */
enum lb_auth_result lb_auth_check(struct lb_app *app, const char *authorization, char tenant_id[37],
                                  char key_id[37]);

#endif
