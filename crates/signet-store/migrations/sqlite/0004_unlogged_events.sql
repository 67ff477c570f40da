-- The evidence sweep looks only at events not yet in the log: a partial index keeps that
-- cheap however many events there are.
CREATE INDEX contract_events_unlogged ON contract_events (at) WHERE log_index IS NULL;
