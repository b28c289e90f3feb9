-- 0008: anchors of the review store's audit chain. At every publish the pipeline writes the
-- chain head (last seq and hash) and the row count it mirrored, so `tierlens audit verify`
-- can tell when rows were later deleted (truncation) or history was rewritten.

-- grain: one row per publish that mirrored the review store
CREATE TABLE audit_anchors (
    anchored_at     TIMESTAMPTZ NOT NULL,
    rows            BIGINT NOT NULL,              -- audit_log rows at publish time
    head_seq        BIGINT NOT NULL,              -- last seq (0: empty log)
    head_hash       VARCHAR NOT NULL              -- its hash (the genesis hash when empty)
);

-- The run ledger keeps the latest anchor as of the end of each flow run, a second copy.
ALTER TABLE flow_runs ADD COLUMN audit_rows BIGINT;
ALTER TABLE flow_runs ADD COLUMN audit_head_seq BIGINT;
ALTER TABLE flow_runs ADD COLUMN audit_head_hash VARCHAR;
