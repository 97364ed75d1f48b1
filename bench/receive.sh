#!/usr/bin/env bash
# `POST /donations/{did}/receive` end to end with 10,000 open needs on PostgreSQL (issue 5).
# Seeds 100 shelters and 10,000 open manual needs (2% critical) straight into a migrated
# database, starts the release server, pledges money donations through the API and times each
# receive (which allocates in its transaction) from a Python client over loopback.
# Mix: a third restricted to one need, a third to one shelter, a third unrestricted (these
# water-fill across every shelter with an open need in the top band).
# FLAT=1 makes every need essential without a date: all 10,000 in one band, the worst case for
# an unrestricted gift, which water-fills over the whole band.
# For digging: PG_LOG_MS=N logs the database's statements slower than N ms to PostgreSQL's log,
# KEEP_DB=1 keeps the database afterwards; every receipt's time, in order, goes to
# /tmp/receive-timings.json.
# Usage: bash bench/receive.sh   (needs PostgreSQL on 127.0.0.1:5432 with trust auth)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
needs=${NEEDS:-10000}
shelters=${SHELTERS:-100}
receipts=${RECEIPTS:-300}
criticality="CASE WHEN g % 50 <= 5 THEN 'vital' WHEN g % 50 <= 25 THEN 'essential' ELSE 'desirable' END"
needed_by="CASE WHEN g % 50 = 0 THEN CURRENT_DATE + 1 WHEN g % 50 BETWEEN 6 AND 25 THEN CURRENT_DATE + g % 40 END"
if [ -n "${FLAT:-}" ]; then criticality="'essential'"; needed_by=NULL; fi
bin=target/release/refugio
cargo build --release -p refugio >/dev/null
export REFUGIO_JWT_SECRET=receive-bench-secret-0123456789abcdef0123

db=refugio_receive_$$
createdb -h 127.0.0.1 -U postgres "$db"
data=$(mktemp -d)
trap 'kill "${vacuum:-0}" 2>/dev/null; cp "$data/server.log" /tmp/refugio-receive-server.log 2>/dev/null; kill -TERM "${pid:-0}" 2>/dev/null && wait "${pid:-0}" 2>/dev/null; [ -n "${KEEP_DB:-}" ] || dropdb -h 127.0.0.1 -U postgres --if-exists "$db"; rm -rf "$data"' EXIT
url="postgres://postgres@127.0.0.1:5432/$db"
"$bin" migrate --database-url "$url" 2>/dev/null
psql -q -h 127.0.0.1 -U postgres "$db" <<SQL
INSERT INTO shelters (id, name, city, region, country, timezone, currency, bed_capacity, occupied_beds,
                      public_location, created_at, updated_at)
SELECT '00000000-0000-7000-9000-' || lpad(g::text, 12, '0'), 'Albergue ' || g, 'Ciudad', 'Región', 'MX', 'America/Mexico_City',
       'MXN', 100, 10 + g % 60, TRUE, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
FROM generate_series(1, $shelters) AS g;
-- Each shelter's audit chain starts empty (the API would start it with the shelter's creation).
INSERT INTO audit_heads (chain, seq, hash) SELECT id, 0, repeat('0', 64) FROM shelters;
-- Kinds of need as a shelter's staff would enter them; the server's first daily recompute sets
-- every score and band from them (ENGINE.md "Priority"): 2 % vital and needed tomorrow
-- (critical), 10 % vital without a date (high), 40 % essential needed in 0-39 days (high or
-- medium), 48 % desirable without a date (low).
INSERT INTO needs (id, shelter_id, kind, category, title, criticality, currency, amount_needed, amount_covered,
                   amount_open, status, score, band, band_rank, drivers, manual_amount, spent, alerted,
                   needed_by, opened_at, updated_at, computed_at)
SELECT '00000000-0000-7000-8000-' || lpad(g::text, 12, '0'), '00000000-0000-7000-9000-' || lpad(((g / 50 + g) % $shelters + 1)::text, 12, '0'), 'manual',
       (ARRAY['food','water','medical','hygiene','housing'])[g % 5 + 1], 'Necesidad ' || g,
       $criticality, 'MXN',
       500000, 0, 500000, 'open', 0, 'low', 3, '[]', 500000, 0, FALSE,
       $needed_by,
       TIMESTAMP '2026-01-01' + g * INTERVAL '1 second', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
