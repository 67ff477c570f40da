-- Organisations (tenants). org_key: the organisation's data-key-wrapping key, itself wrapped
-- by the master key (never stored in plaintext).
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_key BYTEA NOT NULL,
    next_contract_no BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES organisations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- API keys: only a hash of the secret is stored.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

-- A contract is stored whole (body: the domain aggregate as JSON) with the columns lists and
-- filters need; version guards against lost updates.
CREATE TABLE contracts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    sender TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    number TEXT NOT NULL,
    search TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX contracts_list ON contracts (org_id, created_at, id);
CREATE INDEX contracts_status ON contracts (org_id, status, created_at, id);

CREATE TABLE contract_events (
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    seq BIGINT NOT NULL,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    recipient TEXT,
    data TEXT NOT NULL,
    log_index BIGINT,
    PRIMARY KEY (contract_id, seq)
);

-- Signing links: only a hash of the capability token is stored.
CREATE TABLE signing_links (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    recipient TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX signing_links_recipient ON signing_links (contract_id, recipient);
