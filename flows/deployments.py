"""Every deployment with its schedule, declared in code, and one command that runs them.

    python -m flows.deployments

starts a local Prefect server (``prefect server start``, offline, non-interactive, SQLite
under its own ``PREFECT_HOME``: ``<data_dir>/prefect``) unless ``PREFECT_API_URL`` is set in
the environment, then serves:

| deployment | flow | schedule (UTC) |
|---|---|---|
| ``ingest-and-score`` | ingest_and_score | every 15 minutes |
| ``nightly-outcomes`` | nightly_outcomes | 02:00 every day |
| ``monthly-report`` | monthly_report | 06:00 on the 1st |
| ``rescore`` | rescore | none (run on demand after a model or rulebook change) |

At most one run at a time (``limit=1``): every flow writes the one DuckDB warehouse.
Ctrl-C or SIGTERM stops it cleanly: the runner pauses its schedules, then the server and any
flow run still going are stopped (see :mod:`flows.server`). To use an existing Prefect
server: ``PREFECT_API_URL=http://host:4200/api python -m flows.deployments`` (or
``--no-server``). See docs/orchestration.md.

Prefect is imported lazily here: :func:`main` sets the local server's Prefect settings in
the environment first, and Prefect reads them once, at import.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.server import (
    ServerError,
    prefect_environment,
    sigterm_as_interrupt,
    start_local_server,
    stop_process_tree,
    write_profile,
)
from flows.settings import process_settings
from tierlens.orchestrate.config import OrchestrationSettings

TAGS = ["tierlens"]


def build_deployments(orch: OrchestrationSettings | None = None) -> list[Any]:
    """The RunnerDeployments (nothing is sent to a server until they are served)."""
    from prefect.schedules import Cron

    from flows.ingest_and_score import ingest_and_score
    from flows.monthly_report import monthly_report
    from flows.nightly_outcomes import nightly_outcomes
    from flows.params import (
        IngestAndScoreParams,
        MonthlyReportParams,
        NightlyParams,
        RescoreParams,
    )
    from flows.rescore import rescore
    from flows.scale import scaled

    orch = orch or process_settings().orchestration
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


def serve_until_stopped(deployments: list[Any]) -> None:
    """Register and serve ``deployments`` (one run at a time) until Ctrl-C or SIGTERM.

    Like ``prefect.serve``, but a SIGTERM takes the same path as Ctrl-C (the main task is
    cancelled, the runner pauses its schedules and exits its context) instead of the runner's
    own handler, which calls ``sys.exit(0)`` from inside the event loop.
    """
    import asyncio

    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True, limit=1)
    runner.handle_sigterm = sigterm_as_interrupt  # type: ignore[method-assign]
    for deployment in deployments:
        runner.add_deployment(deployment)
    names = ", ".join(d.name for d in deployments)
    print(f"serving {len(deployments)} deployments ({names}); Ctrl-C to stop", flush=True)
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        pass


def _ignore_stop_signals() -> None:
    """A second Ctrl-C during the clean-up must not cut it short (and orphan the server)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _serve_and_stop(start_server: Callable[[], subprocess.Popen] | None = None) -> int:
    """Start the local server (``start_server``, when given), serve the deployments, and however
    that ends, stop the server and every process still below this one: the one shutdown path."""
    server = None
    try:
        if start_server is not None:
            server = start_server()
        serve_until_stopped(build_deployments())
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        _ignore_stop_signals()
        if server is not None:
            print("stopping the Prefect server and any flow run still going...", flush=True)
        stop_process_tree(server)
    print("stopped", flush=True)
    return 0


def _start_local(home: Path, port: int) -> subprocess.Popen:
    """The local Prefect server under ``home``, up and answering on ``port``."""
    print(f"starting a local Prefect server on http://127.0.0.1:{port}/api (PREFECT_HOME "
          f"{home}, log {home / 'server.log'})", flush=True)
    server, _ = start_local_server(home, port)
    print(f"prefect server up; UI on http://127.0.0.1:{port}", flush=True)
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--no-server", action="store_true",
                    help="Don't start a local server (PREFECT_API_URL must point at one).")
    ap.add_argument("--port", type=int, default=4200, help="Port of the local server.")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, sigterm_as_interrupt)
    if os.environ.get("PREFECT_API_URL") or args.no_server:
        return _serve_and_stop()
    if "prefect" in sys.modules:  # its settings were read already: ours would be ignored
        print("error: flows.deployments.main() must run before prefect is imported",
              file=sys.stderr)
        return 2
    home = process_settings().data_dir / "prefect"
    url = f"http://127.0.0.1:{args.port}/api"
    os.environ.update(prefect_environment(home, url))
    write_profile(home, url)
    return _serve_and_stop(lambda: _start_local(home, args.port))


if __name__ == "__main__":
    sys.exit(main())
