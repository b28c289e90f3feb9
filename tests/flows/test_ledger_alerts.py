"""The run ledger and the alert checks, on a real DuckDB (no Prefect needed)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tierlens.orchestrate import alerts, ledger
from tierlens.orchestrate.config import AlertThresholds
from tierlens.store.alerts import store_alerts


def test_ledger_records_a_run_and_marks_killed_ones_crashed(con):
    ledger.start_run(con, "r1", "ingest_and_score", {"inbox": "/x", "n": 1})
    # r1 never finishes (killed); the next run marks it crashed
    ledger.start_run(con, "r2", "ingest_and_score", {})
    counts = ledger.RunCounts(read=10, stored=7, unchanged=2, quarantined=1, scored=7,
                              flagged=1, model_version="m1", rulebook_version="rb1", alerts=2)
    assert counts.reconciles()
    ledger.finish_run(con, "r2", "succeeded", counts)
    rows = {r["run_id"]: r for r in ledger.runs(con)}
    assert rows["r1"]["outcome"] == "crashed" and "killed" in rows["r1"]["error"]
    r2 = rows["r2"]
    assert r2["outcome"] == "succeeded" and r2["finished_at"] is not None
    assert r2["duration_s"] >= 0
    assert (r2["read"], r2["stored"], r2["quarantined"], r2["scored"], r2["flagged"]) == \
        (10, 7, 1, 7, 1)
    assert (r2["model_version"], r2["rulebook_version"], r2["alerts"]) == ("m1", "rb1", 2)
    assert json.loads(rows["r1"]["parameters"]) == {"inbox": "/x", "n": 1}
    with pytest.raises(ValueError, match="unknown outcome"):
        ledger.finish_run(con, "r2", "great", counts)


def test_counts_fold_ingest_reports():
    c = ledger.RunCounts()
    c.add_ingest({"read": 5, "stored": 4, "quarantined": 1, "files_seen": 1})
    c.add_ingest({"read": 3, "unchanged": 3, "files_seen": 1})
    assert (c.read, c.stored, c.unchanged, c.quarantined, c.files_seen) == (8, 4, 3, 1, 2)
    assert c.reconciles()
    c.read += 1
    assert not c.reconciles()


def kpis(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["month", "tier", "kpi", "value", "denominator"],
                        orient="row")


T = AlertThresholds()


def test_containment_drop_over_threshold_alerts_and_under_does_not():
    frame = kpis([("2026-06", "ai", "containment_durable", 0.60, 500),
                  ("2026-07", "ai", "containment_durable", 0.56, 500),   # -4 points
                  ("2026-08", "ai", "containment_durable", 0.49, 500)])  # -7 points
    out = alerts.monthly_alerts(frame, T)
    assert out.get_column("alert_id").to_list() == ["containment_drop:2026-08"]
    row = out.row(0, named=True)
    assert row["severity"] == "warning" and row["previous"] == 0.56
    assert "7.0 points" in row["message"]


def test_containment_with_open_windows_is_not_judged():
    frame = kpis([("2026-07", "ai", "containment_durable", 0.60, 500),
                  ("2026-08", "ai", "containment_durable", 0.40, 500),
                  ("2026-08", "ai", "containment_durable_pending", 37.0, 500)])
    assert alerts.monthly_alerts(frame, T).is_empty()


def test_red_flag_rate_doubling():
    frame = kpis([("2026-06", "all", "red_flag_rate", 0.02, 400),
                  ("2026-07", "all", "red_flag_rate", 0.039, 400),   # 1.95x: no
                  ("2026-08", "all", "red_flag_rate", 0.08, 400),    # 2.05x: yes
                  ("2026-09", "all", "red_flag_rate", 0.50, 10)])    # too few conversations
    out = alerts.monthly_alerts(frame, T)
    assert out.get_column("alert_id").to_list() == ["red_flag_rate_doubled:2026-08"]


def test_quarantine_rate_and_thresholds_are_configurable():
    assert alerts.quarantine_alert("r", 1000, 10, T).is_empty()          # exactly 1%
    assert alerts.quarantine_alert("r", 1000, 11, T).height == 1
    assert alerts.quarantine_alert("r", 0, 0, T).is_empty()
    assert alerts.quarantine_alert("r", 1000, 11, AlertThresholds(quarantine_rate=0.05)) \
        .is_empty()


def test_stored_alerts_are_not_raised_twice(con):
    a = alerts.quarantine_alert("run-1", 100, 50, T)
    assert store_alerts(con, "flow-1", a).height == 1
    assert store_alerts(con, "flow-2", a).height == 0
    row = con.execute("SELECT kind, severity, run_id, notified FROM alerts").fetchall()
    assert row == [("quarantine_rate", "critical", "flow-1", False)]
