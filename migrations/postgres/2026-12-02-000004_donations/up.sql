-- Money and goods given, where the money went, and what it bought.
-- Money in minor units, quantities in thousandths, rates in millionths (17.25 = 17250000).

-- Directional rates: USD -> MXN says nothing about MXN -> USD.
CREATE TABLE fx_rates (
    base TEXT NOT NULL,
    quote TEXT NOT NULL,
    as_of DATE NOT NULL,
    rate BIGINT NOT NULL CHECK (rate > 0),
    set_by TEXT NOT NULL REFERENCES users (id),
    set_at TIMESTAMP NOT NULL,
    PRIMARY KEY (base, quote, as_of),
    CHECK (base <> quote)
);

CREATE TABLE donations (
    id TEXT PRIMARY KEY,
    donor_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('money', 'in_kind')),
    status TEXT NOT NULL CHECK (status IN ('pledged', 'received', 'cancelled', 'expired')),
    -- Money: the gift, and what of it is not allocated once received.
    currency TEXT NULL,
    amount BIGINT NULL CHECK (amount > 0),
    unallocated BIGINT NULL CHECK (unallocated >= 0),
    restriction_need_id TEXT NULL REFERENCES needs (id),
    restriction_shelter_id TEXT NULL REFERENCES shelters (id),
    restriction_category TEXT NULL,
    -- The shelter it is for: the need's (in kind, or restricted to a need) or the restriction's.
    shelter_id TEXT NULL REFERENCES shelters (id),
    -- In kind: the item need pledged to, and quantities.
    need_id TEXT NULL REFERENCES needs (id),
    item_id TEXT NULL REFERENCES items (id),
    quantity BIGINT NULL CHECK (quantity > 0),
    received_quantity BIGINT NULL CHECK (received_quantity >= 0),
    note TEXT NULL,
    pledged_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NULL,
    received_on DATE NULL,
    received_at TIMESTAMP NULL,
    received_by TEXT NULL REFERENCES users (id),
    closed_at TIMESTAMP NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX donations_donor ON donations (donor_id, pledged_at, id);
CREATE INDEX donations_shelter ON donations (shelter_id, pledged_at, id);
CREATE INDEX donations_item ON donations (item_id, status);
CREATE INDEX donations_expiry ON donations (status, expires_at);
-- Received money still waiting for needs: looked up after every change to needs.
CREATE INDEX donations_waiting ON donations (unallocated) WHERE unallocated > 0;

-- `amount` and `amount_local` are what the allocation holds now (after releases); `released`
-- is what went back to the donation (donation currency); `spent` is what expenses drew (local).
CREATE TABLE allocations (
    id TEXT PRIMARY KEY,
    donation_id TEXT NOT NULL REFERENCES donations (id),
    need_id TEXT NOT NULL REFERENCES needs (id),
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL,
    amount_local BIGINT NOT NULL CHECK (amount_local >= 0),
    local_currency TEXT NOT NULL,
    fx_rate BIGINT NOT NULL CHECK (fx_rate > 0),
    released BIGINT NOT NULL DEFAULT 0 CHECK (released >= 0),
    spent BIGINT NOT NULL DEFAULT 0 CHECK (spent >= 0),
    created_at TIMESTAMP NOT NULL,
    CHECK (spent <= amount_local)
);
CREATE INDEX allocations_need ON allocations (need_id, created_at, id);
CREATE INDEX allocations_donation ON allocations (donation_id, created_at, id);
CREATE INDEX allocations_shelter ON allocations (shelter_id, created_at);

CREATE TABLE expenses (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('food', 'water', 'medical', 'hygiene', 'bedding', 'clothing',
        'housing', 'utilities', 'transport', 'other')),
    description TEXT NOT NULL,
    spent_on DATE NOT NULL,
    need_id TEXT NULL REFERENCES needs (id),
    bill_id TEXT NULL REFERENCES bills (id),
    item_id TEXT NULL REFERENCES items (id),
    -- Goods bought (item needs); those not received yet are incoming until receipts name them.
    quantity BIGINT NULL CHECK (quantity > 0),
    received BOOLEAN NULL,
    received_quantity BIGINT NOT NULL DEFAULT 0 CHECK (received_quantity >= 0),
    receipt_ref TEXT NULL,
    own_funds BIGINT NOT NULL CHECK (own_funds >= 0),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    CHECK (quantity IS NULL OR received_quantity <= quantity)
);
CREATE INDEX expenses_shelter ON expenses (shelter_id, recorded_at, id);
CREATE INDEX expenses_need ON expenses (need_id);
CREATE INDEX expenses_item ON expenses (item_id, received);

-- Which allocation paid how much of which expense (shelter currency).
CREATE TABLE expense_funding (
    id TEXT PRIMARY KEY,
    expense_id TEXT NOT NULL REFERENCES expenses (id),
    allocation_id TEXT NOT NULL REFERENCES allocations (id),
    donation_id TEXT NOT NULL REFERENCES donations (id),
    amount BIGINT NOT NULL CHECK (amount > 0)
);
CREATE INDEX expense_funding_expense ON expense_funding (expense_id);
CREATE INDEX expense_funding_donation ON expense_funding (donation_id);
