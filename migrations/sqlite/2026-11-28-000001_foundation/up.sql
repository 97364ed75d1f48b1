-- Accounts, shelters, sessions, throttling, idempotency, audit chains and the email outbox.
-- Types are the subset both backends share: TEXT, BIGINT, BOOLEAN, TIMESTAMP (UTC).

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'auditor', 'staff', 'donor')),
    locale TEXT NOT NULL CHECK (locale IN ('es', 'en')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE shelters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    country TEXT NOT NULL,
    timezone TEXT NOT NULL,
    currency TEXT NOT NULL,
    bed_capacity BIGINT NOT NULL CHECK (bed_capacity >= 0),
    occupied_beds BIGINT NOT NULL DEFAULT 0 CHECK (occupied_beds >= 0),
    public_location BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX shelters_name ON shelters (name, id);

CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users (id),
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    role TEXT NOT NULL CHECK (role IN ('manager', 'coordinator')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, shelter_id)
);
CREATE INDEX memberships_shelter ON memberships (shelter_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Only SHA-256 hashes of refresh tokens are kept; used_at marks a rotated token.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    shelter_id TEXT NOT NULL REFERENCES shelters (id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'coordinator')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP NULL,
    accepted_by TEXT NULL REFERENCES users (id)
);
CREATE INDEX invitations_shelter ON invitations (shelter_id);

-- Login throttling lives in the database so that several servers share it.
-- cleared: a later success from the same email and address forgave this failure for rule (1).
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    cleared BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- Other sliding-window limits (registrations per address, reset emails per account).
CREATE TABLE rate_events (
    id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX rate_events_bucket ON rate_events (bucket, at);

-- status/response_body are NULL while the first request with the key is still running.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NULL,
    response_body TEXT NULL,
    locked_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- One row per chain ('platform' or a shelter id): the last seq and hash. Writers lock this row
-- (UPDATE ... SET seq = seq + 1) so each chain's seq is gap-free and chains never wait on each other.
CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_heads (chain, seq, hash)
VALUES ('platform', 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- at is the exact RFC 3339 text that was hashed; data is canonical JSON text.
CREATE TABLE audit_events (
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor_id TEXT NULL,
    shelter_id TEXT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_events_entity ON audit_events (entity, entity_id);
CREATE INDEX audit_events_actor ON audit_events (actor_id);

-- Transactional outbox: rendered emails written with the change that caused them.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    to_email TEXT NOT NULL,
    template TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT NULL,
    claimed_until TIMESTAMP NULL,
    sent_at TIMESTAMP NULL,
    last_error TEXT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
