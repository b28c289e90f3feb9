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

from flows.common import (
    elapsed,
    finish,
    ingest_file,
    ledgered_run,
    list_inbox,
    logger,
    resolve_settings,
    score_all,
)
from flows.params import IngestAndScoreParams


@flow(name="ingest_and_score", task_runner=ThreadPoolTaskRunner(max_workers=1),
      log_prints=True)
def ingest_and_score(params: IngestAndScoreParams | None = None) -> dict:
    """Ingest every new file in the inbox, then score, derive and publish. Returns the
    ledger counts of the run."""
    params = params or IngestAndScoreParams()
    settings = resolve_settings(params, inbox=params.inbox)
    log = logger()
    t0 = time.perf_counter()
    with ledgered_run("ingest_and_score", params, settings) as (con, run_id, counts):
        files = list_inbox(settings.inbox)
        failed: list[str] = []
        for i, path in enumerate(files):
            try:
                c = ingest_file(con, path, settings, f"{run_id}-f{i:04d}")
            except Exception as exc:  # noqa: BLE001 - one bad file never blocks the inbox
                failed.append(f"{path.name}: {type(exc).__name__}: {exc}"[:300])
                counts.files_failed += 1
                log.error("ingest of %s failed after retries: %s", path, exc)
                continue
            counts.add_ingest(c)
            log.info("ingested file %d/%d %s: read %d, stored %d, updated %d, unchanged %d, "
                     "quarantined %d", i + 1, len(files), path.name, c["read"], c["stored"],
                     c["updated"], c["unchanged"], c["quarantined"])
        if failed:
            counts.extra["partial"] = "files failed: " + "; ".join(failed)
        score_all(con, settings, params, counts)
        finish(con, run_id, settings, params, counts)
        log.info("ingest_and_score done in %s: %s", elapsed(t0), counts.as_dict())
    return counts.as_dict()


if __name__ == "__main__":
    p = IngestAndScoreParams.model_validate(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    print(json.dumps(ingest_and_score(p), default=str))
