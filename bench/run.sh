#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md, in one command:   bash bench/run.sh
#
# For each backend (SQLite, then PostgreSQL in a fresh database dropped at the end): starts the
# release server, creates the fixture through the API, runs 32 writers spread over 20 shelters x
# 50 items, 32 writers on one hot item, 32 readers of a 100-item stock view, stops the server,
# then measures the same movement transaction without HTTP (raw-sqlite; pgbench for PostgreSQL,
# plus the same loop through diesel). Prints the summary and keeps everything in $OUT.
#
# Knobs (environment): BENCH_BACKENDS="sqlite postgres", BENCH_DURATION=20s, BENCH_RAW_DURATION=10s,
# BENCH_CONCURRENCY=32, BENCH_PORT=18480, BENCH_RUST_LOG (server log filter; default: the
# server's own default, info), BENCH_WORKERS (server HTTP workers; default: one per core),
# PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres), BENCH_OUT (results folder).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
DURATION=${BENCH_DURATION:-20s}
RAW_DURATION=${BENCH_RAW_DURATION:-10s}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
PORT=${BENCH_PORT:-18480}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
OUT=${BENCH_OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)}
RESULTS=$OUT/results.jsonl
BASE=http://127.0.0.1:$PORT
ADMIN=admin@bench.example
export REFUGIO_ADMIN_PASSWORD=bench-admin-password
# 64 hex characters: a fresh HS256 secret per run.
REFUGIO_JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export REFUGIO_JWT_SECRET
PG_DBS=()
SERVER_PID=

log() { printf '\n== %s  [%s]\n' "$*" "$(uptime | sed 's/.*load/load/')" | tee -a "$OUT/log.txt" >&2; }

cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    for db in "${PG_DBS[@]}"; do dropdb --if-exists "$db" || true; done
}
trap cleanup EXIT

mkdir -p "$OUT"
cargo build --release -p refugio -p refugio-bench
REFUGIO=$ROOT/target/release/refugio
BENCH=$ROOT/target/release/refugio-bench

{
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo 'not a git checkout') ($(git status --porcelain --untracked-files=no 2>/dev/null | wc -l) modified tracked files)"
    echo "cores: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
    echo "kernel: $(uname -r)"
    echo "postgresql: $(psql -tAc 'show server_version' 2>/dev/null || echo '?')"
    echo "uptime: $(uptime)"
} | tee "$OUT/machine.txt"

start_server() { # label
    local label=$1
    "$REFUGIO" admin create --email "$ADMIN" >/dev/null
    env RUST_LOG="${BENCH_RUST_LOG:-${RUST_LOG:-info}}" REFUGIO_BIND="127.0.0.1:$PORT" \
        ${BENCH_WORKERS:+REFUGIO_WORKERS=$BENCH_WORKERS} "$REFUGIO" serve >"$OUT/$label-server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server did not start; see $OUT/$label-server.log" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" && wait "$SERVER_PID" || true
    SERVER_PID=
}

http_runs() { # label [--pg-db NAME]
    local label=$1 fixture=$OUT/$1-fixture.json
    shift
    local common=(--fixture "$fixture" --label "$label" --out "$RESULTS" --server-pid "$SERVER_PID"
        --concurrency "$CONCURRENCY" --duration "$DURATION" "$@")
    log "$label: setup"
    "$BENCH" setup --base "$BASE" --admin-email "$ADMIN" --shelters 20 --items 50 --fixture "$fixture"
    log "$label: movements, spread"
    "$BENCH" movements "${common[@]}"
    log "$label: movements, hot item"
    "$BENCH" movements --hot "${common[@]}"
    log "$label: stock reads"
    "$BENCH" stock-reads "${common[@]}"
}

run_sqlite() {
    export REFUGIO_DATA_DIR=$OUT/sqlite-data
    unset DATABASE_URL
    start_server sqlite
    http_runs sqlite
    stop_server
    local raw=(--label sqlite --out "$RESULTS" --duration "$RAW_DURATION")
    log "sqlite: raw loop, synchronous=FULL (the server's setting)"
    "$BENCH" raw-sqlite --db "$OUT/raw-full.db" "${raw[@]}" --threads 1,4
    log "sqlite: raw loop, synchronous=NORMAL (what the fsyncs cost; not a reference)"
    "$BENCH" raw-sqlite --db "$OUT/raw-normal.db" --synchronous NORMAL "${raw[@]}" --threads 1,4
    log "sqlite: raw loop, 4 threads queued on an in-process lock instead of SQLite's busy handler"
    "$BENCH" raw-sqlite --db "$OUT/raw-applock.db" --app-lock "${raw[@]}" --threads 4
    log "sqlite: raw loop, every statement timed"
    "$BENCH" raw-sqlite --db "$OUT/raw-steps.db" --breakdown "${raw[@]}" --threads 1 --scenarios spread
}

run_postgres() {
    local db=refugio_bench_$$ raw_db=refugio_bench_$$_raw
    createdb "$db"
    PG_DBS+=("$db")
    export DATABASE_URL=postgres://$PGUSER@$PGHOST:$PGPORT/$db
    start_server postgres
    http_runs postgres --pg-db "$db"
    stop_server
    createdb "$raw_db"
    PG_DBS+=("$raw_db")
    local url=postgres://$PGUSER@$PGHOST:$PGPORT/$raw_db
    "$REFUGIO" migrate --database-url "$url"
    psql -q -v ON_ERROR_STOP=1 -v shelters=20 -v items=50 -f bench/pgbench/seed.sql "$url"
    local pg=(--database-url "$url" --script bench/pgbench/movement.sql --label postgres
        --out "$RESULTS" --clients "$CONCURRENCY" --jobs 2 --duration "$DURATION")
    log "postgres: pgbench, spread"
    "$BENCH" pgbench "${pg[@]}" --name raw-spread-pgbench -D shelters=20 -D items=50
    log "postgres: pgbench, hot item"
    "$BENCH" pgbench "${pg[@]}" --name raw-hot-pgbench -D shelters=1 -D items=1
    local raw=(--database-url "$url" --label postgres --out "$RESULTS" --duration "$RAW_DURATION")
    log "postgres: the same loop through diesel (record_movement), 1 and 16 threads (the server's pool)"
    "$BENCH" raw-pg "${raw[@]}" --threads 1,16
    log "postgres: raw loop, every statement timed"
    "$BENCH" raw-pg "${raw[@]}" --breakdown --threads 1 --scenarios spread
    unset DATABASE_URL
}

for backend in $BACKENDS; do
    case $backend in
        sqlite) run_sqlite ;;
        postgres) run_postgres ;;
        *) echo "unknown backend $backend (sqlite, postgres)" >&2; exit 2 ;;
    esac
done

log "done"
"$BENCH" summary "$RESULTS" | tee "$OUT/summary.md"
echo "results: $OUT" >&2
