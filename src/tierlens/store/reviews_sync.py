"""Mirror the dashboard's review store (SQLite) into the warehouse.

The dashboard writes reviews, dispositions and the hash-chained audit log into its own SQLite
file, so a running flow can never block or lose them. The pipeline, as the warehouse's only
writer, copies them here on every publish (whole-table replace in one transaction: the
source is append-only, so a copy is always a superset of the last one). The SQLite store stays
the source of truth; `tierlens audit verify` checks its chain.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import polars as pl

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


def mirror_reviews(con: duckdb.DuckDBPyConnection, sqlite_path: Path) -> dict[str, int]:
    """Copy the review store's tables into the warehouse mirrors. Returns row counts."""
    if not Path(sqlite_path).exists():
        return {}
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        frames = {}
        for table, sql in _QUERIES.items():
            cur = src.execute(sql)
            cols = [d[0] for d in cur.description]
            frame = pl.DataFrame(cur.fetchall(), schema=cols, orient="row",
                                 infer_schema_length=None)
            if table in _TIMES and frame.height:
                frame = frame.with_columns(pl.col(_TIMES[table]).str.to_datetime(
                    time_zone="UTC", time_unit="us"))
            frames[table] = frame
    except sqlite3.OperationalError:
        return {}  # store created by an older dashboard without these tables
    finally:
        src.close()
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"DELETE FROM {table}")
            append(con, table, frame)
    return {t: f.height for t, f in frames.items()}
