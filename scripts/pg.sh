#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite.
#
#   scripts/pg.sh start   install Debian's postgresql if needed, create a fresh cluster in .ci-pg/
#                         listening on 127.0.0.1 only, on a free port, with database idp_test
#   scripts/pg.sh url     print the SQLAlchemy URL of the running server
#   scripts/pg.sh status  exit 0 if the server is running
#   scripts/pg.sh stop    stop the server and remove its directory
#   scripts/pg.sh pause   stop the server but keep its cluster and port (a database outage)
#   scripts/pg.sh resume  start a paused server again on the same port
#
# IDP_CI_PG_DIR chooses another state folder, for a second, independent server (tests/ops/test_outage.py).
#
# The Debian system cluster (port 5432) is never used or touched. Every command is idempotent:
# `start` reuses a healthy server left by an earlier `start` and replaces a stale one.
# As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${IDP_CI_PG_DIR:-$ROOT/.ci-pg}   # root-owned; remembers where the cluster lives and its port
DBNAME=idp_test

log() { echo "pg.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root (or sudo) to run: $*"; fi
}

# Runs a command as the user that owns the cluster, from / (the postgres user may not be able to
# enter the current directory; every path here is absolute).
as_pg() {
    if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The newest /usr/lib/postgresql/<version>/bin that has initdb (empty if none).
find_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then echo "$dir"; fi
    done | sort -V | tail -n 1
}

ensure_installed() {
    BINDIR=$(find_bindir)
    if [[ -z $BINDIR ]]; then
        log "initdb not found under /usr/lib/postgresql/*/bin; installing Debian's postgresql package"
        as_root apt-get update -q >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2
        BINDIR=$(find_bindir)
        [[ -n $BINDIR ]] || die "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"
    fi
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Where the cluster lives: $STATE/cluster if the postgres user can reach it (and the socket path
# fits the 107-byte limit), else a fresh directory under /tmp. Recorded in $STATE/base.
load_state() {
    BASE=""; PORT=""
    [[ -f $STATE/base ]] && BASE=$(<"$STATE/base")
    [[ -f $STATE/port ]] && PORT=$(<"$STATE/port")
    return 0
}

is_running() {
    load_state
    [[ -n $BASE && -n $PORT && -f $BASE/data/PG_VERSION ]] || return 1
    [[ -n ${BINDIR:-} ]] || BINDIR=$(find_bindir)
    [[ -n $BINDIR ]] || return 1
    as_pg "$BINDIR/pg_ctl" -D "$BASE/data" status >/dev/null 2>&1 || return 1
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres -t 5
}

url() {
    load_state
    [[ -n $PORT ]] || die "no server (run: scripts/pg.sh start)"
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DBNAME"
}

stop() {
    load_state
    if [[ -n $BASE && -f $BASE/data/postmaster.pid ]]; then
        [[ -n ${BINDIR:-} ]] || BINDIR=$(find_bindir)
        if [[ -n $BINDIR ]]; then
            log "stopping the server in $BASE"
            as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
                || as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
                || true
        fi
    fi
    # A crashed server may still hold its port; its postmaster exits on its own once postmaster.pid
    # is gone (PostgreSQL rechecks its lock file periodically).
    if [[ $BASE == /tmp/idp-ci-pg.* ]]; then
        rm -rf -- "$BASE"
    fi
    rm -rf -- "$STATE"
}

start() {
    ensure_installed
    if is_running; then
        log "reusing the server already running on 127.0.0.1:$PORT"
        create_database
        return
    fi
    stop  # whatever a previous run left behind
    mkdir -p "$STATE"
    BASE=$STATE/cluster
    mkdir -m 755 "$BASE"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$BASE"; fi
    if ! as_pg test -w "$BASE" || (( ${#BASE} > 80 )); then
        rm -rf -- "$BASE"
        BASE=$(mktemp -d /tmp/idp-ci-pg.XXXXXX)
        chmod 755 "$BASE"
        if [[ $EUID -eq 0 ]]; then chown postgres: "$BASE"; fi
    fi
    echo "$BASE" >"$STATE/base"

    log "creating a cluster in $BASE with $("$BINDIR/postgres" --version)"
    as_pg mkdir -m 700 "$BASE/run"
    as_pg "$BINDIR/initdb" -D "$BASE/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$STATE/initdb.log" 2>&1 \
        || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
    as_pg tee "$BASE/data/pg_hba.conf" >/dev/null <<'EOF'
# Throwaway test cluster: trust on loopback and the private unix socket, nothing else.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
EOF
    as_pg tee -a "$BASE/data/postgresql.conf" >/dev/null <<EOF

# --- scripts/pg.sh: throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BASE/run'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    local attempt
    for attempt in 1 2 3 4 5; do
        PORT=$(free_port)
        if as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -l "$BASE/postgres.log" -o "-p $PORT" -w -t 60 start >/dev/null; then
            echo "$PORT" >"$STATE/port"
            break
        fi
        log "start on port $PORT failed (attempt $attempt):"
        tail -n 5 "$BASE/postgres.log" >&2 || true
        PORT=""
    done
    [[ -n $PORT ]] || die "could not start PostgreSQL (log: $BASE/postgres.log)"
    create_database
    log "running on 127.0.0.1:$PORT ($(url))"
}

pause() {
    load_state
    [[ -n $BASE && -n $PORT ]] || die "no server (run: scripts/pg.sh start)"
    [[ -n ${BINDIR:-} ]] || BINDIR=$(find_bindir)
    as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -m fast -w -t 30 stop >/dev/null
    log "paused the server on 127.0.0.1:$PORT"
}

resume() {
    load_state
    [[ -n $BASE && -n $PORT ]] || die "no server (run: scripts/pg.sh start)"
    [[ -n ${BINDIR:-} ]] || BINDIR=$(find_bindir)
    as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -l "$BASE/postgres.log" -o "-p $PORT" -w -t 60 start >/dev/null
    log "resumed the server on 127.0.0.1:$PORT"
}

create_database() {
    local exists
    exists=$("$BINDIR/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -XAtq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")
    if [[ $exists != 1 ]]; then
        "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DBNAME"
    fi
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    pause) pause ;;
    resume) resume ;;
    url) if is_running; then url; else die "no server running (run: scripts/pg.sh start)"; fi ;;
    status) if is_running; then log "running on 127.0.0.1:$PORT"; else log "not running"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|pause|resume|url|status" >&2; exit 2 ;;
esac
