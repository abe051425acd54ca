/* config: leadbook.conf ("key = value", '#' comments) with LEADBOOKD_<KEY> environment overrides.
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stddef.h>

#define LB_CONFIG_DEFAULT_PATH LB_SYSCONFDIR "/leadbook.conf"

struct lb_config {
    char listen[512];         /* "unix:/path", "tcp:HOST:PORT" or "fd:0" (inherited) */
    unsigned socket_mode;     /* mode of a unix socket we create (octal in the file) */
    char socket_group[64];    /* group of that socket; empty = leave as is */
    int backlog;              /* listen(2) backlog */
    int workers;              /* worker processes; 0 = 2 per CPU */
    long max_requests;        /* recycle a worker after this many requests; 0 = never */
    int request_timeout;      /* seconds before the master kills a stuck worker; 0 = never */
    int shutdown_timeout;     /* seconds in-flight requests get on SIGTERM / reload */
    int request_deadline;     /* seconds: a request that waited longer is not run; 0 = off */
    size_t max_body_bytes;    /* request bodies above this are 413 */
    char db[1024];            /* libpq conninfo; empty = libpq's PG* environment */
    int db_connect_timeout;   /* seconds for a (re)connect attempt */
    int db_statement_timeout; /* milliseconds; PostgreSQL statement_timeout */
    /* beyond one database server (doc/scaling.md) */
    char db_pool_mode[16];   /* "session" (default) or "transaction" (PgBouncer's pooling) */
    char db_listen[1024];    /* direct conninfo of the primary for LISTEN; empty = db's */
    char db_read[1024];      /* conninfo of a streaming replica for lag-tolerant reads */
    int db_read_max_lag;     /* seconds of replay lag beyond which reads go to the primary */
    char db_read_routes[64]; /* which reads may use db_read: "meeting", "stats" (spaces) */
    int retry_after;         /* seconds in Retry-After of a 503 */
    char log_level[16];      /* debug, info, warn, error */
    char sql_dir[512];       /* migrations directory for leadbookctl */
    /* sign-in tokens (JWTs of the web frontend's identity provider); off when jwt_issuer is
     * empty */
    char jwt_issuer[512];      /* required `iss` */
    char jwt_audience[256];    /* required `aud` (default "authenticated") */
    char jwt_jwks_file[512];   /* JWKS of the ES256/RS256 public keys; empty = none */
    char jwt_secret_file[512]; /* HS256 shared secret; empty = none */
    /* webhook hosts exempt from the public-address rule (and allowed plain http), separated by
     * spaces: for receivers on loopback in tests and development (net_check.h) */
    char webhook_allow_hosts[1024];
};

/* Environment variables named LEADBOOKD_<KEY> override keys of the file (LEADBOOKD_, with a D:
 * the daemon's namespace, apart from the LEADBOOK_* variables that scripts share). */
#define LB_CONFIG_ENV_PREFIX "LEADBOOKD_"

/* The reads that may go to db_read (the bits of db_read_routes). */
#define LB_READ_MEETING 1u /* GET /bookings/meeting/{token}, the public meeting lookup */
#define LB_READ_STATS 2u   /* GET /leads/stats */
/* db_read_routes as bits; -1 for a word it does not know. */
int lb_config_read_routes(const char *routes);

void lb_config_defaults(struct lb_config *cfg);
/* Reads path (if non-NULL; a missing file is an error only when required is set), then applies
 * LEADBOOKD_* variables, logging each override it applies (config_override key=... variable=...).
 * Returns 0, or -1 with a message in err. */
int lb_config_load(struct lb_config *cfg, const char *path, int required, char *err, size_t errlen);
/* Sets one key from its text value (as the file or the environment gives it). */
int lb_config_set(struct lb_config *cfg, const char *key, const char *value, char *err,
                  size_t errlen);

#endif
