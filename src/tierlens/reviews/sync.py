"""Mirror the dashboard's review store (SQLite) into the warehouse, and anchor its audit chain.

The dashboard writes reviews, dispositions and the hash-chained audit log into its own SQLite
file, so a running flow can never block or lose them. The pipeline, as the warehouse's only
writer, copies them here on every publish (whole-table replace in one transaction: the
source is append-only, so a copy is always a superset of the last one).

The copy is taken with SQLite's online backup API in one step, so it is one consistent
snapshot even while reviewers write (reading the live tables one query at a time could pair
an audit log with a dispositions table from another moment). Each publish also appends the
chain head and row count to ``audit_anchors``; `tierlens audit verify` checks the store
against them. The SQLite store stays the source of truth.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from tierlens.errors import StoreError
from tierlens.reviews.audit import Anchor, head, snapshot
from tierlens.store.db import transaction
from tierlens.store.writes import append

_QUERIES = {
    "dispositions": ("SELECT id AS seq, conversation_id, rule_id, turn_index, disposition, note, "
                     "who, at AS disposed_at FROM dispositions ORDER BY id"),
    "reviews": ("SELECT id AS seq, conversation_id, reviewer, criteria, total, note, "
                "at AS reviewed_at FROM reviews ORDER BY id"),
    "label_corrections": ("SELECT id AS seq, conversation_id, turn_index, label_type, old_value, "
                          "new_value, who, at AS corrected_at FROM label_corrections ORDER BY id"),
    "audit_log": ("SELECT seq, at AS logged_at, who, action, object, before, after, prev_hash, hash "
                  "FROM audit_log ORDER BY seq"),
}
_TIMES = {"dispositions": "disposed_at", "reviews": "reviewed_at",
          "label_corrections": "corrected_at"}
_ANCHORS = {  # where a publish anchors the chain head: its own table and the run ledger
    "audit_anchors": "SELECT rows, head_seq, head_hash FROM audit_anchors",
    "flow_runs": ("SELECT audit_rows, audit_head_seq, audit_head_hash FROM flow_runs "
                  "WHERE audit_rows IS NOT NULL"),
}


def _read(src: sqlite3.Connection, table: str) -> pl.DataFrame:
    """One review-store table as its warehouse mirror holds it (``_QUERIES``)."""
    cur = src.execute(_QUERIES[table])
    cols = [d[0] for d in cur.description]
    frame = pl.DataFrame(cur.fetchall(), schema=cols, orient="row", infer_schema_length=None)
    if table in _TIMES and frame.height:
        frame = frame.with_columns(pl.col(_TIMES[table]).str.to_datetime(
            time_zone="UTC", time_unit="us"))
    return frame


def read_label_corrections(sqlite_path: Path) -> pl.DataFrame:
    """The review store's label corrections, read from one consistent snapshot of the store
    (not from the warehouse mirror, which only publish refreshes). Columns as the mirror:
    seq, conversation_id, turn_index, label_type, old_value, new_value, who, corrected_at;
    empty when there is no store yet."""
    empty = pl.DataFrame(schema={"seq": pl.Int64, "conversation_id": pl.String,
                                 "turn_index": pl.Int64, "label_type": pl.String,
                                 "new_value": pl.String})
    if not Path(sqlite_path).exists():
        return empty
    src = snapshot(sqlite_path)
    try:
        frame = _read(src, "label_corrections")
    except sqlite3.OperationalError:
        return empty  # store created by an older dashboard without the table
    finally:
        src.close()
    return frame if frame.height else empty


def mirror_reviews(con: duckdb.DuckDBPyConnection, sqlite_path: Path) -> dict[str, int]:
    """Copy the review store's tables into the warehouse mirrors and anchor the chain head.
    Returns row counts."""
    if not Path(sqlite_path).exists():
        return {}
    src = snapshot(sqlite_path)
    try:
        frames = {table: _read(src, table) for table in _QUERIES}
        rows, head_seq, head_hash = head(src)
    except sqlite3.OperationalError:
        return {}  # store created by an older dashboard without these tables
    finally:
        src.close()
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DELETE FROM {table}")
            append(con, table, frame)
        con.execute("INSERT INTO audit_anchors VALUES (?, ?, ?, ?)",
                    [datetime.now(UTC), rows, head_seq, head_hash])
    return {t: f.height for t, f in frames.items()}


def anchors(warehouse: Path, serving: Path | None = None) -> tuple[list[Anchor], str]:
    """The chain anchors (``audit_anchors`` and the run ledger ``flow_runs``) from the
    warehouse, or from the serving snapshot when the warehouse is locked by a running flow.
    Returns (anchors, where they came from; '' if nowhere)."""
    for path, where in ((warehouse, "warehouse"), (serving, "serving snapshot")):
        if path is None or not Path(path).exists():
            continue
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            continue  # locked by the pipeline's writer: try the next copy
        found = []
        try:
            for table, sql in _ANCHORS.items():
                found += [Anchor(r[0], r[1], r[2], f"{where}'s {table}")
                          for r in con.execute(sql).fetchall()]
        except duckdb.CatalogException:
            pass  # older warehouse: no anchors yet
        except duckdb.Error as exc:
            raise StoreError(f"{path}: can't read the audit anchors ({exc})") from exc
        finally:
            con.close()
        return found, f"{where} {path}"
    return [], ""
