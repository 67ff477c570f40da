-- Failed sign-ins per account and per address, counted in a window, shared by every server
-- (key: a hash of "account:EMAIL" or "address:IP", never the value itself).
CREATE TABLE throttles (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);

-- The last TOTP time step accepted per member: a code is good once, whichever server it
-- reaches.
CREATE TABLE totp_steps (
    user_id TEXT PRIMARY KEY,
    step BIGINT NOT NULL
);
