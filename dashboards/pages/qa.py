"""QA: auto-score distributions, filters (shareable via the URL), leaderboards, calibration."""

from dataclasses import replace

import altair as alt
import polars as pl
import streamlit as st

from tierlens.dashboard import auth, params, ui
from tierlens.dashboard.queries import Filters
from tierlens.dashboard.queries import qa as qa_q
from tierlens.metrics.scorecard import agreement, human_criteria_scores, latest_reviews, total_pairs
from tierlens.reviews import store as reviews

auth.guard("qa")
st.title("QA")

current, problems = params.qa_filters(st.query_params.to_dict())
ui.warn(problems)
opts = ui.q(qa_q.filter_options) or {}


def pick(label: str, key: str, options: list[str]) -> str | None:
    choices = ["(any)", *options]
    value = getattr(current, key)
    chosen = st.selectbox(label, choices, index=choices.index(value) if value in choices else 0,
                          key=f"qa_f_{key}")
    return None if chosen == "(any)" else chosen


with st.expander("Filters (saved in the link)", expanded=True):
    c = st.columns(4)
    with c[0]:
        date_from = st.text_input("From (YYYY-MM-DD)", current.date_from or "", key="qa_f_from")
        date_to = st.text_input("To (YYYY-MM-DD)", current.date_to or "", key="qa_f_to")
        tier = pick("Tier", "tier", ["ai", "human"])
    with c[1]:
        queue = pick("Queue", "queue", opts.get("queue", []))
        agent = pick("Agent", "agent", opts.get("agent", []))
        bot_version = pick("Bot version", "bot_version", opts.get("bot_version", []))
    with c[2]:
        intent = pick("Intent", "intent", opts.get("intent", []))
        sentiment = pick("Sentiment at end", "sentiment", ["negative", "neutral", "positive"])
        resolution = pick("Resolution", "resolution", opts.get("resolution", []))
    with c[3]:
        qa_min = st.number_input("QA score min", 0.0, 100.0, current.qa_min or 0.0, key="qa_f_min")
        qa_max = st.number_input("QA score max", 0.0, 100.0, current.qa_max if current.qa_max
                                 is not None else 100.0, key="qa_f_max")
        rf = {"(any)": None, "red flag": True, "no red flag": False}
        red = st.selectbox("Red flag", list(rf), index=[None, True, False].index(current.red_flag),
                           key="qa_f_red")
for label, typed in (("From", date_from), ("To", date_to)):
    if typed and params.parse_date(typed.strip()) is None:
        st.warning(f"{label}: {typed[:40]!r} is not a date (YYYY-MM-DD); ignored.")
date_from, date_to = ((d.strip() if d and params.parse_date(d.strip()) else None)
                      for d in (date_from, date_to))
if date_from and date_to and date_from > date_to:
    st.warning("To is before From; ignored.")
    date_to = None
filters = Filters(date_from=date_from or None, date_to=date_to or None, tier=tier, queue=queue,
                  agent=agent, bot_version=bot_version, intent=intent, sentiment=sentiment,
                  resolution=resolution, qa_min=qa_min or None,
                  qa_max=None if qa_max >= 100.0 else qa_max, red_flag=rf[red])
if problems or filters.to_params() != current.to_params():  # drop bad values from the link
    st.query_params.from_dict(filters.to_params())

n = ui.q(qa_q.filtered_count, filters)
if n is not None:
    st.metric("Conversations matching", f"{n:,}")

tab_dist, tab_lead, tab_coach, tab_list, tab_cal = st.tabs(
    ["Distributions", "Leaderboards", "Coaching", "Conversations", "Calibration"])
with tab_dist:
    dist = ui.q(qa_q.score_distribution, filters)
    if dist is not None:
        st.caption("Auto QA score (10-point bins)")
        st.bar_chart(dist, x="qa_bin", y="conversations")
        ui.drill_table(dist, "qa-score-distribution")
    res = ui.q(qa_q.resolution_distribution, filters)
    if res is not None:
        st.caption("Resolution")
        st.bar_chart(res, x="resolution", y="conversations")
        ui.drill_table(res, "resolution-distribution")
    ui.drill_on_demand("Show the conversations behind these charts", "qa-conversations",
                       qa_q.conversation_list, filters, 1000)
