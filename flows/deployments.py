"""Every deployment with its schedule, declared in code, and one command that runs them.

    python -m flows.deployments

starts a local Prefect server (``prefect server start``, offline, SQLite under
``$PREFECT_HOME``) unless ``PREFECT_API_URL`` already points at one, then ``serve``s:

| deployment | flow | schedule (UTC) |
|---|---|---|
| ``ingest-and-score`` | ingest_and_score | every 15 minutes |
| ``nightly-outcomes`` | nightly_outcomes | 02:00 every day |
| ``monthly-report`` | monthly_report | 06:00 on the 1st |
| ``rescore`` | rescore | none (run on demand after a model or rulebook change) |

At most one run at a time (``serve(limit=1)``): every flow writes the one DuckDB warehouse.
To use an existing Prefect server: ``PREFECT_API_URL=http://host:4200/api python -m
flows.deployments`` (or ``--no-server``). See docs/orchestration.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

from prefect import serve
from prefect.schedules import Cron

from flows.ingest_and_score import ingest_and_score
from flows.monthly_report import monthly_report
from flows.nightly_outcomes import nightly_outcomes
from flows.params import IngestAndScoreParams, MonthlyReportParams, NightlyParams, RescoreParams
from flows.rescore import rescore
from flows.scale import scaled
from tierlens.orchestrate.config import OrchestrationSettings
from tierlens.settings import get_settings

TAGS = ["tierlens"]


def build_deployments(orch: OrchestrationSettings | None = None) -> list[Any]:
    """The RunnerDeployments (nothing is sent to a server until they are served)."""
    orch = orch or get_settings().orchestration
    scoring = {"score_batch_size": orch.score_batch_size, "max_in_flight": orch.max_in_flight}
    common = {"notification_block": orch.notification_block,
              "alerts": orch.alerts.model_dump(mode="json")}
    return [
        scaled(ingest_and_score, orch).to_deployment(
            name="ingest-and-score", tags=TAGS, concurrency_limit=1,
            schedules=[Cron(orch.ingest_cron, timezone=orch.timezone)],
            parameters={"params": IngestAndScoreParams(**scoring, **common)
                        .model_dump(mode="json")},
            description="Ingest new inbox files, validate, score, derive and publish."),
        nightly_outcomes.to_deployment(
            name="nightly-outcomes", tags=TAGS, concurrency_limit=1,
            schedules=[Cron(orch.nightly_cron, timezone=orch.timezone)],
            parameters={"params": NightlyParams(**common).model_dump(mode="json")},
            description="Repeat contact, durable containment, FCR and KPIs (forward window)."),
        monthly_report.to_deployment(
            name="monthly-report", tags=TAGS, concurrency_limit=1,
            schedules=[Cron(orch.monthly_cron, timezone=orch.timezone)],
            parameters={"params": MonthlyReportParams(**common).model_dump(mode="json")},
            description="The previous month's KPI report (HTML + PDF)."),
        scaled(rescore, orch).to_deployment(
            name="rescore", tags=TAGS, concurrency_limit=1,
            parameters={"params": RescoreParams(**scoring, **common).model_dump(mode="json")},
            description="Apply a new rulebook or model to history, as its own version."),
    ]


def start_local_server(port: int = 4200, timeout_s: float = 180) -> tuple[subprocess.Popen, str]:
    """``prefect server start`` in a child process; returns it and its API URL once healthy."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host",
                             "127.0.0.1", "--port", str(port)], env=env,
                            # its own session: Ctrl-C stops serve() first, then we stop it
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise RuntimeError(f"prefect server did not answer on {url} within {timeout_s:.0f}s")


def main(argv: list[str] | None = None) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-server", action="store_true",
                    help="Don't start a local server (PREFECT_API_URL must point at one).")
    ap.add_argument("--port", type=int, default=4200, help="Port of the local server.")
    args = ap.parse_args(argv)
    deployments = build_deployments()
    if PREFECT_API_URL.value() or args.no_server:
        serve(*deployments, limit=1)
        return
    proc, url = start_local_server(args.port)
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            serve(*deployments, limit=1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
