"""``rescore``: apply a new rulebook or model to history, as its own version.

Scores every conversation selected by ``since`` (all of history by default) under the
current model heads and the given rulebook; rows of other versions stay side by side, rows
of the same versions are replaced (idempotent). Then derives, checks alerts and publishes.
Not scheduled: run it after a model or rulebook change (``python -m flows.rescore
'{"since": "2026-06-01", "rules": "rulebook-v2.yaml"}'``) or from the Prefect UI.
"""

from __future__ import annotations

import json
import sys

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.common import finish, ledgered_run
from flows.params import RescoreParams
from flows.settings import resolve_settings
from tierlens import pipeline


@flow(name="rescore", task_runner=ThreadPoolTaskRunner(max_workers=1), log_prints=True)
def rescore(params: RescoreParams | None = None) -> dict:
    """Rescore history; returns the ledger counts."""
    params = params or RescoreParams()
    settings = resolve_settings(params)
    with ledgered_run("rescore", params, settings) as run:
        pipeline.score(run, since=params.since, rescore=True, rules=params.rules)
        finish(run, params)
    return run.counts.as_dict()


if __name__ == "__main__":
    p = RescoreParams.model_validate(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    print(json.dumps(rescore(p), default=str))
