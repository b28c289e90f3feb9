"""``monthly_report``: on the 1st, the previous month's KPIs as a printable report.

Re-derives the outcomes (so the month's repeat windows are as closed as they can be), then
writes ``<reports_dir>/tierlens-YYYY-MM.html`` and ``.pdf`` (aggregates only, no transcript
text) and publishes the snapshot.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from prefect import flow

from flows.common import finish, ledgered_run, logger
from flows.params import MonthlyReportParams
from flows.settings import resolve_settings
from tierlens import pipeline


def previous_month(today: date) -> str:
    """``YYYY-MM`` of the month before ``today``."""
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{y:04d}-{m:02d}"


def write_report(con, month: str, reports_dir: Path) -> list[str]:
    from tierlens.dashboard.queries.executive import kpi_table
    from tierlens.dashboard.report import monthly_html, monthly_pdf

    kpis = kpi_table(con, month)
    if kpis.is_empty():
        return []
    reports_dir.mkdir(parents=True, exist_ok=True)
    html_path = reports_dir / f"tierlens-{month}.html"
    pdf_path = reports_dir / f"tierlens-{month}.pdf"
    html_path.write_text(monthly_html(month, kpis))
    pdf_path.write_bytes(monthly_pdf(month, kpis))
    return [str(html_path), str(pdf_path)]


@flow(name="monthly_report", log_prints=True)
def monthly_report(params: MonthlyReportParams | None = None) -> dict:
    """Build the report of ``params.month`` (default: last month). Returns the counts and
    the files written."""
    params = params or MonthlyReportParams()
    settings = resolve_settings(params)
    month = params.month or previous_month(datetime.now(UTC).date())
    reports_dir = params.reports_dir or settings.reports_dir
    with ledgered_run("monthly_report", params, settings) as run:
        version = pipeline.current_model(run)
        if version is None:
            run.counts.extra["partial"] = "nothing scored yet"
            return run.counts.as_dict()
        pipeline.derive_outcomes(run, version)
        files = run.hooks.step("write-report", write_report)(run.con, month, reports_dir)
        if not files:
            logger().warning("no KPIs for %s: no report written", month)
            run.counts.extra["partial"] = f"no KPIs for {month}"
        else:
            logger().info("report for %s: %s", month, ", ".join(files))
        finish(run, params)
    return {**run.counts.as_dict(), "month": month, "files": files}


if __name__ == "__main__":
    p = MonthlyReportParams.model_validate(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    print(json.dumps(monthly_report(p), default=str))
