-- 0002: versioned scores. Every row carries the version that produced it; rescoring adds
-- rows under a new version and never overwrites another version's rows.

-- grain: one row per component (model, rulebook, metrics); which version the views show
CREATE TABLE current_versions (
    component   VARCHAR PRIMARY KEY,             -- model | rulebook
    version     VARCHAR NOT NULL,
    set_at      TIMESTAMPTZ NOT NULL
);

-- grain: one row per scored turn and model_version
CREATE TABLE turn_scores (
    conversation_id        VARCHAR NOT NULL,
    turn_index             INTEGER NOT NULL,
    model_version          VARCHAR NOT NULL,
    sentiment_label        VARCHAR,
    sentiment_score        DOUBLE,
    sentiment_confidence   DOUBLE,
    intent                 VARCHAR,
    intent_confidence      DOUBLE,
    oos_score              DOUBLE,
    bot_outcome            VARCHAR,
    bot_outcome_confidence DOUBLE,
    csat_predicted         DOUBLE,
    PRIMARY KEY (conversation_id, turn_index, model_version)
);

-- grain: one row per conversation and model_version (model outputs only)
CREATE TABLE model_conversation_scores (
    conversation_id       VARCHAR NOT NULL,
    model_version         VARCHAR NOT NULL,
    sentiment_start       DOUBLE,
    sentiment_end         DOUBLE,
    sentiment_delta       DOUBLE,
    intent                VARCHAR,
    intent_confidence     DOUBLE,
    resolution            VARCHAR,
    resolution_confidence DOUBLE,
    resolution_evidence   INTEGER[],
    csat_predicted        DOUBLE,
    PRIMARY KEY (conversation_id, model_version)
);

-- grain: one row per rule hit and rulebook_version
CREATE TABLE compliance_hits (
    conversation_id   VARCHAR NOT NULL,
    turn_index        INTEGER,                   -- NULL for conversation-level (required) rules
    rule_id           VARCHAR NOT NULL,
    rule_version      VARCHAR NOT NULL,
    rulebook_version  VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,
    severity          VARCHAR NOT NULL,
    span_start        INTEGER,
    span_end          INTEGER,
    matched_text      VARCHAR                    -- from the redacted text
);

-- grain: one row per conversation and rulebook_version
CREATE TABLE compliance_scores (
    conversation_id   VARCHAR NOT NULL,
    rulebook_version  VARCHAR NOT NULL,
    risk_score        DOUBLE NOT NULL,
    red_flag          BOOLEAN NOT NULL,
    n_hits            INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, rulebook_version)
);
