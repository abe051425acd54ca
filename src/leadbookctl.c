/* leadbookctl: the operator CLI (API.md "Operator CLI"): migrations, tenants, keys, agents, the
 * expiry sweep and the webhook deliverer (src/webhook_deliver.c). JSON on stdout; on failure one
 * clear line on stderr and exit status 1 (2 for bad usage). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "digest.h"
#include "store/agents.h"
#include "store/bookings.h"
#include "store/idempotency.h"
#include "store/keys.h"
#include "store/tenants.h"
#include "store/webhooks.h"
#include "webhook_deliver.h"

#define EXIT_USAGE 2
#define MAX_MIGRATIONS 1000
#define MAX_MIGRATION_BYTES (16L * 1024 * 1024)
/* pg_advisory_lock key serialising concurrent `migrate` runs ("lbmigrat" in ASCII). */
/* purge: a deleted agent's leads per statement (each with its bookings and history: well under a
 * second), and the time one purge spends on them before it leaves the rest to the next run
 * (the timer starts one a minute). */
#define AGENT_PURGE_ROWS 2000
#define AGENT_PURGE_SECONDS 40.0
#define MIGRATE_LOCK_KEY "7809890030707974516"

static const char usage_text[] =
    "usage: leadbookctl [--db CONNINFO] [-c CONFIG] [--sql-dir DIR] COMMAND\n"
    "  migrate\n"
    "  tenant create --name NAME [--user-id ID]\n"
    "  key create --tenant ID [--label TEXT]\n"
    "  key create --booking-page [--label TEXT]\n"
    "  key revoke ID\n"
    "  key list --tenant ID | --booking-page\n"
    "  agent create --tenant ID --name N --knowledge TEXT [--link-expiry-hours H]\n"
    "  purge\n"
    "  expire\n"
    "  webhooks run [--once]\n";

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "leadbookctl: %s\n", why);
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

static const char *status_text(enum lb_status s)
{
    switch (s) {
    case LB_OK:
        return "ok";
    case LB_INVALID:
        return "invalid input";
    case LB_FORBIDDEN:
        return "forbidden";
    case LB_NOT_FOUND:
        return "not found";
    case LB_CONFLICT:
        return "conflict";
    case LB_UNAVAILABLE:
        return "database unavailable";
    case LB_BUSY:
        return "a row it needs is locked by another transaction";
    case LB_READ_ONLY:
        return "the database does not accept writes";
    case LB_INTERNAL:
        return "internal error";
    }
    return "unknown error";
}

/* Reports a failed store call: what, with which input, why. Returns the exit status. */
static int fail(struct lb_db *db, enum lb_status s, const char *what)
{
    const char *detail = lb_db_last_error(db);
    fprintf(stderr, "leadbookctl: %s failed: %s%s%s\n", what, status_text(s), *detail ? ": " : "",
            detail);
    return EXIT_FAILURE;
}

static int print_buf(struct lb_buf *out)
{
    if (out->failed)
        return EXIT_FAILURE;
    printf("%s\n", out->data ? out->data : "");
    return EXIT_SUCCESS;
}

/* Command options: "--key VALUE" or "--key=VALUE"; a table of the accepted ones. */
struct opt {
    const char *name;
    const char **value;
};

static int parse_opts(int argc, char **argv, struct opt *opts, const char **positional)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            if (!positional || *positional) {
                fprintf(stderr, "leadbookctl: unexpected argument \"%s\"\n", arg);
                return -1;
            }
            *positional = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        struct opt *o = opts;
        while (o->name && !(strlen(o->name) == len && strncmp(o->name, arg, len) == 0))
            o++;
        if (!o->name) {
            fprintf(stderr, "leadbookctl: unknown option \"%.*s\"\n", (int)len, arg);
            return -1;
        }
        if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            fprintf(stderr, "leadbookctl: option %s needs a value\n", o->name);
            return -1;
        }
    }
    return 0;
}

