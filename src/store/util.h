/* store/util: what every store module does with a result (private to src/store). */
#ifndef LB_STORE_UTIL_H
#define LB_STORE_UTIL_H

#include "buf.h"
#include "db.h"

/* Runs stmt and appends column 0 of its first row (JSON text) to out.
 * No row: LB_NOT_FOUND (out untouched). */
enum lb_status store_exec_json(struct lb_db *db, const struct lb_db_stmt *stmt, int nparams,
                               const char *const *values, struct lb_buf *out);
/* Appends column 0 of res's first row (JSON text) to out, for store_exec_json and for callers
 * that read more of the row. No row, or NULL: LB_NOT_FOUND (out untouched). */
enum lb_status store_first_json(PGresult *res, struct lb_buf *out);
/* Appends a result field to out; LB_INTERNAL if the buffer cannot grow. */
enum lb_status store_append(struct lb_buf *out, const char *text);

#endif
