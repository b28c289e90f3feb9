"""Idempotent writes of ingested batches.

A conversation is keyed by ``conversation_id``. For each one in a batch:

- **new**: inserted;
- **changed** (its ``content_hash`` differs from the stored one): the delivery is merged
  with what is stored (:mod:`tierlens.ingest.merge`: a superset replaces, a new part is
  appended); if that changes anything, its turns, PII spans and every derived score are
  deleted and the merged conversation is inserted, in one transaction, so it is updated,
  never duplicated, and re-scored on the next ``tierlens score``;
- **unchanged**: nothing is written at all, so ingesting anything twice leaves the
  data tables byte-for-byte as they were.

SQL and table grains: ``sql/ingest.sql``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from tierlens.schema import CONVERSATION_SCHEMA, PII_SPAN_SCHEMA, QUARANTINE_SCHEMA, TURN_SCHEMA
from tierlens.store.db import queries, transaction

# Tables holding rows derived from a conversation's content; cleared when it changes.
DERIVED_TABLES = ("turn_scores", "model_conversation_scores", "compliance_hits",
                  "compliance_scores", "outcomes", "qa_criteria_scores")


def _q(name: str) -> str:
    return queries("ingest.sql")[name]


@dataclass
class WriteCounts:
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    turns: int = 0


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()}


Merge = Callable[[dict[str, dict[str, list[dict]]], pl.DataFrame, pl.DataFrame, pl.DataFrame,
                   pl.Series], tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]
"""(stored rows, incoming conversations, turns, pii spans, changed ids) -> the merged
(conversations, turns, pii spans) that change something: the ingest package's
:func:`tierlens.ingest.redelivery.merged_frames`."""


def write_conversations(con: duckdb.DuckDBPyConnection, conversations: pl.DataFrame,
                        turns: pl.DataFrame, pii_spans: pl.DataFrame,
                        merge: Merge | None = None) -> WriteCounts:
    """Upsert one validated, redacted batch (frames in the canonical schemas). ``merge``
    merges changed re-deliveries with what is stored (required when the batch has any)."""
    counts = WriteCounts()
    if conversations.height == 0:
        return counts
    incoming = conversations.select("conversation_id", "content_hash")
    con.register("_incoming", incoming.to_arrow())
    stored = pl.from_arrow(con.execute(_q("stored_hashes")).arrow())
    con.unregister("_incoming")
    assert isinstance(stored, pl.DataFrame)
    new_ids = stored.filter(pl.col("old_hash").is_null())["conversation_id"]
    changed_ids = stored.filter(pl.col("old_hash").is_not_null()
                                & (pl.col("old_hash") != pl.col("new_hash")))["conversation_id"]
    if changed_ids.len():
        if merge is None:
            raise ValueError("changed re-deliveries need a merge function")
        merged = merge(stored_rows(con, changed_ids), conversations, turns, pii_spans,
                       changed_ids)
    else:
        merged = (pl.DataFrame(schema=CONVERSATION_SCHEMA), pl.DataFrame(schema=TURN_SCHEMA),
                  pl.DataFrame(schema=PII_SPAN_SCHEMA))
    changed_ids = merged[0]["conversation_id"]
    counts.stored, counts.updated = new_ids.len(), changed_ids.len()
    counts.unchanged = conversations.height - counts.stored - counts.updated
    if new_ids.len() + changed_ids.len() == 0:
        return counts
    is_new = pl.col("conversation_id").is_in(new_ids.implode())
    conv_w = pl.concat([conversations.filter(is_new).select(list(CONVERSATION_SCHEMA)),
                        merged[0]])
    turns_w = pl.concat([turns.filter(is_new).select(list(TURN_SCHEMA)), merged[1]])
    pii_w = pl.concat([pii_spans.filter(is_new).select(list(PII_SPAN_SCHEMA)), merged[2]])
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


def stored_rows(con: duckdb.DuckDBPyConnection, ids: pl.Series
                ) -> dict[str, dict[str, list[dict]]]:
    """The stored rows of ``ids``: ``conv``, ``turns``, ``spans`` -> conversation_id -> rows."""
    out: dict[str, dict[str, list[dict]]] = {}
    con.register("_ids", pl.DataFrame({"conversation_id": ids}).to_arrow())
    try:
        for name, table, schema in (("conv", "core_conversations", CONVERSATION_SCHEMA),
                                    ("turns", "core_turns", TURN_SCHEMA),
                                    ("spans", "pii_spans", PII_SPAN_SCHEMA)):
            rows: dict[str, list[dict]] = {}
            for row in con.execute(f"SELECT {', '.join(schema)} FROM {table} WHERE "
                                   "conversation_id IN (SELECT conversation_id FROM _ids) "
                                   "ORDER BY ALL").pl().iter_rows(named=True):
                rows.setdefault(row["conversation_id"], []).append(row)
            out[name] = rows
    finally:
        con.unregister("_ids")
    return out


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
    rows = [r[0] for r in con.execute(_q("running_ingests")).fetchall() if r[0] not in live]
    if rows:
        con.execute(_q("fail_ingests"), [STALE_RUN_ERROR, datetime.now(UTC), rows])
    return len(rows)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, paths: list[str]) -> None:
    con.execute(_q("start_ingest"), [run_id, datetime.now(UTC), "running", paths])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None,
               **counts: int) -> None:
    sets = ", ".join(f"{k} = ?" for k in counts)
    con.execute(f"UPDATE ingest_runs SET finished_at = ?, status = ?, error = ?, {sets} "
                "WHERE run_id = ?",
                [datetime.now(UTC), status, error, *counts.values(), run_id])


def file_seen(con: duckdb.DuckDBPyConnection, file_hash: str) -> bool:
    """Whether a file with this content hash was ingested before (``ingested_files``)."""
    return con.execute(_q("file_seen"), [file_hash]).fetchone() is not None


def clear_file_rows(con: duckdb.DuckDBPyConnection, file_hash: str) -> None:
    """Drop the quarantine and DQ rows a crashed earlier read of this file left."""
    with transaction(con):
        con.execute(_q("clear_file_quarantine"), [file_hash])
        con.execute(_q("clear_file_dq"), [file_hash])


def replace_file_failure(con: duckdb.DuckDBPyConnection, run_id: str, path: str,
                         file_hash: str | None, row: pl.DataFrame) -> None:
    """A file's one file-level quarantine row (however often it is re-read), keyed by its
    content hash, or by its path when it couldn't be hashed."""
    with transaction(con):
        if file_hash:
            con.execute(_q("clear_file_failure"), [file_hash])
        else:
            con.execute(_q("clear_unhashed_file_failure"), [path])
        write_quarantine(con, run_id, file_hash, row)


def write_batch_checks(con: duckdb.DuckDBPyConnection, run_id: str, file_hash: str,
                       quarantine: pl.DataFrame, dq: pl.DataFrame) -> None:
    """One batch's quarantine rows and DQ results, in one transaction."""
    with transaction(con):
        write_quarantine(con, run_id, file_hash, quarantine)
        append(con, "dq_results", dq)


def record_file(con: duckdb.DuckDBPyConnection, file_hash: str, path: str, size: int,
                fmt: str, run_id: str, n_records: int, n_quarantined: int) -> None:
    """Record a file as ingested (one row per distinct content), so it is skipped later."""
    con.execute(_q("record_file"), [file_hash, path, size, fmt, run_id, n_records, n_quarantined])