static int cmd_tenant_create(struct lb_db *db, int argc, char **argv, struct lb_buf *out)
{
    const char *name = NULL, *user_id = NULL;
    struct opt opts[] = {{"--name", &name}, {"--user-id", &user_id}, {NULL, NULL}};
    if (parse_opts(argc, argv, opts, NULL) != 0 || !name)
        return usage("tenant create needs --name NAME");
    enum lb_status s = store_tenant_create(db, name, user_id, out);
    if (s != LB_OK) {
        char what[512];
        snprintf(what, sizeof what, "tenant create (name \"%s\", user id \"%s\")", name,
                 user_id ? user_id : "");
        return fail(db, s, what);
    }
    return print_buf(out);
}

/* Removes every "--NAME" (a flag: no value) from argv; returns how many there were. */
static int take_flag(int *argc, char **argv, const char *name)
{
    int found = 0, n = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0)
            found++;
        else
            argv[n++] = argv[i];
    }
    *argc = n;
    return found;
}

static int cmd_key(struct lb_db *db, int argc, char **argv, struct lb_buf *out)
{
    const char *tenant = NULL, *label = NULL, *id = NULL;
    struct opt opts[] = {{"--tenant", &tenant}, {"--label", &label}, {NULL, NULL}};
    if (argc < 1)
        return usage("key needs create, revoke or list");
    const char *sub = argv[0];
    int rest = argc - 1;
    int booking_page = take_flag(&rest, argv + 1, "--booking-page");
    if (parse_opts(rest, argv + 1, opts, &id) != 0)
        return usage(NULL);
    if (booking_page && tenant)
        return usage("a booking-page key belongs to no tenant: --tenant or --booking-page");
    enum lb_status s;
    char what[256];
    if (strcmp(sub, "create") == 0 && booking_page && !id) {
        s = store_key_create_booking_page(db, label, out);
        snprintf(what, sizeof what, "key create (booking page)");
    } else if (strcmp(sub, "create") == 0 && tenant && !id) {
        s = store_key_create(db, tenant, label, out);
        snprintf(what, sizeof what, "key create (tenant %s)", tenant);
    } else if (strcmp(sub, "list") == 0 && booking_page && !id && !label) {
        s = store_key_list_booking_page(db, out);
        snprintf(what, sizeof what, "key list (booking page)");
    } else if (strcmp(sub, "list") == 0 && tenant && !id && !label) {
        s = store_key_list(db, tenant, out);
        snprintf(what, sizeof what, "key list (tenant %s)", tenant);
    } else if (strcmp(sub, "revoke") == 0 && id && !tenant && !label && !booking_page) {
        s = store_key_revoke(db, id, out);
        snprintf(what, sizeof what, "key revoke (key %s)", id);
    } else {
        return usage("bad key command");
    }
    return s == LB_OK ? print_buf(out) : fail(db, s, what);
}

static int cmd_agent_create(struct lb_db *db, int argc, char **argv, struct lb_buf *out)
{
    const char *tenant = NULL, *name = NULL, *knowledge = NULL, *hours_text = NULL;
    struct opt opts[] = {{"--tenant", &tenant},
                         {"--name", &name},
                         {"--knowledge", &knowledge},
                         {"--link-expiry-hours", &hours_text},
                         {NULL, NULL}};
    if (parse_opts(argc, argv, opts, NULL) != 0 || !tenant || !name || !knowledge)
        return usage("agent create needs --tenant, --name and --knowledge");
    int hours = 0;
    if (hours_text) {
        char *end;
        errno = 0;
        long h = strtol(hours_text, &end, 10);
        if (errno || end == hours_text || *end || h < 1 || h > 168) {
            fprintf(stderr,
                    "leadbookctl: --link-expiry-hours must be an integer 1..168, not "
                    "\"%s\"\n",
                    hours_text);
            return EXIT_USAGE;
        }
        hours = (int)h;
    }
    enum lb_status s = store_agent_create(db, tenant, name, knowledge, hours, out);
    if (s != LB_OK) {
        char what[512];
        snprintf(what, sizeof what, "agent create (tenant %s, name \"%s\")", tenant, name);
        return fail(db, s, what);
    }
    return print_buf(out);
}

