"""The printable monthly KPI report, as HTML and as PDF (fpdf2, pure Python, offline).

Input: the frame of :func:`tierlens.dashboard.queries.executive.kpi_table` for one month
(one row per (tier, kpi) with value, numerator, denominator, prev_value, mom_change, and,
when the trust layer ran, value_corrected, ci_low, ci_high and verification).
Aggregates only: no transcript text ever goes into a report.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import polars as pl

from tierlens.metrics.catalogue import KpiInfo, format_delta, format_value, kpi_info

TIERS = ("ai", "human", "all")


def _num(v: object, digits: int = 3) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def corrected_interval(r: dict, info: KpiInfo | None) -> str:
    """``value_corrected [ci_low, ci_high]`` in the KPI's units: the one wording of the reviewers'
    correction, shared by the report and the dashboard (:func:`kpi_view.trust_text`)."""
    return (f"{format_value(info, r['value_corrected'])} [{format_value(info, r.get('ci_low'))}, "
            f"{format_value(info, r.get('ci_high'))}]")


def _corrected(r: dict) -> str:
    """The corrected value and its interval, for model-based KPIs that reviews verified."""
    if r.get("n_reviewed") in (None, 0) or r.get("value_corrected") is None:
        return ""
    return corrected_interval(r, kpi_info().get(r["kpi"]))


def _rows(kpis: pl.DataFrame, tier: str) -> list[dict]:
    """The tier's rows for reading: the catalogue's label, value and change formatted."""
    info = kpi_info()
    out = []
    for r in kpis.filter(pl.col("tier") == tier).to_dicts():
        i = info.get(r["kpi"])
        out.append({**r, "label": i.label if i else r["kpi"], "value": format_value(i, r["value"]),
                    "prev_value": format_value(i, r.get("prev_value")),
                    "mom_change": format_delta(i, r.get("mom_change")) or "",
                    "target": i.target_text if i else ""})
    return out


def monthly_html(month: str, kpis: pl.DataFrame, title: str = "tierlens monthly report") -> str:
    """A self-contained HTML page: one KPI table per tier with month-over-month change."""
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
             "margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
             "th:first-child,td:first-child{text-align:left}")
    head = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} "
            f"{html.escape(month)}</title><style>{style}</style></head><body>")
    intro = (f"<p>Generated {made}. Cohort: conversations that started in the month. "
             "Tier ai = bot only; human = any human involvement; all = every conversation.</p>")
    parts = [head,
             f"<h1>{html.escape(title)}: {html.escape(month)}</h1>", intro]
    for tier in TIERS:
        rows = _rows(kpis, tier)
        if not rows:
            continue
        parts.append(f"<h2>Tier: {tier}</h2><table><tr><th>KPI</th><th>value</th>"
                     "<th>target</th><th>numerator</th><th>denominator</th><th>previous month</th>"
                     "<th>change</th><th>corrected [95% interval]</th><th>verification</th>"
                     "</tr>")
        for r in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(_num(r.get(c)))}</td>" for c in
                                          ("label", "value", "target", "numerator",
                                           "denominator", "prev_value", "mom_change"))
                         + f"<td>{html.escape(_corrected(r))}</td>"
                         f"<td>{html.escape(r.get('verification') or '')}</td></tr>")
        parts.append("</table>")
    if kpis.is_empty():
        parts.append("<p>No KPIs computed for this month yet.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def monthly_pdf(month: str, kpis: pl.DataFrame, title: str = "tierlens monthly report") -> bytes:
    """The same report as a PDF (core fonts only, so it works offline)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, f"{title}: {month}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, "Cohort: conversations that started in the month. Tier ai = bot only; "
                         "human = any human involvement; all = every conversation.",
                   new_x="LMARGIN", new_y="NEXT")
    widths = (48, 18, 20, 20, 20, 16, 48)
    heads = ("KPI", "value", "numerator", "denominator", "prev. month", "change",
             "trust: corrected [95% CI], reviews")
    for tier in TIERS:
        rows = _rows(kpis, tier)
        if not rows:
            continue
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, f"Tier: {tier}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 9)
        for w, h in zip(widths, heads):
            pdf.cell(w, 6, h, border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", 9)
        for r in rows:
            trust = r.get("verification") or ""
            if _corrected(r):
                trust = f"{_corrected(r)}, n={r['n_reviewed']}"
            vals = (r.get("label"), r.get("value"), r.get("numerator"), r.get("denominator"),
                    r.get("prev_value"), r.get("mom_change"), trust)
            for w, v in zip(widths, vals, strict=True):
                text = _num(v)
                pdf.cell(w, 6, text.encode("latin-1", "replace").decode("latin-1"), border=1)
            pdf.ln()
    return bytes(pdf.output())
