"""Data quality: ingest and flow runs, quarantine reasons with examples, GX results, alerts."""

import streamlit as st

from tierlens.dashboard import auth, ui
from tierlens.dashboard.queries import data_quality as data_quality_q

auth.guard("data_quality")
st.title("Data quality")

st.subheader("Ingest runs")
runs = ui.q(data_quality_q.ingest_runs)
if runs is not None:
    st.dataframe(runs, hide_index=True, width="stretch")

st.subheader("Quarantine")
reasons = ui.q(data_quality_q.quarantine_reasons)
if reasons is not None:
    if reasons.is_empty():
        st.success("Nothing quarantined.")
    else:
        st.bar_chart(reasons, x="reason", y="records")
        st.dataframe(reasons, hide_index=True, width="stretch")
        reason = st.selectbox("Show records for reason", reasons["reason"].unique().sort().to_list(),
                              key="dq_reason")
        ui.drill_table(ui.q(data_quality_q.quarantine_rows, reason), f"quarantine-{reason}",
                       label=f"Quarantined records: {reason}")

st.subheader("Great Expectations results")
dq = ui.q(data_quality_q.dq_summary)
if dq is not None:
    st.dataframe(dq, hide_index=True, width="stretch")
    ui.drill_table(dq, "dq-results")

st.subheader("Flow runs")
flows = ui.q(data_quality_q.ledger, "flow_runs")
if flows is not None:
    st.dataframe(flows, hide_index=True, width="stretch")

st.subheader("Alerts")
alerts = ui.q(data_quality_q.ledger, "alerts")
if alerts is not None:
    st.dataframe(alerts, hide_index=True, width="stretch")
