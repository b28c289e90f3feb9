"""The model-score stage: select conversations, read their turns, score each batch (pure,
:func:`tierlens.score.batch.score_batch`), write the batch (delete-then-insert of its rows
under the model_version, one transaction per batch), then make the version current.

How batches are computed is the caller's: a plain loop (``map_batches`` None), or the
orchestrator's mapping (Prefect tasks on threads or Dask workers). Every batch is committed
on its own, so a run killed anywhere is finished by running it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from tierlens.score.batch import model_version_of, score_batch
from tierlens.score.heads import Head
from tierlens.settings import Settings
from tierlens.store import scores as repo

BatchResult = tuple[str, pl.DataFrame, pl.DataFrame]
MapBatches = Callable[[list[pl.DataFrame], Settings, Head | None], Iterable[BatchResult]]
"""(turn frames, settings, intent head) -> each frame's :func:`score_batch` result, in order."""


def plain_map(frames: list[pl.DataFrame], settings: Settings, intent: Head | None
              ) -> Iterable[BatchResult]:
    """Score the batches one after the other in this process."""
    return (score_batch(f, settings, intent) for f in frames)


def intent_head(con: duckdb.DuckDBPyConnection) -> Head | None:
    """The warehouse's active intent taxonomy (None: the bundled default)."""
    from tierlens.score.heads import head_from_bytes
    from tierlens.store.intents import active_intent_files

    found = active_intent_files(con)
    if found is None:
        return None
    name, head_json, npz = found
    return head_from_bytes(name, head_json, npz, f"the warehouse's intent_taxonomies ({name})")


def chunks(ids: list[str], size: int) -> list[list[str]]:
    """``ids`` cut into consecutive batches of at most ``size``."""
    return [ids[i:i + size] for i in range(0, len(ids), max(1, size))]


def plan(con: duckdb.DuckDBPyConnection, settings: Settings,
         since: date | datetime | None = None, only_unscored: bool = True
         ) -> tuple[str, Head | None, list[str]]:
    """(model_version, intent head, conversation ids to score) for this warehouse."""
    intent = intent_head(con)
    version = model_version_of(settings, intent)
    return version, intent, repo.select_for_scoring(con, version, since, only_unscored)


def score_batches(con: duckdb.DuckDBPyConnection, settings: Settings, version: str,
                  intent: Head | None, ids: list[str], map_batches: MapBatches | None = None,
                  progress: Callable[[int, int, int], None] | None = None) -> int:
    """Score ``ids`` in batches of ``settings.orchestration.score_batch_size``, at most
    ``max_in_flight`` batches read ahead and computed at once, and write each batch in its own
    transaction; then make ``version`` current. Returns the turns scored.
    ``progress(done, total, batch_size)`` is called after each committed batch."""
    orch = settings.orchestration
    batches = chunks(ids, orch.score_batch_size)
    mapper = map_batches or plain_map
    turns_scored = done = 0
    for w in range(0, len(batches), orch.max_in_flight):
        group = batches[w:w + orch.max_in_flight]
        frames = [repo.read_turns(con, b) for b in group]
        for batch, (v, ts, cs) in zip(group, mapper(frames, settings, intent),
                                      strict=True):
            repo.replace_model_scores(con, batch, v, ts, cs)
            turns_scored += ts.height
            done += 1
            if progress is not None:
                progress(done, len(batches), len(batch))
    repo.set_current_version(con, "model", version)
    return turns_scored


def run(con: duckdb.DuckDBPyConnection, settings: Settings,
        since: date | datetime | None = None, only_unscored: bool = True,
        map_batches: MapBatches | None = None) -> dict[str, Any]:
    """The whole stage: plan, then score every batch; returns model_version, conversations,
    turns."""
    version, intent, ids = plan(con, settings, since, only_unscored)
    turns = score_batches(con, settings, version, intent, ids, map_batches)
    return {"model_version": version, "conversations": len(ids), "turns": turns}
