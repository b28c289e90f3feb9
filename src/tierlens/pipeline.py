"""The pipeline: ingest -> model scores -> compliance -> derive -> topics -> alerts ->
publish, in one place, for the CLI (``tierlens ingest``, ``run``, ``score``, ``rescore``,
``demo``) and the Prefect flows alike.

Every run is ledgered (one ``flow_runs`` row: :mod:`tierlens.orchestrate.ledger`) and checks
the alerts (:mod:`tierlens.orchestrate.alerts`). What an orchestrator adds goes in
:class:`Hooks`: the flows wrap each I/O step as a Prefect task with retries
(``Hooks.step``), map the model-score batches on their task runner
(``Hooks.map_batches``: threads or Dask workers) and ingest file by file
(``Hooks.per_file``); the CLI uses the defaults, a plain loop in this process.

Single writer: only the process running the pipeline touches DuckDB; mapped scoring receives
turn frames and returns score frames, and every batch is written in its own transaction.
Every step is idempotent, so a run killed anywhere is finished by running it again.
The settings come in explicitly: nothing here reads the environment.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from tierlens.ingest.pipeline import IngestReport, expand_paths
from tierlens.orchestrate import alerts as alert_checks
from tierlens.orchestrate import ledger
from tierlens.orchestrate.config import AlertThresholds
from tierlens.settings import Settings
from tierlens.stages import compliance, derive, model_scores, publish, topics
from tierlens.stages import ingest as ingest_stage
from tierlens.store.alerts import current_kpis, store_alerts
from tierlens.store.db import connect
from tierlens.store.scores import current_version

Step = Callable[[str, Callable[..., Any]], Callable[..., Any]]
_LOG = logging.getLogger("tierlens.pipeline")
_LOG.addHandler(logging.NullHandler())  # a library: the caller decides where logs go


def _direct(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


@dataclass
class Hooks:
    """What an orchestrator adds around the stages; the defaults are the CLI's."""

    step: Step = _direct  # wraps an I/O step (flows: a Prefect task with retries)
    map_batches: model_scores.MapBatches | None = None  # None: a plain loop
    per_file: bool = False  # one ingest step per file; a failing file doesn't stop the run
    log: Any = _LOG
    notify: Callable[[str, Any], bool] | None = None  # sends alerts (flows: Prefect block)


@dataclass
class Run:
    """One ledgered run: the warehouse connection (single writer), its id and its counts."""

    con: duckdb.DuckDBPyConnection
    run_id: str
    counts: ledger.RunCounts
    settings: Settings
    hooks: Hooks
    encoder: Any = None

    def shared_encoder(self) -> Any:
        """The run's encoder (loaded once): compliance, derive and topics share its cache."""
        if self.encoder is None:
            from tierlens.score.encoder import get_encoder

            self.encoder = get_encoder(self.settings)
        return self.encoder


@contextmanager
def ledgered_run(flow_name: str, settings: Settings, parameters: dict[str, Any], *,
                 hooks: Hooks | None = None, run_id: str | None = None,
                 deployment: str | None = None) -> Iterator[Run]:
    """Open the warehouse (single writer), record the run's start, yield the :class:`Run`,
    and record its outcome: ``succeeded``, ``partial`` (counts.extra['partial']), or
    ``failed`` with the error (re-raised)."""
    run_id = run_id or f"{flow_name}-{uuid.uuid4().hex[:12]}"
    con = connect(settings.warehouse)
    counts = ledger.RunCounts()
    try:
        ledger.start_run(con, run_id, flow_name, parameters, deployment)
        try:
            yield Run(con, run_id, counts, settings, hooks or Hooks())
        except BaseException as exc:
            ledger.finish_run(con, run_id, "failed", counts, f"{type(exc).__name__}: {exc}")
            raise
        partial = counts.extra.get("partial")
        ledger.finish_run(con, run_id, "partial" if partial else "succeeded", counts, partial)
    finally:
        con.close()


def _mark_partial(run: Run, why: str) -> None:
    prev = run.counts.extra.get("partial")
    run.counts.extra["partial"] = f"{prev}; {why}" if prev else why


