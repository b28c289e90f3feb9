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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from tierlens.schema import CONVERSATION_SCHEMA, PII_SPAN_SCHEMA, QUARANTINE_SCHEMA, TURN_SCHEMA
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
    merged = _merged(con, conversations, turns, pii_spans, changed_ids)
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


def _merged(con: duckdb.DuckDBPyConnection, conversations: pl.DataFrame, turns: pl.DataFrame,
            pii_spans: pl.DataFrame, ids: pl.Series) -> tuple[pl.DataFrame, ...]:
    """Changed re-deliveries merged with what is stored; only those that change something.

    Returns (conversations, turns, pii_spans) frames in the canonical schemas.
    """
    from tierlens.ingest.merge import Delivery, merge, same_content
    from tierlens.ingest.normalize import with_content_hash, with_tier_path

    out: list[Delivery] = []
    if ids.len():
        con.register("_ids", pl.DataFrame({"conversation_id": ids}).to_arrow())
        try:
            old = {name: _rows_by_id(con.execute(
                f"SELECT {', '.join(schema)} FROM {table} WHERE conversation_id IN "
                f"(SELECT conversation_id FROM _ids) ORDER BY ALL").pl())
                for name, table, schema in (("conv", "core_conversations", CONVERSATION_SCHEMA),
                                            ("turns", "core_turns", TURN_SCHEMA),
                                            ("spans", "pii_spans", PII_SPAN_SCHEMA))}
        finally:
            con.unregister("_ids")
        sel = pl.col("conversation_id").is_in(ids.implode())
        new = {"conv": _rows_by_id(conversations.filter(sel)),
               "turns": _rows_by_id(turns.filter(sel).sort("conversation_id", "turn_index")),
               "spans": _rows_by_id(pii_spans.filter(sel))}
        for cid in ids.to_list():
            before = Delivery(old["conv"][cid][0], old["turns"].get(cid, []),
                              old["spans"].get(cid, []))
            after = merge(before, Delivery(new["conv"][cid][0], new["turns"].get(cid, []),
                                           new["spans"].get(cid, [])), _MERGED_FIELDS)
            if not same_content(after, before, _MERGED_FIELDS, tuple(TURN_SCHEMA)):
                out.append(after)
    conv = pl.DataFrame([{**d.conv, "n_turns": len(d.turns), "_rec": n}
                         for n, d in enumerate(out)],
                        schema={k: v for k, v in CONVERSATION_SCHEMA.items()
                                if k not in ("tier_path", "content_hash")} | {"_rec": pl.Int64})
    trn = pl.DataFrame([{**{k: t.get(k) for k in TURN_SCHEMA}, "_rec": n}
                        for n, d in enumerate(out) for t in d.turns],
                       schema={**TURN_SCHEMA, "_rec": pl.Int64})
    spans = pl.DataFrame([s for d in out for s in d.spans], schema=PII_SPAN_SCHEMA)
    conv = with_content_hash(with_tier_path(conv, trn), trn).select(list(CONVERSATION_SCHEMA))
    return conv, trn.select(list(TURN_SCHEMA)), spans


_MERGED_FIELDS = tuple(k for k in CONVERSATION_SCHEMA
                       if k not in ("n_turns", "tier_path", "content_hash"))


def _rows_by_id(frame: pl.DataFrame) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row["conversation_id"], []).append(row)
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