with tab_lead:
    st.caption("Agents")
    ui.drill_table(ui.q(qa_q.leaderboard, filters, "agent"), "agent-leaderboard",
                   label="Agent leaderboard", expanded=True)
    st.caption("Bot versions")
    ui.drill_table(ui.q(qa_q.leaderboard, filters, "bot"), "bot-leaderboard",
                   label="Bot version leaderboard", expanded=True)
with tab_coach:
    kind = st.radio("Coach", ["Agent", "Bot version"], horizontal=True, key="qa_coach_kind")
    field = "agent" if kind == "Agent" else "bot_version"
    who = st.selectbox(kind, opts.get(field, []), index=None, placeholder=f"Pick a {kind.lower()}",
                       key="qa_coach_who")
    if who:
        subject = replace(filters, **{field: who})
        team = replace(filters, agent=None, bot_version=None)
        trend = ui.q(qa_q.coach_trend, subject)
        if trend is not None and not trend.is_empty():
            st.caption(f"Mean QA score of {who} per month (under the filters above)")
            st.altair_chart(alt.Chart(trend.to_pandas()).mark_line(point=True).encode(
                x=alt.X("month:O", title=None),
                y=alt.Y("qa_score_mean:Q", title="QA score", scale=alt.Scale(domain=[0, 100])),
                tooltip=["month", "conversations", alt.Tooltip("qa_score_mean:Q", format=".1f")]
            ).properties(height=200), width="stretch")
            ui.drill_table(trend, f"coaching-trend-{who}", label="Export the score trend")
        crit = ui.q(qa_q.coach_criteria, subject, team)
        if crit is not None and not crit.is_empty():
            st.caption(f"Weakest criteria of {who} (met rate; team = everyone under the filters)")
            st.dataframe(crit, hide_index=True, width="stretch", column_config={
                c: st.column_config.ProgressColumn(c.replace("_", " "), format="percent",
                                                   min_value=0.0, max_value=1.0)
                for c in ("met_rate", "team_met_rate")})
            weakest = crit["criterion"][0]
            examples = ui.q(qa_q.coach_examples, subject, weakest, 5)
            if examples is not None:
                st.caption(f"Example conversations that missed {weakest}, worst QA score first")
                st.dataframe(examples.with_columns(
                    open=pl.lit("/conversation?id=") + pl.col("conversation_id")),
                    hide_index=True, width="stretch", column_config={
                        "open": st.column_config.LinkColumn("open", display_text="open")})
                ui.drill_table(examples, f"coaching-examples-{who}",
                               label="Export the example conversations")
            ui.drill_table(crit, f"coaching-criteria-{who}", label="Export the criteria")
        elif crit is not None:
            st.info(f"No scored criteria for {who} under these filters.")
with tab_list:
    rows = ui.q(qa_q.conversation_list, filters, 1000)
    if rows is not None:
        st.dataframe(rows.with_columns(open=pl.lit("/conversation?id=") + pl.col("conversation_id")),
                     hide_index=True, width="stretch",
                     column_config={"open": st.column_config.LinkColumn("open", display_text="open")})
with tab_cal:
    events = reviews.reviews(ui.review_store())
    latest = latest_reviews(events, "id") if not events.is_empty() else events
    human = human_criteria_scores(latest)
    if human.is_empty():
        st.info("No human reviews yet: review conversations from the Conversation page.")
    else:
        ids = tuple(human["conversation_id"].unique().sort().to_list())
        auto = ui.q(qa_q.auto_criteria, ids)
        if auto is not None:
            agree = agreement(auto, human)
            st.caption("Auto score vs each reviewer's latest review, per criterion "
                       "(Cohen's kappa)")
            st.dataframe(agree, hide_index=True, width="stretch")
            if not agree.is_empty():
                st.bar_chart(agree, x="criterion", y="cohen_kappa")
        totals = ui.q(qa_q.auto_totals, ids)
        if totals is not None:
            pair = total_pairs(totals, latest)
            st.caption("Total score: auto vs each reviewer's latest review")
            st.metric("Mean |auto - human|", ui.fmt(pair["gap"].mean()))
            ui.drill_table(pair, "calibration-pairs")
