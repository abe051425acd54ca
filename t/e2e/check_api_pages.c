/* check_api_pages: GET /leads pagination walked to the end through the Link header while
 * another process keeps inserting leads: no duplicate, no gap, strict (createdAt DESC, id DESC)
 * order, full pages until the last, and no Link on the last page. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"
#include "pgtest.h"

#define MAX_IDS 4096

struct walk {
    char (*ids)[37];
    int n;
    int pages;
};

/* The path of a Link: <...>; rel="next" header (absolute URLs reduced to their path). */
static int next_link(const struct e2e_resp *r, char *out, size_t outlen)
{
    char link[2048];
    if (!e2e_header(r, "Link", link, sizeof link))
        return 0;
    ck_assert_int_eq(e2e_header_count(r, "Link"), 1);
    char *lt = strchr(link, '<'), *gt = strchr(link, '>');
    ck_assert_msg(lt == link && gt && strstr(gt, "; rel=\"next\"") == gt + 1, "Link: %s", link);
    *gt = '\0';
    const char *url = lt + 1;
    if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
        url = strchr(strstr(url, "//") + 2, '/');
        ck_assert_ptr_nonnull(url);
    }
    ck_assert_msg(url[0] == '/', "Link target %s", url);
    snprintf(out, outlen, "%s", url);
    return 1;
}

static void walk_all(const struct e2e_tenant *t, const char *first_path, int limit, struct walk *w)
{
    char path[2048];
    snprintf(path, sizeof path, "%s", first_path);
    w->n = 0;
    w->pages = 0;
    for (;;) {
        struct e2e_resp r;
        e2e_call(&r, t, "GET", path, NULL);
        e2e_expect(&r, 200);
        ck_assert(json_object_is_type(r.json, json_type_array));
        size_t len = json_object_array_length(r.json);
        ck_assert_int_le(len, limit);
        for (size_t i = 0; i < len; i++) {
            json_object *l = json_object_array_get_idx(r.json, i);
            ck_assert_int_lt(w->n, MAX_IDS);
            snprintf(w->ids[w->n++], 37, "%s", e2e_str(l, "id"));
        }
        w->pages++;
        int more = next_link(&r, path, sizeof path);
        e2e_free(&r);
        if (!more)
            break;
        /* a page followed by another is full */
        ck_assert_int_eq(len, limit);
        ck_assert_int_lt(w->pages, 1000);
    }
}

/* ids[0..n) are in strict (created_at DESC, id DESC) order, with no duplicates. */
static void assert_order(char (*ids)[37], int n)
{
    const char *prev_us = NULL, *prev_id = NULL;
    char us_buf[2][32];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "lead %s shown twice", ids[i]);
        char us[32];
        e2e_sql_value(us, sizeof us,
                      "SELECT (extract(epoch FROM created_at) * 1000000)::bigint FROM leads WHERE "
                      "id = $1",
                      ids[i], E2E_END);
        ck_assert(us[0] != '\0');
        if (prev_us) {
            long long a = atoll(prev_us), b = atoll(us);
            ck_assert_msg(a > b || (a == b && strcmp(prev_id, ids[i]) > 0),
                          "order broken at %d: (%lld, %s) then (%lld, %s)", i, a, prev_id, b,
                          ids[i]);
        }
        snprintf(us_buf[i % 2], sizeof us_buf[0], "%s", us);
        prev_us = us_buf[i % 2];
        prev_id = ids[i];
    }
}

static pid_t start_inserter(const struct e2e_tenant *t, int *stop_fd)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[1]);
        char when[40], body[512];
        int made = 0;
        for (;;) {
            struct pollfd pf = {.fd = p[0], .events = POLLIN};
            if (poll(&pf, 1, 0) != 0)
                break;
            e2e_iso_from_now(7200, when);
            snprintf(body, sizeof body,
                     "{\"agentId\":\"%s\",\"name\":\"Concurrent %d\",\"email\":\"c@example.com\","
                     "\"scheduledAt\":\"%s\"}",
                     t->agent_id, made, when);
            struct e2e_resp r;
            int st = e2e_raw(&r, t->auth, "POST", "/leads", body, strlen(body));
            e2e_free(&r);
            if (st != 201)
                _exit(1);
            made++;
        }
        _exit(0);
    }
    close(p[0]);
    *stop_fd = p[1];
    return pid;
}

static void stop_inserter(pid_t pid, int stop_fd)
{
    close(stop_fd);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the inserter failed");
}

