/* store/util: shared result handling for the store modules. */
#include "store/util.h"

enum lb_status store_append(struct lb_buf *out, const char *text)
{
    return lb_buf_puts(out, text) == 0 ? LB_OK : LB_INTERNAL;
}

enum lb_status store_exec_json(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                               const char *const *values, struct lb_buf *out)
{
    PGresult *res;
    enum lb_status s = lb_db_exec(db, stmt, nparams, values, &res);
    if (s != LB_OK)
        return s;
    s = store_first_json(res, out);
    PQclear(res);
    return s;
}

enum lb_status store_first_json(PGresult *res, struct lb_buf *out)
{
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return LB_NOT_FOUND;
    return store_append(out, PQgetvalue(res, 0, 0));
}
