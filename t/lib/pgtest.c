/* pgtest: a fresh, migrated database per test program in the with-pg cluster, plus small
 * helpers (run a program, direct SQL, JSON assertions) shared by the store suites. */
#include "pgtest.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/agents.h"
#include "store/leads.h"
#include "store/tenants.h"

static char test_dbname[64];
static char test_conninfo[1024];
static char ctl_path[1024];
static char sql_dir[1024];

const char *pgtest_conninfo(void)
{
    return test_conninfo;
}

const char *pgtest_sql_dir(void)
{
    return sql_dir;
}

const char *pgtest_ctl_path(void)
{
    return ctl_path;
}

void pgtest_conninfo_for(const char *dbname, char *out, size_t len)
{
    const char *host = getenv("PGHOST"), *port = getenv("PGPORT"), *user = getenv("PGUSER");
    snprintf(out, len, "%s%s%s%s%s%s dbname=%s", host ? "host=" : "", host ? host : "",
             port ? " port=" : "", port ? port : "", user ? " user=" : "", user ? user : "",
             dbname);
}

/* Runs one admin statement on the cluster's maintenance database; 0 or -1 (printed). */
static int admin(const char *sql)
{
    char ci[1024];
    pgtest_conninfo_for("postgres", ci, sizeof ci);
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr,
                "pgtest: cannot connect to PostgreSQL (%s): %s"
                "pgtest: run the store tests under t/lib/with-pg (make check does)\n",
                ci, PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "pgtest: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static void scratch_name(const char *name, char *out, size_t len)
{
    snprintf(out, len, "lbtest_%s_%ld", name, (long)getpid());
}

const char *pgtest_setup(const char *prog)
{
    const char *top_build = getenv("top_builddir"), *top_src = getenv("top_srcdir");
    if (!top_build || !top_src) {
        fprintf(stderr, "pgtest: top_builddir/top_srcdir not set (run through make check)\n");
        return NULL;
    }
    snprintf(ctl_path, sizeof ctl_path, "%s/leadbookctl", top_build);
    snprintf(sql_dir, sizeof sql_dir, "%s/sql", top_src);
    scratch_name(prog, test_dbname, sizeof test_dbname);
    pgtest_conninfo_for(test_dbname, test_conninfo, sizeof test_conninfo);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", test_dbname);
    if (admin(sql) != 0)
        return NULL;
    struct lb_buf out, err;
    lb_buf_init(&out);
    lb_buf_init(&err);
    int rc = pgtest_ctl(test_conninfo, NULL, &out, &err, "migrate", (char *)NULL);
    if (rc != 0)
        fprintf(stderr, "pgtest: leadbookctl migrate exited %d: %s%s\n", rc,
                err.data ? err.data : "", out.data ? out.data : "");
    lb_buf_free(&out);
    lb_buf_free(&err);
    if (rc != 0) {
        pgtest_teardown();
        return NULL;
    }
    return test_conninfo;
}

void pgtest_scratch_create(const char *name, char *ci, size_t len)
{
    char db[64], sql[128];
    scratch_name(name, db, sizeof db);
    pgtest_conninfo_for(db, ci, len);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    ck_assert_int_eq(admin(sql), 0);
}

void pgtest_scratch_drop(const char *name)
{
    char db[64], sql[128];
    scratch_name(name, db, sizeof db);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    ck_assert_int_eq(admin(sql), 0);
}

void pgtest_teardown(void)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", test_dbname);
    admin(sql);
}

int pgtest_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    pgtest_teardown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void slurp(int fd, struct lb_buf *b)
{
    if (!b)
        return;
    char chunk[4096];
    ssize_t n;
    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        lb_buf_append(b, chunk, (size_t)n);
}

