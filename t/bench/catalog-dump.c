/* catalog-dump: prints every prepared statement of the store (lb_db_catalog, src/store/catalog.c)
 * as "name<TAB>nparams<TAB>sql", one per line, from the very library the benchmarked leadbookd
 * is linked with. t/bench/run builds it against build-bench/libleadbook.a and generates the
 * pgbench scripts from its output, so the SQL that pgbench runs is always the binary's SQL. */
#include <stdio.h>

#include "db.h"

int main(void)
{
    for (const struct lb_db_stmt_set *const *set = lb_db_catalog; *set; set++) {
        for (int i = 0; i < (*set)->count; i++) {
            const struct lb_db_stmt *st = &(*set)->stmts[i];
            printf("%s\t%d\t", st->name, st->nparams);
            for (const char *p = st->sql; *p; p++) /* one line per statement */
                putchar(*p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p);
            putchar('\n');
        }
    }
    return ferror(stdout) ? 1 : 0;
}
