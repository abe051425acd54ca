/* store/tenants: SQL for tenants. */
#include "store/tenants.h"

#include "store/sqljson.h"
#include "store/util.h"

enum { TENANT_CREATE, TENANT_GET };

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */
static const struct lb_db_stmt stmts[] = {
    [TENANT_CREATE] = {"tenant_create",
                       "INSERT INTO tenants AS t (name, user_id) VALUES ($1, $2) "
                       "RETURNING " SQL_TENANT_JSON("t"),
                       2},
    [TENANT_GET] = {"tenant_get",
                    "SELECT " SQL_TENANT_JSON("t") " FROM tenants t WHERE t.id = $1",
                    1},
};
/* clang-format on */

const struct lb_db_stmt_set store_tenants_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_tenant_create(struct lb_db *db, const char *name, const char *user_id,
                                   struct lb_buf *out)
{
    const char *v[] = {name, user_id};
    return store_exec_json(db, &stmts[TENANT_CREATE], 2, v, out);
}

enum lb_status store_tenant_get(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    const char *v[] = {tenant_id};
    return store_exec_json(db, &stmts[TENANT_GET], 1, v, out);
}
