#!/usr/bin/env bash
# Public needs board latency with 50,000 open needs, on SQLite and PostgreSQL (issue 4).
# Seeds 1,000 shelters and 50,000 needs straight into a migrated database, starts the release
# server, and times GET /api/v1/needs (first page, 50 needs) end to end with curl.
# Usage: bash bench/board.sh   (needs PostgreSQL on 127.0.0.1:5432 with trust auth, and curl)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
needs=${NEEDS:-50000}
shelters=${SHELTERS:-1000}
requests=${REQUESTS:-300}
bin=target/release/refugio
cargo build --release -p refugio >/dev/null
export REFUGIO_JWT_SECRET=board-bench-secret-0123456789abcdef0123

# Columns shared by both dialects; $1 = the generator expression for g, $2 = a timestamp of g.
seed_sql() {
  local series=$1 ts=$2
  cat <<SQL
INSERT INTO shelters (id, name, city, region, country, timezone, currency, bed_capacity, occupied_beds,
                      public_location, created_at, updated_at)
SELECT 'shelter-' || g, 'Albergue ' || g, 'Ciudad', 'Región', 'MX', 'America/Mexico_City', 'MXN', 100, 50,
       (g % 2 = 0), $(printf "$ts" 0), $(printf "$ts" 0)
FROM $(printf "$series" "$shelters");
INSERT INTO needs (id, shelter_id, kind, category, title, criticality, currency, amount_needed, amount_covered,
                   amount_open, status, score, band, band_rank, drivers, spent, alerted, opened_at, updated_at,
                   computed_at)
SELECT 'need-' || g, 'shelter-' || (g % $shelters + 1), 'manual', 'food', 'Necesidad ' || g, 'essential', 'MXN',
       100000, 0, 100000, CASE WHEN g % 10 = 0 THEN 'partially_funded' ELSE 'open' END,
       (g * 7919) % 1001,
       CASE WHEN g % 50 = 0 THEN 'critical' WHEN (g * 7919) % 1001 >= 700 THEN 'high'
            WHEN (g * 7919) % 1001 >= 400 THEN 'medium' ELSE 'low' END,
       CASE WHEN g % 50 = 0 THEN 0 WHEN (g * 7919) % 1001 >= 700 THEN 1
            WHEN (g * 7919) % 1001 >= 400 THEN 2 ELSE 3 END,
       '[{"code":"criticality","es":"criticidad: esencial","en":"criticality: essential"}]', 0, FALSE,
       $(printf "$ts" g), $(printf "$ts" 0), $(printf "$ts" 0)
FROM $(printf "$series" "$needs");
SQL
}

measure() {
  local label=$1 url=$2 port=$3 data
  data=$(mktemp -d)
  "$bin" serve --bind "127.0.0.1:$port" --database-url "$url" --data-dir "$data" 2>"$data/server.log" &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  for _ in $(seq 1 20); do curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/needs"; done
  local count
  count=$(curl -s "http://127.0.0.1:$port/api/v1/needs?limit=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  [ "$count" = 1 ] || { echo "the board answered nothing" >&2; exit 1; }
  for _ in $(seq 1 "$requests"); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/api/v1/needs"
  done | sort -n | awk -v label="$label" '{ t[NR] = $1 * 1000; s += $1 * 1000 }
    END { printf "%-10s requests %d  mean %.1f ms  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
          label, NR, s / NR, t[int(NR * 0.5)], t[int(NR * 0.99)], t[NR] }'
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$data"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "board: $needs needs over $shelters shelters, first page (50), $requests sequential requests"

sqlite_dir=$(mktemp -d)
sqlite_url="sqlite://$sqlite_dir/refugio.db"
"$bin" migrate --database-url "$sqlite_url" 2>/dev/null
python3 - "$sqlite_dir/refugio.db" <<PY
import sqlite3, sys
sql = """$(seed_sql "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s) SELECT g FROM s)" "datetime('2026-01-01', '+' || %s || ' seconds')")"""
c = sqlite3.connect(sys.argv[1]); c.executescript(sql); c.commit(); c.execute("ANALYZE"); c.close()
PY
measure sqlite "$sqlite_url" 18181
rm -rf "$sqlite_dir"

db=refugio_board_$$
createdb -h 127.0.0.1 -U postgres "$db"
trap 'dropdb -h 127.0.0.1 -U postgres --if-exists "$db"' EXIT
pg_url="postgres://postgres@127.0.0.1:5432/$db"
"$bin" migrate --database-url "$pg_url" 2>/dev/null
seed_sql "generate_series(1, %s) AS g" "(TIMESTAMP '2026-01-01' + %s * INTERVAL '1 second')" | psql -q -h 127.0.0.1 -U postgres "$db"
psql -q -h 127.0.0.1 -U postgres "$db" -c 'ANALYZE'
measure postgres "$pg_url" 18182