static int cmd_expire(struct lb_db *db, struct lb_buf *out)
{
    long count = 0;
    enum lb_status s = store_booking_expire_all(db, &count);
    if (s != LB_OK)
        return fail(db, s, "expire");
    lb_buf_printf(out, "{\"expired\":%ld}", count);
    return print_buf(out);
}

/* Idempotency records past their 24 hours (API.md: kept at least that long), webhook deliveries
 * past 30 days, and the rows of deleted agents. */
static int cmd_purge(struct lb_db *db, struct lb_buf *out)
{
    long count = 0, deliveries = 0, events = 0, agent_rows = 0;
    int more = 0;
    enum lb_status s = store_idem_purge(db, &count);
    if (s == LB_OK)
        s = store_webhook_purge(db, &deliveries, &events);
    if (s == LB_OK)
        s = store_agent_purge_deleted(db, AGENT_PURGE_ROWS, AGENT_PURGE_SECONDS, &agent_rows,
                                      &more);
    if (s != LB_OK)
        return fail(db, s, "purge");
    lb_buf_printf(out,
                  "{\"idempotencyKeys\":%ld,\"webhookDeliveries\":%ld,\"webhookEvents\":%ld,"
                  "\"deletedAgentRows\":%ld,\"deletedAgentRowsLeft\":%s}",
                  count, deliveries, events, agent_rows, more ? "true" : "false");
    return print_buf(out);
}

/* ---- migrate ---- */

struct migration {
    char name[256];
    char *sql;
    char checksum[2 * LB_SHA256_LEN + 1];
    int applied;
};

static int is_migration_name(const char *n)
{
    size_t len = strlen(n);
    return len > 8 && len < 256 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' &&
           n[2] >= '0' && n[2] <= '9' && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct migration *)a)->name, ((const struct migration *)b)->name);
}

/* Reads path whole into a NUL-terminated malloc'ed string; NULL (errno) on failure. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct lb_buf b;
    lb_buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && (long)b.len < MAX_MIGRATION_BYTES)
        lb_buf_append(&b, chunk, n);
    int bad = ferror(f) || b.failed || (long)b.len >= MAX_MIGRATION_BYTES ||
              memchr(b.data ? b.data : "", '\0', b.len) != NULL;
    fclose(f);
    if (bad) {
        lb_buf_free(&b);
        errno = EINVAL;
        return NULL;
    }
    if (!b.data)
        lb_buf_append(&b, "", 0);
    return b.data;
}

/* Loads the migration files of dir, sorted; returns their number or -1 (message printed). */
static int load_migrations(const char *dir, struct migration *m, int max)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "leadbookctl: migrate: cannot open migrations directory %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    int n = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_migration_name(e->d_name))
            continue;
        if (n == max) {
            fprintf(stderr, "leadbookctl: migrate: more than %d migrations in %s\n", max, dir);
            rc = -1;
            break;
        }
        snprintf(m[n].name, sizeof m[n].name, "%s", e->d_name);
        m[n].applied = 0;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        m[n].sql = read_file(path);
        if (!m[n].sql) {
            fprintf(stderr, "leadbookctl: migrate: cannot read %s: %s\n", path, strerror(errno));
            rc = -1;
            break;
        }
        lb_sha256_hex(m[n].sql, strlen(m[n].sql), m[n].checksum);
        n++;
    }
    closedir(d);
    if (rc != 0) {
        for (int i = 0; i < n; i++)
            free(m[i].sql);
        return -1;
    }
    qsort(m, (size_t)n, sizeof m[0], by_name);
    return n;
}