FROM generate_series(1, $needs) AS g;
ANALYZE;
ALTER DATABASE :"DBNAME" SET log_min_duration_statement = ${PG_LOG_MS:--1};
SQL
REFUGIO_ADMIN_PASSWORD=receive-bench-admin "$bin" admin create --email admin@bench.example --name Admin \
  --database-url "$url" --data-dir "$data" >/dev/null 2>&1
port=18183
"$bin" serve --bind "127.0.0.1:$port" --database-url "$url" --data-dir "$data" 2>"$data/server.log" &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
# Where PostgreSQL runs with autovacuum off (this machine's does), stand in for it: without it
# the needs table bloats with dead rows and the planner keeps plans made for empty tables.
if [ "$(psql -Atq -h 127.0.0.1 -U postgres "$db" -c 'SHOW autovacuum')" = off ]; then
  (while sleep 5; do psql -q -h 127.0.0.1 -U postgres "$db" -c 'VACUUM (ANALYZE) needs, allocations, donations, audit_events, outbox' 2>/dev/null; done) &
  vacuum=$!
fi
# A fresh server first recomputes every shelter's needs for the day (about 13 s here for 100
# shelters), which happens once a day after local midnight: time receipts after it.
for _ in $(seq 1 600); do grep -q 'recomputed needs' "$data/server.log" && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "receive: $needs open needs over $shelters shelters (PostgreSQL), $receipts sequential receipts"
echo "needs by band after the daily recompute: $(psql -Atq -h 127.0.0.1 -U postgres "$db" -F ' ' -R ', ' \
  -c "SELECT band, count(*) FROM needs WHERE status IN ('open', 'partially_funded') GROUP BY band_rank, band ORDER BY band_rank")"
python3 - "$port" "$receipts" "$shelters" "$needs" <<'PY'
import json, sys, time, urllib.request
port, receipts, shelters, needs = (int(a) for a in sys.argv[1:])
base = f"http://127.0.0.1:{port}/api/v1"

def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as r:
        return r.status, json.loads(r.read() or b"null")

_, t = call("POST", "/auth/login", {"email": "admin@bench.example", "password": "receive-bench-admin"})
admin = t["access_token"]
timings, slices = {"need": [], "shelter": [], "none": []}, {"need": [], "shelter": [], "none": []}
for i in range(receipts):
    kind = ("need", "shelter", "none")[i % 3]
    body = {"kind": "money", "amount": {"amount": "250.00", "currency": "MXN"}}
    if kind == "need":
        body["restriction"] = {"need_id": f"00000000-0000-7000-8000-{(i * 37) % needs + 1:012d}"}
    elif kind == "shelter":
        body["restriction"] = {"shelter_id": f"00000000-0000-7000-9000-{(i * 13) % shelters + 1:012d}"}
    _, d = call("POST", "/donations", body, admin)
    start = time.perf_counter()
    status, r = call("POST", f"/donations/{d['id']}/receive", {}, admin)
    timings[kind].append((time.perf_counter() - start) * 1000)
    slices[kind].append(len(r["allocations"]))
    assert status == 200

json.dump(timings, open("/tmp/receive-timings.json", "w"))

def line(label, ts, n):
    ts = sorted(ts)
    pick = lambda q: ts[min(len(ts) - 1, int(len(ts) * q))]
    print(f"{label:<22} n {len(ts):4d}  slices/receipt {sum(n)/len(n):6.1f}  mean {sum(ts)/len(ts):6.1f} ms"
          f"  p50 {pick(0.5):6.1f} ms  p99 {pick(0.99):6.1f} ms  max {ts[-1]:6.1f} ms")
for kind in ("need", "shelter", "none"):
    line(f"restricted to {kind}" if kind != "none" else "unrestricted", timings[kind], slices[kind])
line("all", sum(timings.values(), []), sum(slices.values(), []))
PY
