"""AppTests of what the pages say: formatted KPIs, charts, evidence, the review form."""

from __future__ import annotations

import duckdb
from conftest import APP, PAGES, ROLE_USERS
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from tierlens.dashboard import auth
from tierlens.metrics.catalogue import kpi_info


def _open(role: str, page: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state[auth.SESSION_KEY] = ROLE_USERS[role]
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(str(PAGES / f"{page}.py"))
    return at.run()


def _charts(at: AppTest) -> list:
    return [e for e in at.get("arrow_vega_lite_chart")] + [e for e in at.get("vega_lite_chart")]


def test_executive_page_tells_the_story_in_formatted_labelled_kpis(scored_env):
    at = _open("executive", "executive")
    assert not at.exception, [e.message for e in at.exception]
    names = set(kpi_info())
    labels = [m.label for m in at.metric]
    assert labels and not [lb for lb in labels if lb in names or "_" in lb], labels
    # a rate reads as a percentage; the escalation headline is there with its label
    assert any(m.value.endswith("%") for m in at.metric), [m.value for m in at.metric]
    text = "\n".join(m.value for m in at.markdown)
    assert "**Escalation rate**" in text and "**Durable containment**" not in text  # not computed
    # escalation (the first headline computed here) is lower-is-better: a fall is green
    green, red = Metric.MetricColor.GREEN, Metric.MetricColor.RED
    for m in at.metric[:2]:
        assert m.proto.color == (green if m.delta.startswith("-") else red), (m.label, m.delta)
    csat = at.metric[2]  # higher is better: a rise is green
    assert csat.proto.color == (green if csat.delta.startswith("+") else red)
    assert _charts(at), "a trend chart is drawn"
    table = [df.value for df in at.dataframe if "KPI" in df.value.columns]
    assert table and "Raw containment" in set(table[0]["KPI"])
    assert not names & set(table[0]["KPI"])
    assert any(str(v).endswith("%") for v in table[0]["AI tier"])


def _conversation(con, sql: str) -> str:
    return con.execute(sql).fetchone()[0]


def test_review_form_starts_unanswered_and_names_what_is_missing(scored_env, scored_root):
    from tierlens.metrics.scorecard import load_scorecard
    from tierlens.reviews import store as reviews

    store = scored_root / "data" / "reviews" / "reviews.sqlite"
    with duckdb.connect(str(scored_root / "serving" / "serving.duckdb"), read_only=True) as con:
        cid = _conversation(con, "SELECT conversation_id FROM conversations ORDER BY 1 DESC LIMIT 1")
    at = _open("qa_manager", "conversation", id=cid)
    names = [cr.name for cr in load_scorecard().criteria]
    assert [at.radio(key=f"rv_{n}").value for n in names] == [None] * len(names)
    before = reviews.reviews(store).height if store.exists() else 0
    at.radio(key=f"rv_{names[0]}").set_value("met")
    at.button(key="FormSubmitter:review-Save review").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "unanswered: " + ", ".join(names[1:]) in errors[0], errors
    assert (reviews.reviews(store).height if store.exists() else 0) == before


def test_bot_and_agent_turns_carry_no_customer_sentiment(scored_env, scored_root):
    with duckdb.connect(str(scored_root / "serving" / "serving.duckdb"), read_only=True) as con:
        cid = _conversation(con, """SELECT conversation_id FROM turns GROUP BY 1
            HAVING count_if(speaker = 'bot' AND sentiment_label IS NOT NULL) > 0
               AND count_if(speaker = 'customer' AND sentiment_label IS NOT NULL) > 1
            ORDER BY 1 LIMIT 1""")
    at = _open("qa_manager", "conversation", id=cid)
    assert not at.exception, [e.message for e in at.exception]
    captions = [c.value for c in at.caption if c.value.startswith("#")]
    bot = [c for c in captions if c.split(" · ")[1] in ("bot", "agent")]
    customer = [c for c in captions if c.split(" · ")[1] == "customer"]
    assert bot and not [c for c in bot if "sentiment" in c], bot
    assert any("customer sentiment:" in c for c in customer), customer
    assert _charts(at), "the customer's sentiment timeline"
    # long labels are no longer cut in narrow metric cards
    assert not at.metric and any("**First queue:**" in m.value for m in at.markdown)


def test_escalation_trigger_is_marked_in_the_transcript(scored_env, scored_root):
    with duckdb.connect(str(scored_root / "serving" / "serving.duckdb"), read_only=True) as con:
        cid = _conversation(con, "SELECT conversation_id FROM turns WHERE event = 'handoff' "
                                 "ORDER BY 1 LIMIT 1")
    at = _open("qa_manager", "conversation", id=cid)
    assert any("escalation trigger" in m.value for m in at.markdown)


def test_qa_coaching_view_per_agent(scored_env):
    at = _open("qa_manager", "qa")
    assert not at.exception, [e.message for e in at.exception]
    agents = at.selectbox(key="qa_coach_who").options
    assert agents
    at.selectbox(key="qa_coach_who").select(agents[0]).run()
    assert not at.exception, [e.message for e in at.exception]
    crit = [df.value for df in at.dataframe if "team_met_rate" in df.value.columns]
    assert crit and list(crit[0]["met_rate"]) == sorted(crit[0]["met_rate"])  # weakest first
    assert any("conversation_id" in df.value.columns and "open" in df.value.columns
               and len(df.value) <= 5 for df in at.dataframe)
    exports = [e.label for e in at.expander]
    assert any(lb.startswith("Export the criteria") for lb in exports), exports
    at.radio(key="qa_coach_kind").set_value("Bot version").run()
    assert not at.exception
    bots = at.selectbox(key="qa_coach_who").options
    at.selectbox(key="qa_coach_who").select(bots[0]).run()
    assert not at.exception and _charts(at)


def test_compliance_evidence_shows_the_turns_before_and_after(scored_env):
    at = _open("compliance", "compliance")
    assert not at.exception, [e.message for e in at.exception]
    captions = [c.value for c in at.caption if c.value.startswith("#")]
    assert any(c.endswith("evidence turn") for c in captions), captions
    assert any("before the evidence" in c or "after the evidence" in c for c in captions)
    assert any("<mark" in m.value for m in at.markdown)
    n = len(captions)
    at.slider(key="cp_around").set_value(5).run()
    assert len([c for c in at.caption if c.value.startswith("#")]) >= n
