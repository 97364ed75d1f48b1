-- A shelter's catalog, its append-only stock ledger, occupancy history and bills.
-- Quantities are BIGINT thousandths, norms BIGINT millionths, money BIGINT minor units.

CREATE TABLE items (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    name TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('food', 'water', 'medical', 'hygiene', 'bedding', 'clothing', 'other')),
    unit TEXT NOT NULL,
    criticality TEXT NOT NULL CHECK (criticality IN ('vital', 'essential', 'desirable')),
    basis TEXT NOT NULL CHECK (basis IN ('consumable', 'durable')),
    per_person BIGINT NULL CHECK (per_person >= 0),
    unit_cost BIGINT NULL CHECK (unit_cost >= 0),
    reorder_days BIGINT NOT NULL CHECK (reorder_days >= 0),
    target_days BIGINT NOT NULL CHECK (target_days >= 0),
    lead_days BIGINT NOT NULL CHECK (lead_days >= 0),
    min_quantity BIGINT NOT NULL CHECK (min_quantity >= 0),
    target_quantity BIGINT NOT NULL CHECK (target_quantity >= 0),
    -- Changed only by UPDATE ... SET on_hand = on_hand + delta with the ledger row it matches.
    on_hand BIGINT NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    -- Set by the first movement: the item is tracked from then on.
    first_movement_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shelter_id, name)
);

-- The ledger is append-only: no route updates or deletes a row; corrections are new rows.
CREATE TABLE stock_movements (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    item_id TEXT NOT NULL REFERENCES items (id),
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'consumption', 'waste', 'adjustment', 'count')),
    quantity BIGINT NOT NULL,
    delta BIGINT NOT NULL,
    on_hand_after BIGINT NOT NULL CHECK (on_hand_after >= 0),
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    note TEXT NULL,
    donation_id TEXT NULL,
    expense_id TEXT NULL
);
CREATE INDEX stock_movements_item ON stock_movements (shelter_id, item_id, recorded_at);
CREATE INDEX stock_movements_shelter ON stock_movements (shelter_id, recorded_at);
CREATE INDEX stock_movements_occurred ON stock_movements (shelter_id, occurred_at);

CREATE TABLE occupancy_records (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    occupied_beds BIGINT NOT NULL CHECK (occupied_beds >= 0),
    bed_capacity BIGINT NOT NULL CHECK (bed_capacity >= 0),
    as_of TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    CHECK (occupied_beds <= bed_capacity)
);
CREATE INDEX occupancy_records_shelter ON occupancy_records (shelter_id, as_of);

CREATE TABLE bills (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    payee TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('rent', 'electricity', 'water', 'gas', 'internet', 'phone', 'medical', 'transport', 'other')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    due_on DATE NOT NULL,
    description TEXT NULL,
    paid BIGINT NOT NULL DEFAULT 0 CHECK (paid >= 0),
    status TEXT NOT NULL CHECK (status IN ('unpaid', 'partially_paid', 'paid', 'void')),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (paid <= amount)
);
CREATE INDEX bills_shelter ON bills (shelter_id, due_on);
