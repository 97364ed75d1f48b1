-- Rows for the pgbench runs, in a database migrated by `refugio migrate`:
--   psql -v shelters=20 -v items=50 -f seed.sql postgres://…/refugio_bench_raw
-- Predictable ids ('shelter-1'.., 'item-1'..; item k belongs to shelter ceil(k / items)) so that
-- movement.sql can pick them with \set random. Items start with a large on hand (thousandths)
-- so consumptions never hit the `on_hand + delta >= 0` guard.

INSERT INTO users (id, email, name, password_hash, role, locale, active, created_at, updated_at)
VALUES ('bench-user', 'bench-user@bench.example', 'pgbench', 'not-a-login', 'staff', 'en', TRUE,
        now(), now());

INSERT INTO shelters (id, name, city, region, country, timezone, currency, bed_capacity,
                      occupied_beds, public_location, created_at, updated_at)
SELECT 'shelter-' || s, 'Bench #' || s, 'Oaxaca', 'Oaxaca', 'MX', 'America/Mexico_City', 'MXN',
       200, 120, FALSE, now(), now()
FROM generate_series(1, :shelters) AS s;

-- Each shelter's audit chain head, as POST /shelters creates it.
INSERT INTO audit_heads (chain, seq, hash)
SELECT 'shelter-' || s, 0, repeat('0', 64)
FROM generate_series(1, :shelters) AS s;

INSERT INTO items (id, shelter_id, name, category, unit, criticality, basis, per_person,
                   unit_cost, reorder_days, target_days, lead_days, min_quantity,
                   target_quantity, on_hand, first_movement_at, created_at, updated_at)
SELECT 'item-' || ((s - 1) * :items + i), 'shelter-' || s, 'Item ' || i, 'other', 'unit',
       'desirable', 'consumable', 50000, NULL, 7, 14, 3, 0, 0, 1000000000, now(), now(), now()
FROM generate_series(1, :shelters) AS s, generate_series(1, :items) AS i;

-- Ledger ids: monotonic like the server's UUIDv7 (a random id would scatter B-tree inserts).
CREATE SEQUENCE bench_movement_seq;

ANALYZE;
