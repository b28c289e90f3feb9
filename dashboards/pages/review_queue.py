"""Review queue: assign conversations to reviewers and track progress."""

import polars as pl
import streamlit as st

from tierlens.dashboard import auth, ui
from tierlens.dashboard.queries import Filters
from tierlens.dashboard.queries import review_queue as review_queue_q
from tierlens.reviews import store as reviews
from tierlens.reviews.store import ASSIGNMENT_STATUSES, ReviewError

user = auth.guard("review_queue")
st.title("Review queue")
store = ui.review_store()

current = reviews.latest_assignments(store)
done = current.filter(pl.col("status") == "done").height if not current.is_empty() else 0
total = current.height
st.metric("Assigned conversations reviewed", f"{done} / {total}")
st.progress(done / total if total else 0.0)
if not current.is_empty():
    st.dataframe(current.group_by("assignee", "status").len().sort("assignee", "status"),
                 hide_index=True)
    ui.drill_table(current.with_columns(open=pl.lit("/conversation?id=") + pl.col("conversation_id")),
                   "assignments", label="Assignments", expanded=True)

st.subheader("Verification sample")
st.caption("A stratified random sample of each month and tier, apart from the red flags, "
           "sized so the model-based KPIs reach the chosen interval width. Review these to "
           "verify and correct the KPIs (docs/metrics.md, the trust layer).")
progress = ui.q(review_queue_q.verification_progress)
if progress is not None and not progress.is_empty():
    st.dataframe(progress, hide_index=True)
    vmonth = st.selectbox("Month", progress["month"].unique(maintain_order=True).to_list(),
                          key="rq_vmonth")
    todo = ui.q(review_queue_q.verification_todo, vmonth)
    if todo is not None:
        ui.drill_table(todo.with_columns(open=pl.lit("/conversation?id=")
                                         + pl.col("conversation_id")),
                       f"verification-{vmonth}", label="To review next (in sample order)")

st.subheader("Assign")
reviewers = sorted(u for u, e in auth.load_users(ui.settings().users_file).items()
                   if e["role"] in ("qa_manager", "admin"))
worst_first = st.toggle("Red-flagged only", value=False, key="rq_red")
candidates = ui.q(review_queue_q.conversation_list,
                  Filters(red_flag=True if worst_first else None), 200)
if candidates is not None:
    taken = set(current["conversation_id"].to_list()) if not current.is_empty() else set()
    free = [c for c in candidates["conversation_id"].to_list() if c not in taken]
    with st.form("assign"):
        picked = st.multiselect("Conversations (lowest auto QA score first)", free, key="rq_pick")
        assignee = st.selectbox("Reviewer", reviewers, key="rq_assignee")
        if st.form_submit_button("Assign"):
            for cid in picked:
                reviews.record_assignment(store, cid, assignee, user.username, "open", settings=ui.settings())
            st.success(f"Assigned {len(picked)} conversation(s) to {assignee}.")

if not current.is_empty():
    st.subheader("Update status")
    with st.form("status"):
        cid = st.selectbox("Conversation", current["conversation_id"].to_list(), key="rq_cid")
        status = st.selectbox("Status", ASSIGNMENT_STATUSES, key="rq_status")
        if st.form_submit_button("Update"):
            row = current.filter(pl.col("conversation_id") == cid).row(0, named=True)
            try:
                reviews.record_assignment(store, cid, row["assignee"], user.username, status, settings=ui.settings())
                st.success(f"{cid}: {status}")
            except ReviewError as exc:
                st.error(str(exc))

st.subheader("Review history")
ui.drill_table(reviews.reviews(store), "reviews", label="All review events")
