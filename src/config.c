/* config: parse leadbook.conf, then let LEADBOOKD_* environment variables override it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

enum key_type { KEY_STRING, KEY_INT, KEY_LONG, KEY_SIZE, KEY_MODE };

struct key_spec {
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size; /* for strings: buffer size */
    long min, max;
};

#define STR(field)                                                                                 \
    KEY_STRING, offsetof(struct lb_config, field), sizeof(((struct lb_config *)0)->field), 0, 0
#define NUM(t, field, lo, hi) t, offsetof(struct lb_config, field), 0, lo, hi

static const struct key_spec keys[] = {
    {"listen", STR(listen)},
    {"socket_mode", NUM(KEY_MODE, socket_mode, 0, 0777)},
    {"socket_group", STR(socket_group)},
    {"backlog", NUM(KEY_INT, backlog, 1, 65535)},
    {"workers", NUM(KEY_INT, workers, 0, 1024)},
    {"max_requests", NUM(KEY_LONG, max_requests, 0, LONG_MAX)},
    {"request_timeout", NUM(KEY_INT, request_timeout, 0, 86400)},
    {"shutdown_timeout", NUM(KEY_INT, shutdown_timeout, 0, 3600)},
    {"request_deadline", NUM(KEY_INT, request_deadline, 0, 86400)},
    {"max_body_bytes", NUM(KEY_SIZE, max_body_bytes, 1, 64L * 1024 * 1024)},
    {"db", STR(db)},
    {"db_connect_timeout", NUM(KEY_INT, db_connect_timeout, 1, 600)},
    {"db_statement_timeout", NUM(KEY_INT, db_statement_timeout, 0, 3600000)},
    {"db_pool_mode", STR(db_pool_mode)},
    {"db_listen", STR(db_listen)},
    {"db_read", STR(db_read)},
    {"db_read_max_lag", NUM(KEY_INT, db_read_max_lag, 1, 3600)},
    {"db_read_routes", STR(db_read_routes)},
    {"retry_after", NUM(KEY_INT, retry_after, 1, 3600)},
    {"log_level", STR(log_level)},
    {"sql_dir", STR(sql_dir)},
    {"jwt_issuer", STR(jwt_issuer)},
    {"jwt_audience", STR(jwt_audience)},
    {"jwt_jwks_file", STR(jwt_jwks_file)},
    {"jwt_secret_file", STR(jwt_secret_file)},
    {"webhook_allow_hosts", STR(webhook_allow_hosts)},
};

int lb_config_read_routes(const char *routes)
{
    int bits = 0;
    for (const char *p = routes; *p;) {
        size_t n = strcspn(p, " \t,");
        if (n == 7 && strncmp(p, "meeting", n) == 0)
            bits |= (int)LB_READ_MEETING;
        else if (n == 5 && strncmp(p, "stats", n) == 0)
            bits |= (int)LB_READ_STATS;
        else if (n > 0)
            return -1;
        p += n;
        p += strspn(p, " \t,");
    }
    return bits;
}

void lb_config_defaults(struct lb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen, sizeof cfg->listen, "fd:0");
    cfg->socket_mode = 0660;
    /* a burst of connections waits in the queue instead of being refused (nginx answers 502
     * to a full queue); Linux caps it at net.core.somaxconn (4096 by default) */
    cfg->backlog = 4096;
    cfg->workers = 0;
    cfg->max_requests = 100000;
    cfg->request_timeout = 30;
    cfg->shutdown_timeout = 20;
    cfg->request_deadline = 35; /* nginx's fastcgi_read_timeout in the shipped site */
    cfg->max_body_bytes = 64 * 1024;
    cfg->db_connect_timeout = 3;
    cfg->db_statement_timeout = 5000;
    snprintf(cfg->db_pool_mode, sizeof cfg->db_pool_mode, "session");
    cfg->db_read_max_lag = 2;
    snprintf(cfg->db_read_routes, sizeof cfg->db_read_routes, "meeting stats");
    cfg->retry_after = 1;
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    snprintf(cfg->sql_dir, sizeof cfg->sql_dir, "%s", LB_SQLDIR);
    snprintf(cfg->jwt_audience, sizeof cfg->jwt_audience, "authenticated");
}