START_TEST(t_walk_with_concurrent_inserts)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Pages", 0);
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "Lead %03d", i);
        e2e_lead_new(&t, NULL, name, 3600 + i, NULL, NULL, NULL);
    }
    /* ten leads with the very same createdAt (a tie across a page boundary: id decides) */
    e2e_sql("INSERT INTO leads (tenant_id, agent_id, name, email, created_at) SELECT $1, $2, "
            "'Tie ' || g, 'tie@example.com', date_trunc('second', now()) - interval '1 hour' "
            "FROM generate_series(1, 10) g",
            t.id, t.agent_id, E2E_END);

    /* what existed before the walk */
    PGresult *before = pgtest_sql(e2e_conninfo(), "SELECT id FROM leads WHERE tenant_id = $1", 1,
                                  (const char *const[]){t.id});
    int nbefore = PQntuples(before);
    ck_assert_int_eq(nbefore, 110);

    int stop_fd;
    pid_t ins = start_inserter(&t, &stop_fd);
    stack_sleep_ms(100);
    struct walk w = {malloc(sizeof(char[37]) * MAX_IDS), 0, 0};
    walk_all(&t, "/leads?limit=7", 7, &w);
    stop_inserter(ins, stop_fd);
    long after = e2e_sql_long("SELECT count(*) FROM leads WHERE tenant_id = $1", t.id, E2E_END);
    ck_assert_msg(after > nbefore, "no lead was inserted during the walk");

    /* every lead that existed before the walk: exactly once */
    for (int i = 0; i < nbefore; i++) {
        const char *id = PQgetvalue(before, i, 0);
        int seen = 0;
        for (int j = 0; j < w.n; j++)
            seen += strcmp(w.ids[j], id) == 0;
        ck_assert_msg(seen == 1, "lead %s seen %d times", id, seen);
    }
    PQclear(before);
    ck_assert_int_ge(w.n, nbefore);
    ck_assert_int_ge(w.pages, (nbefore + 6) / 7);
    assert_order(w.ids, w.n);
    free(w.ids);
}
END_TEST

START_TEST(t_walk_one_agent_and_limits)
{
    struct e2e_tenant t;
    e2e_tenant_new(&t, "Pages agent", 0);
    char agent2[37];
    e2e_agent_new(&t, "Second", agent2);
    for (int i = 0; i < 60; i++)
        e2e_lead_new(&t, i % 3 == 0 ? agent2 : NULL, "L", 3600, NULL, NULL, NULL);
    struct walk w = {malloc(sizeof(char[37]) * MAX_IDS), 0, 0};
    char path[256];
    snprintf(path, sizeof path, "/leads?agentId=%s&limit=7", agent2);
    walk_all(&t, path, 7, &w);
    ck_assert_int_eq(w.n, 20);
    ck_assert_int_eq(w.pages, 3);
    for (int i = 0; i < w.n; i++)
        ck_assert_int_eq(e2e_sql_long("SELECT count(*) FROM leads WHERE id = $1 AND agent_id = $2",
                                      w.ids[i], agent2, E2E_END),
                         1);
    assert_order(w.ids, w.n);

    /* exactly a multiple of the limit: the last full page has no Link (no more lead exists) */
    snprintf(path, sizeof path, "/leads?agentId=%s&limit=10", agent2);
    walk_all(&t, path, 10, &w);
    ck_assert_int_eq(w.n, 20);
    ck_assert_int_eq(w.pages, 2);

    /* default limit 100 over 140 leads; limit=1000 gives them all, without Link */
    for (int i = 0; i < 80; i++)
        e2e_lead_new(&t, NULL, "M", 3600, NULL, NULL, NULL);
    struct e2e_resp r;
    char link[1024];
    e2e_call(&r, &t, "GET", "/leads", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 100);
    ck_assert_ptr_nonnull(e2e_header(&r, "Link", link, sizeof link));
    e2e_free(&r);
    e2e_call(&r, &t, "GET", "/leads?limit=1000", NULL);
    e2e_expect(&r, 200);
    ck_assert_int_eq(json_object_array_length(r.json), 140);
    ck_assert_ptr_null(e2e_header(&r, "Link", link, sizeof link));
    e2e_free(&r);
    walk_all(&t, "/leads", 100, &w);
    ck_assert_int_eq(w.n, 140);
    ck_assert_int_eq(w.pages, 2);
    assert_order(w.ids, w.n);
    free(w.ids);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_pages");
    TCase *tc = e2e_tcase("pages", 180);
    tcase_add_test(tc, t_walk_with_concurrent_inserts);
    tcase_add_test(tc, t_walk_one_agent_and_limits);
    suite_add_tcase(s, tc);
    return e2e_main("pages", s);
}
