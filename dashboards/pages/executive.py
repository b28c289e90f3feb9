"""Executive: the month's story - headline KPIs (AI and human side by side, change coloured by
the good direction, target, 6-month trend), the full labelled table, and the printable report.

Labels, formats, directions and targets come from the KPI catalogue
(tierlens.metrics.catalogue). Aggregates only: this page never reads transcript text.
"""

import polars as pl
import streamlit as st

from tierlens.dashboard import auth, kpi_view, params, ui
from tierlens.dashboard.queries import executive as executive_q
from tierlens.metrics.catalogue import kpi_info

auth.guard("executive")
st.title("Monthly KPIs")
info = kpi_info(ui.settings().handoff_target_seconds)

months = ui.q(executive_q.kpi_months)
if months == []:
    st.info("Not computed yet: no monthly KPIs in the snapshot - run `tierlens score`.")
if months:
    wanted, why = params.month("month", st.query_params.get("month"), months)
    ui.warn([why] if why else [])
    month = st.selectbox("Month", months, index=months.index(wanted) if wanted in months else 0,
                         key="exec_month")
    st.query_params["month"] = month
    table = ui.q(executive_q.kpi_table, month)
    if table is not None:
        rows = {(r["tier"], r["kpi"]): r for r in table.to_dicts()}
        shown = [k for k in kpi_view.HEADLINE if any((t, k) in rows for t in kpi_view.TIER_NAMES)]
        history = ui.q(executive_q.kpi_history, month, tuple(shown), 6) if shown else None
        st.subheader(f"Headline: {month}")
        if not shown:
            st.caption("None of the headline KPIs is computed for this month.")
        for k in shown:
            i = info.get(k)
            with st.container(border=True):
                target = f" · target {i.target_text}" if i and i.target is not None else ""
                st.markdown(f"**{i.label if i else k}**{target}")
                st.caption(i.definition if i else "")
                left, right = st.columns([3, 2])
                # AI and human side by side; a tier without a figure (no bot contacts in the
                # human tier) shows the all-contacts figure instead
                tiers = [t for t in ("ai", "human") if rows.get((t, k), {}).get("value") is not None]
                tiers = tiers if len(tiers) == 2 else [*tiers, "all"]
                for col, tier in zip(left.columns(len(tiers)), tiers):
                    r = rows.get((tier, k))
                    if r is None:
                        continue
                    col.metric(kpi_view.TIER_NAMES[tier], **kpi_view.metric_args(r, i))
                    if r.get("verification") and r["verification"] != "structural":
                        col.caption(kpi_view.trust_text(r, i))
                trend = None if history is None else history.filter(pl.col("kpi") == k)
                if trend is not None and trend["month"].n_unique() > 1:
                    right.altair_chart(kpi_view.trend_chart(trend, i), width="stretch")
                else:
                    right.caption("Trend: one month of data so far.")

        st.subheader("All KPIs")
        st.caption("AI tier = conversations the bot answered first; human tier = a human "
                   "answered first; all = every conversation.")
        st.dataframe(kpi_view.comparison(table, info), hide_index=True, width="stretch")
        ui.drill_table(table, f"kpis-{month}", label="KPI table with numerators and denominators")

        st.subheader("Monthly report")
        c1, c2 = st.columns(2)
        c1.download_button("Download report (HTML)", ui.report_file("html", month, table),
                           file_name=f"tierlens-report-{month}.html", mime="text/html",
                           key="report_html")
        c2.download_button("Download report (PDF)", ui.report_file("pdf", month, table),
                           file_name=f"tierlens-report-{month}.pdf", mime="application/pdf",
                           key="report_pdf")

    st.subheader("Trend of any KPI")
    names = ui.q(executive_q.kpi_names) or []
    if names:
        kpi = st.selectbox("KPI", names, key="exec_trend_kpi",
                           format_func=lambda n: info[n].label if n in info else n)
        trend = ui.q(executive_q.kpi_trend, kpi)
        if trend is not None and not trend.is_empty():
            st.altair_chart(kpi_view.trend_chart(trend, info.get(kpi), height=260),
                            width="stretch")
            ui.drill_table(trend, f"trend-{kpi}")
