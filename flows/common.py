"""What the flows add to :mod:`tierlens.pipeline`: settings resolution per run, the Prefect
run identity, and the Prefect side of each step (a task with retries; scoring batches
mapped on the task runner: threads of the flow process, or Dask workers).

Single writer: only the flow process touches DuckDB. Mapped scoring tasks receive turn
frames and return score frames; the pipeline writes each batch in its own transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from prefect import get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from flows.params import WarehouseParams
from tierlens import pipeline
from tierlens.orchestrate.config import OrchestrationSettings
from tierlens.score.batch import score_batch as _score_batch
from tierlens.score.heads import Head
from tierlens.settings import Settings

PURE = {"cache_policy": NO_CACHE, "persist_result": False}


def io_options(orch: OrchestrationSettings) -> dict[str, Any]:
    """Prefect task options of an I/O step: retries with exponential backoff, no caching."""
    return {"retries": orch.task_retries,
            "retry_delay_seconds": exponential_backoff(orch.retry_backoff_s)(orch.task_retries),
            **PURE}


def logger():
    try:
        return get_run_logger()
    except Exception:  # noqa: BLE001
        import logging

        return logging.getLogger("tierlens.flows")


def run_identity() -> tuple[str, str | None]:
    """(run id, deployment name) of the Prefect flow run; a local id outside one."""
    from prefect.runtime import deployment, flow_run

    rid = flow_run.id
    return (str(rid) if rid else f"local-{uuid.uuid4().hex[:12]}"), deployment.name


@task(name="score-batch", **PURE)
def score_batch(turns: pl.DataFrame, settings: Settings, intent: Any = None
                ) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    """Pure: turn frame -> (model_version, turn scores, conversation scores). Mapped on the
    task runner: threads of the flow process, or Dask workers. ``intent``: the warehouse's
    own intent head (None: the default), shipped with the task."""
    return _score_batch(turns, settings, intent)


def map_batches(frames: list[pl.DataFrame], settings: Settings, intent: Head | None
                ) -> Iterable[tuple[str, pl.DataFrame, pl.DataFrame]]:
    """The batches' ``score-batch`` tasks, submitted at once; results in order."""
    futures = score_batch.map(frames, unmapped(settings), unmapped(intent))
    return (f.result() for f in futures)


def prefect_hooks(settings: Settings, per_file: bool = False) -> pipeline.Hooks:
    """The pipeline's hooks in a flow: I/O steps as Prefect tasks with the settings'
    retries, scoring mapped on the task runner, the run logger."""
    opts = io_options(settings.orchestration)

    def step(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        return task(fn, name=name, **opts)

    return pipeline.Hooks(step=step, map_batches=map_batches, per_file=per_file, log=logger())


@contextmanager
def ledgered_run(flow_name: str, params: WarehouseParams, settings: Settings,
                 per_file: bool = False) -> Iterator[pipeline.Run]:
    """:func:`tierlens.pipeline.ledgered_run` under the Prefect run's id and deployment."""
    run_id, deployment = run_identity()
    with pipeline.ledgered_run(flow_name, settings, params.model_dump(mode="json"),
                               hooks=prefect_hooks(settings, per_file), run_id=run_id,
                               deployment=deployment) as run:
        yield run


def finish(run: pipeline.Run, params: WarehouseParams) -> str | None:
    """Alerts, the ledger row, then the snapshot (``params.publish``)."""
    return pipeline.finish(run, publish_snapshot=params.publish)


def elapsed(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f}s"
