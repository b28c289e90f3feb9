"""Routing & escalation: misroutes, handoff time vs target, reasons, repeats, trapped, tier adherence."""

import streamlit as st

from tierlens.dashboard import auth, ui
from tierlens.settings import get_settings

auth.guard("routing")
target = get_settings().handoff_target_seconds
st.title("Routing & escalation")

summary = ui.q("escalation_summary", target)
if summary is not None and summary.height:
    s = summary.row(0, named=True)
    c = st.columns(5)
    c[0].metric("Escalations", ui.fmt(s["escalations"]))
    c[1].metric("Median handoff", f"{ui.fmt(s['handoff_median_s'])} s")
    c[2].metric(f"Handoffs within {target:.0f} s", ui.fmt(s["handoff_within_target"], pct=True))
    c[3].metric("Repeated after handoff", ui.fmt(s["repeated_after_handoff_rate"], pct=True))
    c[4].metric("Trapped customers", ui.fmt(s["trapped"]))

st.subheader("Misroute matrix (expected queue -> actual first queue)")
matrix = ui.q("misroute_matrix")
if matrix is not None and not matrix.is_empty():
    st.dataframe(matrix.pivot(on="actual_queue", index="expected_queue", values="n",
                              aggregate_function="sum").fill_null(0),
                 hide_index=True, width="stretch")
    ui.drill_table(matrix, "misroute-matrix")
    queue = st.selectbox("Conversations first routed to", matrix["actual_queue"].unique().sort()
                         .to_list(), key="rt_queue")
    ui.drill_on_demand(f"Conversations first routed to {queue}", f"first-queue-{queue}",
                       "drill", "first_queue", queue)

st.subheader(f"Handoff time (target {target:.0f} s)")
hist = ui.q("handoff_histogram")
if hist is not None:
    st.bar_chart(hist, x="seconds_bin", y="escalations")
    ui.drill_table(hist, "handoff-histogram")

st.subheader("Escalation reasons")
reasons = ui.q("escalation_reasons")
if reasons is not None and not reasons.is_empty():
    st.bar_chart(reasons, x="reason", y="n")
    reason = st.selectbox("Conversations escalated for", reasons["reason"].to_list(), key="rt_reason")
    ui.drill_on_demand(f"Conversations escalated for {reason}", f"escalated-{reason}",
                       "drill", "escalation_reason", reason)

st.subheader("Trapped customers")
ui.drill_on_demand("Show trapped conversations", "trapped", "drill", "trapped", True)

st.subheader("Tier adherence")
adh = ui.q("tier_adherence")
if adh is not None:
    st.dataframe(adh, hide_index=True, width="stretch")
    ui.drill_table(adh, "tier-adherence")
