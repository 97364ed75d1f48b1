-- Needs made by the engine (item, bill) or by staff (manual), kept current in the
-- transaction of every change that moves them. Money in minor units of `currency`,
-- quantities in thousandths, score in tenths, days_left in thousandths of a day.

CREATE TABLE needs (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    kind TEXT NOT NULL CHECK (kind IN ('item', 'bill', 'manual')),
    item_id TEXT NULL REFERENCES items (id),
    bill_id TEXT NULL REFERENCES bills (id),
    category TEXT NOT NULL CHECK (category IN ('food', 'water', 'medical', 'hygiene', 'bedding', 'clothing',
        'housing', 'utilities', 'transport', 'other')),
    -- Item name, manual title, or the bill's payee (shown to the shelter's staff only).
    title TEXT NOT NULL,
    unit TEXT NULL,
    criticality TEXT NOT NULL CHECK (criticality IN ('vital', 'essential', 'desirable')),
    currency TEXT NOT NULL,
    quantity BIGINT NULL,
    amount_needed BIGINT NULL,
    amount_covered BIGINT NULL,
    amount_open BIGINT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'partially_funded', 'funded', 'fulfilled', 'cancelled')),
    score BIGINT NOT NULL CHECK (score BETWEEN 0 AND 1000),
    band TEXT NOT NULL CHECK (band IN ('critical', 'high', 'medium', 'low')),
    -- 0 critical .. 3 low: the board's first sort key.
    band_rank BIGINT NOT NULL,
    days_left BIGINT NULL,
    -- JSON list of {code, es, en}.
    drivers TEXT NOT NULL,
    -- Manual needs: the amount entered, what was spent on it, and when it is needed by.
    manual_amount BIGINT NULL,
    spent BIGINT NOT NULL DEFAULT 0,
    needed_by DATE NULL,
    -- A critical-band alert was sent and the need has not left the band since.
    alerted BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NULL REFERENCES users (id),
    opened_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP NULL,
    CHECK (amount_open IS NULL OR amount_open >= 0)
);
-- Board order; the status filter is checked while walking it, so a first page reads few rows.
CREATE INDEX needs_board ON needs (band_rank, score DESC, opened_at, id);
CREATE INDEX needs_shelter ON needs (shelter_id, status);
CREATE INDEX needs_item ON needs (item_id);
CREATE INDEX needs_bill ON needs (bill_id);
-- An item has at most one need that is not final.
CREATE UNIQUE INDEX needs_one_live_per_item ON needs (item_id) WHERE status IN ('open', 'partially_funded', 'funded');

-- A cancelled item need keeps the item quiet until stock reaches its reorder point again or
-- the item is edited.
ALTER TABLE items ADD COLUMN needs_suppressed BOOLEAN NOT NULL DEFAULT FALSE;
-- Observed demand only moves when the shelter's day turns, or a count or a backdated movement
-- rewrites past days: it is cached with the local date it was computed for.
ALTER TABLE items ADD COLUMN observed_demand BIGINT NULL;
ALTER TABLE items ADD COLUMN observed_on DATE NULL;
-- The shelter-local date of the last daily recompute (urgency depends on the date).
ALTER TABLE shelters ADD COLUMN needs_computed_on DATE NULL;
