-- 0004: compliance bookkeeping (tierlens.store.compliance).
-- compliance_hits gains `detail` (cue type, PII type, "said late, at turn 5", similarity...).
-- compliance_rulebooks records the exact content of every rulebook_version ever applied, so
-- a version can't be silently re-used for different rules; compliance_runs logs each apply.

ALTER TABLE compliance_hits ADD COLUMN detail VARCHAR;

-- grain: one row per rulebook_version ever applied (its content is fixed once registered)
CREATE TABLE compliance_rulebooks (
    rulebook_version  VARCHAR PRIMARY KEY,
    content_hash      VARCHAR NOT NULL,          -- sha256 of the validated rulebook (JSON)
    source            VARCHAR,                   -- file path it was loaded from
    n_rules           INTEGER NOT NULL,
    rulebook_json     VARCHAR NOT NULL,          -- the validated rulebook, for auditors
    registered_at     TIMESTAMPTZ NOT NULL
);

-- grain: one row per apply_rulebook run (scoring or `tierlens rescore`)
CREATE TABLE compliance_runs (
    run_id            VARCHAR PRIMARY KEY,
    rulebook_version  VARCHAR NOT NULL,
    since             DATE,                      -- NULL: all of history
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ NOT NULL,
    conversations     BIGINT NOT NULL,
    turns             BIGINT NOT NULL,
    hits              BIGINT NOT NULL,
    red_flags         BIGINT NOT NULL
);
