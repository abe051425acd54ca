/* store/tenants: SQL for tenants. A signed-in user's tenant is the one whose user_id is the
 * user's `sub` (unique), so "one tenant per user" is the database's unique index, not a check
 * that two concurrent requests could both pass. */
#include "store/tenants.h"

#include <stdio.h>

#include "store/sqlidem.h"
#include "store/sqljson.h"
#include "store/util.h"

enum {
    TENANT_CREATE,
    TENANT_CREATE_FOR_USER,
    TENANT_GET,
    TENANT_GET_BY_USER,
    TENANT_OF_USER,
    TENANT_RENAME,
    TENANT_CREATE_FOR_USER_IDEM,
    TENANT_RENAME_IDEM
};

/* SQL laid out for reading as SQL, not reflowed: */
/* clang-format off */
static const struct lb_db_stmt stmts[] = {
    [TENANT_CREATE] = {"tenant_create",
                       "INSERT INTO tenants AS t (name, user_id) VALUES ($1, $2) "
                       "RETURNING " SQL_TENANT_JSON("t"),
                       2},
    /* A second tenant for the user (also one made concurrently: the unique index makes the
     * later insert wait for the first and then skip) gives no row: LB_CONFLICT. */
    [TENANT_CREATE_FOR_USER] = {"tenant_create_for_user",
                       "INSERT INTO tenants AS t (name, user_id) VALUES ($1, $2) "
                       "ON CONFLICT (user_id) DO NOTHING RETURNING " SQL_TENANT_JSON("t"),
                       2},
    [TENANT_GET] = {"tenant_get",
                    "SELECT " SQL_TENANT_JSON("t") " FROM tenants t WHERE t.id = $1",
                    1},
    [TENANT_GET_BY_USER] = {"tenant_get_by_user",
                    "SELECT " SQL_TENANT_JSON("t") " FROM tenants t "
                    "WHERE t.id = $1 AND t.user_id = $2",
                    2},
    [TENANT_OF_USER] = {"tenant_of_user",
                    "SELECT id FROM tenants WHERE user_id = $1",
                    1},
    [TENANT_RENAME] = {"tenant_rename",
                    "UPDATE tenants AS t SET name = $2, updated_at = now() WHERE t.id = $1 "
                    "RETURNING " SQL_TENANT_JSON("t"),
                    2},
    /* With an Idempotency-Key (store/idempotency.h); $6: the 409 or the 404 answer. */
    [TENANT_CREATE_FOR_USER_IDEM] = {"tenant_create_for_user_idem",
                    "WITH " SQL_IDEM_HEAD("$3", "$4") ", "
                    "t AS (INSERT INTO tenants (name, user_id) SELECT $1, $2 "
                    "      WHERE true" SQL_IDEM_GUARD " ON CONFLICT (user_id) DO NOTHING RETURNING *), "
                    "idem_resp AS (SELECT 201 AS status, " SQL_TENANT_JSON("t") "::text AS body FROM t "
                    "              UNION ALL SELECT 409, $6 WHERE NOT EXISTS (SELECT 1 FROM t))"
                    SQL_IDEM_TAIL("$3", "$4", "$5"),
                    6},
    [TENANT_RENAME_IDEM] = {"tenant_rename_idem",
                    "WITH " SQL_IDEM_HEAD("$3", "$4") ", "
                    "t AS (UPDATE tenants SET name = $2, updated_at = now() "
                    "      WHERE id = $1" SQL_IDEM_GUARD " RETURNING *), "
                    "idem_resp AS (SELECT 200 AS status, " SQL_TENANT_JSON("t") "::text AS body FROM t "
                    "              UNION ALL SELECT 404, $6 WHERE NOT EXISTS (SELECT 1 FROM t))"
                    SQL_IDEM_TAIL("$3", "$4", "$5"),
                    6},
};
/* clang-format on */

const struct lb_db_stmt_set store_tenants_statements = {stmts, sizeof stmts / sizeof stmts[0]};

enum lb_status store_tenant_create(struct lb_db *db, const char *name, const char *user_id,
                                   struct lb_buf *out)
{
    const char *v[] = {name, user_id};
    return store_exec_json(db, &stmts[TENANT_CREATE], 2, v, out);
}

enum lb_status store_tenant_create_for_user(struct lb_db *db, const char *user_id, const char *name,
                                            struct lb_buf *out)
{
    const char *v[] = {name, user_id};
    enum lb_status s = store_exec_json(db, &stmts[TENANT_CREATE_FOR_USER], 2, v, out);
    return s == LB_NOT_FOUND ? LB_CONFLICT : s;
}

enum lb_status store_tenant_get(struct lb_db *db, const char *tenant_id, struct lb_buf *out)
{
    const char *v[] = {tenant_id};
    return store_exec_json(db, &stmts[TENANT_GET], 1, v, out);
}

enum lb_status store_tenant_get_by_user(struct lb_db *db, const char *tenant_id,
                                        const char *user_id, struct lb_buf *out)
{
    const char *v[] = {tenant_id, user_id};
    return store_exec_json(db, &stmts[TENANT_GET_BY_USER], 2, v, out);
}

enum lb_status store_tenant_of_user(struct lb_db *db, const char *user_id, char tenant_id[37])
{
    const char *v[] = {user_id};
    PGresult *res;
    tenant_id[0] = '\0';
    enum lb_status s = lb_db_exec(db, &stmts[TENANT_OF_USER], 1, v, &res);
    if (s != LB_OK)
        return s;
    if (PQntuples(res) != 1)
        s = LB_NOT_FOUND;
    else
        snprintf(tenant_id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return s;
}

enum lb_status store_tenant_rename(struct lb_db *db, const char *tenant_id, const char *name,
                                   struct lb_buf *out)
{
    const char *v[] = {tenant_id, name};
    return store_exec_json(db, &stmts[TENANT_RENAME], 2, v, out);
}

enum lb_status store_tenant_create_for_user_idem(struct lb_db *db, const char *user_id,
                                                 const char *name, struct store_idem *idem,
                                                 const char *conflict, struct lb_buf *out)
{
    const char *v[] = {name, user_id, idem->scope, idem->key, idem->fingerprint, conflict};
    return store_idem_exec(db, &stmts[TENANT_CREATE_FOR_USER_IDEM], 6, v, idem, out);
}

enum lb_status store_tenant_rename_idem(struct lb_db *db, const char *tenant_id, const char *name,
                                        struct store_idem *idem, struct lb_buf *out)
{
    const char *v[] = {tenant_id, name, idem->scope, idem->key, idem->fingerprint, idem->not_found};
    return store_idem_exec(db, &stmts[TENANT_RENAME_IDEM], 6, v, idem, out);
}
