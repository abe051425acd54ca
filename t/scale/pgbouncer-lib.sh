# shellcheck shell=sh disable=SC2034 # PGB_CONNINFO is for the scripts that source this
# t/scale/pgbouncer-lib.sh: a private PgBouncer (Debian 12's 1.18) in front of a t/lib/pgctl
# cluster, for t/scale/pgbouncer and t/scale/pgbouncer-bench. Sourced by sh/bash. Like pgctl it
# runs as the "postgres" user when started as root (PgBouncer refuses to run as root), on a unix
# socket only (listen_addr empty: no TCP at all).
#
#   pgb_start DIR PGDIR POOL_SIZE   writes DIR/pgbouncer.ini and starts it; PGB_CONNINFO is then
#                                   "host=DIR port=6432" (add user= and dbname=)
#   pgb_stop DIR                    stops it (SIGINT to the PID of DIR/pgbouncer.pid)
#   pgb_admin DIR SQL               a command on its admin console (SHOW POOLS, SHOW STATS...)

pgb_as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The session settings leadbookd sends as startup options when it connects directly
# (LB_DB_SESSION_OPTIONS in src/db.h, plus db_statement_timeout): through transaction pooling
# they are PgBouncer's connect_query, run on each new server connection.
PGB_CONNECT_QUERY="SET plan_cache_mode = force_generic_plan; SET max_parallel_workers_per_gather = 0; SET jit = off; SET lock_timeout = 2000; SET enable_seqscan = off; SET statement_timeout = 5000"

pgb_start() {
    pgb_dir=$1 pgb_pgdir=$2 pgb_pool=${3:-20}
    mkdir -p "$pgb_dir"
    cat >"$pgb_dir/pgbouncer.ini" <<INI
[databases]
; every database name, to the same name on the cluster, as user postgres
* = host=$pgb_pgdir port=5432 user=postgres connect_query='$PGB_CONNECT_QUERY'

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $pgb_dir
unix_socket_mode = 0777
auth_type = any
pool_mode = transaction
default_pool_size = $pgb_pool
max_client_conn = 1000
admin_users = postgres
stats_users = postgres
logfile = $pgb_dir/pgbouncer.log
pidfile = $pgb_dir/pgbouncer.pid
server_lifetime = 3600
server_idle_timeout = 600
INI
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$pgb_dir"; chmod 0755 "$pgb_dir"; fi
    pgb_as_pg pgbouncer -d -q "$pgb_dir/pgbouncer.ini" ||
        { cat "$pgb_dir/pgbouncer.log" >&2 2>/dev/null; return 1; }
    i=0
    while [ ! -S "$pgb_dir/.s.PGSQL.6432" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "pgbouncer did not start" >&2; return 1; }
        sleep 0.05
    done
    PGB_CONNINFO="host=$pgb_dir port=6432"
}

pgb_stop() {
    [ -f "$1/pgbouncer.pid" ] || return 0
    pid=$(cat "$1/pgbouncer.pid" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -INT "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
}

pgb_admin() {
    psql "host=$1 port=6432 user=postgres dbname=pgbouncer" -X -q -At -F ' ' -c "$2"
}
