/* fenv: own cluster, provisioning through leadbookctl, stack on it, /proc readings. */
#include "fenv.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t fenv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int fenv_run(char *const argv[], struct lb_buf *out)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    char chunk[4096];
    ssize_t n;
    while ((n = read(pfd[0], chunk, sizeof chunk)) > 0)
        if (out)
            lb_buf_append(out, chunk, (size_t)n);
    close(pfd[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int pgctl(struct fenv *e, const char *cmd, struct lb_buf *out)
{
    char path[512];
    snprintf(path, sizeof path, "%s/t/lib/pgctl", stack_srcdir());
    char *argv[] = {path, (char *)cmd, e->pgdir, NULL};
    return fenv_run(argv, out);
}

int fenv_ctl(const struct fenv *e, struct lb_buf *out, ...)
{
    char ctl[512], sql[512];
    snprintf(ctl, sizeof ctl, "%s/leadbookctl", stack_builddir());
    snprintf(sql, sizeof sql, "%s/sql", stack_srcdir());
    char *argv[32];
    int n = 0;
    argv[n++] = ctl;
    argv[n++] = "--db";
    argv[n++] = (char *)e->conninfo;
    argv[n++] = "--sql-dir";
    argv[n++] = sql;
    va_list ap;
    va_start(ap, out);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && n < 31)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return fenv_run(argv, out);
}

int fenv_cluster_start(struct fenv *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/leadbook-fault.XXXXXX");
    if (!mkdtemp(e->dir)) {
        perror("fenv: mkdtemp");
        return -1;
    }
    chmod(e->dir, 0755);
    snprintf(e->pgdir, sizeof e->pgdir, "%s/pg", e->dir);
    setenv("PGCTL_FSYNC", "off", 1);
    struct lb_buf out;
    lb_buf_init(&out);
    int rc = pgctl(e, "start", &out);
    if (rc != 0 || !out.data || strncmp(out.data, "host=", 5) != 0) {
        fprintf(stderr, "fenv: pgctl start %s failed (%d)\n", e->pgdir, rc);
        lb_buf_free(&out);
        return -1;
    }
    snprintf(e->conninfo, sizeof e->conninfo, "%.*s", (int)strcspn(out.data, "\n"), out.data);
    snprintf(e->db_line, sizeof e->db_line, "db = %s", e->conninfo);
    lb_buf_reset(&out);
    rc = fenv_ctl(e, &out, "migrate", (char *)NULL);
    lb_buf_free(&out);
    if (rc != 0) {
        fprintf(stderr, "fenv: leadbookctl migrate exited %d\n", rc);
        return -1;
    }
    return 0;
}

int fenv_pg_stop(struct fenv *e)
{
    return pgctl(e, "stop", NULL);
}

int fenv_pg_start(struct fenv *e)
{
    return pgctl(e, "start", NULL) == 0 ? 0 : -1;
}

void fenv_destroy(struct fenv *e)
{
    if (!e->pgdir[0])
        return;
    if (getenv("LEADBOOK_KEEP_TEST_DIRS")) {
        pgctl(e, "stop", NULL);
        fprintf(stderr, "fenv: kept %s\n", e->dir);
        return;
    }
    pgctl(e, "destroy", NULL);
    char *argv[] = {"/bin/rm", "-rf", e->dir, NULL};
    fenv_run(argv, NULL);
    e->pgdir[0] = '\0';
}

int fenv_json_str(const char *json, const char *path, char *out, size_t outlen)
{
    out[0] = '\0';
    json_object *root = json ? json_tokener_parse(json) : NULL;
    if (!root)
        return -1;
    json_object *o = root;
    char part[64];
    const char *p = path;
    int rc = 0;
    while (*p && rc == 0) {
        size_t n = strcspn(p, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, part, &o))
            rc = -1;
        p += n;
        if (*p == '.')
            p++;
    }
    if (rc == 0 && json_object_is_type(o, json_type_string))
        snprintf(out, outlen, "%s", json_object_get_string(o));
    else
        rc = -1;
    json_object_put(root);
    return rc;
}

int fenv_provision(struct fenv *e, const char *tenant_name)
{
    struct lb_buf out;
    lb_buf_init(&out);
    int rc = fenv_ctl(e, &out, "tenant", "create", "--name", tenant_name, (char *)NULL);
    if (rc != 0 || fenv_json_str(out.data, "id", e->tenant, sizeof e->tenant) != 0) {
        fprintf(stderr, "fenv: tenant create: %d %s\n", rc, out.data ? out.data : "");
        goto fail;
    }
    lb_buf_reset(&out);
    rc =
        fenv_ctl(e, &out, "key", "create", "--tenant", e->tenant, "--label", "fault", (char *)NULL);
    if (rc != 0 || fenv_json_str(out.data, "id", e->key_id, sizeof e->key_id) != 0 ||
        fenv_json_str(out.data, "key", e->key, sizeof e->key) != 0) {
        fprintf(stderr, "fenv: key create: exit %d\n", rc);
        goto fail;
    }
    lb_buf_reset(&out);
    rc = fenv_ctl(e, &out, "agent", "create", "--tenant", e->tenant, "--name", "Fault agent",
                  "--knowledge", "Knows about faults and houses.", (char *)NULL);
    if (rc != 0 || fenv_json_str(out.data, "id", e->agent, sizeof e->agent) != 0 ||
        fenv_json_str(out.data, "publicLink", e->agent_link, sizeof e->agent_link) != 0) {
        fprintf(stderr, "fenv: agent create: %d %s\n", rc, out.data ? out.data : "");
        goto fail;
    }
    lb_buf_free(&out);
    return 0;
fail:
    lb_buf_free(&out);
    return -1;
}

int fenv_stack_start(const struct fenv *e, struct stack *s, const char *const *extra)
{
    const char *lines[16];
    int n = 0;
    lines[n++] = e->db_line;
    for (const char *const *l = extra; l && *l && n < 15; l++)
        lines[n++] = *l;
    lines[n] = NULL;
    return stack_start(s, lines);
}

PGconn *fenv_pg(const struct fenv *e)
{
    PGconn *c = PQconnectdb(e->conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "fenv: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

int fenv_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "fenv: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

int fenv_pg_signal(const struct fenv *e, int sig)
{
    char path[400], line[32];
    snprintf(path, sizeof path, "%s/data/postmaster.pid", e->pgdir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    pid_t master = got ? (pid_t)atoi(line) : 0;
    if (master <= 1 || kill(master, sig) != 0)
        return -1;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(de->d_name);
        if (pid <= 1)
            continue;
        char stat[300], buf[512];
        snprintf(stat, sizeof stat, "/proc/%d/stat", (int)pid);
        FILE *s = fopen(stat, "r");
        if (!s)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, s);
        fclose(s);
        buf[n] = '\0';
        const char *close_paren = strrchr(buf, ')');
        int ppid = 0;
        if (close_paren && sscanf(close_paren + 2, "%*c %d", &ppid) == 1 && ppid == master)
            kill(pid, sig);
    }
    closedir(d);
    return 0;
}

int fenv_proc_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

long fenv_proc_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

int fenv_slurp(const char *path, struct lb_buf *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lb_buf_append(out, chunk, n);
    fclose(f);
    return 0;
}

void fenv_urlencode(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < outlen; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
}
