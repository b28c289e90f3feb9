"""Executive: monthly KPIs by tier, month over month, trends and the printable report.

Aggregates only: this page never reads transcript text.
"""

import polars as pl
import streamlit as st

from tierlens.dashboard import auth, params, report, ui

auth.guard("executive")
st.title("Monthly KPIs")

months = ui.q("kpi_months")
if months == []:
    st.info("Not computed yet: no monthly KPIs in the snapshot - run `tierlens score`.")
if months:
    wanted, why = params.month("month", st.query_params.get("month"), months)
    ui.warn([why] if why else [])
    month = st.selectbox("Month", months, index=months.index(wanted) if wanted in months else 0,
                         key="exec_month")
    st.query_params["month"] = month
    table = ui.q("kpi_table", month)
    if table is not None:
        for tab, tier in zip(st.tabs(["AI tier", "Human tier", "All"]), ("ai", "human", "all")):
            rows = table.filter(pl.col("tier") == tier).to_dicts()
            with tab:
                if not rows:
                    st.caption("No KPIs for this tier in this month.")
                cols = st.columns(4)
                for i, r in enumerate(rows):
                    delta = None if r["mom_change"] is None else f"{r['mom_change']:+.3f} vs {r['prev_month']}"
                    trust = r.get("verification") or "structural"
                    if trust.startswith("verified"):
                        trust += (f"; corrected {ui.fmt(r['value_corrected'])} "
                                  f"[{ui.fmt(r['ci_low'])}, {ui.fmt(r['ci_high'])}]")
                    cols[i % 4].metric(r["kpi"], ui.fmt(r["value"]), delta=delta,
                                       help=f"{ui.fmt(r['numerator'])} / "
                                            f"{ui.fmt(r['denominator'])}; {trust}")
                    if trust != "structural":
                        cols[i % 4].caption(trust)
        ui.drill_table(table, f"kpis-{month}", label="KPI table with numerators and denominators")

        st.subheader("Monthly report")
        c1, c2 = st.columns(2)
        c1.download_button("Download report (HTML)", report.monthly_html(month, table),
                           file_name=f"tierlens-report-{month}.html", mime="text/html",
                           key="report_html")
        c2.download_button("Download report (PDF)", report.monthly_pdf(month, table),
                           file_name=f"tierlens-report-{month}.pdf", mime="application/pdf",
                           key="report_pdf")

    st.subheader("Trend")
    names = ui.q("kpi_names") or []
    if names:
        kpi = st.selectbox("KPI", names, key="exec_trend_kpi")
        trend = ui.q("kpi_trend", kpi)
        if trend is not None and not trend.is_empty():
            st.line_chart(trend.pivot(on="tier", index="month", values="value").sort("month"),
                          x="month")
            ui.drill_table(trend, f"trend-{kpi}")
