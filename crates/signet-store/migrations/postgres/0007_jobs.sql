-- The job queue: background work (messages a committed change calls for, the periodic
-- sweeps) that any server may run. A job is `queued` until its `run_at`, `running` while a
-- worker holds its lease (`locked_by` until `locked_until`, renewed while it runs; a lease
-- that ran out — its server died — makes it claimable again), then `done`, or `failed` after
-- its last attempt. `dedupe_key` makes an enqueue happen once (one sweep per period); NULL
-- never conflicts. Times in milliseconds since 1970; `payload` is JSON text.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT,
    payload TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_org ON jobs (org_id, created_at, id);
CREATE INDEX jobs_listed ON jobs (created_at, id)