def ingest(run: Run, paths: list[Path]) -> IngestReport:
    """Ingest ``paths`` (files or folders) into the warehouse and fold the counts into the
    run's. Per file (``hooks.per_file``): a file whose step fails after its retries is
    recorded (the run ends ``partial``) and never blocks the rest."""
    if not run.hooks.per_file:
        report = run.hooks.step("ingest", ingest_stage.ingest_paths)(
            run.con, paths, run.settings)
        run.counts.add_ingest(report.counts())
        return report
    log = run.hooks.log
    files = run.hooks.step("list-inbox", _list_files)(paths)
    total = IngestReport(run_id=run.run_id)
    failed: list[str] = []
    for i, path in enumerate(files):
        try:
            rep = run.hooks.step("ingest-file", _ingest_file)(
                run.con, path, run.settings, f"{run.run_id}-f{i:04d}")
        except Exception as exc:  # noqa: BLE001 - one bad file never blocks the inbox
            failed.append(f"{path.name}: {type(exc).__name__}: {exc}"[:300])
            run.counts.files_failed += 1
            total.problems.append((str(path), f"{type(exc).__name__}: {exc}"))
            log.error("ingest of %s failed after retries: %s", path, exc)
            continue
        c = rep.counts()
        run.counts.add_ingest(c)
        for k, v in c.items():
            setattr(total, k, getattr(total, k) + v)
        total.problems.extend(rep.problems)
        log.info("ingested file %d/%d %s: read %d, stored %d, updated %d, unchanged %d, "
                 "quarantined %d", i + 1, len(files), path.name, c["read"], c["stored"],
                 c["updated"], c["unchanged"], c["quarantined"])
    if failed:
        _mark_partial(run, "files failed: " + "; ".join(failed))
    return total


def _list_files(paths: list[Path]) -> list[Path]:
    """Files under ``paths``, in a stable order (unlistable entries are passed on too, so
    ingest records them in quarantine)."""
    return [p for p, _ in expand_paths(paths)]


def _ingest_file(con: duckdb.DuckDBPyConnection, path: Path, settings: Settings,
                 run_id: str) -> IngestReport:
    report = ingest_stage.ingest_paths(con, [path], settings, run_id=run_id)
    if not report.reconciles():
        raise AssertionError(f"{path}: counts don't reconcile: {report.counts()}")
    return report


def score_models(run: Run, since: date | datetime | None = None,
                 rescore: bool = False) -> dict[str, Any]:
    """The model-score stage, batches mapped by ``hooks.map_batches``."""
    log = run.hooks.log
    version, intent, ids = run.hooks.step("select-for-scoring", model_scores.plan)(
        run.con, run.settings, since, not rescore)
    n_batches = len(model_scores.chunks(ids, run.settings.orchestration.score_batch_size))
    log.info("scoring %d conversation(s) in %d batch(es) [model %s]", len(ids), n_batches,
             version)

    def progress(done: int, total: int, size: int) -> None:
        run.counts.scored += size
        log.info("scored batch %d/%d (%d conversations) written", done, total, size)

    turns = model_scores.score_batches(run.con, run.settings, version, intent, ids,
                                       run.hooks.map_batches, progress)
    run.counts.model_version = version
    return {"model_version": version, "conversations": len(ids), "turns": turns}


def apply_compliance(run: Run, rules: Path | None = None,
                     since: date | datetime | None = None,
                     rescore: bool = False) -> dict[str, Any]:
    comp = run.hooks.step("apply-compliance", compliance.run)(
        run.con, run.settings, run.shared_encoder(), rules, since, rescore)
    run.counts.rulebook_version = comp["rulebook_version"]
    run.counts.flagged = int(comp["red_flags"])
    run.hooks.log.info("compliance: %d conversation(s), %d hit(s), %d red flag(s)",
                       comp["conversations"], comp["hits"], comp["red_flags"])
    return comp


def derive_outcomes(run: Run, model_version: str, refit_topics: bool = False
                    ) -> dict[str, Any]:
    """Outcomes, repeat contact, containment, FCR and KPIs for ``model_version`` (the
    semantic restatement check with the run's encoder); then the topics (assigned to the
    current ones; rediscovered when ``refit_topics`` or none yet)."""
    enc = run.shared_encoder()
    out = run.hooks.step("derive-outcomes", derive.derive_outcomes)(
        run.con, model_version, run.settings, None, enc)
    out["topics"] = run.hooks.step("refresh-topics", topics.refresh_topics)(
        run.con, run.settings, model_version, refit_topics, enc)
    run.counts.model_version = model_version
    run.counts.rulebook_version = out.get("rulebook_version") or run.counts.rulebook_version
    run.hooks.log.info("derived outcomes for %d conversation(s)", out["conversations"])
    return out


