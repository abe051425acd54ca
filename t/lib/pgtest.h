/* pgtest: test support for the store suites. Each test program gets a fresh database in the
 * throwaway cluster that t/lib/with-pg started (PG* variables), migrated by the real built
 * `leadbookctl migrate`, and dropped at the end. No PostgreSQL = the program fails. */
#ifndef LB_PGTEST_H
#define LB_PGTEST_H

#include <check.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "buf.h"
#include "db.h"

/* Creates and migrates database lbtest_<prog>_<pid>; returns its conninfo (static storage) or
 * NULL after printing why. Call once in main, before srunner_run_all. */
const char *pgtest_setup(const char *prog);
/* Drops the database (after the suites ran). */
void pgtest_teardown(void);
/* The end of a store test's main: runs suite s, frees it, drops the database; returns the exit
 * status (EXIT_SUCCESS when no test failed). */
int pgtest_run_suite(Suite *s);
/* The conninfo of the test database (valid after pgtest_setup). */
const char *pgtest_conninfo(void);
/* Builds a conninfo for database dbname of the test cluster. */
void pgtest_conninfo_for(const char *dbname, char *out, size_t len);

/* Runs argv (argv[0] a path) to completion; its stdout/stderr go to out/err if non-NULL.
 * Returns the exit status, or -1 if it did not exit normally. */
int pgtest_run(char *const argv[], struct lb_buf *out, struct lb_buf *err);
/* Runs leadbookctl with --db conninfo --sql-dir sql_dir (NULL = the source tree's sql/) and
 * the NULL-terminated arguments. */
int pgtest_ctl(const char *conninfo, const char *sql_dir, struct lb_buf *out, struct lb_buf *err,
               ...);
/* The source tree's sql/ directory and the built leadbookctl. */
const char *pgtest_sql_dir(void);
const char *pgtest_ctl_path(void);

/* A connected lb_db on the test database (ck_assert on failure). */
struct lb_db *pgtest_db(void);
/* Runs SQL with text parameters on a fresh direct connection to conninfo (NULL = the test
 * database); ck_asserts success and returns the result (caller PQclears). */
PGresult *pgtest_sql(const char *conninfo, const char *sql, int nparams, const char *const *v);
/* First column of the first row of pgtest_sql, copied to out. */
void pgtest_sql_value(const char *sql, int nparams, const char *const *v, char *out, size_t len);

/* Parses buf as JSON (ck_assert that it is); caller json_object_put()s. */
json_object *pgtest_json(const struct lb_buf *buf);
/* The string at key of obj (ck_assert present and a string, or NULL if JSON null). */
const char *pgtest_jstr(json_object *obj, const char *key);
/* The integer at key of obj (ck_assert present). */
long pgtest_jint(json_object *obj, const char *key);
/* ck_asserts that obj has exactly the given keys (NULL-terminated), in any order. */
void pgtest_keys(json_object *obj, ...);

/* Creates a tenant / an agent (hours 0 = default) and copies the new id to id[37]. */
void pgtest_tenant(struct lb_db *db, char id[37]);
void pgtest_agent(struct lb_db *db, const char *tenant_id, int hours, char id[37]);
/* Creates a lead ("Lee", lee@example.com) with its booking at `when` through the store; copies
 * the lead id, booking id and meeting token to the outputs that are not NULL. */
void pgtest_lead(struct lb_db *db, const char *tenant_id, const char *agent_id, const char *when,
                 char lead[37], char booking[37], char token[37]);

/* A second, empty (not migrated) database lbtest_<name>_<pid> in the test cluster, for tests
 * of migrate itself; its conninfo goes to ci. pgtest_scratch_drop removes it. */
void pgtest_scratch_create(const char *name, char *ci, size_t len);
void pgtest_scratch_drop(const char *name);

#endif
