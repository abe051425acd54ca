/* check_store: tenants, keys and agents in the store: exact JSON fields, and tenant scoping
 * (tenant B's id never reaches tenant A's rows). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/pgtest.h"
#include "store/agents.h"
#include "store/keys.h"
#include "store/tenants.h"

#define NO_SUCH "00000000-0000-4000-8000-000000000000"

/* A timestamp as the API writes it: 2025-12-31T10:00:00.000Z */
static void assert_ts(const char *s)
{
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(strlen(s), 24);
    ck_assert_msg(s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[23] == 'Z', "ts %s", s);
}

START_TEST(test_tenant_create_get)
{
    struct lb_db *db = pgtest_db();
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_tenant_create(db, "Acme", "user-42", &b), LB_OK);
    json_object *t = pgtest_json(&b);
    pgtest_keys(t, "id", "name", "userId", "createdAt", "updatedAt", (char *)NULL);
    ck_assert_str_eq(pgtest_jstr(t, "name"), "Acme");
    ck_assert_str_eq(pgtest_jstr(t, "userId"), "user-42");
    assert_ts(pgtest_jstr(t, "createdAt"));
    char id[37];
    snprintf(id, sizeof id, "%s", pgtest_jstr(t, "id"));
    lb_buf_reset(&b);
    ck_assert_int_eq(store_tenant_get(db, id, &b), LB_OK);
    json_object *g = pgtest_json(&b);
    ck_assert(json_object_equal(t, g));
    lb_buf_reset(&b);
    ck_assert_int_eq(store_tenant_create(db, "Other", "user-42", &b), LB_CONFLICT);
    ck_assert_int_eq(store_tenant_create(db, "", NULL, &b), LB_INVALID);
    ck_assert_int_eq(store_tenant_get(db, NO_SUCH, &b), LB_NOT_FOUND);
    ck_assert_int_eq(store_tenant_get(db, "not-a-uuid", &b), LB_INVALID);
    ck_assert_uint_eq(b.len, 0);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_tenant_create(db, "No user", NULL, &b), LB_OK);
    json_object *n = pgtest_json(&b);
    ck_assert_ptr_null(pgtest_jstr(n, "userId"));
    json_object_put(n);
    json_object_put(t);
    json_object_put(g);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_keys)
{
    struct lb_db *db = pgtest_db();
    char tenant[37], other[37];
    pgtest_tenant(db, tenant);
    pgtest_tenant(db, other);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_key_create(db, tenant, "ci", &b), LB_OK);
    json_object *k = pgtest_json(&b);
    pgtest_keys(k, "id", "key", (char *)NULL);
    const char *key = pgtest_jstr(k, "key");
    ck_assert_uint_eq(strlen(key), STORE_KEY_TEXT_LEN);
    ck_assert(strncmp(key, "lbk_", 4) == 0);
    ck_assert_uint_eq(strspn(key + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
                      43);
    char key_id[37];
    snprintf(key_id, sizeof key_id, "%s", pgtest_jstr(k, "id"));

    /* Stored only as its SHA-256. */
    unsigned char hash[LB_SHA256_LEN];
    lb_sha256(key, strlen(key), hash);
    char hex[2 * LB_SHA256_LEN + 1], stored[80];
    lb_sha256_hex(key, strlen(key), hex);
    const char *v[] = {key_id};
    pgtest_sql_value("SELECT encode(key_hash, 'hex') FROM api_keys WHERE id = $1", 1, v, stored,
                     sizeof stored);
    ck_assert_str_eq(stored, hex);

    struct store_key_ref ref;
    ck_assert_int_eq(store_key_lookup(db, hash, &ref), LB_OK);
    ck_assert_str_eq(ref.tenant_id, tenant);
    ck_assert_str_eq(ref.key_id, key_id);
    unsigned char wrong[LB_SHA256_LEN];
    lb_sha256("lbk_nope", 8, wrong);
    ck_assert_int_eq(store_key_lookup(db, wrong, &ref), LB_NOT_FOUND);

    lb_buf_reset(&b);
    ck_assert_int_eq(store_key_list(db, tenant, &b), LB_OK);
    json_object *list = pgtest_json(&b);
    ck_assert_int_eq(json_object_array_length(list), 1);
    json_object *item = json_object_array_get_idx(list, 0);
    pgtest_keys(item, "id", "tenantId", "scope", "label", "createdAt", "revokedAt", (char *)NULL);
    ck_assert_str_eq(pgtest_jstr(item, "scope"), "tenant");
    ck_assert_str_eq(pgtest_jstr(item, "label"), "ci");
    ck_assert_ptr_null(pgtest_jstr(item, "revokedAt"));
    ck_assert(strstr(b.data, key + 4) == NULL); /* no secret */
    lb_buf_reset(&b);
    ck_assert_int_eq(store_key_list(db, other, &b), LB_OK);
    ck_assert_str_eq(b.data, "[]");
    lb_buf_reset(&b);
    ck_assert_int_eq(store_key_list(db, NO_SUCH, &b), LB_NOT_FOUND);

    lb_buf_reset(&b);
    ck_assert_int_eq(store_key_revoke(db, key_id, &b), LB_OK);
    json_object *r = pgtest_json(&b);
    assert_ts(pgtest_jstr(r, "revokedAt"));
    ck_assert_int_eq(store_key_lookup(db, hash, &ref), LB_NOT_FOUND);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_key_revoke(db, key_id, &b), LB_OK); /* again: harmless */
    ck_assert_int_eq(store_key_revoke(db, NO_SUCH, &b), LB_NOT_FOUND);
    ck_assert_int_eq(store_key_create(db, NO_SUCH, NULL, &b), LB_NOT_FOUND);
    json_object_put(r);
    json_object_put(list);
    json_object_put(k);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_agents)
{
    struct lb_db *db = pgtest_db();
    char tenant[37];
    pgtest_tenant(db, tenant);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_agent_create(db, tenant, "Sam", "Knows the houses well", 0, &b), LB_OK);
    json_object *a = pgtest_json(&b);
    pgtest_keys(a, "id", "tenantId", "name", "knowledge", "publicLink", "linkExpiryHours",
                "createdAt", "updatedAt", (char *)NULL);
    ck_assert_str_eq(pgtest_jstr(a, "tenantId"), tenant);
    ck_assert_int_eq(pgtest_jint(a, "linkExpiryHours"), 24);
    ck_assert_uint_eq(strlen(pgtest_jstr(a, "publicLink")), 36);
    char id[37], link[37];
    snprintf(id, sizeof id, "%s", pgtest_jstr(a, "id"));
    snprintf(link, sizeof link, "%s", pgtest_jstr(a, "publicLink"));

    char second[37];
    pgtest_agent(db, tenant, 168, second);
    lb_buf_reset(&b);
    ck_assert_int_eq(store_agent_list(db, tenant, &b), LB_OK);
    json_object *list = pgtest_json(&b);
    ck_assert_int_eq(json_object_array_length(list), 2);
    ck_assert_str_eq(pgtest_jstr(json_object_array_get_idx(list, 0), "id"), second); /* newest */
    ck_assert_str_eq(pgtest_jstr(json_object_array_get_idx(list, 1), "id"), id);

    lb_buf_reset(&b);
    ck_assert_int_eq(store_agent_get(db, tenant, id, &b), LB_OK);
    json_object *g = pgtest_json(&b);
    ck_assert(json_object_equal(a, g));
    lb_buf_reset(&b);
    ck_assert_int_eq(store_agent_by_link(db, tenant, link, &b), LB_OK);
    json_object_put(g);
    g = pgtest_json(&b);
    ck_assert_str_eq(pgtest_jstr(g, "id"), id);

    lb_buf_reset(&b);
    usleep(2000); /* updatedAt has millisecond resolution */
    ck_assert_int_eq(store_agent_update(db, tenant, id, NULL, NULL, 48, &b), LB_OK);
    json_object *u = pgtest_json(&b);
    ck_assert_str_eq(pgtest_jstr(u, "name"), "Sam");
    ck_assert_int_eq(pgtest_jint(u, "linkExpiryHours"), 48);
    ck_assert_str_eq(pgtest_jstr(u, "createdAt"), pgtest_jstr(a, "createdAt"));
    ck_assert_str_ne(pgtest_jstr(u, "updatedAt"), pgtest_jstr(a, "updatedAt"));
    lb_buf_reset(&b);
    ck_assert_int_eq(store_agent_update(db, tenant, id, "Samuel", "New knowledge!", -1, &b), LB_OK);
    json_object *u2 = pgtest_json(&b);
    ck_assert_str_eq(pgtest_jstr(u2, "name"), "Samuel");
    ck_assert_str_eq(pgtest_jstr(u2, "knowledge"), "New knowledge!");
    ck_assert_int_eq(pgtest_jint(u2, "linkExpiryHours"), 48);
    ck_assert_int_eq(store_agent_update(db, tenant, id, NULL, "short", -1, &b), LB_INVALID);
    ck_assert_int_eq(store_agent_create(db, tenant, "X", "Long enough text", 169, &b), LB_INVALID);

    ck_assert_int_eq(store_agent_delete(db, tenant, id), LB_OK);
    ck_assert_int_eq(store_agent_delete(db, tenant, id), LB_NOT_FOUND);
    ck_assert_int_eq(store_agent_get(db, tenant, id, &b), LB_NOT_FOUND);
    json_object_put(u2);
    json_object_put(u);
    json_object_put(g);
    json_object_put(list);
    json_object_put(a);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