/* Compares the ledger with the files: every applied file must still be there, unchanged. */
static int check_ledger(struct lb_db *db, struct migration *m, int n, const char *dir)
{
    PGresult *res;
    enum lb_status s = lb_db_exec_once(
        db, "SELECT filename, checksum FROM schema_migrations ORDER BY filename", 0, NULL, &res);
    if (s != LB_OK)
        return fail(db, s, "migrate (reading schema_migrations)");
    int rc = EXIT_SUCCESS;
    for (int r = 0; r < PQntuples(res) && rc == EXIT_SUCCESS; r++) {
        const char *file = PQgetvalue(res, r, 0), *sum = PQgetvalue(res, r, 1);
        int i = 0;
        while (i < n && strcmp(m[i].name, file) != 0)
            i++;
        if (i == n) {
            fprintf(stderr,
                    "leadbookctl: migrate: %s was applied but is missing from %s; "
                    "refusing to migrate\n",
                    file, dir);
            rc = EXIT_FAILURE;
        } else if (strcmp(m[i].checksum, sum) != 0) {
            fprintf(stderr,
                    "leadbookctl: migrate: %s/%s was changed after it was applied "
                    "(checksum %s, applied %s); refusing to migrate\n",
                    dir, file, m[i].checksum, sum);
            rc = EXIT_FAILURE;
        } else {
            m[i].applied = 1;
        }
    }
    PQclear(res);
    return rc;
}

/* Applies one file and records it, in one transaction. */
static int apply_one(struct lb_db *db, const struct migration *m)
{
    char what[320];
    snprintf(what, sizeof what, "migrate (applying %.255s)", m->name);
    enum lb_status s = lb_db_exec_script(db, "BEGIN");
    if (s == LB_OK)
        s = lb_db_exec_script(db, m->sql);
    if (s == LB_OK) {
        const char *v[] = {m->name, m->checksum};
        s = lb_db_exec_once(db,
                            "INSERT INTO schema_migrations (filename, checksum) "
                            "VALUES ($1, $2)",
                            2, v, NULL);
    }
    if (s == LB_OK)
        s = lb_db_exec_script(db, "COMMIT");
    if (s != LB_OK) {
        int rc = fail(db, s, what);
        lb_db_exec_script(db, "ROLLBACK");
        return rc;
    }
    return EXIT_SUCCESS;
}

