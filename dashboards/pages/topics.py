"""Topics: what customers contact about, sized as automation opportunities.

For QA managers and executives. The list is the month's contact-reason topics (discovered
from customers' first substantive requests), largest monthly saving first; QA managers can
drill into a topic's conversations and promote it to a new intent (a `text,intent` CSV for
`tierlens train-intents`). Executives see aggregates only.
"""

import polars as pl
import streamlit as st

from tierlens.dashboard import auth, ui
from tierlens.dashboard.queries import topics as topics_q
from tierlens.errors import InputError
from tierlens.topics.export import check_intent_name

user = auth.guard("topics")
st.title("Topics")
st.caption("Contact reasons discovered from customers' first requests. Opportunity: the "
           "monthly cost saved if the bot contained the topic as well as it contains "
           "comparable topics (docs/topics.md).")

months = ui.q(topics_q.topic_months)
if months == []:
    st.info("Not computed yet: no topics in the snapshot - run `tierlens score`.")
if months:
    wanted = st.query_params.get("month")
    month = st.selectbox("Month", months, index=months.index(wanted) if wanted in months else 0,
                         key="topics_month")
    st.query_params["month"] = month
    table = ui.q(topics_q.topic_table, month)
    if table is not None and not table.is_empty():
        total = table["opportunity"].sum()
        c1, c2, c3 = st.columns(3)
        c1.metric("Topics", f"{table.height}")
        c2.metric("Monthly opportunity", f"{total:,.0f}")
        c3.metric("New or emerging", f"{table.filter(pl.col('status') != 'stable').height}")
        shown = table.select(
            "topic_id", "label", "status", "n_conversations",
            pl.col("share").round(3), pl.col("containment_durable").round(3),
            pl.col("escalation_rate").round(3), pl.col("aht_seconds").round(0),
            pl.col("opportunity").round(2), "matched_intent",
            pl.col("change_vs_previous_month").round(3))
        st.dataframe(shown, hide_index=True, width="stretch")
        ui.drill_table(table.with_columns(pl.col("keywords").list.join(" | "),
                                          pl.col("example_conversation_ids").list.join(" ")),
                       f"topics-{month}", label="Topics with all columns")
        if auth.can_access(user.role, "conversation"):
            st.subheader("A topic's conversations")
            labels = {f"{r['topic_id']}: {r['label']}": r["topic_id"]
                      for r in table.iter_rows(named=True)}
            pick = st.selectbox("Topic", list(labels), key="topics_pick")
            convs = ui.q(topics_q.topic_conversations, labels[pick], month)
            if convs is not None:
                ui.drill_table(convs.with_columns(open=pl.lit("/conversation?id=")
                                                  + pl.col("conversation_id")),
                               f"topic-{labels[pick]}-{month}", label="Conversations",
                               expanded=True)
            st.subheader("Promote to an intent")
            name = st.text_input("New intent name (lowercase, e.g. add_baggage)",
                                 key="topics_intent")
            examples = None
            if name:
                try:
                    check_intent_name(name)
                    examples = ui.q(topics_q.topic_examples, labels[pick], name)
                except InputError as exc:
                    st.error(str(exc))
            if examples is not None:
                st.download_button(f"Download {examples.height} examples (text,intent)",
                                   ui.to_csv(examples),
                                   file_name=f"intent-{name}.csv", mime="text/csv",
                                   key="topics_promote")
                st.caption(f"Then: `tierlens train-intents intent-{name}.csv` (with your "
                           "existing taxonomy's examples).")
