"""The flow run ledger: one ``flow_runs`` row per flow run (grain: migrations/0006_flows.sql).

A run writes its row when it starts (outcome ``running``) and updates it when it ends. A run
killed before it could finish leaves ``running`` behind; the next run marks such rows
``crashed`` (only one writer can hold the warehouse, so no other run can still be alive).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from tierlens.schema import INGEST_COUNTS, IngestCounts

OUTCOMES = ("running", "succeeded", "partial", "failed", "crashed")
_COUNTS = (*INGEST_COUNTS, "scored", "flagged")


@dataclass
class RunCounts(IngestCounts):
    """What a flow run did; ``add_ingest`` folds in an IngestReport's counts."""

    scored: int = 0
    flagged: int = 0
    model_version: str | None = None
    rulebook_version: str | None = None
    alerts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add_ingest(self, counts: dict[str, int]) -> None:
        for k in INGEST_COUNTS:
            setattr(self, k, getattr(self, k) + int(counts.get(k, 0)))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        return d


def mark_crashed(con: duckdb.DuckDBPyConnection, but: str | None = None) -> int:
    """Rows left ``running`` by a killed run become ``crashed``. Returns how many."""
    rows = con.execute("SELECT run_id FROM flow_runs WHERE outcome = 'running' AND run_id <> ?",
                       [but or ""]).fetchall()
    if rows:
        con.execute("UPDATE flow_runs SET outcome = 'crashed', error = 'the process ended "
                    "without finishing (killed or crashed); its work is redone by the next "
                    "run' WHERE outcome = 'running' AND run_id <> ?", [but or ""])
    return len(rows)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow_name: str,
              parameters: dict[str, Any], deployment: str | None = None) -> None:
    """Record that a run started (replacing a row with the same id: a Prefect retry)."""
    mark_crashed(con, but=run_id)
    con.execute("DELETE FROM flow_runs WHERE run_id = ?", [run_id])
    con.execute("INSERT INTO flow_runs (run_id, flow_name, deployment, started_at, outcome, "
                "parameters) VALUES (?, ?, ?, ?, 'running', ?)",
                [run_id, flow_name, deployment, datetime.now(UTC),
                 json.dumps(parameters, sort_keys=True, default=str)])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, counts: RunCounts,
               error: str | None = None) -> None:
    """Record the end of a run: its outcome, counts, versions, duration, and the latest
    audit-chain anchor of the review store (docs/audit.md)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {OUTCOMES}")
    d = counts.as_dict()
    now = datetime.now(UTC)
    sets = ", ".join(f"{k} = ?" for k in (*_COUNTS, "model_version", "rulebook_version",
                                          "alerts"))
    con.execute(f"UPDATE flow_runs SET finished_at = ?, duration_s = "
                f"epoch(?::TIMESTAMPTZ - started_at), outcome = ?, error = ?, {sets} "
                "WHERE run_id = ?",
                [now, now, outcome, (error or None) and error[:1000],
                 *[d[k] for k in _COUNTS], d["model_version"], d["rulebook_version"],
                 d["alerts"], run_id])
    # the review store's latest audit anchor (written by a publish) as a second copy
    con.execute("UPDATE flow_runs SET audit_rows = a.rows, audit_head_seq = a.head_seq, "
                "audit_head_hash = a.head_hash FROM (SELECT rows, head_seq, head_hash FROM "
                "audit_anchors ORDER BY anchored_at DESC LIMIT 1) a WHERE run_id = ?", [run_id])


def runs(con: duckdb.DuckDBPyConnection, limit: int = 100) -> list[dict[str, Any]]:
    """The latest runs, newest first (for logs and tests)."""
    cur = con.execute("SELECT * FROM flow_runs ORDER BY started_at DESC LIMIT ?", [limit])
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
