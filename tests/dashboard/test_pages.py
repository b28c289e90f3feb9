"""AppTest for every page and every role, access control, and graceful degradation."""

from __future__ import annotations

import duckdb
import pytest
from conftest import APP, PAGES, ROLE_USERS
from streamlit.testing.v1 import AppTest

from tierlens.dashboard import auth
from tierlens.reviews import store as reviews

TITLES = {"executive": "Monthly KPIs", "qa": "QA", "conversation": "Conversation",
          "review_queue": "Review queue", "compliance": "Compliance",
          "routing": "Routing & escalation", "data_quality": "Data quality",
          "topics": "Topics"}
ALL = [(role, page) for role in auth.ROLES for page in TITLES]


def _app(role: str | None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    if role:
        at.session_state[auth.SESSION_KEY] = ROLE_USERS[role]
    return at.run()


def _open(role: str, page: str) -> AppTest:
    at = _app(role)
    at.switch_page(str(PAGES / f"{page}.py"))
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "info", "error", "warning",
                                       "success", "metric", "title", "subheader")
             for e in at.get(kind) if hasattr(e, "value")]
    return "\n".join(parts)


@pytest.mark.parametrize(("role", "page"), ALL)
def test_every_page_every_role(scored_env, role, page):
    """Allowed: renders its title with no exception. Denied: not even registered in the nav."""
    if auth.can_access(role, page):
        at = _open(role, page)
        assert not at.exception, [e.message for e in at.exception]
        assert [t.value for t in at.title][:1] == [TITLES[page]]
        assert not [e.value for e in at.error]
    else:
        at = _app(role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(str(PAGES / f"{page}.py"))


@pytest.mark.parametrize(("role", "page"), [(r, p) for r, p in ALL if not auth.can_access(r, p)])
def test_denied_page_opened_directly_runs_no_query(scored_env, role, page):
    """Even bypassing the navigation (the page's own URL/script), the guard stops it first."""
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
    at.session_state[auth.SESSION_KEY] = ROLE_USERS[role]
    at.run()
    denied = f"Access denied: the {role} role can't open the {page} page."
    assert [e.value for e in at.error] == [denied]
    assert len(at.dataframe) == 0 and len(at.get("chat_message")) == 0 and not at.title


@pytest.mark.parametrize("page", list(TITLES))
def test_page_without_login_asks_to_log_in(scored_env, page):
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60).run()
    assert [w.value for w in at.warning] == ["Please log in to see this page."]
    assert len(at.dataframe) == 0


def test_login_with_demo_users_file(scored_env):
    at = _app(None)
    assert [t.value for t in at.title] == ["tierlens"]
    at.text_input(key="login_user").input("compliance")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Unknown user or wrong password."]
    at.text_input(key="login_password").input("comp-demo")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state[auth.SESSION_KEY].role == "compliance"
    # The compliance pages are registered only now (the browser test follows the real rerun).
    at.switch_page(str(PAGES / "compliance.py")).run()
    assert [t.value for t in at.title] == ["Compliance"]


def test_executive_sees_no_transcript_text(scored_env, scored_root):
    snap = scored_root / "serving" / "serving.duckdb"
    with duckdb.connect(str(snap), read_only=True) as con:
        texts = [r[0] for r in con.execute(
            "SELECT text FROM turns WHERE length(text) > 25 LIMIT 200").fetchall()]
    at = _open("executive", "executive")
    shown = _texts(at) + "".join(str(df.value) for df in at.dataframe)
    assert len(at.get("chat_message")) == 0
    assert not any(t in shown for t in texts)
    assert all("text" not in df.value.columns for df in at.dataframe)
    assert at.metric, "KPI metrics rendered"


@pytest.mark.parametrize("page", list(TITLES))
def test_pages_degrade_when_scores_missing(bare_env, page):
    """Only ingest tables published: no crash; pages that need scores say so."""
    at = _open("admin", page)
    assert not at.exception, [e.message for e in at.exception]
    if page in ("executive", "compliance", "routing"):
        assert any("not computed yet" in i.value.lower() for i in at.info), [i.value for i in at.info]


