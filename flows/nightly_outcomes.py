"""``nightly_outcomes``: re-derive repeat contact, durable containment, FCR and the KPIs,
and rediscover the contact-reason topics (ids kept stable by centroid matching).

These look forward in time (the repeat window), so yesterday's "pending" becomes today's
answer. Runs nightly (flows/deployments.py); checks the monthly alerts and publishes.
"""

from __future__ import annotations

import json
import sys

from prefect import flow

from flows.common import finish, ledgered_run, logger
from flows.params import NightlyParams
from flows.settings import resolve_settings
from tierlens import pipeline


@flow(name="nightly_outcomes", log_prints=True)
def nightly_outcomes(params: NightlyParams | None = None) -> dict:
    """Derive outcomes for the current model version; alerts; publish. Returns the counts."""
    params = params or NightlyParams()
    settings = resolve_settings(params)
    with ledgered_run("nightly_outcomes", params, settings) as run:
        version = pipeline.current_model(run)
        if version is None:
            logger().warning("nothing scored yet: run ingest_and_score first")
            run.counts.extra["partial"] = "nothing scored yet"
            return run.counts.as_dict()
        derived = pipeline.derive_outcomes(run, version, refit_topics=True)
        logger().info("derived outcomes for %d conversation(s), %d KPI row(s)",
                      derived["conversations"], derived["kpi_rows"])
        finish(run, params)
    return run.counts.as_dict()


if __name__ == "__main__":
    p = NightlyParams.model_validate(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    print(json.dumps(nightly_outcomes(p), default=str))
