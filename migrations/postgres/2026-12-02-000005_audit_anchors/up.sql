-- Daily external anchoring of the audit chains: once per UTC day every chain's head
-- (seq, hash) is emailed to the auditors. One row per day, inserted by whichever server claims
-- the day first (a conditional insert on the primary key), with the heads it sent.
CREATE TABLE audit_anchors (
    day DATE PRIMARY KEY,
    sent_at TIMESTAMP NOT NULL,
    -- Active auditors emailed; 0 when there were none (the anchor is recorded all the same).
    recipients BIGINT NOT NULL CHECK (recipients >= 0)
);

CREATE TABLE audit_anchor_heads (
    day DATE NOT NULL REFERENCES audit_anchors (day),
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL CHECK (seq >= 1),
    hash TEXT NOT NULL,
    PRIMARY KEY (day, chain)
);