def test_qa_filters_live_in_query_params(scored_env):
    at = _app("qa_manager")
    at.switch_page(str(PAGES / "qa.py")).run()
    total = int(at.metric[0].value.replace(",", ""))
    at.selectbox(key="qa_f_tier").select("ai").run()
    assert at.query_params["tier"] in ("ai", ["ai"])
    ai = int(at.metric[0].value.replace(",", ""))
    assert 0 < ai < total
    # A shared link: the filter comes from the URL into the widget.
    at2 = AppTest.from_file(str(APP), default_timeout=90)
    at2.session_state[auth.SESSION_KEY] = ROLE_USERS["qa_manager"]
    at2.query_params["tier"] = "ai"
    at2.run()
    at2.switch_page(str(PAGES / "qa.py")).run()
    assert at2.selectbox(key="qa_f_tier").value == "ai"
    assert int(at2.metric[0].value.replace(",", "")) == ai


def test_conversation_view_highlights_evidence(scored_env, scored_root):
    snap = scored_root / "serving" / "serving.duckdb"
    with duckdb.connect(str(snap), read_only=True) as con:
        cid, matched = con.execute("SELECT conversation_id, matched_text FROM compliance_flags "
                                   "WHERE severity = 'critical' LIMIT 1").fetchone()
    at = _app("qa_manager")
    at.query_params["id"] = cid
    at.switch_page(str(PAGES / "conversation.py")).run()
    assert not at.exception
    assert len(at.get("chat_message")) > 0
    marks = [m.value for m in at.markdown if "<mark" in m.value]
    assert any(matched in m for m in marks)


def test_review_saved_from_conversation_page_feeds_calibration(scored_env, scored_root):
    store = scored_root / "data" / "reviews" / "reviews.sqlite"
    before = reviews.reviews(store).height if store.exists() else 0
    with duckdb.connect(str(scored_root / "serving" / "serving.duckdb"), read_only=True) as con:
        cid = con.execute("SELECT conversation_id FROM conversations ORDER BY 1 LIMIT 1").fetchone()[0]
    at = _app("qa_manager")
    at.query_params["id"] = cid
    at.switch_page(str(PAGES / "conversation.py")).run()
    from tierlens.metrics.scorecard import load_scorecard

    for cr in load_scorecard().criteria:  # the form requires every criterion
        at.radio(key=f"rv_{cr.name}").set_value("met")
    at.radio(key="rv_greeting").set_value("not met")
    at.text_area(key="rv_note").input("greeting missing")
    at.button(key="FormSubmitter:review-Save review").click().run()
    assert not at.exception
    assert reviews.reviews(store).height == before + 1
    at.switch_page(str(PAGES / "qa.py")).run()
    assert not at.exception
    kappa = [df.value for df in at.dataframe if "cohen_kappa" in df.value.columns]
    assert kappa and "greeting" in set(kappa[0]["criterion"])


def test_compliance_disposition_needs_note_and_lands_in_audit_log(scored_env, scored_root):
    store = scored_root / "data" / "reviews" / "reviews.sqlite"
    at = _open("compliance", "compliance")
    n0 = reviews.audit_log(store).height if store.exists() else 0
    at.radio(key="cp_disp").set_value("escalated")
    at.button(key="FormSubmitter:disposition-Save disposition").click().run()
    assert any("a note is required" in e.value for e in at.error)
    assert (reviews.audit_log(store).height if store.exists() else 0) == n0
    at.radio(key="cp_disp").set_value("escalated")
    at.text_area(key="cp_note").input("card number read aloud; sent to the DPO")
    at.button(key="FormSubmitter:disposition-Save disposition").click().run()
    assert any("Disposition saved" in s.value for s in at.success)
    log = reviews.audit_log(store)
    assert log.height == n0 + 1
    assert log["action"][0] == "disposition" and "sent to the DPO" in log["after"][0]
    at.run()
    assert any("intact" in s.value for s in at.success)
    audit = [df.value for df in at.dataframe if "prev_hash" in df.value.columns]
    assert audit and "sent to the DPO" in str(audit[0]["after"].iloc[0])


def test_routing_drill_down_shows_the_rows_behind_the_bar(scored_env, scored_root):
    with duckdb.connect(str(scored_root / "serving" / "serving.duckdb"), read_only=True) as con:
        reason, n = con.execute("SELECT escalation_reason, count(*) FROM conversation_scores "
                                "WHERE escalated GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    at = _open("qa_manager", "routing")
    def drills():
        return [d.value for d in at.dataframe if "conversation_id" in d.value.columns]

    assert drills() == []
    at.selectbox(key="rt_reason").select(reason).run()
    at.toggle(key=f"drill-escalated-{reason}").set_value(True).run()
    assert not at.exception
    assert len(drills()) == 1 and len(drills()[0]) == min(n, 1000)
