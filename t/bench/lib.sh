# t/bench/lib.sh: the benchmark stack (build, PostgreSQL, seed, leadbookd, nginx) for t/bench/run
# and t/bench/up. Sourced by bash; every function works on the globals below. Everything runs on
# loopback / unix sockets in one temporary directory ($W); bench_stop kills only the processes
# started here (by PID) and removes $W.

here=${here:?}
top=$(cd "$here/../.." && pwd)
build=${BENCH_BUILD:-$top/build-bench}
W=""            # work dir
CI=""           # libpq conninfo of the bench database
PORT=""         # nginx HTTP port on 127.0.0.1
LB_PID=""       # leadbookd master
LB_CONF=""      # its config file
LB_WORKERS=${LB_WORKERS:-0}
LB_EXTRA=()     # extra "key = value" lines for leadbookd's config (--lb-set)
LB_ENV=()       # extra NAME=VALUE environment of leadbookd (--lb-env), e.g. libfcgi's knobs
LB_JWT=()       # leadbookd's sign-in token lines (jwt_issuer, jwt_jwks_file), from signin_setup
PUBLIC_RATE=${PUBLIC_RATE:-1000000}
NGINX_KEEP_ACCESS_LOG=${NGINX_KEEP_ACCESS_LOG:-1}
NGINX_KEEPALIVE=${NGINX_KEEPALIVE:-0} # >0: upstream keepalive N + fastcgi_keep_conn on (a knob)

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

bench_build() {
    if [ -f "$top/Makefile" ]; then
        die "$top/Makefile exists (in-tree build): VPATH configure refuses; run 'make distclean' in $top"
    fi
    [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) >/dev/null
    mkdir -p "$build"
    if [ ! -f "$build/Makefile" ]; then
        log "configure in $build (CFLAGS=-O2 -g)"
        (cd "$build" && ../configure CFLAGS="-O2 -g" >configure.out 2>&1) ||
            die "configure failed: see $build/configure.out"
    fi
    log "make leadbookd leadbookctl t/lib/lb-token in $build"
    make -C "$build" -j"$(nproc)" leadbookd leadbookctl t/lib/lb-token >"$build/make.out" 2>&1 ||
        die "build failed (someone else's file?): see $build/make.out"
    # shellcheck disable=SC2046
    cc -O2 -D_GNU_SOURCE -I"$top/src" -I"$build" $(pkg-config --cflags libpq 2>/dev/null) \
        -I/usr/include/postgresql -o "$build/catalog-dump" "$here/catalog-dump.c" \
        "$build/libleadbook.a" -lpq -ljson-c -lfcgi $(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto) ||
        die "catalog-dump does not build against $build/libleadbook.a"
    cc -O2 -Wall -Wextra -Werror -o "$build/null-fcgi" "$here/null-fcgi.c" -lfcgi ||
        die "null-fcgi does not build"
}

free_port() {
    local p
    for p in $(shuf -i 20000-29999 -n 50); do
        if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
    done
    die "no free port"
}

# Busy CPU time of the whole machine so far, in clock ticks (user+nice+system+irq+softirq).
cpu_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

