-- 0011: what was applied to each conversation, and the warehouse's own intent taxonomies.
-- Views show, for each conversation, the model and rulebook version last applied to it
-- (docs/compliance.md, "Which version the views show"); so `rescore --since` leaves earlier
-- conversations with their results instead of blanking them.

-- grain: one row per conversation and component (model | rulebook): the version last applied
CREATE TABLE applied_versions (
    conversation_id   VARCHAR NOT NULL,
    component         VARCHAR NOT NULL,          -- model | rulebook
    version           VARCHAR NOT NULL,
    applied_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, component)
);

-- an existing warehouse: what the views showed so far was the current version
INSERT INTO applied_versions
SELECT m.conversation_id, 'model', m.model_version, now()
FROM model_conversation_scores m
JOIN current_versions v ON v.component = 'model' AND v.version = m.model_version;

INSERT INTO applied_versions
SELECT s.conversation_id, 'rulebook', s.rulebook_version, now()
FROM compliance_scores s
JOIN current_versions v ON v.component = 'rulebook' AND v.version = s.rulebook_version;

-- grain: one row per intent taxonomy trained for this warehouse (`tierlens train-intents`)
CREATE TABLE intent_taxonomies (
    name          VARCHAR PRIMARY KEY,
    head_json     VARCHAR NOT NULL,              -- the head's metadata (labels, temperature...)
    head_npz      BLOB NOT NULL,                 -- its weights
    n_intents     INTEGER NOT NULL,
    source        VARCHAR,                       -- the training CSV
    report_json   VARCHAR,                       -- held-out accuracy, macro-F1, corrections used
    trained_at    TIMESTAMPTZ NOT NULL,
    routing_policy_json VARCHAR                  -- its routing policy (validated), if given
);

-- grain: one row per intent of the routing policy the last derive used (published, so the
-- dashboard shows the policy that matches the warehouse's taxonomy)
CREATE TABLE routing_policy (
    intent                  VARCHAR PRIMARY KEY,
    expected_queue          VARCHAR NOT NULL,
    intent_tier             TINYINT NOT NULL,
    expected_handoff_queue  VARCHAR NOT NULL
);

-- grain: one row per choice a user made for this warehouse (intent_taxonomy: a name)
CREATE TABLE warehouse_choices (
    choice    VARCHAR PRIMARY KEY,
    value     VARCHAR,
    set_at    TIMESTAMPTZ NOT NULL
);
