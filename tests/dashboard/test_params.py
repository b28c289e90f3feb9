"""Bad values in a shared link (st.query_params) never break a page: one-line warnings only,
no traceback, no SQL, no server paths. Also: a corrupt review store gives one line."""

from __future__ import annotations

import pytest
from conftest import APP, PAGES, ROLE_USERS
from streamlit.testing.v1 import AppTest

from tierlens.dashboard import auth, params
from tierlens.dashboard.queries import Filters

LEAKS = ("SELECT", "Traceback", "duckdb", "/tmp", "site-packages", ".py")


def test_qa_filters_keep_good_values_and_drop_bad_ones_with_a_reason():
    good = {"date_from": "2026-10-01", "date_to": "2026-10-31", "tier": "ai", "queue": "billing",
            "qa_min": "40", "qa_max": "90.5", "red_flag": "true", "sentiment": "negative"}
    f, problems = params.qa_filters(good)
    assert problems == [] and f == Filters(date_from="2026-10-01", date_to="2026-10-31",
                                           tier="ai", queue="billing", qa_min=40.0,
                                           qa_max=90.5, red_flag=True, sentiment="negative")
    f, problems = params.qa_filters({
        "date_from": "2026-13-45", "date_to": "'; DROP TABLE x; --", "tier": "robots",
        "qa_min": "nan", "qa_max": "1e9", "red_flag": "maybe", "sentiment": "meh",
        "agent": "a" * 500, "queue": "bill\x00ing"})
    assert f == Filters()
    assert problems[0] == ("Ignored date_from='2026-13-45' from the link: not a date "
                           "(YYYY-MM-DD).")
    assert len(problems) == 9 and all(p.startswith("Ignored ") for p in problems)
    _, problems = params.qa_filters({"date_from": "2026-10-31", "date_to": "2026-10-01"})
    assert problems == ["Ignored date_to='2026-10-01' from the link: before date_from."]


def test_month_and_choice_checks():
    assert params.month("month", "2026-10", ["2026-10"]) == ("2026-10", None)
    assert params.month("month", "2026-1O", ["2026-10"])[1].endswith("not a month (YYYY-MM).")
    assert params.choice("severity", "huge", ("critical", "major"))[1] == (
        "Ignored severity='huge' from the link: not one of critical, major.")


def _page(page: str, role: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state[auth.SESSION_KEY] = ROLE_USERS[role]
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page == auth.pages_for(ROLE_USERS[role]["role"])[0]:
        return at  # the landing page: the link is read on this first run
    return at.switch_page(str(PAGES / f"{page}.py")).run()


def _all_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "error", "warning",
                                               "success", "title", "subheader", "exception")
                     for e in at.get(kind) if hasattr(e, "value"))


@pytest.mark.parametrize(("page", "role", "query", "warning"), [
    ("qa", "qa_manager", {"date_from": "2026-13-45"},
     "Ignored date_from='2026-13-45' from the link: not a date (YYYY-MM-DD)."),
    ("qa", "qa_manager", {"date_to": "yesterday", "qa_min": "abc"},
     "Ignored date_to='yesterday' from the link: not a date (YYYY-MM-DD)."),
    ("executive", "executive", {"month": "2026-99"},
     "Ignored month='2026-99' from the link: not one of"),
    ("compliance", "compliance", {"severity": "apocalyptic"},
     "Ignored severity='apocalyptic' from the link: not one of critical, major, minor."),
    ("conversation", "qa_manager", {"id": "x" * 5000},
     "Ignored id='xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' from the link: not a valid value"),
])
def test_a_bad_link_gives_a_warning_not_a_crash(scored_env, page, role, query, warning):
    at = _page(page, role, query)
    assert not at.exception, ["\n".join(e.stack_trace) for e in at.exception]
    assert not [e.value for e in at.error]
    assert any(w.value.startswith(warning) for w in at.warning), [w.value for w in at.warning]
    text = _all_text(at)
    assert not [leak for leak in LEAKS if leak in text], text


def test_a_typed_bad_date_is_ignored_with_a_warning(scored_env):
    at = _page("qa", "qa_manager", {})
    at.text_input(key="qa_f_from").input("2026-02-30").run()
    assert not at.exception and not at.error
    assert [w.value for w in at.warning] == [
        "From: '2026-02-30' is not a date (YYYY-MM-DD); ignored."]


def test_a_corrupt_review_store_gives_one_line_on_the_page(scored_env, tmp_path, monkeypatch):
    from tierlens.settings import get_settings

    store = tmp_path / "reviews" / "reviews.sqlite"
    store.parent.mkdir()
    store.write_bytes(b"garbage, not SQLite " * 300)
    monkeypatch.setenv("TIERLENS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    at = _page("compliance", "compliance", {})
    assert not at.exception, ["\n".join(e.stack_trace) for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "`tierlens audit verify`" in errors[0]
    assert "\n" not in errors[0] and str(tmp_path) not in _all_text(at)


def test_a_query_that_fails_anyway_shows_one_line_without_sql(scored_env, tmp_path):
    """The last net under every page: a DuckDB error in a query becomes one line.
    (A script file, not AppTest.from_function: that one leaves a __main__ behind which
    breaks later spawn-based multiprocessing tests.)"""
    script = tmp_path / "script.py"
    script.write_text("from tierlens.dashboard import context, ui\n"
                      "from tierlens.dashboard.queries import Filters\n"
                      "from tierlens.dashboard.queries import qa as qa_q\n"
                      "from tierlens.settings import get_settings\n"
                      "context.begin_run(get_settings())  # as the app does\n"
                      "ui.q(qa_q.filtered_count, Filters(date_from='2026-13-45'))  # no validation\n")
    at = AppTest.from_file(str(script), default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This view couldn't be loaded: its query failed. The details are in the server log."]
