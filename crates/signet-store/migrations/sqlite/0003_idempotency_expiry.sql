-- Idempotency keys of POST requests: the first request's answer, replayed for retries.
-- status 0 marks a request still being processed.
CREATE TABLE idempotency_keys (
    org_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- Deadlines as a column, for the expiry sweep.
ALTER TABLE contracts ADD COLUMN deadline BIGINT;
CREATE INDEX contracts_deadline ON contracts (status, deadline);
