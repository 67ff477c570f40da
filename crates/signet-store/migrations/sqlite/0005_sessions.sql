-- Web sessions: a member signed in (kind 'user'), a member who still owes the second factor
-- ('pending'), or a signer who opened their link ('signer'). Only a hash of the cookie's
-- secret is stored; csrf is the token the session's pages send back in X-CSRF-Token.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT,
    org_id TEXT,
    link_hash TEXT,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- A member's TOTP second factor, sealed by the master key; NULL until they turn it on.
-- totp_pending holds a secret being set up, until its first code confirms it.
ALTER TABLE users ADD COLUMN totp_secret BLOB;
ALTER TABLE users ADD COLUMN totp_pending BLOB;