psql_q() { psql "$CI" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# CPU time of the whole PostgreSQL cluster of $W/pg so far, in clock ticks: the postmaster, its
# live children, and (cutime/cstime) the children it has reaped, such as the backends of a
# finished pgbench. Over a run and its requests: the database's CPU per request, which outside
# load on this shared machine changes far less than the rates.
pg_cpu_ticks() {
    local pm p t=0
    pm=$(head -1 "$W/pg/data/postmaster.pid")
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
    for p in $(ps -o pid= --ppid "$pm"); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
# proc_ticks PID...: CPU time (user + system, every thread) of these processes so far, in ticks.
proc_ticks() {
    local p t=0
    for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo "$t"
}
# nginx_pids PIDFILE: an nginx's master and its workers.
nginx_pids() {
    local m
    m=$(cat "$1")
    echo "$m $(ps -o pid= --ppid "$m" | tr '\n' ' ')"
}
# times_ticks "LINE": the children's user + system time in bash's `times` line ("0m1.5s 0m0.2s"),
# in ticks.
times_ticks() {
    awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(t, f, /[ms ]+/);
        printf "%.0f", (f[1] * 60 + f[2] + f[3] * 60 + f[4]) * hz }'
}
# cpu_us TICKS N: microseconds per item
cpu_us() { awk -v c="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0f", c * 1e6 / hz / n; else print 0 }'; }

bench_start_db() {
    W=$(mktemp -d /tmp/lbbench.XXXXXX)
    chmod 0755 "$W"
    log "work dir $W; starting PostgreSQL"
    local base
    base=$(PGCTL_FSYNC=${PGCTL_FSYNC:-on} "$top/t/lib/pgctl" start "$W/pg")
    psql "$base" -X -q -c 'CREATE DATABASE bench' >/dev/null
    CI="${base% dbname=*} dbname=bench"
    "$build/leadbookctl" --db "$CI" --sql-dir "$top/sql" migrate >/dev/null ||
        die "migrate failed"
}

# lb_write_conf WORKERS: leadbookd's config for this stack (+ the --lb-set lines).
lb_write_conf() {
    LB_CONF=$W/leadbookd.conf
    {
        echo "listen = unix:$W/app.sock"
        echo "workers = $1"
        echo "max_requests = 0" # no recycling: the RSS figures must see one worker's whole life
        echo "db = $CI"
        echo "log_level = info"
        local kv
        for kv in ${LB_JWT[@]+"${LB_JWT[@]}"} ${LB_EXTRA[@]+"${LB_EXTRA[@]}"}; do echo "$kv"; done
    } >"$LB_CONF"
}

lb_start() {
    lb_write_conf "${1:-$LB_WORKERS}"
    rm -f "$W/app.sock"
    env ${LB_ENV[@]+"${LB_ENV[@]}"} "$build/leadbookd" -c "$LB_CONF" 2>>"$W/leadbookd.log" &
    LB_PID=$!
    wait_app_socket "$LB_PID" leadbookd "$W/leadbookd.log"
}

# wait_app_socket PID NAME LOG: until $W/app.sock exists (10 s), or die if PID has exited.
wait_app_socket() {
    local i
    for i in $(seq 1 200); do
        [ -S "$W/app.sock" ] && return 0
        kill -0 "$1" 2>/dev/null || die "$2 exited: $(tail -5 "$3")"
        sleep 0.05
    done
    die "$2 did not create its socket"
}

lb_stop() {
    [ -n "$LB_PID" ] || return 0
    kill -TERM "$LB_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$LB_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LB_PID" 2>/dev/null || true
    wait "$LB_PID" 2>/dev/null || true
    LB_PID=""
}

lb_workers() { ps -o pid= --ppid "$LB_PID" | tr -d ' '; }

nginx_start() {
    PORT=$(free_port)
    "$top/scripts/nginx-conf" --out "$W/nginx" --listen "127.0.0.1:$PORT" \
        --socket "$W/app.sock" >/dev/null
    # Bench override 1: the public meeting path is limited to 5 r/s per client address, and
    # every wrk connection comes from 127.0.0.1: raise the rate (the limit_req code path stays).
    # Within one millisecond nginx counts every request against the burst whatever the rate,
    # so the burst goes up too.
    sed -i -e "s/rate=5r\/s;/rate=${PUBLIC_RATE}r\/s;/" \
        -e "s/limit_req zone=leadbook_public burst=10 nodelay;/limit_req zone=leadbook_public burst=${PUBLIC_RATE} nodelay;/" \
        "$W/nginx/leadbook.conf"
    grep -q "rate=${PUBLIC_RATE}r/s;" "$W/nginx/leadbook.conf" &&
        grep -q "burst=${PUBLIC_RATE} nodelay" "$W/nginx/leadbook.conf" || die "rate override failed"
    if [ "$NGINX_KEEP_ACCESS_LOG" = 0 ]; then
        sed -i 's|access_log .* leadbook;|access_log off;|' "$W/nginx/leadbook.conf"
    fi
    # Bench override 2, for the ceiling rows only: nginx answering by itself, with a body of the
    # meeting lookup's size (no upstream at all).
    local filler
    filler=$(head -c 640 /dev/zero | tr '\0' x)
    sed -i "s|^\(\s*\)location = /healthz {|\1location = /__bench_static { default_type \"application/json; charset=utf-8\"; return 200 '{\"x\":\"$filler\"}'; }\n&|" \
        "$W/nginx/leadbook.conf"
    grep -q "location = /__bench_static" "$W/nginx/leadbook.conf" || die "static location override failed"
    if [ "$NGINX_KEEPALIVE" -gt 0 ]; then # a knob: FastCGI keep-alive (README, finding 6)
        sed -i -e "s|^\(\s*server unix:.*;\).*|\1\n    keepalive $NGINX_KEEPALIVE;|" \
            -e "s|^\(\s*\)fastcgi_next_upstream off;|&\n\1fastcgi_keep_conn on;|" "$W/nginx/leadbook.conf"
        grep -q "fastcgi_keep_conn on;" "$W/nginx/leadbook.conf" &&
            grep -q "keepalive $NGINX_KEEPALIVE;" "$W/nginx/leadbook.conf" || die "keepalive override failed"
    fi
    nginx -t -q -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" ||
        die "nginx -t failed"
    nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log"
    local i
    for i in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ] &&
            return 0
        sleep 0.05
    done
    die "no 200 from /healthz through nginx"
}

