-- 0009: the trust layer. Model-based KPIs corrected by the human-reviewed sample, with a 95%
-- interval (tierlens.metrics.trust); and the warehouse mirror of reviewers' label corrections
-- (the review store's `label_corrections`, plus those imported by `tierlens reviews import`).

ALTER TABLE kpi_monthly_all ADD COLUMN value_corrected DOUBLE;   -- = value for structural KPIs
ALTER TABLE kpi_monthly_all ADD COLUMN ci_low DOUBLE;            -- 95% interval of the KPI
ALTER TABLE kpi_monthly_all ADD COLUMN ci_high DOUBLE;
ALTER TABLE kpi_monthly_all ADD COLUMN n_reviewed BIGINT;        -- NULL: structural; 0: unverified

-- grain: one row per label correction event (mirror of the review store's append-only
-- `label_corrections`); the latest per (conversation, turn, label type) wins
CREATE TABLE label_corrections (
    seq             BIGINT NOT NULL,
    conversation_id VARCHAR NOT NULL,
    turn_index      INTEGER,                      -- NULL: a conversation-level label
    label_type      VARCHAR NOT NULL,             -- sentiment | intent | resolution | escalation_reason
    old_value       VARCHAR,
    new_value       VARCHAR NOT NULL,
    who             VARCHAR NOT NULL,
    corrected_at    TIMESTAMPTZ NOT NULL
);

-- grain: one row per sampled conversation of the verification sample (a stratified random
-- sample per month and tier, sized for settings.verification_half_width; rewritten by every
-- derive)
CREATE TABLE verification_sample (
    month           VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,             -- ai | human
    conversation_id VARCHAR NOT NULL,
    sample_rank     BIGINT NOT NULL,              -- 1 = review first
    population      BIGINT NOT NULL,              -- conversations in the month and tier
    needed          BIGINT NOT NULL,              -- reviews for the chosen interval width
    reviewed        BOOLEAN NOT NULL,             -- has a human label already
    PRIMARY KEY (month, tier, conversation_id)
);
