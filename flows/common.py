"""What the flows share: settings resolution, the warehouse connection, the ledger around a
run, and the scoring steps as Prefect tasks (scoring maps over batches on the task runner).

Single writer: only the flow process touches DuckDB. Mapped scoring tasks receive turn
frames and return score frames; the flow writes each batch in its own transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from prefect import get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from flows.params import ScoringParams, WarehouseParams
from tierlens import jobs
from tierlens.orchestrate import alerts as alerts_mod
from tierlens.orchestrate import ledger
from tierlens.settings import Settings, get_settings
from tierlens.store.db import connect

ORCH = get_settings().orchestration
IO = {"retries": ORCH.task_retries,
      "retry_delay_seconds": exponential_backoff(ORCH.retry_backoff_s)(ORCH.task_retries),
      "cache_policy": NO_CACHE, "persist_result": False}
PURE = {"cache_policy": NO_CACHE, "persist_result": False}


def resolve_settings(params: WarehouseParams, **extra: Any) -> Settings:
    """The process settings for the parameters' warehouse (serving dir and review store
    derived next to it unless set; see Settings.for_warehouse), with the paths the
    parameters override."""
    update = {k: v for k, v in {"serving_dir": params.serving_dir, **extra}.items()
              if v is not None}
    return get_settings().for_warehouse(params.warehouse).model_copy(update=update)


def logger():
    try:
        return get_run_logger()
    except Exception:  # noqa: BLE001
        import logging

        return logging.getLogger("tierlens.flows")


def run_identity(flow_name: str) -> tuple[str, str | None]:
    from prefect.runtime import deployment, flow_run

    rid = flow_run.id
    return (str(rid) if rid else f"local-{uuid.uuid4().hex[:12]}"), deployment.name


@contextmanager
def ledgered_run(flow_name: str, params: WarehouseParams, settings: Settings
                 ) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, ledger.RunCounts]]:
    """Open the warehouse (single writer), record the run's start, yield (con, run_id,
    counts), and record its outcome: ``succeeded``, ``partial`` (counts.extra['partial']),
    or ``failed`` with the error (re-raised)."""
    run_id, deployment = run_identity(flow_name)
    con = connect(settings.warehouse)
    counts = ledger.RunCounts()
    try:
        ledger.start_run(con, run_id, flow_name, params.model_dump(mode="json"), deployment)
        try:
            yield con, run_id, counts
        except BaseException as exc:
            ledger.finish_run(con, run_id, "failed", counts, f"{type(exc).__name__}: {exc}")
            raise
        outcome = "partial" if counts.extra.get("partial") else "succeeded"
        ledger.finish_run(con, run_id, outcome, counts, counts.extra.get("partial"))
    finally:
        con.close()


# --- tasks -----------------------------------------------------------------------------------

@task(name="list-inbox", **IO)
def list_inbox(inbox: Path) -> list[Path]:
    """Files under the inbox, in a stable order (unlistable entries are passed on too, so
    ingest records them in quarantine)."""
    from tierlens.ingest.pipeline import expand_paths

    return [p for p, _ in expand_paths([inbox])]


@task(name="ingest-file", **IO)
def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings,
                run_id: str) -> dict[str, int]:
    """Ingest one file (incremental, idempotent; see tierlens.ingest.pipeline)."""
    from tierlens.ingest.pipeline import ingest_paths

    report = ingest_paths(con, [path], settings, run_id=run_id)
    if not report.reconciles():
        raise AssertionError(f"{path}: counts don't reconcile: {report.counts()}")
    return report.counts()


@task(name="select-for-scoring", **IO)
def select_for_scoring(con: duckdb.DuckDBPyConnection, settings: Settings, since: Any,
                       only_unscored: bool, intent: Any = None) -> tuple[str, list[str]]:
    version = jobs.current_model_version(settings, intent)
    return version, jobs.select_for_scoring(con, version, since, only_unscored)


@task(name="score-batch", **PURE)
def score_batch(turns: pl.DataFrame, settings: Settings, intent: Any = None
                ) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    """Pure: turn frame -> (model_version, turn scores, conversation scores). Mapped on the
    task runner: threads of the flow process, or Dask workers. ``intent``: the warehouse's
    own intent head (None: the default), shipped with the task."""
    return jobs.compute_model_scores(turns, settings, intent)


@task(name="apply-compliance", **IO)
def apply_compliance(con: duckdb.DuckDBPyConnection, settings: Settings, rules: Path | None,
                     since: Any, rescore: bool) -> dict[str, Any]:
    return jobs.apply_compliance(con, settings, rules, since=since, rescore=rescore)


@task(name="derive-outcomes", **IO)
def derive_outcomes(con: duckdb.DuckDBPyConnection, settings: Settings,
                    model_version: str, refit_topics: bool = False) -> dict[str, Any]:
    return jobs.derive(con, settings, model_version, refit_topics=refit_topics)


@task(name="publish-snapshot", **IO)
def publish_snapshot(con: duckdb.DuckDBPyConnection, serving_dir: Path,
                     reviews_path: Path) -> str:
    return jobs.publish_snapshot(con, serving_dir, reviews_path)


@task(name="check-alerts", **IO)
def check_alerts(con: duckdb.DuckDBPyConnection, run_id: str, params: WarehouseParams,
                 counts: ledger.RunCounts) -> int:
    """Monthly KPI alerts and this run's quarantine alert -> ``alerts`` rows (+ notify)."""
    frames = [alerts_mod.quarantine_alert(run_id, counts.read, counts.quarantined,
                                          params.alerts)]
    if con.execute("SELECT count(*) FROM kpi_monthly_all").fetchone()[0]:  # type: ignore[index]
        frames.append(alerts_mod.monthly_alerts(alerts_mod.current_kpis(con), params.alerts))
    found = pl.concat(frames)
    notified = bool(params.notification_block) and alerts_mod.notify(
        params.notification_block or "", found)
    new = alerts_mod.store_alerts(con, run_id, found, notified=notified)
    for msg in new.get_column("message").to_list():
        logger().warning("ALERT %s", msg)
    return new.height