nginx_stop() {
    [ -n "$W" ] && [ -f "$W/nginx/nginx.pid" ] || return 0
    local pid
    pid=$(cat "$W/nginx/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$W/nginx/nginx.pid"
}

# null-fcgi (t/bench/null-fcgi.c) on leadbookd's socket, for the ceiling rows.
NULL_PID=""
null_start() { # WORKERS
    rm -f "$W/app.sock"
    "$build/null-fcgi" "$W/app.sock" "$1" "$W/null.resp" 2>>"$W/null-fcgi.log" &
    NULL_PID=$!
    wait_app_socket "$NULL_PID" null-fcgi "$W/null-fcgi.log"
}
null_stop() {
    [ -n "$NULL_PID" ] || return 0
    kill -TERM "$NULL_PID" 2>/dev/null || true
    wait "$NULL_PID" 2>/dev/null || true
    NULL_PID=""
}
bench_stop() {
    set +e
    null_stop
    lb_stop
    nginx_stop
    if [ -n "$W" ]; then
        "$top/t/lib/pgctl" destroy "$W/pg" >/dev/null 2>&1
        if [ "${BENCH_KEEP_DIR:-0}" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
    fi
}

# --- data -------------------------------------------------------------------------------------

# make_tenant NAME NAGENTS: prints the tenant id; agents with 24 h links.
make_tenant() {
    local t
    t=$(psql_q -c "INSERT INTO tenants (name, user_id) VALUES ('Bench $1', 'bench-$1') RETURNING id" | head -1)
    psql_q -c "INSERT INTO agents (tenant_id, name, knowledge, created_at)
               SELECT '$t', 'Agent $1' || g, 'Knows everything about product line ' || g,
                      now() - g * interval '1 minute'
               FROM generate_series(1, $2) g" >/dev/null
    echo "$t"
}

# make_key TENANT: prints "KEY_ID KEY" (through leadbookctl key create, as an operator would)
make_key() {
    "$build/leadbookctl" --db "$CI" key create --tenant "$1" --label bench |
        jq -r '"\(.id) \(.key)"'
}

seed_tenant() { # TENANT N PFX MODE
    psql "$CI" -X -q -v tenant="$1" -v n="$2" -v pfx="$3" -v mode="$4" -f "$here/seed-tenant.sql"
}

# --- a webhook receiver (t/bench/run's wh_pairs, t/bench/floor-webhooks) ----------------------

# rx_start: an nginx on 127.0.0.1:$RX_PORT answering every request 204, in $W/rx (RX_PREFIX).
RX_PREFIX="" RX_PORT=""
rx_start() {
    RX_PREFIX=$W/rx
    RX_PORT=$(free_port)
    mkdir -p "$RX_PREFIX/logs"
    printf '%s\n' "worker_processes 1;" "pid $RX_PREFIX/nginx.pid;" \
        "events { worker_connections 512; }" "http {" "    access_log off;" \
        "    client_body_temp_path $RX_PREFIX/body;" "    proxy_temp_path $RX_PREFIX/proxy;" \
        "    fastcgi_temp_path $RX_PREFIX/fastcgi;" "    uwsgi_temp_path $RX_PREFIX/uwsgi;" \
        "    scgi_temp_path $RX_PREFIX/scgi;" \
        "    server { listen 127.0.0.1:$RX_PORT; location / { return 204; } }" "}" \
        >"$RX_PREFIX/nginx.conf"
    nginx -p "$RX_PREFIX" -c "$RX_PREFIX/nginx.conf" -e "$RX_PREFIX/error.log" || die "receiver nginx failed"
}
rx_stop() {
    if [ -n "$RX_PREFIX" ] && [ -f "$RX_PREFIX/nginx.pid" ]; then
        kill -QUIT "$(cat "$RX_PREFIX/nginx.pid")" 2>/dev/null || true
    fi
    RX_PREFIX=""
}

# wh_endpoint TENANT: an enabled endpoint of TENANT on the receiver, subscribed to every event;
# prints its id. Writes the deliverer's config ($W/webhooks.conf: the receiver's loopback host
# allowed).
wh_endpoint() {
    printf 'log_level = warn\nwebhook_allow_hosts = 127.0.0.1\n' >"$W/webhooks.conf"
    psql_q -c "INSERT INTO webhook_endpoints (tenant_id, url, events, secret) VALUES ('$1',
               'http://127.0.0.1:$RX_PORT/hook', ARRAY['booking.created', 'booking.status_changed',
               'booking.rescheduled'], 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=')
               RETURNING id" | head -1
}
# wh_start CTL: the deliverer (CTL webhooks run, a leadbookctl) in the background, as WH_PID;
# wh_stop: stops it (TERM) and waits for it.
WH_PID=""
wh_start() {
    "$1" --db "$CI" -c "$W/webhooks.conf" webhooks run 2>>"$W/webhooks.log" &
    WH_PID=$!
}
wh_stop() {
    if [ -n "$WH_PID" ]; then
        kill -TERM "$WH_PID" 2>/dev/null || true
        wait "$WH_PID" 2>/dev/null || true
        WH_PID=""
    fi
}

# --- bare tables (t/bench/floor, t/bench/floor-webhooks) ---------------------------------------

# floor_tables: copies of the write path's tables with their columns, defaults and indexes and
# nothing else (no constraint, foreign key or trigger), filled with the same rows; an
# insert-only counter table; empty copies of the webhook outbox's two tables.
floor_tables() {
    psql_q <<'SQL' >/dev/null
CREATE TABLE floor_leads (LIKE leads INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE floor_bookings (LIKE bookings INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE floor_events (LIKE booking_events INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE floor_deltas (tenant_id uuid NOT NULL, agent_id uuid NOT NULL, status booking_status,
                           n integer NOT NULL);
CREATE INDEX ON floor_deltas (tenant_id, agent_id);
CREATE TABLE floor_wh_events (LIKE webhook_events INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE floor_wh_deliveries (LIKE webhook_deliveries INCLUDING DEFAULTS INCLUDING INDEXES);
INSERT INTO floor_leads SELECT * FROM leads;
INSERT INTO floor_bookings SELECT * FROM bookings;
INSERT INTO floor_events OVERRIDING SYSTEM VALUE SELECT * FROM booking_events;
ALTER TABLE floor_events ALTER seq ADD GENERATED BY DEFAULT AS IDENTITY;
SELECT setval(pg_get_serial_sequence('floor_events', 'seq'), (SELECT max(seq) FROM floor_events));
VACUUM ANALYZE;
SQL
}

# floor_post_sql [CTE...]: a pgbench script (-M prepared) writing POST /leads' three rows into
# the bare tables, with more CTEs ("name AS (...)", reading l and b) after them.
floor_post_sql() {
    local extra=""
    [ $# = 0 ] || extra=", $*"
    cat <<EOF
\\set c :c + 1
WITH l AS (INSERT INTO floor_leads (tenant_id, agent_id, name, email, booked_at) SELECT :tenant, :agent, :c, :email, now() RETURNING *), b AS (INSERT INTO floor_bookings (tenant_id, lead_id, agent_id, scheduled_at, status, expires_at) SELECT l.tenant_id, l.id, l.agent_id, :when::timestamptz, 'PENDING', :when::timestamptz + interval '24 hours' FROM l RETURNING *), e AS (INSERT INTO floor_events (tenant_id, booking_id, from_status, to_status, key_id, actor, actor_id) SELECT b.tenant_id, b.id, NULL, b.status, :key_id::text::uuid, 'key', :key_id FROM b)$extra SELECT l.id, b.id, b.meeting_token FROM l JOIN b ON b.lead_id = l.id;
EOF
}

# floor_pgbench BENCH RUN MODE FILE [-D ...]: one pgbench run of $PGCLIENTS clients; appends
# "tps BENCH RUN TPS CPU_US_PER_TX TRANSACTIONS" to $RES (the cluster's CPU, pg_cpu_ticks,
# over the run's transactions).
floor_pgbench() {
    local bench=$1 run=$2 mode=$3 file=$4 out=$W/pgbench.$1.$2.txt c0 c1 n tps us
    shift 4
    c0=$(pg_cpu_ticks)
    PGOPTIONS=$SESSION_OPTS pgbench "$CI" -M "$mode" -n -c "$PGCLIENTS" -j "$THREADS" -T "$DURATION" \
        -D p=0 -D c=0 -D actor=key "$@" -f "$file" >"$out" 2>&1 || { cat "$out" >&2; die "pgbench failed ($bench)"; }
    grep -q 'aborted' "$out" && die "pgbench $bench: clients aborted: $(grep -m1 ERROR "$out")"
    sleep 1 # the postmaster reaps pgbench's backends, and adds their CPU time to its own
    c1=$(pg_cpu_ticks)
    tps=$(awk '/^tps/ { printf "%.0f", $3 }' "$out")
    n=$(awk '/number of transactions actually processed/ { split($NF, a, "/"); print a[1] }' "$out")
    us=$(cpu_us $((c1 - c0)) "$n")
    printf 'tps\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$run" "$tps" "$us" "$n" >>"$RES"
    log "pgbench $bench #$run: $tps TPS, $us us of PostgreSQL CPU per transaction"
}

# floor_wrk BENCH RUN SCRIPT ENV...: one wrk run of t/bench/wrk/SCRIPT through this stack's nginx
# ($BASE_URL), which must answer every request 2xx; appends "share BENCH RUN RPS PG LB NGINX WRK
# REQUESTS" to $RES: the CPU ticks of the PostgreSQL cluster, leadbookd (master and workers),
# nginx (master and workers) and wrk over the run, and the requests wrk counted.
floor_wrk() {
    local bench=$1 run=$2 script=$3
    shift 3
    local pg0 lb0 ng0 pg1 lb1 ng1 wt out=$W/wrk.$bench.$run.txt lbp ngp
    lbp="$LB_PID $(lb_workers | tr '\n' ' ')" ngp=$(nginx_pids "$W/nginx/nginx.pid")
    # shellcheck disable=SC2086
    pg0=$(pg_cpu_ticks) lb0=$(proc_ticks $lbp) ng0=$(proc_ticks $ngp)
    wt=$({
        env BENCH_LUA_DIR="$here/wrk" BENCH_RUN="$run" "$@" \
            wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$here/wrk/$script" \
            "$BASE_URL/" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($bench)"; }
        times
    } | tail -1)
    # shellcheck disable=SC2086
    pg1=$(pg_cpu_ticks) lb1=$(proc_ticks $lbp) ng1=$(proc_ticks $ngp)
    local rps non2xx total
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    total=$(awk '/requests in/ { print $1 }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    [ -z "$non2xx" ] || die "wrk $bench: $non2xx non-2xx answers"
    local wrk_ticks
    wrk_ticks=$(times_ticks "$wt")
    printf 'share\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$run" "$rps" $((pg1 - pg0)) \
        $((lb1 - lb0)) $((ng1 - ng0)) "$wrk_ticks" "$total" >>"$RES"
    log "wrk $bench #$run: $rps req/s; ticks pg $((pg1 - pg0)) leadbookd $((lb1 - lb0)) nginx $((ng1 - ng0)) wrk $wrk_ticks"
}

# --- sign-in tokens (the signin_pairs bench) ---------------------------------------------------
SIGNIN_ISS=https://bench.leadbook.invalid/auth/v1 # jwt_issuer (the audience stays the default)
SIGNIN_KID=bench-es256

# signin_setup: a development ES256 key in $W, its JWKS, and the jwt_* lines of leadbookd's
# config (for the next lb_start).
signin_setup() {
    command -v openssl >/dev/null || die "openssl missing (needed for the sign-in token key)"
    [ -x "$build/t/lib/lb-token" ] || die "$build/t/lib/lb-token missing (make t/lib/lb-token)"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/jwt-ec.pem" 2>/dev/null ||
        die "openssl genpkey failed"
    "$build/t/lib/lb-token" jwks --key "$W/jwt-ec.pem" --kid "$SIGNIN_KID" >"$W/jwks.json" ||
        die "lb-token jwks failed"
    LB_JWT=("jwt_issuer = $SIGNIN_ISS" "jwt_jwks_file = $W/jwks.json")
}

# signin_token SUB TTL: prints an ES256 sign-in token of the user SUB, valid for TTL seconds.
signin_token() {
    "$build/t/lib/lb-token" sign --alg ES256 --key "$W/jwt-ec.pem" --kid "$SIGNIN_KID" \
        --iss "$SIGNIN_ISS" --sub "$1" --ttl "$2" --email "bench.signin@example.com" ||
        die "lb-token sign failed"
}

# --- load generators --------------------------------------------------------------------------

# to_ms "4.80ms" -> 4.80
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

access_lines() { [ -f "$W/nginx/access.log" ] && wc -l <"$W/nginx/access.log" || echo 0; }

# statuses_since LINE: "200:1234 404:2" of the nginx access log after line LINE.
statuses_since() {
    [ -f "$W/nginx/access.log" ] || { echo "-"; return; }
    tail -n +"$(($1 + 1))" "$W/nginx/access.log" |
        sed -nE 's/^[^"]*"[^"]*" ([0-9]{3}) .*/\1/p' | sort | uniq -c |
        awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }'
}

# write_path_rows LABEL: "schema LABEL table indexes user-triggers internal-triggers" rows (to
# stdout) for the tables the writes touch, in the database $CI names (issue 15).
WRITE_PATH_TABLES="'leads','bookings','booking_events','stats_lead_counts','stats_booking_counts','webhook_events','webhook_deliveries','idempotency_keys'"
write_path_rows() {
    psql_q -F $'\t' -c "SELECT c.relname,
            (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid),
            (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
            (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgisinternal)
        FROM pg_class c WHERE c.relname IN ($WRITE_PATH_TABLES) AND c.relkind = 'r' ORDER BY 1" |
        sed "s/^/schema\t$1\t/"
}
