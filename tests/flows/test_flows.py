"""The flows, run for real on a Prefect test server and a real warehouse (small data)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import db_rows
from tests.flows.flow_helpers import differences


def test_flows_end_to_end(prefect_api, inbox, flow_settings, tmp_path):
    from flows.ingest_and_score import ingest_and_score
    from flows.monthly_report import monthly_report
    from flows.nightly_outcomes import nightly_outcomes
    from flows.params import IngestAndScoreParams, MonthlyReportParams, NightlyParams, RescoreParams
    from flows.rescore import rescore

    folder, per_file = inbox
    total = sum(per_file.values())
    db = Path(flow_settings["warehouse"])
    first = ingest_and_score(IngestAndScoreParams(inbox=folder, score_batch_size=150,
                                                  **flow_settings))
    # the broken file goes to quarantine and blocks nothing
    assert first["files_seen"] == 3 and first["quarantined"] >= 1
    assert first["stored"] == total and first["scored"] == total
    assert first["read"] == first["stored"] + first["updated"] + first["unchanged"] \
        + first["quarantined"]
    assert db_rows(db, "SELECT count(*) FROM core_conversations") == [(total,)]
    assert db_rows(db, "SELECT count(DISTINCT conversation_id) FROM model_conversation_scores") == \
        [(total,)]
    assert db_rows(db, "SELECT count(*) FROM compliance_scores") == [(total,)]
    assert db_rows(db, "SELECT count(*) FROM quarantine WHERE source_file LIKE '%c_broken%'") == \
        [(first["quarantined"],)]
    ledger = db_rows(db, "SELECT flow_name, outcome, read, stored, quarantined, scored, flagged, "
                         "model_version IS NOT NULL, rulebook_version IS NOT NULL, duration_s > 0, "
                         "parameters FROM flow_runs")
    assert len(ledger) == 1
    name, outcome, read, stored, quarantined, scored, flagged, mv, rv, dur, params = ledger[0]
    assert (name, outcome, read, stored, scored) == ("ingest_and_score", "succeeded",
                                                     first["read"], total, total)
    assert quarantined == first["quarantined"] and flagged == first["flagged"]
    assert mv and rv and dur and '"score_batch_size": 150' in params
    snap = Path(flow_settings["serving_dir"]) / "serving.duckdb"
    assert db_rows(snap, "SELECT count(*) FROM flow_runs") == [(1,)]

    # a second run finds nothing new and changes no data
    before = tmp_path / "before.duckdb"
    shutil.copy(db, before)
    again = ingest_and_score(IngestAndScoreParams(inbox=folder, **flow_settings))
    assert again["files_skipped"] == 3 and again["stored"] == 0 and again["scored"] == 0
    assert differences(before, db) == {}

    night = nightly_outcomes(NightlyParams(**flow_settings))
    assert night["model_version"] == first["model_version"]
    months = [m for (m,) in db_rows(db, "SELECT DISTINCT month FROM kpi_monthly ORDER BY 1")]
    report = monthly_report(MonthlyReportParams(month=months[0], reports_dir=tmp_path / "rep",
                                                **flow_settings))
    assert len(report["files"]) == 2 and all(Path(f).stat().st_size > 0 for f in report["files"])
    assert "<html" in Path(report["files"][0]).read_text().lower()

    res = rescore(RescoreParams(since=f"{months[-1]}-01", score_batch_size=150,
                                **flow_settings))
    in_last = db_rows(db, f"SELECT count(*) FROM core_conversations WHERE started_at >= "
                          f"'{months[-1]}-01'")[0][0]
    assert res["scored"] == in_last and 0 < in_last < total
    # same versions: rows replaced, not doubled
    assert db_rows(db, "SELECT count(*) FROM model_conversation_scores") == [(total,)]
    outcomes = dict(db_rows(db, "SELECT flow_name, count(*) FROM flow_runs WHERE outcome = "
                                "'succeeded' GROUP BY 1"))
    assert outcomes == {"ingest_and_score": 2, "nightly_outcomes": 1, "monthly_report": 1,
                        "rescore": 1}


def test_alert_notification_without_a_saved_block_is_best_effort(prefect_api):
    from tierlens.orchestrate import alerts
    from tierlens.orchestrate.config import AlertThresholds

    a = alerts.quarantine_alert("run-1", 100, 50, AlertThresholds())
    assert alerts.notify("slack-webhook/not-saved-here", a) is False


def test_a_rescored_rulebook_stays_current_for_the_15_minute_flow(prefect_api, inbox,
                                                                  flow_settings, tmp_path):
    """rescore --rules NEW --since the last month: earlier months keep their rulebook and red
    flags; the next ingest_and_score applies NEW to the new conversations (not the bundled)."""
    import gzip

    from flows.ingest_and_score import ingest_and_score
    from flows.params import IngestAndScoreParams, RescoreParams
    from flows.rescore import rescore
    from tests.cli.test_rescore_rules import BUNDLED, new_rulebook

    with gzip.open(inbox[0] / "b_big.jsonl.gz", "rt") as fh:
        lines = fh.read().splitlines()[::8]  # a sample across both simulated months
    box = tmp_path / "box"
    box.mkdir()
    (box / "first.jsonl").write_text("\n".join(lines[:-10]) + "\n")
    db = Path(flow_settings["warehouse"])
    ingest_and_score(IngestAndScoreParams(inbox=box, **flow_settings))
    months = [m for (m,) in db_rows(db, "SELECT DISTINCT strftime(started_at, '%Y-%m') "
                                        "FROM core_conversations ORDER BY 1")]
    assert len(months) >= 2
    rescore(RescoreParams(since=f"{months[-1]}-01", rules=new_rulebook(tmp_path / "new.yaml"),
                          **flow_settings))
    by_month = dict(db_rows(db, "SELECT strftime(c.started_at, '%Y-%m'), "
                                "list(DISTINCT s.rulebook_version) FROM conversation_scores s "
                                "JOIN conversations c USING (conversation_id) "
                                "WHERE s.red_flag IS NOT NULL GROUP BY 1"))
    assert by_month[months[0]] == [BUNDLED] and by_month[months[-1]] == ["new.1"]

    (box / "second.jsonl").write_text("\n".join(lines[-10:]) + "\n")
    later = ingest_and_score(IngestAndScoreParams(inbox=box, **flow_settings))
    assert later["stored"] == 10 and later["rulebook_version"] == "new.1"
    new_ids = [json.loads(x)["conversation_id"] for x in lines[-10:]]
    got = dict(db_rows(db, "SELECT conversation_id, rulebook_version FROM conversation_scores"))
    assert {got[c] for c in new_ids} == {"new.1"}
    assert sum(v == BUNDLED for v in got.values()) > 0
