"""Compliance: red-flag queue (severity, then newest), evidence in context (the turns before and
after, the matched span highlighted), dispositions, audit log, export."""

import polars as pl
import streamlit as st

from tierlens.dashboard import auth, params, ui
from tierlens.dashboard import conversation_view as cv
from tierlens.dashboard.queries import compliance as compliance_q
from tierlens.reviews import store as reviews
from tierlens.reviews.store import DISPOSITIONS, ReviewError

user = auth.guard("compliance")
st.title("Compliance")
store = ui.review_store()
if flash := st.session_state.pop("cp_flash", None):
    st.success(flash)

sev_opts = ["(all)", "critical", "major", "minor"]
sev_param, why = params.choice("severity", st.query_params.get("severity"), sev_opts[1:])
ui.warn([why] if why else [])
severity = st.selectbox("Severity", sev_opts,
                        index=sev_opts.index(sev_param) if sev_param in sev_opts else 0,
                        key="cp_sev")
if severity != "(all)":
    st.query_params["severity"] = severity
elif "severity" in st.query_params:
    del st.query_params["severity"]

flags = ui.q(compliance_q.red_flag_queue, None if severity == "(all)" else severity)
if flags is not None:
    queue = compliance_q.with_dispositions(flags, reviews.latest_dispositions(store))
    open_n = queue.filter(pl.col("disposition").is_null()).height
    c = st.columns(3)
    c[0].metric("Flags in queue", queue.height)
    c[1].metric("Awaiting disposition", open_n)
    c[2].metric("Critical", queue.filter(pl.col("severity") == "critical").height)
    st.subheader("Red-flag queue")
    st.dataframe(queue, hide_index=True, width="stretch")
    ui.drill_table(queue, "red-flag-queue", label="Export the queue", parquet=True)

    if queue.height:
        labels = [f"{r['severity']} · {r['conversation_id']} · {r['rule_id']} · turn "
                  f"{r['turn_index'] if r['turn_index'] is not None else '-'}"
                  for r in queue.iter_rows(named=True)]
        wanted, why = params.choice("flag", st.query_params.get("flag"), labels)
        ui.warn([why] if why else [])
        idx = labels.index(wanted) if wanted in labels else 0
        label = st.selectbox("Open a flag", labels, index=idx, key="cp_flag")
        st.query_params["flag"] = label
        flag = queue.row(labels.index(label), named=True)

        st.subheader("Evidence")
        st.markdown(f"**Rule** `{flag['rule_id']}` (version {flag['rule_version']}), "
                    f"severity **{flag['severity']}**, conversation `{flag['conversation_id']}`, "
                    f"turn {flag['turn_index']}")
        turns = ui.q(compliance_q.transcript, flag["conversation_id"])
        if turns is not None and flag["turn_index"] is not None:
            around = st.slider("Turns of context before and after", 1, 6, 2, key="cp_around")
            for t in cv.context(turns, flag["turn_index"], around).iter_rows(named=True):
                evidence = t["position"] == "evidence"
                spans = ([ui.evidence_span(flag, flag["rule_id"])]
                         if evidence and flag["span_start"] is not None else [])
                with st.chat_message(t["speaker"], avatar=cv.AVATAR.get(t["speaker"])):
                    st.caption(f"#{t['turn_index']} {t['speaker']} · "
                               + ("evidence turn" if evidence else f"{t['position']} the evidence"))
                    if evidence:
                        st.markdown(f":red-badge[{flag['rule_id']} ({flag['severity']})]")
                    st.markdown(ui.highlight(t["text"] or "", spans), unsafe_allow_html=True)
        elif flag["turn_index"] is None:
            st.caption("A conversation-level hit: no single turn carries it.")
        st.page_link("pages/conversation.py", label="Open the full conversation",
                     query_params={"id": flag["conversation_id"]})
        if flag["disposition"]:
            st.info(f"Current disposition: **{flag['disposition']}** by {flag['disposed_by']}: "
                    f"{flag['disposition_note']}")

        with st.form("disposition", clear_on_submit=True):
            disposition = st.radio("Disposition", DISPOSITIONS, horizontal=True, key="cp_disp")
            note = st.text_area("Note (required)", key="cp_note")
            if st.form_submit_button("Save disposition"):
                try:
                    seq = reviews.record_disposition(store, flag["conversation_id"],
                                                     flag["rule_id"], flag["turn_index"],
                                                     disposition, note, user.username, settings=ui.settings())
                    st.session_state["cp_flash"] = f"Disposition saved (audit #{seq})."
                    st.rerun()
                except ReviewError as exc:
                    st.error(f"Not saved: {exc}.")

st.subheader("Audit log")
verdict = ui.audit_verdict(store)
if verdict.ok:
    st.success("Audit chain verified: intact, and the event tables match it.")
else:
    st.error(f"Audit log TAMPERED: {verdict.reason}. It was changed outside the app.")
log = reviews.audit_log(store, limit=500)
st.caption("Latest entries")
st.table(log.head(10).select("seq", "at", "who", "action", "object", "before", "after"))
st.dataframe(log, hide_index=True, width="stretch")
ui.drill_table(log, "audit-log", label="Export the audit log", parquet=True)
