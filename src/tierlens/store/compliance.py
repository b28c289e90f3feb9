"""Apply a compliance rulebook to the warehouse (history included) and compare versions.

Tables written (grains in the migrations):
- ``compliance_hits``: one row per rule hit and rulebook_version;
- ``compliance_scores``: one row per conversation and rulebook_version;
- ``compliance_rulebooks``: one row per rulebook_version ever applied (content fixed);
- ``compliance_runs``: one row per :func:`apply_rulebook` call.

Writes are keyed on (rulebook_version, conversation_id), all in one transaction per call:
the hits of the selected conversations under this version are deleted then re-inserted, and
their score rows are replaced (an upsert on the primary key: every selected conversation gets
exactly one new score row). Running the same rulebook twice leaves the same rows, a failure
rolls everything back, and other versions' rows are never touched, so old and new results sit
side by side. Conversations
are read and evaluated in batches (``batch_conversations``), so memory stays bounded on
millions of turns.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from tierlens.errors import ConfigError, StoreError
from tierlens.score.compliance import HIT_SCHEMA, SCORE_SCHEMA, evaluate_rulebook
from tierlens.score.rules import Rulebook

EmbeddingsProvider = Callable[[pl.DataFrame], tuple[pl.DataFrame, np.ndarray] | None]
"""Given a batch's turns frame, return precomputed (keys, embeddings) or None to encode."""

DEFAULT_BATCH_CONVERSATIONS = 20_000


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
           ) -> pl.DataFrame:
    return con.execute(sql, params or []).pl()


def _since_ts(since: date | None) -> datetime | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    return datetime(since.year, since.month, since.day, tzinfo=UTC)


def rulebook_hash(rulebook: Rulebook) -> str:
    """sha256 of the validated rulebook (comments and formatting don't count)."""
    return hashlib.sha256(rulebook.model_dump_json().encode("utf-8")).hexdigest()


def register_rulebook(con: duckdb.DuckDBPyConnection, rulebook: Rulebook) -> bool:
    """Record a rulebook version's content; True if new.

    Raises ConfigError if the version is already registered with different rules: results
    are stored per version, so changed rules need a new ``rulebook_version``.
    """
    digest = rulebook_hash(rulebook)
    row = con.execute("SELECT content_hash, source FROM compliance_rulebooks "
                      "WHERE rulebook_version = ?", [rulebook.rulebook_version]).fetchone()
    if row is not None:
        if row[0] != digest:
            raise ConfigError(
                f"{rulebook.source or '<rulebook>'}: rulebook_version "
                f"{rulebook.rulebook_version!r} was already applied with different rules "
                f"(from {row[1]}). Fix: bump `rulebook_version` at the top of the file, so old "
                "and new results are kept side by side")
        return False
    con.execute("INSERT INTO compliance_rulebooks VALUES (?, ?, ?, ?, ?, ?)",
                [rulebook.rulebook_version, digest, rulebook.source, len(rulebook.rules),
                 rulebook.model_dump_json(), datetime.now(UTC)])
    return True


def _conversation_ids(con: duckdb.DuckDBPyConnection, rulebook_version: str,
                      since: datetime | None, only_unscored: bool) -> list[str]:
    sql = ["SELECT c.conversation_id FROM core_conversations c WHERE 1=1"]
    params: list[Any] = []
    if since is not None:
        sql.append("AND c.started_at >= ?")
        params.append(since)
    if only_unscored:
        # no results under the rulebook last applied to it (none applied yet: this one), so a
        # later rulebook never rewrites history, and a changed re-delivery is scored again
        sql.append("AND NOT EXISTS (SELECT 1 FROM compliance_scores s WHERE "
                   "s.conversation_id = c.conversation_id AND s.rulebook_version = coalesce("
                   "(SELECT a.version FROM applied_versions a WHERE a.conversation_id = "
                   "c.conversation_id AND a.component = 'rulebook'), ?))")
        params.append(rulebook_version)
    sql.append("ORDER BY c.conversation_id")
    return [r[0] for r in con.execute(" ".join(sql), params).fetchall()]