# --- steps -----------------------------------------------------------------------------------

def current_model(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT version FROM current_versions WHERE component = 'model'"
                      ).fetchone()
    return row[0] if row else None


def score_all(con: duckdb.DuckDBPyConnection, settings: Settings, params: ScoringParams,
              counts: ledger.RunCounts, *, since: Any = None, rescore: bool = False,
              rules: Path | None = None) -> None:
    """Models (mapped over batches), compliance, derive, publish; fills ``counts``."""
    log = logger()
    intent = jobs.intent_head(con)  # the warehouse's active taxonomy (None: default)
    version, ids = select_for_scoring(con, settings, since, not rescore, intent)
    batches = jobs.chunks(ids, params.score_batch_size)
    log.info("scoring %d conversation(s) in %d batch(es) [model %s]", len(ids), len(batches),
             version)
    done = 0
    for w in range(0, len(batches), params.max_in_flight):
        group = batches[w:w + params.max_in_flight]
        frames = [jobs.read_turns(con, b) for b in group]
        futures = score_batch.map(frames, unmapped(settings), unmapped(intent))
        for batch, fut in zip(group, futures, strict=True):
            v, ts, cs = fut.result()
            jobs.write_model_scores(con, batch, v, ts, cs)
            done += 1
            counts.scored += len(batch)
            log.info("scored batch %d/%d (%d conversations) written", done, len(batches),
                     len(batch))
    jobs.set_model_version(con, version)
    counts.model_version = version
    comp = apply_compliance(con, settings, rules, since, rescore)
    counts.rulebook_version = comp["rulebook_version"]
    counts.flagged = int(comp["red_flags"])
    log.info("compliance: %d conversation(s), %d hit(s), %d red flag(s)",
             comp["conversations"], comp["hits"], comp["red_flags"])
    derived = derive_outcomes(con, settings, version)
    log.info("derived outcomes for %d conversation(s)", derived["conversations"])


def finish(con: duckdb.DuckDBPyConnection, run_id: str, settings: Settings,
           params: WarehouseParams, counts: ledger.RunCounts) -> None:
    """Alerts, the run's ledger row, then the snapshot (so the dashboard sees this run's
    alerts and its outcome, not ``running``; the duration shown excludes the publish itself,
    and ``ledgered_run`` rewrites the row at the very end, as ``failed`` if publishing fails)."""
    counts.alerts = check_alerts(con, run_id, params, counts)
    partial = counts.extra.get("partial")
    ledger.finish_run(con, run_id, "partial" if partial else "succeeded", counts, partial)
    if params.publish:
        snap = publish_snapshot(con, settings.serving_dir, settings.review_store)
        logger().info("published %s", snap)


def elapsed(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f}s"
