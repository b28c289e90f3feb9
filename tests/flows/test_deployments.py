"""Deployment snapshot: names, flows, schedules, parameters and concurrency, as declared.

To accept an intended change: ``python -m tests.flows.test_deployments`` rewrites the
snapshot; review the diff before committing it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "golden" / "deployments.json"


def describe() -> list[dict]:
    from flows.deployments import build_deployments

    out = []
    for d in build_deployments():
        out.append({
            "name": d.name, "flow": d.flow_name, "entrypoint": d.entrypoint,
            "schedules": [{"cron": s.schedule.cron, "timezone": s.schedule.timezone,
                           "active": s.active} for s in d.schedules],
            "parameters": d.parameters, "concurrency_limit": d.concurrency_limit,
            "tags": d.tags,
        })
    return out


def test_deployments_match_snapshot():
    assert describe() == json.loads(SNAPSHOT.read_text())


def test_schedules_are_the_products():
    by_name = {d["name"]: d for d in describe()}
    assert by_name["ingest-and-score"]["schedules"][0]["cron"] == "*/15 * * * *"
    assert by_name["nightly-outcomes"]["schedules"][0]["cron"].split()[2:] == ["*", "*", "*"]
    assert by_name["monthly-report"]["schedules"][0]["cron"].split()[2] == "1"
    assert by_name["rescore"]["schedules"] == []
    # every flow writes the one warehouse: never two runs of a deployment at once
    assert all(d["concurrency_limit"] == 1 for d in by_name.values())


def test_parameters_validate_against_the_flows():
    from flows.params import IngestAndScoreParams, MonthlyReportParams, NightlyParams, RescoreParams

    models = {"ingest-and-score": IngestAndScoreParams, "nightly-outcomes": NightlyParams,
              "monthly-report": MonthlyReportParams, "rescore": RescoreParams}
    for d in describe():
        models[d["name"]].model_validate(d["parameters"]["params"])


def test_previous_month():
    from flows.monthly_report import previous_month

    assert previous_month(date(2026, 12, 1)) == "2026-11"
    assert previous_month(date(2027, 1, 1)) == "2026-12"


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(describe(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
