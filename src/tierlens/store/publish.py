"""The serving snapshot's file swap (the publish stage, :mod:`tierlens.stages.publish`,
mirrors the review store first, then calls :func:`write_snapshot`).

The pipeline is the only writer of the warehouse. After each run it copies the public
views (materialised as tables) and the ledgers into a fresh DuckDB file, then swaps it
into place atomically (``os.replace``). The dashboard opens the snapshot read-only, so a
running flow never blocks it and it never sees a half-written state.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

SNAPSHOT_NAME = "serving.duckdb"

# Public views and ledgers that the dashboard may read. Missing ones are skipped, so the
# snapshot grows as the pipeline does.
PUBLISHED = ("conversations", "turns", "conversation_scores", "compliance_flags", "kpi_monthly",
             "ingest_runs", "quarantine", "dq_results", "flow_runs", "alerts", "pii_spans",
             "misroute_matrix", "qa_criteria_scores", "current_versions", "reviews",
             "audit_log", "audit_anchors", "outcomes", "verification_sample", "topics",
             "conversation_topics", "routing_policy", "conversation_agents")

# Published names read from another relation: the versioned derive outputs hold every model
# version, the dashboard sees the current one only (views.sql, ``*_current``).
PUBLISHED_FROM = {"outcomes": "outcomes_current", "qa_criteria_scores": "qa_criteria_scores_current",
                  "misroute_matrix": "misroute_matrix_current"}


def snapshot_path(serving_dir: Path) -> Path:
    return Path(serving_dir) / SNAPSHOT_NAME


def write_snapshot(con: duckdb.DuckDBPyConnection, serving_dir: Path) -> Path:
    """Materialise the published relations into a new file and swap it in. Returns the
    snapshot's path."""
    serving_dir = Path(serving_dir)
    serving_dir.mkdir(parents=True, exist_ok=True)
    tmp = serving_dir / f".tmp-{uuid.uuid4().hex[:8]}.duckdb"
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    con.execute(f"ATTACH '{tmp}' AS snap")  # path is ours (uuid), not user input
    try:
        for name in PUBLISHED:
            source = PUBLISHED_FROM.get(name, name)
            if source in existing:
                con.execute(f"CREATE TABLE snap.{name} AS SELECT * FROM main.{source}")
    finally:
        con.execute("DETACH snap")
    target = snapshot_path(serving_dir)
    os.replace(tmp, target)
    return target