START_TEST(test_agent_tenant_scoping)
{
    struct lb_db *db = pgtest_db();
    char ta[37], tb[37], agent[37];
    pgtest_tenant(db, ta);
    pgtest_tenant(db, tb);
    pgtest_agent(db, ta, 0, agent);
    struct lb_buf b;
    lb_buf_init(&b);
    ck_assert_int_eq(store_agent_get(db, ta, agent, &b), LB_OK);
    json_object *a = pgtest_json(&b);
    char link[37];
    snprintf(link, sizeof link, "%s", pgtest_jstr(a, "publicLink"));
    json_object_put(a);
    lb_buf_reset(&b);

    ck_assert_int_eq(store_agent_get(db, tb, agent, &b), LB_NOT_FOUND);
    ck_assert_int_eq(store_agent_by_link(db, tb, link, &b), LB_NOT_FOUND);
    ck_assert_int_eq(store_agent_update(db, tb, agent, "Hijack", NULL, -1, &b), LB_NOT_FOUND);
    ck_assert_int_eq(store_agent_delete(db, tb, agent), LB_NOT_FOUND);
    ck_assert_int_eq(store_agent_list(db, tb, &b), LB_OK);
    ck_assert_str_eq(b.data, "[]");
    lb_buf_reset(&b);
    ck_assert_int_eq(store_agent_get(db, ta, agent, &b), LB_OK); /* untouched */
    a = pgtest_json(&b);
    ck_assert_str_eq(pgtest_jstr(a, "name"), "Agent");
    json_object_put(a);
    lb_buf_free(&b);
    lb_db_free(db);
}
END_TEST

int main(void)
{
    if (!pgtest_setup("store"))
        return EXIT_FAILURE;
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("tenants-keys-agents");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_tenant_create_get);
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_agents);
    tcase_add_test(tc, test_agent_tenant_scoping);
    suite_add_tcase(s, tc);
    return pgtest_run_suite(s);
}
