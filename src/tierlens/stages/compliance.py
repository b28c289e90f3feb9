"""The compliance stage: read conversations, evaluate the rulebook (pure,
:func:`tierlens.score.compliance.evaluate_rulebook`), write hits and scores.

Writes are keyed on (rulebook_version, conversation_id), all in one transaction per call:
the hits of the selected conversations under this version are deleted then re-inserted, and
their score rows are replaced. Running the same rulebook twice leaves the same rows, a
failure rolls everything back, and other versions' rows are never touched, so old and new
results sit side by side. Conversations are read and evaluated in batches
(``batch_conversations``), so memory stays bounded on millions of turns.
Table grains: ``store/sql/compliance.sql``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from tierlens.errors import ConfigError, StoreError
from tierlens.score.compliance import HIT_SCHEMA, SCORE_SCHEMA, evaluate_rulebook
from tierlens.score.rules import Rulebook, load_rulebook
from tierlens.settings import Settings
from tierlens.store import compliance as repo
from tierlens.store.scores import set_current_version

EmbeddingsProvider = Callable[[pl.DataFrame], tuple[pl.DataFrame, np.ndarray] | None]
"""Given a batch's turns frame, return precomputed (keys, embeddings) or None to encode."""

DEFAULT_BATCH_CONVERSATIONS = 20_000


def rulebook_hash(rulebook: Rulebook) -> str:
    """sha256 of the validated rulebook (comments and formatting don't count)."""
    return hashlib.sha256(rulebook.model_dump_json().encode("utf-8")).hexdigest()


def register_rulebook(con: duckdb.DuckDBPyConnection, rulebook: Rulebook) -> bool:
    """Record a rulebook version's content; True if new.

    Raises ConfigError if the version is already registered with different rules: results
    are stored per version, so changed rules need a new ``rulebook_version``.
    """
    digest = rulebook_hash(rulebook)
    known = repo.registered_rulebook(con, rulebook.rulebook_version)
    if known is not None:
        if known[0] != digest:
            raise ConfigError(
                f"{rulebook.source or '<rulebook>'}: rulebook_version "
                f"{rulebook.rulebook_version!r} was already applied with different rules "
                f"(from {known[1]}). Fix: bump `rulebook_version` at the top of the file, so "
                "old and new results are kept side by side")
        return False
    repo.insert_rulebook(con, rulebook.rulebook_version, digest, rulebook.source,
                         len(rulebook.rules), rulebook.model_dump_json())
    return True


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
    since_ts = repo.since_ts(since)
    counts = {"conversations": 0, "turns": 0, "hits": 0, "red_flags": 0}
    run_id = uuid.uuid4().hex[:12]
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error as exc:
        raise StoreError(f"can't start a transaction to write compliance results: {exc}") from exc
    try:
        register_rulebook(con, rulebook)
        ids = repo.conversations_to_evaluate(con, version, since_ts, only_unscored)
        repo.delete_hits(con, version, ids)
        for start in range(0, len(ids), batch_conversations):
            batch = ids[start:start + batch_conversations]
            conv, turns, pii = repo.read_batch(con, batch)
            emb = embeddings_provider(turns) if embeddings_provider is not None else None
            hits, scores = evaluate_rulebook(rulebook, conv, turns, pii, emb, encoder=encoder)
            repo.write_batch(con, version, batch, hits.select(list(HIT_SCHEMA)),
                             scores.select(list(SCORE_SCHEMA)))
            counts["conversations"] += len(batch)
            counts["turns"] += turns.height
            counts["hits"] += hits.height
            counts["red_flags"] += int(scores["red_flag"].sum())
        repo.record_run(con, run_id, version, since_ts, started, counts)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"rulebook_version": version, "run_id": run_id, **counts,
            "seconds": round(time.perf_counter() - t0, 3)}


def current_rulebook(con: duckdb.DuckDBPyConnection) -> Rulebook | None:
    """The warehouse's current rulebook (the one last applied), rebuilt from the content
    registered in ``compliance_rulebooks``; None when nothing was applied yet."""
    found = repo.current_rulebook_json(con)
    if found is None:
        return None
    book = Rulebook.model_validate_json(found[0])
    return book.model_copy(update={"source": f"{found[1]} (stored in the warehouse)"})


def choose_rulebook(con: duckdb.DuckDBPyConnection, settings: Settings,
                    rules: Path | None = None) -> Rulebook:
    """``rules``, else the setting ``rulebook_path``, else the warehouse's current rulebook
    (the one last chosen, stored in the warehouse), else the bundled one."""
    explicit = rules or settings.rulebook_path
    if explicit is not None:
        return load_rulebook(explicit)
    return current_rulebook(con) or load_rulebook(None)


def run(con: duckdb.DuckDBPyConnection, settings: Settings, encoder: Any,
        rules: Path | None = None, since: date | None = None,
        rescore: bool = False) -> dict[str, Any]:
    """The stage: apply the chosen rulebook (one transaction) and make its version current.
    ``encoder``: the run's encoder; its text-hash cache makes semantic rules a lookup of the
    embeddings the model-score stage computed, not a second forward pass."""
    from tierlens.score.turns import encode_turns

    rulebook = choose_rulebook(con, settings, rules)
    result = apply_rulebook(con, rulebook, since=since, only_unscored=not rescore,
                            embeddings_provider=lambda turns: encode_turns(turns, encoder),
                            encoder=encoder)
    set_current_version(con, "rulebook", rulebook.rulebook_version)
    return result


__all__ = ["EmbeddingsProvider", "apply_rulebook", "choose_rulebook", "current_rulebook",
           "register_rulebook", "rulebook_hash", "run"]
