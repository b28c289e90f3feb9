"""The compliance page's audit check: cached until the review store changes."""

from __future__ import annotations

from conftest import APP, PAGES, ROLE_USERS
from streamlit.testing.v1 import AppTest

from tierlens.reviews import audit
from tierlens.reviews import store as reviews


def test_compliance_page_checks_the_chain_again_only_after_a_change(scored_env, monkeypatch):
    """A rerun (a widget change) reuses the verdict; a new disposition is checked again."""
    from tierlens.dashboard import auth
    from tierlens.dashboard import ui as dashboard_ui
    from tierlens.settings import get_settings

    calls = []
    real = audit.verify
    monkeypatch.setattr(audit, "verify", lambda *a, **k: calls.append(1) or real(*a, **k))
    dashboard_ui._verify.clear()
    store = reviews.default_path(get_settings())
    reviews.record_disposition(store, "c-x", "rule", 1, "dismissed", "seen", "comp",
                               settings=get_settings())
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state[auth.SESSION_KEY] = ROLE_USERS["compliance"]
    at.run()
    at.switch_page(str(PAGES / "compliance.py")).run()
    at.run()
    assert not at.exception and len(calls) == 1
    assert any("Audit chain verified" in s.value for s in at.success)
    reviews.record_disposition(store, "c-x", "rule", 1, "confirmed", "real", "comp",
                               settings=get_settings())
    at.run()
    assert len(calls) == 2
