/* check_db_read: the pieces of "beyond one database server" that need no standby (the rest is
 * t/scale/check_replica): the config keys and their checks, db_pool_mode = transaction's
 * unnamed statements on a real server, the lag measurement's SQL on a primary, and the read
 * router's choices (a server that is no standby, one that is down, a failed read). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/pgtest.h"
#include "config.h"
#include "db_read.h"
#include "store/replica.h"
#include "store/tenants.h"

START_TEST(test_config_keys)
{
    ck_assert_int_eq(lb_config_read_routes("meeting stats"), LB_READ_MEETING | LB_READ_STATS);
    ck_assert_int_eq(lb_config_read_routes(" stats,meeting "), LB_READ_MEETING | LB_READ_STATS);
    ck_assert_int_eq(lb_config_read_routes("stats"), LB_READ_STATS);
    ck_assert_int_eq(lb_config_read_routes(""), 0);
    ck_assert_int_eq(lb_config_read_routes("meetings"), -1);
    ck_assert_int_eq(lb_config_read_routes("stats leads"), -1);

    struct lb_config cfg;
    char err[512];
    lb_config_defaults(&cfg);
    ck_assert_str_eq(cfg.db_pool_mode, "session");
    ck_assert_int_eq(cfg.db_read_max_lag, 2);
    ck_assert_str_eq(cfg.db_read_routes, "meeting stats");
    ck_assert_int_eq(lb_config_load(&cfg, NULL, 0, err, sizeof err), 0);

    ck_assert_int_eq(lb_config_set(&cfg, "db_pool_mode", "transaction", err, sizeof err), 0);
    ck_assert_int_eq(lb_config_load(&cfg, NULL, 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "needs db_listen"), "%s", err);
    ck_assert_int_eq(lb_config_set(&cfg, "db_listen", "host=/tmp dbname=x", err, sizeof err), 0);
    ck_assert_int_eq(lb_config_load(&cfg, NULL, 0, err, sizeof err), 0);

    ck_assert_int_eq(lb_config_set(&cfg, "db_pool_mode", "statement", err, sizeof err), 0);
    ck_assert_int_eq(lb_config_load(&cfg, NULL, 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "invalid db_pool_mode"), "%s", err);
    lb_config_defaults(&cfg);
    ck_assert_int_eq(lb_config_set(&cfg, "db_read_routes", "leads", err, sizeof err), 0);
    ck_assert_int_eq(lb_config_load(&cfg, NULL, 0, err, sizeof err), -1);
    ck_assert_int_eq(lb_config_set(&cfg, "db_read_max_lag", "0", err, sizeof err), -1);
    ck_assert_int_eq(lb_config_set(&cfg, "db_read_max_lag", "30", err, sizeof err), 0);
    ck_assert_int_eq(cfg.db_read_max_lag, 30);
}
END_TEST

static long prepared_count(struct lb_db *db)
{
    PGresult *r = NULL;
    ck_assert_int_eq(
        lb_db_exec_once(db, "SELECT count(*) FROM pg_prepared_statements", 0, NULL, &r), LB_OK);
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* db_pool_mode = transaction: the store works with nothing prepared on the session, and no
 * startup options are sent (a pooler refuses them: they are its connect_query's job). */
START_TEST(test_unnamed_statements)
{
    for (int unnamed = 0; unnamed < 2; unnamed++) {
        struct lb_db_options opt = {pgtest_conninfo(), 5, 5000, NULL, unnamed};
        struct lb_db *db = lb_db_new(&opt);
        struct lb_buf b;
        lb_buf_init(&b);
        ck_assert_int_eq(store_tenant_create(db, unnamed ? "unnamed" : "named", NULL, &b), LB_OK);
        ck_assert_ptr_nonnull(strstr(b.data, unnamed ? "\"unnamed\"" : "\"named\""));
        if (unnamed)
            ck_assert_int_eq(prepared_count(db), 0);
        else
            ck_assert_int_gt(prepared_count(db), 10);
        PGresult *r = NULL;
        ck_assert_int_eq(
            lb_db_exec_once(db, "SELECT current_setting('plan_cache_mode')", 0, NULL, &r), LB_OK);
        ck_assert_str_eq(PQgetvalue(r, 0, 0), unnamed ? "auto" : "force_generic_plan");
        PQclear(r);
        lb_buf_free(&b);
        lb_db_free(db);
    }
}
END_TEST

START_TEST(test_lag_sql_on_a_primary)
{
    struct lb_db *db = pgtest_db();
    char lsn[STORE_LSN_LEN];
    ck_assert_int_eq(store_replica_primary_lsn(db, lsn), LB_OK);
    ck_assert_ptr_nonnull(strchr(lsn, '/'));
    int standby = -1, a = -1, b = -1;
    ck_assert_int_eq(store_replica_replayed(db, lsn, NULL, &standby, &a, &b), LB_OK);
    ck_assert_int_eq(standby, 0);
    ck_assert_int_eq(a, 0); /* never replayed anything */
    ck_assert_int_eq(b, 0);
    ck_assert_int_eq(store_replica_replayed(db, "not an lsn", NULL, &standby, &a, &b), LB_INVALID);
    lb_db_free(db);
}
END_TEST

START_TEST(test_router_choices)
{
    struct lb_db *primary = pgtest_db();
    /* a server that is no standby (a promoted replica): nothing to replay, it serves */
    struct lb_db_read_options ro = {pgtest_conninfo(), 2, 5, 5000, 0};
    struct lb_db_read *r = lb_db_read_new(&ro);
    struct lb_db *got = lb_db_read_pick(r, primary);
    ck_assert_ptr_ne(got, primary);
    ck_assert_int_eq(lb_db_read_lag_ms(r), 0);
    ck_assert_int_eq(lb_db_read_failed(r, primary, LB_UNAVAILABLE), 0); /* not the replica */
    ck_assert_int_eq(lb_db_read_failed(r, got, LB_NOT_FOUND), 0);       /* not for want of it */
    ck_assert_int_eq(lb_db_read_failed(r, got, LB_UNAVAILABLE), 1);
    ck_assert_ptr_eq(lb_db_read_pick(r, primary), primary); /* out until the next measurement */
    lb_db_read_free(r);

    /* a replica that is down: the primary */
    struct lb_db_read_options down = {"host=/nonexistent/dir dbname=x", 2, 2, 5000, 0};
    r = lb_db_read_new(&down);
    ck_assert_ptr_eq(lb_db_read_pick(r, primary), primary);
    ck_assert_int_eq(lb_db_read_lag_ms(r), -1);
    ck_assert_ptr_eq(lb_db_read_pick(NULL, primary), primary); /* no db_read at all */
    lb_db_read_free(r);
    lb_db_free(primary);
}
END_TEST

int main(void)
{
    if (!pgtest_setup("db_read"))
        return EXIT_FAILURE;
    Suite *s = suite_create("db_read");
    TCase *tc = tcase_create("db_read");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_config_keys);
    tcase_add_test(tc, test_unnamed_statements);
    tcase_add_test(tc, test_lag_sql_on_a_primary);
    tcase_add_test(tc, test_router_choices);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
