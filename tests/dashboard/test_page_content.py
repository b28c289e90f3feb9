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