int pgtest_run(char *const argv[], struct lb_buf *out, struct lb_buf *err)
{
    char out_path[] = "/tmp/pgtest-out.XXXXXX", err_path[] = "/tmp/pgtest-err.XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    if (out_fd < 0 || err_fd < 0)
        return -1;
    unlink(out_path);
    unlink(err_path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = -1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    slurp(out_fd, out);
    slurp(err_fd, err);
    close(out_fd);
    close(err_fd);
    return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int pgtest_ctl(const char *conninfo, const char *dir, struct lb_buf *out, struct lb_buf *err, ...)
{
    char *argv[32];
    int n = 0;
    argv[n++] = ctl_path;
    argv[n++] = "--db";
    argv[n++] = (char *)conninfo;
    argv[n++] = "--sql-dir";
    argv[n++] = (char *)(dir ? dir : sql_dir);
    va_list ap;
    va_start(ap, err);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && n < 31)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return pgtest_run(argv, out, err);
}

struct lb_db *pgtest_db(void)
{
    struct lb_db_options opt = {test_conninfo, 5, 10000, NULL, 0};
    struct lb_db *db = lb_db_new(&opt);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(lb_db_ready(db), LB_OK);
    return db;
}

PGresult *pgtest_sql(const char *conninfo, const char *sql, int nparams, const char *const *v)
{
    PGconn *c = PQconnectdb(conninfo ? conninfo : test_conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    PGresult *r = PQexecParams(c, sql, nparams, NULL, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        ck_abort_msg("SQL failed: %s: %s", sql, msg);
    }
    PQfinish(c);
    return r;
}

void pgtest_sql_value(const char *sql, int nparams, const char *const *v, char *out, size_t len)
{
    PGresult *r = pgtest_sql(NULL, sql, nparams, v);
    ck_assert_int_ge(PQntuples(r), 1);
    snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

json_object *pgtest_json(const struct lb_buf *buf)
{
    ck_assert_ptr_nonnull(buf->data);
    json_object *o = json_tokener_parse(buf->data);
    ck_assert_msg(o != NULL, "not JSON: %s", buf->data);
    return o;
}

const char *pgtest_jstr(json_object *obj, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(obj, key, &v), "no key %s in %s", key,
                  json_object_to_json_string(obj));
    if (!v)
        return NULL;
    ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
    return json_object_get_string(v);
}

long pgtest_jint(json_object *obj, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(obj, key, &v), "no key %s in %s", key,
                  json_object_to_json_string(obj));
    ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an integer", key);
    return (long)json_object_get_int64(v);
}

void pgtest_keys(json_object *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    int n = 0;
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        ck_assert_msg(json_object_object_get_ex(obj, k, NULL), "no key %s in %s", k,
                      json_object_to_json_string(obj));
        n++;
    }
    va_end(ap);
    ck_assert_msg(json_object_object_length(obj) == n, "expected %d keys in %s", n,
                  json_object_to_json_string(obj));
}

void pgtest_tenant(struct lb_db *db, char id[37])
{
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_tenant_create(db, "Test tenant", NULL, &b), LB_OK);
    json_object *o = pgtest_json(&b);
    snprintf(id, 37, "%s", pgtest_jstr(o, "id"));
    json_object_put(o);
    lb_buf_free(&b);
}

void pgtest_agent(struct lb_db *db, const char *tenant_id, int hours, char id[37])
{
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_agent_create(db, tenant_id, "Agent", "Knows about houses.", hours, &b),
                     LB_OK);
    json_object *o = pgtest_json(&b);
    snprintf(id, 37, "%s", pgtest_jstr(o, "id"));
    json_object_put(o);
    lb_buf_free(&b);
}

void pgtest_lead(struct lb_db *db, const char *tenant_id, const char *agent_id, const char *when,
                 char lead[37], char booking[37], char token[37])
{
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(
        store_lead_create(db, tenant_id, agent_id, "Lee", "lee@example.com", when, NULL, &b),
        LB_OK);
    json_object *o = pgtest_json(&b), *l, *bk;
    json_object_object_get_ex(o, "lead", &l);
    json_object_object_get_ex(o, "booking", &bk);
    if (lead)
        snprintf(lead, 37, "%s", pgtest_jstr(l, "id"));
    if (booking)
        snprintf(booking, 37, "%s", pgtest_jstr(bk, "id"));
    if (token)
        snprintf(token, 37, "%s", pgtest_jstr(o, "meetingToken"));
    json_object_put(o);
    lb_buf_free(&b);
}
