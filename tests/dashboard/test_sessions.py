"""Server-side dashboard sessions: expiry, revocation (logout), no token at rest, and the
login/logout path through the app. The cookie round trip itself (reload, new tab, replay) is
in test_browser.py."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import APP, REPO
from streamlit.testing.v1 import AppTest

from tierlens.dashboard import auth
from tierlens.dashboard.sessions import Session, SessionStore
from tierlens.settings import get_settings

USERS = REPO / "data" / "users.yaml"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> SessionStore:
    return SessionStore(tmp_path / "auth" / "sessions.sqlite", lifetime_seconds=3600,
                        clock=clock)


def test_a_session_resolves_until_it_expires(store, clock):
    s = store.create("qa")
    assert s.expires_at == clock.now + 3600
    clock.now += 3599
    assert store.resolve(s.token) == Session(s.token, "qa", s.expires_at)
    clock.now += 2
    assert store.resolve(s.token) is None


def test_revoked_session_stays_dead_and_others_live(store):
    first, second = store.create("qa"), store.create("qa")
    store.revoke(first.token)
    assert store.resolve(first.token) is None  # a replayed copy logs no one in
    assert store.resolve(second.token) is not None  # another device's login is untouched
    store.revoke(first.token)  # twice, or an unknown token: no error
    store.revoke("no-such-token")
    store.revoke(None)


@pytest.mark.parametrize("token", [None, "", "x", "A" * 43, "A" * 500])
def test_unknown_or_malformed_tokens_resolve_to_nobody(store, token):
    store.create("qa")
    assert store.resolve(token) is None


def test_tokens_are_random_and_never_stored(store):
    tokens = {store.create("admin").token for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 43 for t in tokens)  # 32 random bytes
    raw = b"".join(p.read_bytes() for p in store.path.parent.iterdir())
    assert not any(t.encode() in raw for t in tokens)
    con = sqlite3.connect(store.path)
    assert con.execute("SELECT count(*) FROM sessions WHERE username = 'admin'").fetchone() == (20,)
    con.close()


def test_expired_sessions_are_purged_on_the_next_login(store, clock):
    store.create("qa")
    clock.now += 7200
    store.create("exec")
    con = sqlite3.connect(store.path)
    assert [r[0] for r in con.execute("SELECT username FROM sessions")] == ["exec"]
    con.close()


def test_session_user_reads_the_users_file_now(store, tmp_path):
    s = store.create("compliance")
    user, session = auth.session_user(s.token, store, USERS)
    assert (user.username, user.role, session.token) == ("compliance", "compliance", s.token)
    edited = tmp_path / "users.yaml"  # the role changed, another user removed
    edited.write_text(USERS.read_text().replace("role: compliance", "role: executive"))
    assert auth.session_user(s.token, store, edited)[0].role == "executive"
    gone = store.create("ghost")
    assert auth.session_user(gone.token, store, USERS) is None
    store.revoke(s.token)
    assert auth.session_user(s.token, store, USERS) is None


def _logged_in_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.text_input(key="login_user").input("qa")
    at.text_input(key="login_password").input("qa-demo")
    return at.button[0].click().run()


def test_login_starts_a_session(scored_env):
    at = _logged_in_app()
    session = at.session_state[auth.TOKEN_KEY]
    assert SessionStore.from_settings(get_settings()).resolve(session.token).username == "qa"
    assert "Signed in as **Quinn QA** (qa_manager)" in [c.value for c in at.caption]
    assert [t.value for t in at.title] == ["Monthly KPIs"]


def test_a_session_revoked_elsewhere_logs_this_tab_out(scored_env):
    """A logout in another tab (or the expiry) ends this tab's login at its next run."""
    at = _logged_in_app()
    SessionStore.from_settings(get_settings()).revoke(at.session_state[auth.TOKEN_KEY].token)
    at.run()
    assert [t.value for t in at.title] == ["tierlens"]
    assert auth.TOKEN_KEY not in at.session_state


def test_one_session_store_lookup_per_run(scored_env, monkeypatch):
    """The app resolves the login; the page's guard reuses it instead of opening the session
    store a second time. Logging in opens it twice: to create the session, then once for the
    run that shows the landing page."""
    opened = []
    real = SessionStore._connect
    monkeypatch.setattr(SessionStore, "_connect", lambda self: opened.append(1) or real(self))
    at = _logged_in_app()
    assert [t.value for t in at.title] == ["Monthly KPIs"]
    assert len(opened) == 2
