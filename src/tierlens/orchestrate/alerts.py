"""Alerts: configurable thresholds -> ``alerts`` rows (grain: migrations/0006_flows.sql).

The checks are pure functions over frames (the pipeline reads the KPIs and stores the alerts
through :mod:`tierlens.store.alerts`); :func:`notify` optionally sends them through a Prefect
notification block.

- ``containment_drop``: AI-tier durable containment falls by more than
  ``containment_drop_points`` percentage points from one month to the next. A month whose
  repeat windows are still open (``containment_durable_pending`` > 0) is not judged yet:
  its durable containment is incomplete, not low.
- ``red_flag_rate_doubled``: the red-flag rate (all tiers) is at least ``red_flag_ratio``
  times the previous month's (both months with at least ``red_flag_min_conversations``).
- ``quarantine_rate``: one run quarantined more than ``quarantine_rate`` of what it read.

An alert's id is its kind and subject (the month, or the run), so a re-run or a nightly
re-check never raises the same alert twice.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import polars as pl

from tierlens.orchestrate.config import AlertThresholds

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "alert_id": pl.String, "kind": pl.String, "severity": pl.String, "subject": pl.String,
    "value": pl.Float64, "previous": pl.Float64, "threshold": pl.Float64, "message": pl.String,
}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=ALERT_SCHEMA)


def _series(kpis: pl.DataFrame, kpi: str, tier: str) -> pl.DataFrame:
    return (kpis.filter((pl.col("kpi") == kpi) & (pl.col("tier") == tier))
            .select("month", "value", "denominator").sort("month"))


def monthly_alerts(kpis: pl.DataFrame, t: AlertThresholds) -> pl.DataFrame:
    """Alerts from monthly KPIs (one row per month, tier and kpi, as in ``kpi_monthly``).

    Returns one row per alert (``ALERT_SCHEMA``), compared month against previous month.
    """
    rows: list[dict[str, Any]] = []
    dur = _series(kpis, "containment_durable", "ai")
    pending = dict(_series(kpis, "containment_durable_pending", "ai")
                   .select("month", "value").iter_rows())
    months = dur.to_dicts()
    for prev, cur in pairwise(months):
        if prev["value"] is None or cur["value"] is None or (pending.get(cur["month"]) or 0) > 0:
            continue
        drop = (prev["value"] - cur["value"]) * 100
        if drop > t.containment_drop_points:
            rows.append({
                "alert_id": f"containment_drop:{cur['month']}", "kind": "containment_drop",
                "severity": "critical" if drop > 2 * t.containment_drop_points else "warning",
                "subject": cur["month"], "value": cur["value"], "previous": prev["value"],
                "threshold": t.containment_drop_points,
                "message": f"durable containment (AI tier) fell {drop:.1f} points in "
                           f"{cur['month']}: {prev['value']:.1%} -> {cur['value']:.1%} "
                           f"(threshold {t.containment_drop_points:g} points)"})
    red = _series(kpis, "red_flag_rate", "all").to_dicts()
    for prev, cur in pairwise(red):
        if (prev["value"] is None or cur["value"] is None or not prev["value"]
                or min(prev["denominator"], cur["denominator"]) < t.red_flag_min_conversations):
            continue
        ratio = cur["value"] / prev["value"]
        if ratio >= t.red_flag_ratio:
            rows.append({
                "alert_id": f"red_flag_rate_doubled:{cur['month']}",
                "kind": "red_flag_rate_doubled", "severity": "critical",
                "subject": cur["month"], "value": cur["value"], "previous": prev["value"],
                "threshold": t.red_flag_ratio,
                "message": f"red-flag rate in {cur['month']} is {ratio:.1f}x the previous "
                           f"month's: {prev['value']:.2%} -> {cur['value']:.2%}"})
    return pl.DataFrame(rows, schema=ALERT_SCHEMA) if rows else _empty()


def quarantine_alert(run_id: str, read: int, quarantined: int,
                     t: AlertThresholds) -> pl.DataFrame:
    """One alert when a run quarantined more than the threshold share of its records."""
    if read <= 0 or quarantined / read <= t.quarantine_rate:
        return _empty()
    share = quarantined / read
    return pl.DataFrame([{
        "alert_id": f"quarantine_rate:{run_id}", "kind": "quarantine_rate",
        "severity": "critical" if share > 10 * t.quarantine_rate else "warning",
        "subject": run_id, "value": share, "previous": None, "threshold": t.quarantine_rate,
        "message": f"run {run_id} quarantined {quarantined} of {read} records ({share:.1%}; "
                   f"threshold {t.quarantine_rate:.1%}); see the quarantine table for reasons"}],
        schema=ALERT_SCHEMA)


def run_alerts(run_id: str, read: int, quarantined: int, kpis: pl.DataFrame | None,
               t: AlertThresholds) -> pl.DataFrame:
    """Every alert one run checks: its quarantine share, and the monthly KPIs (``kpis``:
    the current model version's ``kpi_monthly`` rows; None when nothing was derived)."""
    frames = [quarantine_alert(run_id, read, quarantined, t)]
    if kpis is not None:
        frames.append(monthly_alerts(kpis, t))
    return pl.concat(frames)


def notify(block_name: str, alerts: pl.DataFrame) -> bool:
    """Send alerts through a saved Prefect notification block (``"slack-webhook/qa"``).

    Returns whether it sent. A missing or failing block never fails the flow: the alerts are
    stored either way, and the dashboard shows them.
    """
    if alerts.is_empty():
        return False
    try:
        from prefect.blocks.core import Block

        block = Block.load(block_name)
        body = "\n".join(alerts.get_column("message").to_list())
        block.notify(body=body, subject=f"tierlens: {alerts.height} alert(s)")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - notification is best effort by design
        return False
    return True
