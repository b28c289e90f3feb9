"""Idempotent writes of ingested batches.

A conversation is keyed by ``conversation_id``. For each one in a batch:

- **new**: inserted;
- **changed** (its ``content_hash`` differs from the stored one): its turns, PII spans and
  every derived score are deleted and the new delivery is inserted, in one transaction,
  so it is updated, never duplicated, and re-scored on the next ``tierlens score``;
- **unchanged**: nothing is written at all, so ingesting anything twice leaves the
  data tables byte-for-byte as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from tierlens.schema import CONVERSATION_SCHEMA, QUARANTINE_SCHEMA, TURN_SCHEMA
from tierlens.store.db import transaction

# Tables holding rows derived from a conversation's content; cleared when it changes.
DERIVED_TABLES = ("turn_scores", "model_conversation_scores", "compliance_hits",
                  "compliance_scores", "outcomes", "qa_criteria_scores")


@dataclass
class WriteCounts:
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    turns: int = 0


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()}


def write_conversations(con: duckdb.DuckDBPyConnection, conversations: pl.DataFrame,
                        turns: pl.DataFrame, pii_spans: pl.DataFrame) -> WriteCounts:
    """Upsert one validated, redacted batch (frames in the canonical schemas)."""
    counts = WriteCounts()
    if conversations.height == 0:
        return counts
    incoming = conversations.select("conversation_id", "content_hash")
    con.register("_incoming", incoming.to_arrow())
    stored = pl.from_arrow(con.execute("""
        SELECT i.conversation_id, c.content_hash AS old_hash, i.content_hash AS new_hash
        FROM _incoming i LEFT JOIN core_conversations c USING (conversation_id)""").arrow())
    con.unregister("_incoming")
    assert isinstance(stored, pl.DataFrame)
    new_ids = stored.filter(pl.col("old_hash").is_null())["conversation_id"]
    changed_ids = stored.filter(pl.col("old_hash").is_not_null()
                                & (pl.col("old_hash") != pl.col("new_hash")))["conversation_id"]
    counts.stored, counts.updated = new_ids.len(), changed_ids.len()
    counts.unchanged = conversations.height - counts.stored - counts.updated
    write_ids = pl.concat([new_ids, changed_ids])
    if write_ids.len() == 0:
        return counts
    conv_w = conversations.filter(pl.col("conversation_id").is_in(write_ids.implode())) \
        .select(list(CONVERSATION_SCHEMA))
    turns_w = turns.filter(pl.col("conversation_id").is_in(write_ids.implode())) \
        .select(list(TURN_SCHEMA))
    pii_w = pii_spans.filter(pl.col("conversation_id").is_in(write_ids.implode()))
    counts.turns = turns_w.height
    tables = _existing_tables(con)
    with transaction(con):
        if changed_ids.len():
            con.register("_changed", pl.DataFrame({"conversation_id": changed_ids}).to_arrow())
            for table in ("core_turns", "pii_spans", "core_conversations",
                          *[t for t in DERIVED_TABLES if t in tables]):
                con.execute(f"DELETE FROM {table} WHERE conversation_id IN "
                            "(SELECT conversation_id FROM _changed)")
            con.unregister("_changed")
        for name, frame in (("core_conversations", conv_w), ("core_turns", turns_w),
                            ("pii_spans", pii_w)):
            append(con, name, frame)
    return counts


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append a frame to a table by column name (caller owns the transaction)."""
    if frame.height == 0:
        return
    con.register("_a", frame.to_arrow())
    try:
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _a")
    finally:
        con.unregister("_a")


def write_quarantine(con: duckdb.DuckDBPyConnection, run_id: str, file_hash: str | None,
                     rows: pl.DataFrame) -> None:
    """Append quarantine rows of one source file, keyed by its content hash (NULL when the
    file couldn't be hashed), so a re-read of the file can replace them."""
    append(con, "quarantine", rows.select(list(QUARANTINE_SCHEMA)).with_columns(
        run_id=pl.lit(run_id), file_hash=pl.lit(file_hash, pl.String)))


STALE_RUN_ERROR = ("the process ended without finishing (killed or crashed); a later ingest "
                   "re-reads what it left unrecorded")


def mark_stale_runs(con: duckdb.DuckDBPyConnection, live: set[str]) -> int:
    """Runs left ``running`` by a killed process become ``failed``. Returns how many.

    Only one process can open a warehouse for writing, so a ``running`` row that isn't one
    of this process's live runs (``live``) belongs to a process that is gone.
    """
    rows = [r[0] for r in con.execute(
        "SELECT run_id FROM ingest_runs WHERE status = 'running'").fetchall() if r[0] not in live]
    if rows:
        con.execute("UPDATE ingest_runs SET status = 'failed', error = ?, finished_at = ? "
                    "WHERE run_id IN (SELECT unnest(?::VARCHAR[]))",
                    [STALE_RUN_ERROR, datetime.now(UTC), rows])
    return len(rows)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, paths: list[str]) -> None:
    con.execute("INSERT INTO ingest_runs (run_id, started_at, status, paths) VALUES (?, ?, ?, ?)",
                [run_id, datetime.now(UTC), "running", paths])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None,
               **counts: int) -> None:
    sets = ", ".join(f"{k} = ?" for k in counts)
    con.execute(f"UPDATE ingest_runs SET finished_at = ?, status = ?, error = ?, {sets} "
                "WHERE run_id = ?",
                [datetime.now(UTC), status, error, *counts.values(), run_id])
