"""``ingest_and_score``: the inbox -> ingest -> validate -> score -> derive -> publish flow.

Runs every 15 minutes (flows/deployments.py). Crash-safe: every step is idempotent and
commits in its own transactions, so a run killed anywhere is completed by the next run
(tests/flows/test_crash.py kills it with SIGKILL mid-ingest and mid-scoring). One file per
task: a file that can't be parsed is quarantined, and a file whose task fails outright is
recorded and never blocks the rest of the inbox.

Run once by hand: ``python -m flows.ingest_and_score '{"inbox": "data/inbox"}'``.
"""

from __future__ import annotations

import json
import sys
import time

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.common import elapsed, finish, ledgered_run, logger
from flows.params import IngestAndScoreParams
from flows.settings import resolve_settings
from tierlens import pipeline


@flow(name="ingest_and_score", task_runner=ThreadPoolTaskRunner(max_workers=1),
      log_prints=True)
def ingest_and_score(params: IngestAndScoreParams | None = None) -> dict:
    """Ingest every new file in the inbox, then score, derive and publish. Returns the
    ledger counts of the run."""
    params = params or IngestAndScoreParams()
    settings = resolve_settings(params, inbox=params.inbox)
    t0 = time.perf_counter()
    with ledgered_run("ingest_and_score", params, settings, per_file=True) as run:
        pipeline.ingest(run, [settings.inbox])
        pipeline.score(run)
        finish(run, params)
        logger().info("ingest_and_score done in %s: %s", elapsed(t0), run.counts.as_dict())
    return run.counts.as_dict()


if __name__ == "__main__":
    p = IngestAndScoreParams.model_validate(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    print(json.dumps(ingest_and_score(p), default=str))
