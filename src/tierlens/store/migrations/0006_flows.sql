-- 0006: the flow run ledger and alerts (tierlens.orchestrate.ledger / .alerts).
-- Written by the Prefect flows (flows/), read by the dashboard's data-quality page through
-- the published snapshot.

-- grain: one row per flow run (a Prefect flow run, or a plain call of the flow function)
CREATE TABLE flow_runs (
    run_id            VARCHAR PRIMARY KEY,       -- Prefect flow run id (or a local uuid)
    flow_name         VARCHAR NOT NULL,          -- ingest_and_score | nightly_outcomes | ...
    deployment        VARCHAR,                   -- deployment name when scheduled
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    duration_s        DOUBLE,
    outcome           VARCHAR NOT NULL,          -- running | succeeded | partial | failed | crashed
    parameters        VARCHAR NOT NULL,          -- JSON of the flow's pydantic parameters
    files_seen        BIGINT,
    files_skipped     BIGINT,
    files_failed      BIGINT,
    read              BIGINT,                    -- records read (all ingest steps of the run)
    stored            BIGINT,
    updated           BIGINT,
    unchanged         BIGINT,
    quarantined       BIGINT,
    scored            BIGINT,                    -- conversations scored by the model heads
    flagged           BIGINT,                    -- red flags among conversations rule-checked
    model_version     VARCHAR,
    rulebook_version  VARCHAR,
    alerts            INTEGER,                   -- alerts raised by this run
    error             VARCHAR
    -- reconciliation (ingest): read = stored + updated + unchanged + quarantined
);

-- grain: one row per alert event (a threshold crossed, detected by one flow run)
CREATE TABLE alerts (
    alert_id          VARCHAR PRIMARY KEY,       -- stable: kind + subject, so re-runs don't duplicate
    run_id            VARCHAR NOT NULL,          -- flow run that raised it
    raised_at         TIMESTAMPTZ NOT NULL,
    kind              VARCHAR NOT NULL,          -- containment_drop | red_flag_rate_doubled | quarantine_rate
    severity          VARCHAR NOT NULL,          -- warning | critical
    subject           VARCHAR NOT NULL,          -- month (YYYY-MM) or ingest run id
    value             DOUBLE,                    -- observed value
    previous          DOUBLE,                    -- comparison value (previous month), if any
    threshold         DOUBLE NOT NULL,
    message           VARCHAR NOT NULL,
    notified          BOOLEAN NOT NULL           -- sent through a Prefect notification block
);
