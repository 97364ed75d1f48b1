-- One stock movement, statement for statement what POST /shelters/{sid}/stock/movements runs
-- (refugio_api::services::stock::record_movement inside refugio_db::write_transaction):
-- item lookup, guarded atomic on_hand += delta and read-back, mark tracked, ledger insert, the
-- audit append that bumps the shelter chain's head row (which serializes the shelter), and the
-- needs refresh of the item (services::needs::refresh_item_by_id: shelter, item, the item's
-- observed demand cached for today, its suppression flag, its live need; the fixture's stock is
-- far above any reorder point, so no need is opened or updated, as in the HTTP runs).
-- Captured from PostgreSQL's statement log of one HTTP movement (log_statement = 'all') at
-- commit 55d5caa. Before a6a05fe the refresh read the item's last 30 days of ledger instead of
-- the cached observed demand; before 1e30ba2 there was no refresh.
--
-- Spread (a random item of a random shelter):
--   pgbench -n -M prepared -f movement.sql -D shelters=20 -D items=50 -c 32 -j 2 -T 20 URI
-- Hot item (every client on item-1 of shelter-1):
--   pgbench -n -M prepared -f movement.sql -D shelters=1 -D items=1 -c 32 -j 2 -T 20 URI
-- The database is `refugio migrate`d and seeded by seed.sql (with the real shelters/items
-- counts: the hot run's -D items=1 still lands on item-1, the first item of shelter-1).
-- Run with -M prepared (diesel prepares and caches its statements; variables become bound
-- parameters, which is also why no SQL literal here may contain a colon).
-- Differences from the server: ids come from a sequence, the audit hash is SHA-256 computed
-- by PostgreSQL rather than by the server, and the 3 statements the HTTP path runs outside the
-- transaction (session, shelter, membership reads) are not here.

\set s random(1, :shelters)
\set i random(1, :items)
\set item (:s - 1) * :items + :i
\set up random(0, 1)
\set quantity 1250 + :up * 250
\set delta :up * 2750 - 1250

BEGIN;
SELECT id, shelter_id, name, category, unit, criticality, basis, per_person, unit_cost,
       reorder_days, target_days, lead_days, min_quantity, target_quantity, on_hand,
       first_movement_at, created_at, updated_at
  FROM items WHERE shelter_id = 'shelter-' || :s::text AND id = 'item-' || :item::text LIMIT 1;
UPDATE items SET on_hand = on_hand + :delta::bigint
 WHERE id = 'item-' || :item::text AND on_hand + :delta::bigint >= 0;
SELECT on_hand AS after FROM items WHERE id = 'item-' || :item::text LIMIT 1 \gset
UPDATE items SET first_movement_at = localtimestamp
 WHERE id = 'item-' || :item::text
   AND (first_movement_at IS NULL OR first_movement_at > localtimestamp);
INSERT INTO stock_movements (id, shelter_id, item_id, kind, quantity, delta, on_hand_after,
                             occurred_at, recorded_at, recorded_by, note, donation_id, expense_id)
VALUES ('mv-' || lpad(nextval('bench_movement_seq')::text, 16, '0'), 'shelter-' || :s::text,
        'item-' || :item::text, CASE WHEN :up::int = 1 THEN 'receipt' ELSE 'consumption' END,
        :quantity::bigint, :delta::bigint, :after::bigint, localtimestamp, localtimestamp,
        'bench-user', NULL, NULL, NULL);
UPDATE audit_heads SET seq = seq + 1 WHERE chain = 'shelter-' || :s::text;
SELECT seq, hash AS prev, encode(sha256(convert_to(hash || seq::text, 'UTF8')), 'hex') AS next
  FROM audit_heads WHERE chain = 'shelter-' || :s::text LIMIT 1 \gset
INSERT INTO audit_events (chain, seq, at, actor_id, shelter_id, action, entity, entity_id, data,
                          prev_hash, hash)
VALUES ('shelter-' || :s::text, :seq::bigint,
        translate((clock_timestamp() AT TIME ZONE 'UTC')::text, ' ', 'T') || 'Z',
        'bench-user', 'shelter-' || :s::text, 'stock.movement', 'stock_movement',
        'mv-' || lpad(currval('bench_movement_seq')::text, 16, '0'),
        '{"delta":' || :delta::text || ',"item_id":"item-' || :item::text
          || '","kind":"' || CASE WHEN :up::int = 1 THEN 'receipt' ELSE 'consumption' END
          || '","on_hand_after":' || :after::text || ',"quantity":'
          || :quantity::text || '}',
        :prev::text, :next::text);
UPDATE audit_heads SET hash = :next::text WHERE chain = 'shelter-' || :s::text;
SELECT id, name, city, region, country, timezone, currency, bed_capacity, occupied_beds,
       public_location, created_at, updated_at
  FROM shelters WHERE id = 'shelter-' || :s::text LIMIT 1;
SELECT id, shelter_id, name, category, unit, criticality, basis, per_person, unit_cost,
       reorder_days, target_days, lead_days, min_quantity, target_quantity, on_hand,
       first_movement_at, created_at, updated_at
  FROM items WHERE shelter_id = 'shelter-' || :s::text AND id = 'item-' || :item::text LIMIT 1;
SELECT id, observed_demand, observed_on
  FROM items WHERE shelter_id = 'shelter-' || :s::text AND id = 'item-' || :item::text;
SELECT needs_suppressed FROM items WHERE id = 'item-' || :item::text LIMIT 1;
SELECT * FROM needs
 WHERE item_id = 'item-' || :item::text AND status IN ('open', 'partially_funded', 'funded')
 LIMIT 1;
COMMIT;