int lb_config_set(struct lb_config *cfg, const char *key, const char *value, char *err,
                  size_t errlen)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct key_spec *k = &keys[i];
        if (strcmp(k->name, key) != 0)
            continue;
        char *field = (char *)cfg + k->offset;
        if (k->type == KEY_STRING) {
            if (strlen(value) >= k->size) {
                snprintf(err, errlen, "value of %s is too long (max %zu bytes)", key, k->size - 1);
                return -1;
            }
            memcpy(field, value, strlen(value) + 1);
            return 0;
        }
        char *end;
        errno = 0;
        long v = strtol(value, &end, k->type == KEY_MODE ? 8 : 10);
        if (errno || end == value || *end != '\0' || v < k->min || v > k->max) {
            snprintf(err, errlen, "invalid value for %s: \"%s\" (expected %s %ld..%ld)", key, value,
                     k->type == KEY_MODE ? "octal" : "integer", k->min, k->max);
            return -1;
        }
        switch (k->type) {
        case KEY_INT:
            *(int *)(void *)field = (int)v;
            break;
        case KEY_LONG:
            *(long *)(void *)field = v;
            break;
        case KEY_SIZE:
            *(size_t *)(void *)field = (size_t)v;
            break;
        case KEY_MODE:
            *(unsigned *)(void *)field = (unsigned)v;
            break;
        case KEY_STRING:
            break;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown configuration key \"%s\"", key);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int load_file(struct lb_config *cfg, const char *path, int required, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected \"key = value\"", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        char kerr[256];
        if (lb_config_set(cfg, key, value, kerr, sizeof kerr) != 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, kerr);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int lb_config_load(struct lb_config *cfg, const char *path, int required, char *err, size_t errlen)
{
    if (path && load_file(cfg, path, required, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char var[64] = LB_CONFIG_ENV_PREFIX;
        size_t n = strlen(var);
        for (const char *p = keys[i].name; *p && n < sizeof var - 1; p++)
            var[n++] = (char)toupper((unsigned char)*p);
        var[n] = '\0';
        const char *v = getenv(var);
        if (v) {
            char kerr[256];
            if (lb_config_set(cfg, keys[i].name, v, kerr, sizeof kerr) != 0) {
                snprintf(err, errlen, "environment %s: %s", var, kerr);
                return -1;
            }
            /* never the value: db and the file paths may hold secrets */
            lb_log(LB_LOG_INFO, "config_override", "key=%s variable=%s", keys[i].name, var);
        }
    }
    /* sign-in tokens are off while jwt_issuer is empty (the shipped file names the key
     * file, ready to be filled in) */
    if (cfg->jwt_issuer[0] && !cfg->jwt_jwks_file[0] && !cfg->jwt_secret_file[0]) {
        snprintf(err, errlen, "jwt_issuer is set but neither jwt_jwks_file nor jwt_secret_file");
        return -1;
    }
    if (strcmp(cfg->db_pool_mode, "session") != 0 &&
        strcmp(cfg->db_pool_mode, "transaction") != 0) {
        snprintf(err, errlen, "invalid db_pool_mode \"%s\" (session, transaction)",
                 cfg->db_pool_mode);
        return -1;
    }
    /* LISTEN cannot work through transaction pooling: the revocations would be missed */
    if (strcmp(cfg->db_pool_mode, "transaction") == 0 && !cfg->db_listen[0]) {
        snprintf(err, errlen,
                 "db_pool_mode = transaction needs db_listen (a direct connection "
                 "to the primary for LISTEN)");
        return -1;
    }
    if (lb_config_read_routes(cfg->db_read_routes) < 0) {
        snprintf(err, errlen, "invalid db_read_routes \"%s\" (meeting, stats)",
                 cfg->db_read_routes);
        return -1;
    }
    if (lb_log_level_parse(cfg->log_level) < 0) {
        snprintf(err, errlen, "invalid log_level \"%s\" (debug, info, warn, error)",
                 cfg->log_level);
        return -1;
    }
    return 0;
}
