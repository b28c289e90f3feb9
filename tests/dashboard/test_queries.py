"""Queries against a real published snapshot, and the pure helpers (no Streamlit)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierlens.dashboard import report
from tierlens.dashboard.auth import PAGE_ACCESS, ROLES, authenticate, load_users
from tierlens.dashboard.queries import Filters, NotComputed, open_snapshot
from tierlens.dashboard.queries import compliance as compliance_q
from tierlens.dashboard.queries import executive as executive_q
from tierlens.dashboard.queries import qa as qa_q
from tierlens.dashboard.queries import routing as routing_q
from tierlens.dashboard.queries.base import SEVERITY_RANK, people
from tierlens.dashboard.queries.filters import base_sql
from tierlens.dashboard.throttle import Throttle
from tierlens.dashboard.ui import evidence_span, highlight
from tierlens.reviews import store as reviews
from tierlens.settings import Settings


def _snap(root):
    return root / "serving" / "serving.duckdb"


def test_red_flag_queue_orders_by_severity_then_newest(scored_root):
    with open_snapshot(_snap(scored_root)) as con:
        q = compliance_q.red_flag_queue(con)
    assert q.height > 0
    rank = q["severity"].replace_strict(SEVERITY_RANK, return_dtype=pl.Int8)
    assert rank.is_sorted()
    for sev in q["severity"].unique():
        ts = q.filter(pl.col("severity") == sev)["started_at"]
        assert ts.is_sorted(descending=True)


def test_with_dispositions_attaches_latest(scored_root, tmp_path):
    store = tmp_path / "r.sqlite"
    with open_snapshot(_snap(scored_root)) as con:
        q = compliance_q.red_flag_queue(con)
    first = q.row(0, named=True)
    reviews.record_disposition(store, first["conversation_id"], first["rule_id"],
                               first["turn_index"], "dismissed", "false positive", "comp", settings=Settings())
    reviews.record_disposition(store, first["conversation_id"], first["rule_id"],
                               first["turn_index"], "confirmed", "on second look, real", "comp", settings=Settings())
    out = compliance_q.with_dispositions(q, reviews.latest_dispositions(store))
    assert out.height == q.height
    hit = out.filter(pl.col("disposition").is_not_null())
    assert hit.height == 1 and hit["disposition"][0] == "confirmed"


def test_filters_narrow_and_count(scored_root):
    with open_snapshot(_snap(scored_root)) as con:
        total = qa_q.filtered_count(con, Filters())
        ai = qa_q.filtered_count(con, Filters(tier="ai"))
        human = qa_q.filtered_count(con, Filters(tier="human"))
        n_conv = con.execute("SELECT count(*) FROM conversations WHERE tier_path IS NOT NULL"
                             ).fetchone()[0]
        red = qa_q.conversation_list(con, Filters(red_flag=True), 10_000)
        low = qa_q.conversation_list(con, Filters(qa_max=20), 10_000)
    assert ai + human == n_conv and 0 < ai < total
    assert red.height > 0 and red["red_flag"].all()
    assert low.height > 0 and (low["qa_score"] <= 20).all()


def test_missing_tables_raise_not_computed(bare_root):
    with open_snapshot(_snap(bare_root)) as con:
        # the pipeline may publish unscored (all-NULL) or empty tables: both read as not computed
        for fn in (routing_q.escalation_reasons, routing_q.handoff_histogram):
            with pytest.raises(NotComputed, match="not computed yet"):
                fn(con)
        try:
            assert executive_q.kpi_months(con) == []
        except NotComputed:
            pass
        with pytest.raises(NotComputed):
            qa_q.filtered_count(con, Filters(red_flag=True))  # needs scores
        assert qa_q.filtered_count(con, Filters()) > 0  # ingest tables are enough
    with (pytest.raises(NotComputed, match="serving snapshot"),
          open_snapshot(bare_root / "nowhere.duckdb")):
        pass


@given(st.builds(Filters, tier=st.sampled_from([None, "ai", "human"]),
                 queue=st.one_of(st.none(), st.text(min_size=1, max_size=8)),
                 qa_min=st.one_of(st.none(), st.floats(0, 100)),
                 red_flag=st.one_of(st.none(), st.booleans())))
def test_filters_round_trip_through_query_params(f):
    assert Filters.from_params(f.to_params()) == f


def test_highlight_escapes_and_marks():
    out = highlight("card <b>1234</b> here", [(5, 16, "pii <x>")])
    assert out == 'card <mark title="pii &lt;x&gt;">&lt;b&gt;1234&lt;/b&gt;</mark> here'
    # overlapping and out-of-range spans are clipped, text never lost
    assert highlight("abcdef", [(1, 4, "a"), (2, 10, "b")]).replace("<mark title=\"a\">", "") \
        .replace("<mark title=\"b\">", "").replace("</mark>", "") == "abcdef"


def test_evidence_of_a_missed_card_shows_the_placeholder_not_the_digits():
    text = "my card is 4111 1111 1111 1111 ok"
    flag = {"span_start": 11, "span_end": 30, "matched_text": "[CARD]"}
    out = highlight(text, [evidence_span(flag, "pii_card (critical)")])
    assert out == 'my card is <mark title="pii_card (critical)">[CARD]</mark> ok'
    # evidence that is not a PII placeholder is highlighted as it stands
    phrase = {"span_start": 0, "span_end": 7, "matched_text": "my card"}
    assert "<mark title=\"r\">my card</mark>" in highlight(text, [evidence_span(phrase, "r")])


def test_report_html_and_pdf():
    kpis = pl.DataFrame({"tier": ["ai", "all"], "kpi": ["containment_raw", "csat_mean"],
                         "value": [0.61, 4.1], "numerator": [61.0, 410.0],
                         "denominator": [100, 100], "prev_month": ["2026-09", None],
                         "prev_value": [0.5, None], "mom_change": [0.11, None]})
    html = report.monthly_html("2026-10", kpis)
    # labels and formats from the KPI catalogue; an unknown KPI keeps its name
    assert "2026-10" in html and "Raw containment" in html and "61.0%" in html
    assert "+11.0 pp" in html and "csat_mean" in html and "containment_raw" not in html
    pdf = report.monthly_pdf("2026-10", kpis)
    assert pdf[:5] == b"%PDF-" and len(pdf) > 1000


def test_demo_users_file_has_one_user_per_role_and_passwords_work(tmp_path):
    users_file = Settings().users_file  # the demo file the defaults point at
    users = load_users(users_file)
    assert sorted(u["role"] for u in users.values()) == sorted(ROLES)
    throttle = Throttle(tmp_path / "logins.sqlite")
    assert authenticate("exec", "exec-demo", users_file, throttle=throttle).role == "executive"
    assert authenticate("exec", "qa-demo", users_file, throttle=throttle) is None
    assert authenticate("nobody", "x", users_file, throttle=throttle) is None
    assert set(PAGE_ACCESS["compliance"]) == {"compliance", "admin"}
    assert "executive" not in {r for p in ("qa", "conversation", "review_queue")
                               for r in PAGE_ACCESS[p]}


def test_report_shows_interval_and_verification():
    from tierlens.metrics.trust import with_verification

    kpis = with_verification(pl.DataFrame({
        "tier": ["ai", "ai", "ai"], "kpi": ["fcr", "abandonment_rate", "escalation_rate"],
        "value": [0.70, 0.05, 0.2], "numerator": [70.0, 5.0, 20.0], "denominator": [100] * 3,
        "prev_month": [None] * 3, "prev_value": [None] * 3, "mom_change": [None] * 3,
        "value_corrected": [0.64, None, 0.2], "ci_low": [0.60, None, 0.2],
        "ci_high": [0.68, None, 0.2], "n_reviewed": [40, 0, None]},
        schema_overrides={"prev_month": pl.String, "prev_value": pl.Float64,
                          "mom_change": pl.Float64}))
    assert kpis["verification"].to_list() == ["verified by 40 reviews, ±4.0 pts", "unverified",
                                              "structural"]
    html = report.monthly_html("2026-10", kpis)
    assert "64.0% [60.0%, 68.0%]" in html and "verified by 40 reviews" in html
    assert "First-contact resolution" in html
    assert "unverified" in html
    from tierlens.dashboard import kpi_view
    from tierlens.metrics.catalogue import kpi_info

    texts = [kpi_view.trust_text(r, kpi_info().get(r["kpi"])) for r in kpis.to_dicts()]
    assert texts == ["verified by 40 reviews, ±4.0 pts; corrected 64.0% [60.0%, 68.0%]",
                     "unverified", "structural"]
    pdf = report.monthly_pdf("2026-10", kpis)
    assert pdf[:5] == b"%PDF-"


def test_kpi_view_comparison_and_metric_args():
    from tierlens.dashboard import kpi_view
    from tierlens.metrics.catalogue import kpi_info

    info = kpi_info()
    table = pl.DataFrame({"tier": ["ai", "human", "all"], "kpi": ["aht_seconds"] * 3,
                          "value": [40.0, 300.0, 170.0], "numerator": [400.0, 3000.0, 3400.0],
                          "denominator": [10, 10, 20], "prev_month": ["2026-09"] * 3,
                          "mom_change": [1.0, -20.0, -9.5]})
    cmp = kpi_view.comparison(table, info).row(0, named=True)
    assert (cmp["KPI"], cmp["AI tier"], cmp["Human tier"], cmp["Change (all)"],
            cmp["Better"]) == ("Handle time (AHT)", "40 s", "300 s", "-9.5 s", "lower")
    args = kpi_view.metric_args(table.row(1, named=True), info["aht_seconds"])
    assert args["value"] == "300 s" and args["delta"] == "-20 s vs 2026-09"
    assert args["delta_color"] == "inverse" and "handle time" in args["help"]


def test_leaderboard_reads_who_spoke_from_conversation_agents(scored_root):
    """The published ``conversation_agents`` replaces a scan of the turns: same counts."""
    with open_snapshot(_snap(scored_root)) as con:
        assert people(con) == "conversation_agents"
        board = qa_q.leaderboard(con, Filters(), "agent")
        one = qa_q.filtered_count(con, Filters(agent=board["agent_id"][0]))
        from_turns = dict(con.execute(
            "SELECT agent_id, count(DISTINCT conversation_id) FROM turns "
            "WHERE speaker = 'agent' AND agent_id IS NOT NULL GROUP BY 1").fetchall())
    assert board.height > 1
    assert dict(zip(board["agent_id"], board["conversations"], strict=True)) == from_turns
    assert one == from_turns[board["agent_id"][0]]


@pytest.mark.parametrize("f", [Filters(), Filters(red_flag=False), Filters(tier="ai")])
def test_worst_first_list_matches_a_plain_sort(scored_root, f):
    """The top-N shortcut (cut on the scores before the join) returns the plain sort's rows."""
    with open_snapshot(_snap(scored_root)) as con:
        got = qa_q.conversation_list(con, f, 7)
        frm, p, _ = base_sql(con, f)
        want = con.execute(f"SELECT c.conversation_id {frm} ORDER BY s.qa_score ASC NULLS LAST, "
                           "c.started_at DESC, c.conversation_id LIMIT 7", p).fetchall()
    assert got["conversation_id"].to_list() == [r[0] for r in want]
