-- One-time codes: only a keyed hash of the code is stored; attempts and sends are counted
-- for the rate limits.
CREATE TABLE otp_codes (
    contract_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    sends_in_window BIGINT NOT NULL,
    PRIMARY KEY (contract_id, recipient)
);

-- Messages kept for an administrator to read: SMS in the embedded default, and mails when
-- no SMTP server is configured (or as a copy of what was sent).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_org ON outbox (org_id, created_at, id);
