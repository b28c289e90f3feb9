"""The executive page's KPI pieces, pure: headline metric arguments, the labelled AI-vs-human
table and the trend chart, all read from the KPI catalogue (:mod:`tierlens.metrics.catalogue`).

Input frames: :func:`tierlens.dashboard.queries.executive.kpi_table` (one month, one row per (tier,
kpi), with ``verification`` when the trust layer ran) and
:func:`tierlens.dashboard.queries.executive.kpi_history` (one row per (month, tier, kpi)).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tierlens.dashboard.report import corrected_interval
from tierlens.metrics.catalogue import KpiInfo, format_delta, format_value

# the month's story, in reading order (PRODUCT.md: containment, escalation, FCR, CSAT, repeat
# contact, handoff time, cost, quality)
HEADLINE = ("containment_durable", "escalation_rate", "fcr", "csat_surveyed",
            "repeat_contact_strict", "handoff_share_under_target", "handoff_seconds_median",
            "cost_per_resolution", "qa_score")
TIER_NAMES = {"ai": "AI tier", "human": "Human tier", "all": "All"}


def trust_text(r: dict[str, Any], info: KpiInfo | None) -> str:
    """The trust layer's words for a row, with the corrected value and interval when verified."""
    text = r.get("verification") or "structural"
    if text.startswith("verified") and r.get("value_corrected") is not None:
        text += f"; corrected {corrected_interval(r, info)}"
    return text


def metric_args(r: dict[str, Any], info: KpiInfo | None) -> dict[str, Any]:
    """``st.metric`` keyword arguments for one (tier, kpi) row: the formatted value, the change
    coloured by the KPI's good direction, and a help text with the definition and the fraction."""
    delta = format_delta(info, r.get("mom_change"))
    parts = [info.definition if info else r["kpi"]]
    if info and info.target is not None:
        parts.append(f"Target {info.target_text}.")
    parts.append(f"{r.get('numerator')} / {r.get('denominator')}; {trust_text(r, info)}.")
    return {"value": format_value(info, r.get("value")),
            "delta": f"{delta} vs {r['prev_month']}" if delta and r.get("prev_month") else delta,
            "delta_color": info.delta_color if info else "off", "help": " ".join(parts)}


def comparison(table: pl.DataFrame, info: dict[str, KpiInfo]) -> pl.DataFrame:
    """The month's KPIs as people read them: one row per KPI (catalogue order, then unknown
    ones), AI and human tiers side by side, the change of all, target and verification."""
    rows = {(r["tier"], r["kpi"]): r for r in table.to_dicts()}
    names = [k for k in info if any(kk == k for _, kk in rows)]
    names += sorted({k for _, k in rows} - set(names))
    out = []
    for k in names:
        i = info.get(k)
        line: dict[str, str] = {"KPI": i.label if i else k}
        for tier, head in TIER_NAMES.items():
            line[head] = format_value(i, rows[(tier, k)]["value"]) if (tier, k) in rows else "n/a"
        every = rows.get(("all", k), {})
        line["Change (all)"] = format_delta(i, every.get("mom_change")) or ""
        line["Better"] = {"up": "higher", "down": "lower"}.get(i.good or "", "") if i else ""
        line["Target"] = i.target_text if i else ""
        line["Verification"] = trust_text(every, i) if every else ""
        out.append(line)
    return pl.DataFrame(out, schema={c: pl.String for c in (
        "KPI", *TIER_NAMES.values(), "Change (all)", "Better", "Target", "Verification")})


def trend_chart(history: pl.DataFrame, info: KpiInfo | None, height: int = 160) -> alt.Chart:
    """A KPI's monthly trend, one line per tier, with the target as a dashed rule."""
    frame = history.with_columns(tier=pl.col("tier").replace(TIER_NAMES)).to_pandas()
    fmt = ".0%" if info and info.fmt == "pct" else ("$,.2f" if info and info.fmt == "currency"
                                                    else ",.1f")
    title = info.label if info else "value"
    line = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("month:O", title=None),
        y=alt.Y("value:Q", title=title, axis=alt.Axis(format=fmt)),
        color=alt.Color("tier:N", title=None),
        tooltip=["month", "tier", alt.Tooltip("value:Q", format=fmt)])
    chart: alt.Chart = line
    if info and info.target is not None:
        rule = alt.Chart(alt.Data(values=[{"target": info.target}])).mark_rule(
            strokeDash=[4, 4], color="gray").encode(y="target:Q")
        chart = alt.layer(line, rule)  # type: ignore[assignment]
    return chart.properties(height=height)