def score(run: Run, since: date | datetime | None = None, rescore: bool = False,
          rules: Path | None = None) -> dict[str, Any]:
    """Models, compliance, derive (and topics). Incremental by default: the model heads score
    conversations whose last applied model version isn't the current one; the warehouse's
    current rulebook is applied to conversations no rulebook was applied to yet. ``rescore``
    re-applies both to everything selected by ``since`` (as the same versions: rows are
    replaced, other versions untouched)."""
    models = score_models(run, since, rescore)
    comp = apply_compliance(run, rules, since, rescore)
    derived = derive_outcomes(run, models["model_version"])
    return {"models": models, "compliance": comp, "derived": derived}


def check_alerts(run: Run, thresholds: AlertThresholds,
                 notification_block: str | None = None) -> int:
    """This run's quarantine alert and the monthly KPI alerts -> ``alerts`` rows (+ notify).
    Returns how many are new."""
    def check() -> int:
        found = alert_checks.run_alerts(run.run_id, run.counts.read, run.counts.quarantined,
                                        current_kpis(run.con), thresholds)
        send = run.hooks.notify or alert_checks.notify
        notified = bool(notification_block) and send(notification_block or "", found)
        new = store_alerts(run.con, run.run_id, found, notified=notified)
        for msg in new.get_column("message").to_list():
            run.hooks.log.warning("ALERT %s", msg)
        return new.height

    run.counts.alerts = run.hooks.step("check-alerts", check)()
    return run.counts.alerts


def finish(run: Run, thresholds: AlertThresholds | None = None,
           notification_block: str | None = None, publish_snapshot: bool = True) -> str | None:
    """Alerts, the run's ledger row, then the snapshot (so the dashboard sees this run's
    alerts and its outcome, not ``running``; the duration shown excludes the publish itself,
    and :func:`ledgered_run` rewrites the row at the very end, as ``failed`` if publishing
    fails). Returns the snapshot's path (None: not published)."""
    orch = run.settings.orchestration
    check_alerts(run, thresholds or orch.alerts,
                 notification_block if notification_block is not None
                 else orch.notification_block)
    partial = run.counts.extra.get("partial")
    ledger.finish_run(run.con, run.run_id, "partial" if partial else "succeeded", run.counts,
                      partial)
    if not publish_snapshot:
        return None
    snap = run.hooks.step("publish-snapshot", publish.publish)(
        run.con, run.settings.serving_dir, run.settings.review_store)
    run.hooks.log.info("published %s", snap)
    return str(snap)


def current_model(run: Run) -> str | None:
    """The model version the views show (None: nothing scored yet)."""
    return current_version(run.con, "model")


def run_pipeline(settings: Settings, flow_name: str, *, paths: list[Path] | None = None,
        score_after: bool = True, since: date | datetime | None = None,
        rescore: bool = False, rules: Path | None = None, publish_snapshot: bool = True,
        stop_when_nothing_ingested: bool = True, parameters: dict[str, Any] | None = None,
        thresholds: AlertThresholds | None = None, notification_block: str | None = None,
        hooks: Hooks | None = None, run_id: str | None = None,
        deployment: str | None = None) -> dict[str, Any]:
    """One ledgered run: ingest ``paths`` (if any), score, derive, alerts, publish.

    ``score_after`` false: ingest only (then alerts; published if ``publish_snapshot``).
    ``stop_when_nothing_ingested``: when every given file failed, nothing is scored and the
    run ends ``partial``. Returns the run's id, its ledger counts and each stage's result
    (``ingest``: the IngestReport; ``models``, ``compliance``, ``derived``; ``snapshot``).
    """
    params = parameters if parameters is not None else {
        "paths": [str(p) for p in paths or []], "since": since, "rescore": rescore,
        "rules": rules}
    out: dict[str, Any] = {}
    with ledgered_run(flow_name, settings, params, hooks=hooks, run_id=run_id,
                      deployment=deployment) as r:
        out["run_id"] = r.run_id
        if paths is not None:
            report = out["ingest"] = ingest(r, paths)
            if (stop_when_nothing_ingested and report.files_seen
                    and len(report.problems) >= report.files_seen):
                _mark_partial(r, "no file could be ingested; nothing scored")
                score_after = False
        if score_after:
            out.update(score(r, since, rescore, rules))
        out["snapshot"] = finish(r, thresholds, notification_block, publish_snapshot)
        out["counts"] = r.counts.as_dict()
        out["partial"] = r.counts.extra.get("partial")
    return out
