-- 0005: review-store mirror. Reviews, dispositions and the audit log are written by the
-- dashboard into its own SQLite store (never blocked by a running flow). The pipeline, as the
-- warehouse's single writer, mirrors them here on every publish (tierlens.store.reviews_sync),
-- so views and audits can join them. The SQLite store stays the source of truth.

-- grain: one row per disposition event (append-only in the source)
CREATE TABLE dispositions (
    seq             BIGINT NOT NULL,
    conversation_id VARCHAR NOT NULL,
    rule_id         VARCHAR NOT NULL,
    turn_index      INTEGER,
    disposition     VARCHAR NOT NULL,             -- confirmed | dismissed | escalated
    note            VARCHAR NOT NULL,
    who             VARCHAR NOT NULL,
    disposed_at     TIMESTAMPTZ NOT NULL
);

-- grain: one row per review event (mirror of the review store's append-only `reviews`)
CREATE TABLE reviews (
    seq             BIGINT NOT NULL,
    conversation_id VARCHAR NOT NULL,
    reviewer        VARCHAR NOT NULL,
    criteria        VARCHAR NOT NULL,             -- JSON {criterion: 1 | 0 | null (N/A)}
    total           DOUBLE,
    note            VARCHAR,
    reviewed_at     TIMESTAMPTZ NOT NULL
);

-- grain: one row per audited event (mirror of the hash-chained `audit_log`: who, when, what,
-- before, after); verify the chain in the source with `tierlens audit verify`
CREATE TABLE audit_log (
    seq             BIGINT NOT NULL,
    logged_at       VARCHAR NOT NULL,
    who             VARCHAR NOT NULL,
    action          VARCHAR NOT NULL,
    object          VARCHAR NOT NULL,
    before          VARCHAR,
    after           VARCHAR,
    prev_hash       VARCHAR NOT NULL,
    hash            VARCHAR NOT NULL
);
