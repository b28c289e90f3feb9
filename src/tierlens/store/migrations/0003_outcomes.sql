-- 0003: derived outcomes (tierlens.metrics), written by tierlens.store.outcomes.derive_outcomes.
-- Every row carries the model_version whose intent/resolution it was derived from (and the
-- rulebook_version of the compliance scores it read). Rewritten per model_version with
-- delete-then-insert in one transaction. Definitions: docs/metrics.md.

-- grain: one row per conversation and model_version
CREATE TABLE outcomes (
    conversation_id         VARCHAR NOT NULL,
    model_version           VARCHAR NOT NULL,
    rulebook_version        VARCHAR,
    started_at              TIMESTAMPTZ NOT NULL,
    month                   VARCHAR NOT NULL,      -- cohort: YYYY-MM (UTC) of started_at
    tier                    VARCHAR,               -- ai | human | NULL (nobody answered)
    tier_path               VARCHAR,               -- bot_only | bot_then_human | human_only | NULL
    intent                  VARCHAR,
    intent_tier             TINYINT,               -- 1 | 2 per the routing policy
    resolution              VARCHAR,               -- resolved | unresolved | abandoned
    first_queue             VARCHAR,
    expected_queue          VARCHAR,
    bot_entered             BOOLEAN NOT NULL,
    human_entered           BOOLEAN NOT NULL,
    agent_spoke             BOOLEAN NOT NULL,
    escalated               BOOLEAN NOT NULL,
    escalation_reason       VARCHAR,               -- customer_request | policy | bot_failure |
                                                   -- low_confidence | negative_sentiment | unknown
    trigger_kind            VARCHAR,               -- handoff_event | customer_request | NULL
    handoff_seconds         DOUBLE,
    n_handoffs              INTEGER NOT NULL,
    n_transfers             INTEGER NOT NULL,
    n_human_transfers       INTEGER NOT NULL,
    human_transfer          BOOLEAN NOT NULL,
    repeated_after_handoff  BOOLEAN,               -- NULL unless escalated
    asked_human             BOOLEAN NOT NULL,
    trapped                 BOOLEAN NOT NULL,
    contained_raw           BOOLEAN,               -- NULL unless bot-entered
    contained_durable       BOOLEAN,               -- NULL unless bot-entered and known
    repeat_status           VARCHAR,               -- closed | pending | unknown
    repeat_strict           BOOLEAN,               -- NULL while pending or unknown
    repeat_loose            BOOLEAN,               -- NULL while pending or unknown
    next_contact_s          DOUBLE,
    routed_correctly        BOOLEAN,               -- NULL when intent or first queue unknown
    should_have_escalated   BOOLEAN,
    needless_escalation     BOOLEAN,
    fcr                     BOOLEAN,
    abandoned               BOOLEAN,
    qa_score                DOUBLE,                -- 0..100, auto score only
    qa_critical             BOOLEAN,
    aht_seconds             DOUBLE,
    bot_seconds             DOUBLE,
    human_seconds           DOUBLE,
    first_response_bot_s    DOUBLE,
    first_response_human_s  DOUBLE,
    cost                    DOUBLE,
    csat                    SMALLINT,              -- surveyed
    nps                     SMALLINT,              -- surveyed
    csat_predicted          DOUBLE,                -- predicted, never mixed with csat
    risk_score              DOUBLE,
    red_flag                BOOLEAN,
    as_of                   TIMESTAMPTZ,           -- repeat windows judged at this time
    derived_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, model_version)
);

-- grain: one row per month, tier, kpi and model_version
CREATE TABLE kpi_monthly_all (
    month          VARCHAR NOT NULL,               -- YYYY-MM cohort (start month)
    tier           VARCHAR NOT NULL,               -- ai | human | all
    kpi            VARCHAR NOT NULL,
    model_version  VARCHAR NOT NULL,
    value          DOUBLE,
    numerator      DOUBLE,
    denominator    BIGINT NOT NULL,
    as_of          TIMESTAMPTZ,
    derived_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (month, tier, kpi, model_version)
);

-- grain: one row per conversation, scorecard criterion and model_version (auto score only)
CREATE TABLE qa_criteria_scores (
    conversation_id    VARCHAR NOT NULL,
    model_version      VARCHAR NOT NULL,
    scorecard_version  VARCHAR NOT NULL,
    criterion          VARCHAR NOT NULL,
    weight             DOUBLE NOT NULL,
    applicable         BOOLEAN NOT NULL,
    score              TINYINT,                    -- 1 met | 0 not met | NULL N/A
    PRIMARY KEY (conversation_id, criterion, model_version)
);

-- grain: one row per model_version, evidence kind, expected queue and actual queue
CREATE TABLE misroute_matrix (
    model_version   VARCHAR NOT NULL,
    evidence        VARCHAR NOT NULL,              -- first_queue | transfer
    expected_queue  VARCHAR,                       -- for transfers: the source queue
    actual_queue    VARCHAR,                       -- for transfers: the target queue
    n               BIGINT NOT NULL
);
