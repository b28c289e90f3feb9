"""Conversation: transcript with the customer's sentiment timeline and the evidence highlighted
(compliance spans, the escalation trigger, the turns the resolution rests on).

QA managers can review the conversation (scorecard) and correct any auto label; each save
goes to the review store and the audit log.
"""

import polars as pl
import streamlit as st

from tierlens.dashboard import auth, params, ui
from tierlens.dashboard import conversation_view as cv
from tierlens.dashboard.queries import conversation as conversation_q
from tierlens.metrics.scorecard import load_scorecard
from tierlens.reviews import store as reviews
from tierlens.reviews.store import LABEL_TYPES, ReviewError

user = auth.guard("conversation")
st.title("Conversation")

cid, why = params.text("id", st.query_params.get("id"))
ui.warn([why] if why else [])
if not cid:
    recent = ui.q(conversation_q.recent_conversation_ids, 200) or []
    cid = st.selectbox("Conversation", recent, index=None, placeholder="Pick a conversation",
                       key="conv_pick")
    if cid:
        st.query_params["id"] = cid
if not cid:
    st.stop()

head = ui.q(conversation_q.conversation, cid)
if head is None or head.is_empty():
    st.warning(f"No conversation {cid[:40]!r} in the serving snapshot.")
    st.stop()
h = head.row(0, named=True)
st.subheader(cid)
# long values (queue and intent names) would be cut short in narrow st.metric cards
facts = [("Tier path", h.get("tier_path")), ("First queue", h.get("first_queue")),
         ("Intent", h.get("intent")), ("Resolution", h.get("resolution")),
         ("QA score", None if h.get("qa_score") is None else f"{h['qa_score']:.1f}"),
         ("Red flag", "yes" if h.get("red_flag") else ("no" if "red_flag" in h else None)),
         ("Escalation reason", h.get("escalation_reason"))]
for col, chunk in zip(st.columns(2), (facts[:4], facts[4:])):
    col.markdown("  \n".join(f"**{k}:** {'unknown' if v is None else v}" for k, v in chunk))

turns = ui.q(conversation_q.transcript, cid)
flags = ui.q(conversation_q.flags_of, cid)
spans: dict[int, list[tuple[int, int, str]]] = {}
if flags is not None:
    for f in flags.iter_rows(named=True):
        if f["turn_index"] is not None and f["span_start"] is not None:
            spans.setdefault(f["turn_index"], []).append(
                ui.evidence_span(f, f"{f['rule_id']} ({f['severity']})"))
if turns is not None:
    timeline = cv.sentiment_timeline(turns)
    if timeline.height > 1:
        st.caption("Customer sentiment over the conversation (customer turns only)")
        st.altair_chart(cv.sentiment_chart(timeline), width="stretch")
    badges = cv.evidence_badges(cid, turns, h)
    rules = {i: sorted({sp[2] for sp in sps}) for i, sps in spans.items()}
    for t in turns.iter_rows(named=True):
        with st.chat_message(t["speaker"], avatar=cv.AVATAR.get(t["speaker"])):
            st.caption(" · ".join(cv.turn_meta(t)))
            marks = [f":orange-badge[{b}]" for b in badges.get(t["turn_index"], [])]
            marks += [f":red-badge[compliance: {r}]" for r in rules.get(t["turn_index"], [])]
            if marks:
                st.markdown(" ".join(marks))
            st.markdown(ui.highlight(t["text"] or "", spans.get(t["turn_index"], [])),
                        unsafe_allow_html=True)
if flags is not None:
    st.subheader("Compliance evidence")
    ui.drill_table(flags, f"flags-{cid}", label="Rule hits", expanded=True)

if user.role not in ("qa_manager", "admin"):
    st.stop()
store = ui.review_store()

st.subheader("Review this conversation")
card = load_scorecard(ui.settings().scorecard_path)
with st.form("review"):
    st.caption("Answer every criterion (N/A where it does not apply).")
    choice = {"met": 1, "not met": 0, "N/A": None}
    answers = {cr.name: st.radio(cr.name, list(choice), index=None, horizontal=True,
                                 key=f"rv_{cr.name}") for cr in card.criteria}
    note = st.text_area("Note", key="rv_note")
    if st.form_submit_button("Save review"):
        if missing := cv.unanswered(answers):
            st.error(f"Not saved: answer every criterion; unanswered: {', '.join(missing)}.")
        else:
            scores = {k: choice[a] for k, a in answers.items() if a is not None}  # N/A: None
            weights = {cr.name: cr.weight for cr in card.criteria}
            den = sum(weights[k] for k, v in scores.items() if v is not None)
            total = None if den == 0 else 100.0 * sum(
                weights[k] * v for k, v in scores.items() if v is not None) / den
            try:
                seq = reviews.record_review(store, cid, user.username, scores, total, note, settings=ui.settings())
                st.success(f"Review saved (audit #{seq}).")
            except ReviewError as exc:
                st.error(str(exc))

st.subheader("Correct a label")
with st.form("correct"):
    label_type = st.selectbox("Label", LABEL_TYPES, key="lc_type")
    turn_opts = ["(conversation)"] + ([str(i) for i in turns["turn_index"].to_list()]
                                      if turns is not None else [])
    turn_sel = st.selectbox("Turn (for sentiment and intent)", turn_opts, key="lc_turn")
    new_value = st.text_input("Correct value", key="lc_value")
    if st.form_submit_button("Save correction"):
        turn_index = None if turn_sel == "(conversation)" else int(turn_sel)
        if turn_index is not None and turns is not None:
            row = turns.filter(pl.col("turn_index") == turn_index).row(0, named=True)
            text = row["text"]
            old = row.get("sentiment_label") if label_type == "sentiment" else h.get(label_type)
        else:
            text = " ".join(t for t in (turns.filter(pl.col("speaker") == "customer")["text"]
                                        .to_list() if turns is not None else []) if t)
            old = h.get(label_type)
        try:
            seq = reviews.record_label_correction(store, cid, turn_index, label_type,
                                                  None if old is None else str(old), new_value,
                                                  user.username, text=text, settings=ui.settings())
            st.success(f"Correction saved (audit #{seq}).")
        except ReviewError as exc:
            st.error(str(exc))
