"""Repository of the compliance results: rulebooks, hits, scores and runs.

Writes are keyed on (rulebook_version, conversation_id); the caller (the compliance stage,
:mod:`tierlens.stages.compliance`) owns the transaction around a whole application, so old
and new versions' results sit side by side and a failure rolls everything back.
SQL and table grains: ``sql/compliance.sql``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import polars as pl

from tierlens.errors import StoreError
from tierlens.store.db import frame, queries, registered


def _q(name: str) -> str:
    return queries("compliance.sql")[name]


def since_ts(since: date | None) -> datetime | None:
    """UTC midnight of ``since`` (a datetime stays as it is, naive read as UTC)."""
    if since is None:
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    return datetime(since.year, since.month, since.day, tzinfo=UTC)


def registered_rulebook(con: duckdb.DuckDBPyConnection, version: str
                        ) -> tuple[str, str | None] | None:
    """(content_hash, source) a rulebook version was registered with; None if it wasn't."""
    row = con.execute(_q("registered_rulebook"), [version]).fetchone()
    return (row[0], row[1]) if row else None


def insert_rulebook(con: duckdb.DuckDBPyConnection, version: str, digest: str,
                    source: str | None, n_rules: int, rulebook_json: str) -> None:
    con.execute(_q("register_rulebook"),
                [version, digest, source, n_rules, rulebook_json, datetime.now(UTC)])


def current_rulebook_json(con: duckdb.DuckDBPyConnection) -> tuple[str, str | None] | None:
    """(rulebook JSON, source) of the current rulebook version; None: none applied yet."""
    row = con.execute(_q("current_rulebook")).fetchone()
    return (row[0], row[1]) if row else None


def conversations_to_evaluate(con: duckdb.DuckDBPyConnection, version: str,
                              since: datetime | None, only_unscored: bool) -> list[str]:
    return [r[0] for r in con.execute(_q("to_evaluate"),
                                      [version, since, only_unscored]).fetchall()]


def delete_hits(con: duckdb.DuckDBPyConnection, version: str, ids: list[str]) -> None:
    with registered(con, "_ids", ids):
        con.execute(_q("delete_hits"), [version])


def read_batch(con: duckdb.DuckDBPyConnection, ids: list[str]
               ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(conversations, turns, pii_spans) of ``ids``, as the rulebook evaluation reads them."""
    with registered(con, "_ids", ids):
        return (frame(con, _q("batch_conversations")), frame(con, _q("batch_turns")),
                frame(con, _q("batch_pii")))


def write_batch(con: duckdb.DuckDBPyConnection, version: str, ids: list[str],
                hits: pl.DataFrame, scores: pl.DataFrame) -> None:
    """Insert one batch's hits, upsert its score rows (every id gets exactly one: an upsert
    on the primary key is several times faster than delete + insert on DuckDB), and record
    ``version`` as the rulebook last applied to each id."""
    hit_cols, score_cols = ", ".join(hits.columns), ", ".join(scores.columns)
    con.register("_cb_hits", hits.to_arrow())
    con.register("_cb_scores", scores.to_arrow())
    try:
        con.execute(f"INSERT INTO compliance_hits ({hit_cols}) SELECT {hit_cols} FROM _cb_hits")
        con.execute(f"INSERT OR REPLACE INTO compliance_scores ({score_cols}) "
                    f"SELECT {score_cols} FROM _cb_scores")
    finally:
        con.unregister("_cb_hits")
        con.unregister("_cb_scores")
    with registered(con, "_ids", ids):
        con.execute(_q("mark_applied"), [version])


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, version: str,
               since: datetime | None, started: datetime, counts: dict[str, int]) -> None:
    con.execute(_q("record_run"), [run_id, version, since.date() if since else None, started,
                                   datetime.now(UTC), counts["conversations"], counts["turns"],
                                   counts["hits"], counts["red_flags"]])


def diff_rulebook_versions(con: duckdb.DuckDBPyConnection, old: str, new: str,
                           since: date | None = None) -> pl.DataFrame:
    """Conversations whose red flag differs between two applied rulebook versions.

    One row per conversation scored under both versions whose ``red_flag`` changed:
    conversation_id, started_at, channel, change (``newly_flagged`` | ``no_longer_flagged``),
    old/new risk_score, and the rule ids hit only under the new / only under the old version.
    Runs inside DuckDB (streaming joins), so history of any size needs little memory.
    """
    known = {r[0] for r in con.execute(_q("known_versions"), [old, new]).fetchall()}
    for v in (old, new):
        if v not in known:
            raise StoreError(f"rulebook_version {v!r} has no stored results; apply it first "
                             "with `tierlens rescore --rules FILE`")
    params: dict[str, Any] = {"old": old, "new": new, "since": since_ts(since)}
    return frame(con, _q("diff_versions"), params)
