"""High-level jobs: what the CLI commands and the Prefect flows call.

Each job opens the warehouse as the single writer, does its work through the library,
and closes it. Nothing here parses arguments or prints: the CLI and flows do that.

``score`` is a chain of smaller steps the flows run as separate tasks:

1. :func:`select_for_scoring` -> conversation ids, cut into batches;
2. per batch: :func:`read_turns` (I/O) -> :func:`compute_model_scores` (pure: encoder and
   heads; this is what a Dask worker runs) -> :func:`write_model_scores` (delete-then-insert
   of the batch in one transaction);
3. :func:`apply_compliance` (one transaction), :func:`derive` (one transaction),
   :func:`publish_snapshot` (atomic file swap).

Every step is idempotent, so a run killed anywhere is finished by running it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tierlens.ingest.pipeline import IngestReport, ingest_paths
from tierlens.score.heads import Head
from tierlens.settings import Settings, get_settings
from tierlens.store.db import connect

SCORE_CHUNK = 5_000  # conversations per scoring transaction (and per Dask task)


def ingest(paths: list[Path], db: Path | None = None, settings: Settings | None = None,
           run_id: str | None = None) -> IngestReport:
    settings = (settings or get_settings()).for_warehouse(db)
    con = connect(settings.warehouse)
    try:
        return ingest_paths(con, paths, settings, run_id=run_id)
    finally:
        con.close()


def _set_version(con: duckdb.DuckDBPyConnection, component: str, version: str) -> None:
    con.execute("INSERT OR REPLACE INTO current_versions VALUES (?, ?, now())",
                [component, version])


def current_model_version(settings: Settings, intent: Head | None = None) -> str:
    """The model_version the encoder and heads of ``settings`` produce, with ``intent`` (a
    warehouse's own taxonomy, :func:`intent_head`) in place of the default intent head."""
    from tierlens.score.encoder import get_encoder
    from tierlens.score.turns import model_version

    return model_version(get_encoder(settings), _heads(settings, intent))


def intent_head(con: duckdb.DuckDBPyConnection) -> Head | None:
    """The warehouse's active intent taxonomy (None: the bundled default)."""
    from tierlens.store.intents import active_intent_head

    return active_intent_head(con)


def _heads(settings: Settings, intent: Head | None = None) -> dict[str, Any]:
    """The heads of ``settings`` (each file loaded once per process), with ``intent`` as the
    intent head."""
    from tierlens.score.heads import default_heads_dir
    from tierlens.score.turns import load_heads

    heads = load_heads(default_heads_dir(settings))
    return heads if intent is None else {**heads, "intent": intent}


def select_for_scoring(con: duckdb.DuckDBPyConnection, version: str,
                       since: date | datetime | None = None,
                       only_unscored: bool = True) -> list[str]:
    """Conversation ids to score, sorted: those without scores under ``version`` or whose
    last applied model version is another one (or all selected by ``since`` when
    ``only_unscored`` is false). A changed re-delivery lost its scores, so it is selected."""
    where = ["1=1"]
    params: list[Any] = []
    if only_unscored:
        where.append("(NOT EXISTS (SELECT 1 FROM model_conversation_scores m WHERE "
                     "m.conversation_id = c.conversation_id AND m.model_version = ?) "
                     "OR EXISTS (SELECT 1 FROM applied_versions a WHERE a.conversation_id = "
                     "c.conversation_id AND a.component = 'model' AND a.version <> ?))")
        params += [version, version]
    if since is not None:
        where.append("c.started_at >= ?")
        params.append(since)
    return [r[0] for r in con.execute(
        f"SELECT conversation_id FROM core_conversations c WHERE {' AND '.join(where)} "
        "ORDER BY conversation_id", params).fetchall()]


def chunks(ids: list[str], size: int = SCORE_CHUNK) -> list[list[str]]:
    """``ids`` cut into consecutive batches of at most ``size``."""
    return [ids[i:i + size] for i in range(0, len(ids), max(1, size))]


def read_turns(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Core turns of ``ids`` (one row per turn, ordered by conversation and turn)."""
    con.register("_chunk", pl.DataFrame({"conversation_id": ids},
                                        schema={"conversation_id": pl.String}).to_arrow())
    try:
        out = pl.from_arrow(con.execute(
            "SELECT t.* FROM core_turns t JOIN _chunk USING (conversation_id) "
            "ORDER BY conversation_id, turn_index").arrow())
    finally:
        con.unregister("_chunk")
    assert isinstance(out, pl.DataFrame)
    return out


def compute_model_scores(turns: pl.DataFrame, settings: Settings,
                         intent: Head | None = None) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    """Pure scoring of one batch: (model_version, turn scores, conversation scores).

    Grain: turn scores one row per scored turn; conversation scores one row per conversation.
    Touches no database, so it runs anywhere: in the flow process or on a Dask worker (the
    encoder and heads are loaded once per process; ``intent``, a warehouse's own taxonomy,
    travels with the call).
    """
    from tierlens.score.conversation import score_conversations
    from tierlens.score.encoder import get_encoder
    from tierlens.score.heads import default_heads_dir
    from tierlens.score.turns import (
        TURN_SCORE_COLUMNS,
        encode_turns,
        model_version,
        score_embeddings,
    )

    enc = get_encoder(settings)
    heads = _heads(settings, intent)
    version = model_version(enc, heads)
    keys, emb = encode_turns(turns, enc)
    ts = score_embeddings(keys, emb, heads, version)
    cs = score_conversations(turns, ts, default_heads_dir(settings))
    return version, ts.select(TURN_SCORE_COLUMNS), cs


def write_model_scores(con: duckdb.DuckDBPyConnection, ids: list[str], version: str,
                       turn_scores: pl.DataFrame, conversation_scores: pl.DataFrame) -> None:
    """Replace one batch's rows under ``version`` (delete-then-insert, one transaction)."""
    from tierlens.store.db import transaction
    from tierlens.store.writes import append

    con.register("_chunk", pl.DataFrame({"conversation_id": ids},
                                        schema={"conversation_id": pl.String}).to_arrow())
    try:
        with transaction(con):
            for table in ("turn_scores", "model_conversation_scores"):
                con.execute(f"DELETE FROM {table} WHERE model_version = ? AND conversation_id "
                            "IN (SELECT conversation_id FROM _chunk)", [version])
            append(con, "turn_scores", turn_scores)
            append(con, "model_conversation_scores", conversation_scores)
            con.execute("INSERT OR REPLACE INTO applied_versions SELECT conversation_id, "
                        "'model', ?, now() FROM _chunk", [version])
    finally:
        con.unregister("_chunk")


def score_models(con: duckdb.DuckDBPyConnection, settings: Settings, since=None,
                 only_unscored: bool = True, batch_size: int = SCORE_CHUNK,
                 progress: Callable[[int, int], None] | None = None) -> dict:
    """Model heads over turns and conversations; writes turn_scores and
    model_conversation_scores under the current model_version (delete-then-insert per batch).
    ``progress(done, total)`` is called after each committed batch."""
    intent = intent_head(con)
    version = current_model_version(settings, intent)
    ids = select_for_scoring(con, version, since, only_unscored)
    batches = chunks(ids, batch_size)
    turns_scored = 0
    for i, batch in enumerate(batches):
        v, ts, cs = compute_model_scores(read_turns(con, batch), settings, intent)
        write_model_scores(con, batch, v, ts, cs)
        turns_scored += ts.height
        if progress is not None:
            progress(i + 1, len(batches))
    _set_version(con, "model", version)
    return {"model_version": version, "conversations": len(ids), "turns": turns_scored}


def set_model_version(con: duckdb.DuckDBPyConnection, version: str) -> None:
    """Make ``version`` the model version the views show."""
    _set_version(con, "model", version)


def apply_compliance(con: duckdb.DuckDBPyConnection, settings: Settings,
                     rules: Path | None = None, since=None, rescore: bool = False) -> dict:
    """Apply the rulebook (one transaction) and make its version current.

    Which rulebook: ``rules``, else the setting ``rulebook_path``, else the warehouse's
    current rulebook (the one last chosen, stored in the warehouse), else the bundled one.
    """
    from tierlens.score.encoder import get_encoder
    from tierlens.score.rules import load_rulebook
    from tierlens.score.turns import encode_turns
    from tierlens.store.compliance import apply_rulebook, current_rulebook

    explicit = rules or settings.rulebook_path
    rulebook = (load_rulebook(explicit) if explicit is not None
                else current_rulebook(con) or load_rulebook(None))
    enc = get_encoder(settings)
    result = apply_rulebook(
        con, rulebook, since=since, only_unscored=not rescore,
        # the encoder's text-hash cache makes this a lookup, not a second forward pass
        embeddings_provider=lambda turns: encode_turns(turns, enc), encoder=enc)
    _set_version(con, "rulebook", rulebook.rulebook_version)
    return result


def derive(con: duckdb.DuckDBPyConnection, settings: Settings, model_version: str,
           refit_topics: bool = False) -> dict:
    """Outcomes, repeat contact, containment, FCR and KPIs for ``model_version``; then the
    topics (assigned to the current ones; rediscovered when ``refit_topics`` or none yet)."""
    from tierlens.store.outcomes import derive_outcomes
    from tierlens.topics.stage import refresh_topics

    out = derive_outcomes(con, model_version, settings)  # reads reviewers' labels itself
    out["topics"] = refresh_topics(con, settings, model_version, refit=refit_topics)
    return out


def publish_snapshot(con: duckdb.DuckDBPyConnection, serving_dir: Path,
                     reviews_path: Path | None = None) -> str:
    """Mirror the review store ``reviews_path`` (default: the settings') and atomically swap
    in a fresh serving snapshot under ``serving_dir``; returns its path."""
    from tierlens.store.publish import publish

    return str(publish(con, serving_dir, reviews_path))


def score(db: Path | None = None, settings: Settings | None = None, rules: Path | None = None,
          since=None, rescore: bool = False, publish_to: Path | None = None,
          batch_size: int = SCORE_CHUNK) -> dict:
    """Score (models + compliance), derive outcomes and KPIs, and publish the snapshot.

    Incremental by default: the model heads score conversations whose last applied model
    version isn't the current one; the warehouse's current rulebook (see
    :func:`apply_compliance`) is applied to conversations no rulebook was applied to yet.
    ``rescore`` re-applies both to everything selected by ``since`` (as the same versions:
    rows are replaced, other versions untouched). Paths follow ``db``
    (:meth:`Settings.for_warehouse`).
    """
    settings = (settings or get_settings()).for_warehouse(db)
    con = connect(settings.warehouse)
    try:
        models = score_models(con, settings, since=since, only_unscored=not rescore,
                              batch_size=batch_size)
        compliance = apply_compliance(con, settings, rules, since=since, rescore=rescore)
        derived = derive(con, settings, models["model_version"])
        snapshot = publish_snapshot(con, publish_to or settings.serving_dir,
                                    settings.review_store)
    finally:
        con.close()
    return {"models": models, "compliance": compliance, "derived": derived,
            "snapshot": snapshot}
