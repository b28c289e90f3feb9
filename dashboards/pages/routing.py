"""Routing & escalation: misroutes, handoff time vs target, reasons, repeats, trapped, tier adherence."""

import streamlit as st

from tierlens.dashboard import auth, ui
from tierlens.dashboard.queries import routing as routing_q

auth.guard("routing")
target = ui.settings().handoff_target_seconds
st.title("Routing & escalation")

summary = ui.q(routing_q.escalation_summary, target)
if summary is not None and summary.height:
    s = summary.row(0, named=True)
    c = st.columns(6)
    c[0].metric("Escalations", ui.fmt(s["escalations"]))
    c[1].metric("Median handoff", f"{ui.fmt(s['handoff_median_s'])} s")
    c[2].metric(f"Handoffs within {target:.0f} s", ui.fmt(s["handoff_within_target"], pct=True))
    c[3].metric("Repeated after handoff", ui.fmt(s["repeated_after_handoff_rate"], pct=True))
    c[4].metric("Trapped customers", ui.fmt(s["trapped"]))
    c[5].metric("Routed correctly", ui.fmt(s["routing_accuracy"], pct=True))

st.subheader("Misroute matrix (expected queue -> actual queue)")
st.caption("First queue: conversations whose first queue isn't the routing policy's queue for "
           "their intent. Transfer: transfers between human queues (source -> target).")
matrix = ui.q(routing_q.misroute_matrix)
if matrix is not None and matrix.is_empty():
    st.success("No misroutes.")
elif matrix is not None:
    st.dataframe(matrix.pivot(on="actual_queue", index=["evidence", "expected_queue"],
                              values="n", aggregate_function="sum").fill_null(0),
                 hide_index=True, width="stretch")
    ui.drill_table(matrix, "misroute-matrix")
    queue = st.selectbox("Conversations first routed to", matrix["actual_queue"].drop_nulls()
                         .unique().sort().to_list(), key="rt_queue")
    ui.drill_on_demand(f"Conversations first routed to {queue}", f"first-queue-{queue}",
                       routing_q.drill, "first_queue", queue)

st.subheader(f"Handoff time (target {target:.0f} s)")
hist = ui.q(routing_q.handoff_histogram)
if hist is not None:
    st.bar_chart(hist, x="seconds_bin", y="escalations")
    ui.drill_table(hist, "handoff-histogram")

st.subheader("Escalation reasons")
reasons = ui.q(routing_q.escalation_reasons)
if reasons is not None and not reasons.is_empty():
    st.bar_chart(reasons, x="reason", y="n")
    reason = st.selectbox("Conversations escalated for", reasons["reason"].to_list(), key="rt_reason")
    ui.drill_on_demand(f"Conversations escalated for {reason}", f"escalated-{reason}",
                       routing_q.drill, "escalation_reason", reason)

st.subheader("Trapped customers")
ui.drill_on_demand("Show trapped conversations", "trapped", routing_q.drill, "trapped", True)

st.subheader("Tier adherence")
adh = ui.q(routing_q.tier_adherence)
if adh is not None:
    st.dataframe(adh, hide_index=True, width="stretch")
    ui.drill_table(adh, "tier-adherence")