static int cmd_migrate(struct lb_db *db, const char *dir, struct lb_buf *out)
{
    /* The session lock makes a second concurrent run wait, then find nothing to do. */
    enum lb_status s = lb_db_exec_script(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
    if (s != LB_OK)
        return fail(db, s, "migrate (connecting and taking the migration lock)");
    s = lb_db_exec_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              "filename text PRIMARY KEY, checksum text NOT NULL, "
                              "applied_at timestamptz NOT NULL DEFAULT now())");
    if (s != LB_OK)
        return fail(db, s, "migrate (creating schema_migrations)");

    static struct migration m[MAX_MIGRATIONS];
    int n = load_migrations(dir, m, MAX_MIGRATIONS);
    if (n < 0)
        return EXIT_FAILURE;
    int rc = check_ledger(db, m, n, dir);
    lb_buf_puts(out, "{\"applied\":[");
    int applied = 0;
    for (int i = 0; i < n && rc == EXIT_SUCCESS; i++) {
        if (m[i].applied)
            continue;
        rc = apply_one(db, &m[i]);
        if (rc == EXIT_SUCCESS) {
            if (applied++)
                lb_buf_putc(out, ',');
            lb_buf_json_string(out, m[i].name);
            m[i].applied = 1;
        }
    }
    lb_buf_puts(out, "],\"current\":");
    int last = n - 1;
    while (last >= 0 && !m[last].applied)
        last--;
    if (last >= 0)
        lb_buf_json_string(out, m[last].name);
    else
        lb_buf_puts(out, "null");
    lb_buf_putc(out, '}');
    for (int i = 0; i < n; i++)
        free(m[i].sql);
    lb_db_exec_script(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    return rc == EXIT_SUCCESS ? print_buf(out) : rc;
}

static int run(struct lb_db *db, const char *sql_dir, int argc, char **argv)
{
    struct lb_buf out;
    lb_buf_init(&out);
    const char *cmd = argv[0], *sub = argc > 1 ? argv[1] : "";
    int rc;
    if (strcmp(cmd, "migrate") == 0 && argc == 1) {
        lb_db_set_statements(db, NULL); /* the tables may not exist yet */
        rc = cmd_migrate(db, sql_dir, &out);
    } else if (strcmp(cmd, "tenant") == 0 && strcmp(sub, "create") == 0) {
        rc = cmd_tenant_create(db, argc - 2, argv + 2, &out);
    } else if (strcmp(cmd, "key") == 0) {
        rc = cmd_key(db, argc - 1, argv + 1, &out);
    } else if (strcmp(cmd, "agent") == 0 && strcmp(sub, "create") == 0) {
        rc = cmd_agent_create(db, argc - 2, argv + 2, &out);
    } else if (strcmp(cmd, "purge") == 0 && argc == 1) {
        rc = cmd_purge(db, &out);
    } else if (strcmp(cmd, "expire") == 0 && argc == 1) {
        rc = cmd_expire(db, &out);
    } else {
        rc = usage("unknown command");
    }
    lb_buf_free(&out);
    return rc;
}

/* The deliverer is a service, not a one-shot command: it logs (key=value lines, at log_level)
 * instead of printing JSON, and makes its own connections. */
static int cmd_webhooks(const struct lb_config *cfg, const char *conninfo, int argc, char **argv)
{
    int rest = argc - 1;
    int once = rest > 0 ? take_flag(&rest, argv + 1, "--once") : 0;
    if (argc < 1 || strcmp(argv[0], "run") != 0 || rest != 0 || once > 1)
        return usage("webhooks needs run [--once]");
    int level = lb_log_level_parse(cfg->log_level);
    lb_log_init("leadbook-webhooks", level < 0 ? LB_LOG_INFO : (enum lb_log_level)level);
    struct lb_webhook_deliver_options opt = {.conninfo = conninfo,
                                             .connect_timeout_s = cfg->db_connect_timeout,
                                             .allow_hosts = cfg->webhook_allow_hosts,
                                             .once = once,
                                             .listen_conninfo = cfg->db_listen,
                                             .unnamed =
                                                 strcmp(cfg->db_pool_mode, "transaction") == 0};
    return lb_webhook_deliver_run(&opt);
}

int main(int argc, char **argv)
{
    const char *db_arg = NULL, *config_path = NULL, *sql_dir_arg = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return EXIT_SUCCESS;
        }
        const char **dst = strcmp(a, "--db") == 0        ? &db_arg
                           : strcmp(a, "-c") == 0        ? &config_path
                           : strcmp(a, "--sql-dir") == 0 ? &sql_dir_arg
                                                         : NULL;
        if (!dst || i + 1 >= argc)
            return usage(dst ? "option needs a value" : "unknown global option");
        *dst = argv[++i];
    }
    if (i >= argc)
        return usage(NULL);

    lb_log_init("leadbookctl", LB_LOG_WARN);
    struct lb_config cfg;
    lb_config_defaults(&cfg);
    char err[512];
    /* An explicit -c must exist; the default file is optional (PG* variables then apply). */
    if (lb_config_load(&cfg, config_path ? config_path : LB_CONFIG_DEFAULT_PATH,
                       config_path != NULL, err, sizeof err) != 0) {
        fprintf(stderr, "leadbookctl: %s\n", err);
        return EXIT_FAILURE;
    }
    if (strcmp(argv[i], "webhooks") == 0)
        return cmd_webhooks(&cfg, db_arg ? db_arg : cfg.db, argc - i - 1, argv + i + 1);
    struct lb_db_options opt = {
        .conninfo = db_arg ? db_arg : cfg.db,
        .connect_timeout_s = cfg.db_connect_timeout,
        .statement_timeout_ms = 0, /* migrations and sweeps may take long */
        .listen_channel = NULL,
        /* through a transaction pooler; migrate's advisory lock and transaction need a
         * direct session (--db): doc/scaling.md */
        .unnamed = strcmp(cfg.db_pool_mode, "transaction") == 0,
    };
    struct lb_db *db = lb_db_new(&opt);
    if (!db) {
        fprintf(stderr, "leadbookctl: out of memory\n");
        return EXIT_FAILURE;
    }
    int rc = run(db, sql_dir_arg ? sql_dir_arg : cfg.sql_dir, argc - i, argv + i);
    lb_db_free(db);
    return rc;
}
