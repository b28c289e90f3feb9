-- 0001: core ingest tables.
-- Bookkeeping first, then the canonical data. Raw (unredacted) text is never stored.

-- grain: one row per applied migration
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);

-- grain: one row per ingest run (CLI call, flow run or demo run)
CREATE TABLE ingest_runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,          -- running | succeeded | failed
    paths           VARCHAR[] NOT NULL,
    files_seen      INTEGER NOT NULL DEFAULT 0,
    files_skipped   INTEGER NOT NULL DEFAULT 0, -- already ingested (same content hash)
    files_failed    INTEGER NOT NULL DEFAULT 0, -- unreadable as a whole (reason in quarantine)
    read            BIGINT NOT NULL DEFAULT 0,  -- records (conversations) read
    stored          BIGINT NOT NULL DEFAULT 0,  -- new conversations written
    updated         BIGINT NOT NULL DEFAULT 0,  -- conversations re-delivered with changes
    unchanged       BIGINT NOT NULL DEFAULT 0,  -- conversations re-delivered identical (skipped as seen)
    quarantined     BIGINT NOT NULL DEFAULT 0,  -- records sent to quarantine
    turns_stored    BIGINT NOT NULL DEFAULT 0,
    error           VARCHAR
    -- reconciliation: read = stored + updated + unchanged + quarantined
);

-- grain: one row per distinct input file content (sha256), the first time it was ingested
CREATE TABLE ingested_files (
    content_hash    VARCHAR PRIMARY KEY,
    path            VARCHAR NOT NULL,
    size_bytes      BIGINT NOT NULL,
    format          VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL,
    records         BIGINT NOT NULL,
    quarantined     BIGINT NOT NULL
);

-- grain: one row per conversation (its latest delivery)
CREATE TABLE core_conversations (
    conversation_id VARCHAR PRIMARY KEY,
    channel         VARCHAR,
    customer_id     VARCHAR,                    -- salted hash pseudonym
    started_at      TIMESTAMPTZ NOT NULL,
    ended_at        TIMESTAMPTZ,
    first_queue     VARCHAR,
    language        VARCHAR,
    csat            SMALLINT,
    nps             SMALLINT,
    metadata        VARCHAR,                    -- JSON, redacted
    n_turns         INTEGER NOT NULL,
    tier_path       VARCHAR,                    -- bot_only | bot_then_human | human_only | NULL
    content_hash    VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,
    source_line     BIGINT NOT NULL
);

-- grain: one row per turn of the latest delivery of each conversation
-- key: (conversation_id, turn_index), unique by construction (writes delete a conversation's
-- turns before inserting its new delivery). Not declared as a PRIMARY KEY: maintaining that
-- index made bulk inserts of 1M turns about twice as slow.
CREATE TABLE core_turns (
    conversation_id VARCHAR NOT NULL,
    turn_index      INTEGER NOT NULL,
    speaker         VARCHAR NOT NULL,
    text            VARCHAR NOT NULL,           -- redacted
    ts              TIMESTAMPTZ,
    agent_id        VARCHAR,
    bot_confidence  DOUBLE,
    event           VARCHAR,
    queue           VARCHAR
);

-- grain: one row per PII item found (and replaced) in a turn, span in redacted text
CREATE TABLE pii_spans (
    conversation_id VARCHAR NOT NULL,
    turn_index      INTEGER NOT NULL,
    pii_type        VARCHAR NOT NULL,
    span_start      INTEGER NOT NULL,
    span_end        INTEGER NOT NULL
);

-- grain: one row per rejected record (or unreadable file), with where and why
CREATE TABLE quarantine (
    run_id          VARCHAR NOT NULL,
    file_hash       VARCHAR,                     -- content hash of the source file
    source_file     VARCHAR NOT NULL,
    source_line     BIGINT,
    conversation_id VARCHAR,
    field           VARCHAR,
    reason          VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    payload         VARCHAR                      -- redacted, truncated
);

-- grain: one row per expectation evaluated per validated batch
CREATE TABLE dq_results (
    run_id          VARCHAR NOT NULL,
    file_hash       VARCHAR NOT NULL,
    batch_index     INTEGER NOT NULL,
    source_file     VARCHAR NOT NULL,
    suite           VARCHAR NOT NULL,            -- hard | soft
    expectation     VARCHAR NOT NULL,
    column_name     VARCHAR,
    success         BOOLEAN NOT NULL,
    element_count   BIGINT,
    unexpected_count BIGINT,
    details         VARCHAR
);