def _read_batch(con: duckdb.DuckDBPyConnection
                ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """conversations, turns, pii_spans of the ids in the registered ``_cb_ids`` relation."""
    conv = _frame(con, "SELECT c.conversation_id, c.channel, c.started_at FROM "
                       "core_conversations c JOIN _cb_ids USING (conversation_id)")
    turns = _frame(con, "SELECT t.conversation_id, t.turn_index, t.speaker, t.text, t.event "
                        "FROM core_turns t JOIN _cb_ids USING (conversation_id) "
                        "ORDER BY t.conversation_id, t.turn_index")
    pii = _frame(con, "SELECT p.conversation_id, p.turn_index, p.pii_type, p.span_start, "
                      "p.span_end FROM pii_spans p JOIN _cb_ids USING (conversation_id)")
    return conv, turns, pii


def apply_rulebook(con: duckdb.DuckDBPyConnection, rulebook: Rulebook,
                   since: date | None = None,
                   embeddings_provider: EmbeddingsProvider | None = None, *,
                   only_unscored: bool = False,
                   batch_conversations: int = DEFAULT_BATCH_CONVERSATIONS,
                   encoder: Any = None) -> dict[str, Any]:
    """Evaluate ``rulebook`` over stored conversations and write its hits and scores.

    ``since``: only conversations with ``started_at >= since`` (UTC midnight of that date).
    ``only_unscored``: only conversations no rulebook was applied to yet (the
    incremental scoring step); otherwise every selected conversation is rewritten (rescore).
    ``embeddings_provider``: hands precomputed turn embeddings to semantic rules.

    Returns counts: rulebook_version, run_id, conversations, turns, hits, red_flags, seconds.
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    version = rulebook.rulebook_version
    since_ts = _since_ts(since)
    counts = {"conversations": 0, "turns": 0, "hits": 0, "red_flags": 0}
    hit_cols = ", ".join(HIT_SCHEMA)
    score_cols = ", ".join(SCORE_SCHEMA)
    run_id = uuid.uuid4().hex[:12]
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error as exc:
        raise StoreError(f"can't start a transaction to write compliance results: {exc}") from exc
    try:
        register_rulebook(con, rulebook)
        ids = _conversation_ids(con, version, since_ts, only_unscored)
        # hits: delete this version's rows of every selected conversation, then insert.
        # scores: every selected conversation gets exactly one new row, so an upsert on the
        # primary key replaces it (delete + re-insert of the same keys in one transaction is
        # several times slower on DuckDB's primary-key index).
        con.register("_cb_all", pl.DataFrame({"conversation_id": ids},
                                              schema={"conversation_id": pl.String}).to_arrow())
        con.execute("DELETE FROM compliance_hits WHERE rulebook_version = ? AND conversation_id "
                    "IN (SELECT conversation_id FROM _cb_all)", [version])
        con.unregister("_cb_all")
        for start in range(0, len(ids), batch_conversations):
            batch = pl.DataFrame({"conversation_id": ids[start:start + batch_conversations]})
            con.register("_cb_ids", batch.to_arrow())
            conv, turns, pii = _read_batch(con)
            emb = embeddings_provider(turns) if embeddings_provider is not None else None
            hits, scores = evaluate_rulebook(rulebook, conv, turns, pii, emb, encoder=encoder)
            con.register("_cb_hits", hits.to_arrow())
            con.execute(f"INSERT INTO compliance_hits ({hit_cols}) SELECT {hit_cols} FROM _cb_hits")
            con.register("_cb_scores", scores.to_arrow())
            con.execute(f"INSERT OR REPLACE INTO compliance_scores ({score_cols}) "
                        f"SELECT {score_cols} FROM _cb_scores")
            con.execute("INSERT OR REPLACE INTO applied_versions SELECT conversation_id, "
                        "'rulebook', ?, now() FROM _cb_ids", [version])
            for name in ("_cb_ids", "_cb_hits", "_cb_scores"):
                con.unregister(name)
            counts["conversations"] += batch.height
            counts["turns"] += turns.height
            counts["hits"] += hits.height
            counts["red_flags"] += int(scores["red_flag"].sum())
        con.execute("INSERT INTO compliance_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, version, since_ts.date() if since_ts else None, started,
                     datetime.now(UTC), counts["conversations"], counts["turns"],
                     counts["hits"], counts["red_flags"]])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"rulebook_version": version, "run_id": run_id, **counts,
            "seconds": round(time.perf_counter() - t0, 3)}


def current_rulebook(con: duckdb.DuckDBPyConnection) -> Rulebook | None:
    """The warehouse's current rulebook (the one last applied), rebuilt from the content
    registered in ``compliance_rulebooks``; None when nothing was applied yet."""
    row = con.execute("SELECT r.rulebook_json, r.source FROM current_versions v "
                      "JOIN compliance_rulebooks r ON r.rulebook_version = v.version "
                      "WHERE v.component = 'rulebook'").fetchone()
    if row is None:
        return None
    book = Rulebook.model_validate_json(row[0])
    return book.model_copy(update={"source": f"{row[1]} (stored in the warehouse)"})


def diff_rulebook_versions(con: duckdb.DuckDBPyConnection, old: str, new: str,
                           since: date | None = None) -> pl.DataFrame:
    """Conversations whose red flag differs between two applied rulebook versions.

    One row per conversation scored under both versions whose ``red_flag`` changed:
    conversation_id, started_at, channel, change (``newly_flagged`` | ``no_longer_flagged``),
    old/new risk_score, and the rule ids hit only under the new / only under the old version.
    Runs inside DuckDB (streaming joins), so history of any size needs little memory.
    """
    known = {r[0] for r in con.execute(
        "SELECT DISTINCT rulebook_version FROM compliance_scores "
        "WHERE rulebook_version IN (?, ?)", [old, new]).fetchall()}
    for v in (old, new):
        if v not in known:
            raise StoreError(f"rulebook_version {v!r} has no stored results; apply it first "
                             "with `tierlens rescore --rules FILE`")
    return _frame(con, """
        WITH o AS (SELECT conversation_id, red_flag, risk_score FROM compliance_scores
                   WHERE rulebook_version = $old),
             n AS (SELECT conversation_id, red_flag, risk_score FROM compliance_scores
                   WHERE rulebook_version = $new),
             ho AS (SELECT conversation_id, list(DISTINCT rule_id ORDER BY rule_id) AS rules
                    FROM compliance_hits WHERE rulebook_version = $old GROUP BY 1),
             hn AS (SELECT conversation_id, list(DISTINCT rule_id ORDER BY rule_id) AS rules
                    FROM compliance_hits WHERE rulebook_version = $new GROUP BY 1)
        SELECT c.conversation_id, c.started_at, c.channel,
               CASE WHEN n.red_flag THEN 'newly_flagged' ELSE 'no_longer_flagged' END AS change,
               o.risk_score AS old_risk_score, n.risk_score AS new_risk_score,
               list_filter(coalesce(hn.rules, []), x -> NOT list_contains(coalesce(ho.rules, []), x))
                   AS rules_only_new,
               list_filter(coalesce(ho.rules, []), x -> NOT list_contains(coalesce(hn.rules, []), x))
                   AS rules_only_old
        FROM o JOIN n USING (conversation_id)
        JOIN core_conversations c USING (conversation_id)
        LEFT JOIN ho USING (conversation_id) LEFT JOIN hn USING (conversation_id)
        WHERE o.red_flag <> n.red_flag AND ($since IS NULL OR c.started_at >= $since)
        ORDER BY change, new_risk_score DESC, c.conversation_id""",
        {"old": old, "new": new, "since": _since_ts(since)})  # type: ignore[arg-type]


__all__ = ["EmbeddingsProvider", "apply_rulebook", "current_rulebook", "diff_rulebook_versions",
           "register_rulebook", "rulebook_hash"]
