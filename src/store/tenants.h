/* store/tenants: tenants (created by the operator CLI). */
#ifndef LB_STORE_TENANTS_H
#define LB_STORE_TENANTS_H

#include "buf.h"
#include "db.h"

extern const struct lb_db_stmt_set store_tenants_statements;

/* Creates a tenant; user_id may be NULL. Appends Tenant {id,name,userId,createdAt,updatedAt}.
 * LB_CONFLICT: user_id taken; LB_INVALID: name not 1..200 chars. */
enum lb_status store_tenant_create(struct lb_db *db, const char *name, const char *user_id,
                                   struct lb_buf *out);
/* Appends the Tenant; LB_NOT_FOUND if none (LB_INVALID if tenant_id is not a UUID). */
enum lb_status store_tenant_get(struct lb_db *db, const char *tenant_id, struct lb_buf *out);

#endif
