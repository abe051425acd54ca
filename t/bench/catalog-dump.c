/* catalog-dump: prints every prepared statement of the store (lb_db_catalog, src/store/catalog.c)
 * as "name<TAB>nparams<TAB>sql", one per line, from the very library the benchmarked leadbookd
 * is linked with. t/bench/run builds it against build-bench/libleadbook.a and generates the
 * pgbench scripts from its output, so the SQL that pgbench runs is always the binary's SQL.
 * With --session-options it prints the session settings leadbookd's connections start with
 * (LB_DB_SESSION_OPTIONS), which pgbench gets through PGOPTIONS. */
#include <stdio.h>
#include <string.h>

#include "db.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--session-options") == 0) {
        puts(LB_DB_SESSION_OPTIONS);
        return 0;
    }
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
