-- 0010: contact-reason discovery (tierlens.topics). Public views: `topics`,
-- `conversation_topics` (sql/views.sql).

-- grain: one row per topic ever discovered (ids are stable across refits; a topic that no
-- refit matched again stays, with active = false)
CREATE TABLE topic_centroids (
    topic_id        BIGINT NOT NULL PRIMARY KEY,
    label           VARCHAR,                      -- its top distinctive terms (c-TF-IDF)
    keywords        VARCHAR[],
    centroid        FLOAT[] NOT NULL,             -- L2-normalised, in the encoder's space
    n_requests      BIGINT,                       -- requests assigned at the latest refresh
    active          BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,         -- the refit that first found it
    refit_at        TIMESTAMPTZ NOT NULL          -- the latest refit
);

-- grain: one row per conversation with a request (its first substantive customer turn)
CREATE TABLE conversation_topic_assignments (
    conversation_id VARCHAR NOT NULL PRIMARY KEY,
    turn_index      INTEGER NOT NULL,             -- the request turn
    topic_id        BIGINT NOT NULL,
    distance        FLOAT NOT NULL                -- cosine distance to the topic's centroid
);

-- grain: one row per month and topic with at least one conversation (see topics/monthly.py)
CREATE TABLE topic_monthly (
    month                    VARCHAR NOT NULL,
    topic_id                 BIGINT NOT NULL,
    n_conversations          BIGINT NOT NULL,
    share                    DOUBLE NOT NULL,
    escalation_rate          DOUBLE,
    containment_durable      DOUBLE,
    aht_seconds              DOUBLE,
    cost                     DOUBLE,
    change_vs_previous_month DOUBLE,
    example_conversation_ids VARCHAR[],
    status                   VARCHAR NOT NULL,     -- new | emerging | stable
    matched_intent           VARCHAR,
    intent_share             DOUBLE,
    target_containment       DOUBLE,
    opportunity              DOUBLE NOT NULL,      -- monthly savings at comparable containment
    PRIMARY KEY (month, topic_id)
);
