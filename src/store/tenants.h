/* store/tenants: tenants, made by the operator CLI or by a signed-in user (POST /tenants). */
#ifndef LB_STORE_TENANTS_H
#define LB_STORE_TENANTS_H

#include "buf.h"
#include "db.h"
#include "store/idempotency.h"

extern const struct lb_db_stmt_set store_tenants_statements;

/* Creates a tenant; user_id may be NULL. Appends Tenant {id,name,userId,createdAt,updatedAt}.
 * LB_CONFLICT: user_id taken; LB_INVALID: name not 1..200 chars. */
enum lb_status store_tenant_create(struct lb_db *db, const char *name, const char *user_id,
                                   struct lb_buf *out);
/* The signed-in user's own tenant: LB_CONFLICT when the user already has one (however many
 * calls race, one tenant is made). Appends the Tenant. */
enum lb_status store_tenant_create_for_user(struct lb_db *db, const char *user_id, const char *name,
                                            struct lb_buf *out);
/* Appends the Tenant; LB_NOT_FOUND if none (LB_INVALID if tenant_id is not a UUID). */
enum lb_status store_tenant_get(struct lb_db *db, const char *tenant_id, struct lb_buf *out);
/* Appends the Tenant tenant_id if its userId is user_id; LB_NOT_FOUND otherwise. */
enum lb_status store_tenant_get_by_user(struct lb_db *db, const char *tenant_id,
                                        const char *user_id, struct lb_buf *out);
/* The id of the tenant whose userId is user_id; LB_NOT_FOUND if the user has none. */
enum lb_status store_tenant_of_user(struct lb_db *db, const char *user_id, char tenant_id[37]);
/* Renames the tenant (bumps updatedAt); appends the Tenant. LB_NOT_FOUND if none. */
enum lb_status store_tenant_rename(struct lb_db *db, const char *tenant_id, const char *name,
                                   struct lb_buf *out);
/* The two writes of the API with an Idempotency-Key (store/idempotency.h); conflict is the
 * 409 answer for a user who has a tenant already. */
enum lb_status store_tenant_create_for_user_idem(struct lb_db *db, const char *user_id,
                                                 const char *name, struct store_idem *idem,
                                                 const char *conflict, struct lb_buf *out);
enum lb_status store_tenant_rename_idem(struct lb_db *db, const char *tenant_id, const char *name,
                                        struct store_idem *idem, struct lb_buf *out);

#endif
