"""Login: lockout per user name and per client, no user enumeration (timing, long passwords)."""

from __future__ import annotations

import statistics
import time

import bcrypt
import pytest
import yaml
from conftest import PAGES

from tierlens.dashboard import auth
from tierlens.dashboard.auth import PasswordTooLong, authenticate
from tierlens.dashboard.throttle import LoginThrottled, Throttle

COST = 10  # ~50-100 ms a check: big enough to see whether bcrypt ran at all


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    users = {name: {"name": name.title(), "role": role, "password_hash": bcrypt.hashpw(
        pw.encode(), bcrypt.gensalt(rounds=COST)).decode()}
        for name, role, pw in [("ann", "compliance", "right-password"),
                               ("bob", "qa_manager", "bobs-password")]}
    path.write_text(yaml.safe_dump({"users": users}))
    return path


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(tmp_path, clock):
    return Throttle(tmp_path / "logins.sqlite", max_failures=5, lockout_seconds=900, clock=clock)


def _try(users_file, throttle, clock, user, password, client="10.0.0.1"):
    clock.now += 61  # past any backoff (at most 60 s), well inside the lockout window
    return authenticate(user, password, users_file, client=client, throttle=throttle)


def test_right_password_logs_in_and_wrong_one_does_not(users_file, throttle, clock):
    assert _try(users_file, throttle, clock, "ann", "wrong") is None
    user = _try(users_file, throttle, clock, " ann ", "right-password")
    assert (user.username, user.role) == ("ann", "compliance")


def test_locked_out_after_n_failures_even_with_the_right_password(users_file, throttle, clock):
    for _ in range(5):
        assert _try(users_file, throttle, clock, "ann", "guess") is None
    with pytest.raises(LoginThrottled, match=r"Too many failed logins: try again in \d+ minute"):
        _try(users_file, throttle, clock, "ann", "right-password")
    with pytest.raises(LoginThrottled):  # per user: another client doesn't help
        _try(users_file, throttle, clock, "ANN", "right-password", client="10.9.9.9")
    clock.now += 900  # the lockout expires
    assert _try(users_file, throttle, clock, "ann", "right-password").role == "compliance"


def test_one_client_spraying_many_names_is_locked_out(users_file, throttle, clock):
    for name in ("a1", "a2", "a3", "bob", "a5"):
        assert _try(users_file, throttle, clock, name, "guess") is None
    with pytest.raises(LoginThrottled):  # per client: even a real user's right password
        _try(users_file, throttle, clock, "ann", "right-password")
    assert _try(users_file, throttle, clock, "ann", "right-password", client="10.0.0.2")


def test_backoff_between_failures(users_file, throttle, clock):
    for _ in range(3):
        _try(users_file, throttle, clock, "bob", "guess")
    with pytest.raises(LoginThrottled, match=r"try again in 1 second"):
        authenticate("bob", "bobs-password", users_file, client="c", throttle=throttle)
    clock.now += 1.5
    assert authenticate("bob", "bobs-password", users_file, client="c", throttle=throttle)


def test_unknown_and_known_users_take_about_the_same_time(users_file, tmp_path, clock):
    """bcrypt runs on a dummy hash of the same cost for an unknown name (it used to return
    at once: 0.7 ms vs 213 ms). Generous bound: within a factor of 3 of each other."""
    throttle = Throttle(tmp_path / "t.sqlite", max_failures=10_000, clock=clock)
    auth._dummy_hash(COST)  # made once per process; not part of a login's time

    def median(user: str) -> float:
        times = []
        for _ in range(5):
            clock.now += 61  # past the backoff
            t0 = time.perf_counter()
            assert authenticate(user, "wrong", users_file, throttle=throttle) is None
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    known, unknown = median("ann"), median("no-such-user")
    assert known / 3 < unknown < known * 3, (known, unknown)


@pytest.mark.parametrize("user", ["ann", "no-such-user"])
def test_a_password_over_72_bytes_gets_the_same_message_for_everyone(users_file, throttle,
                                                                       clock, user):
    with pytest.raises(PasswordTooLong, match=r"^Passwords are limited to 72 bytes; this one "
                                              r"has 100\.$"):
        _try(users_file, throttle, clock, user, "x" * 100)
    with pytest.raises(PasswordTooLong):
        auth.hash_password("é" * 40)  # 80 bytes of UTF-8
    assert _try(users_file, throttle, clock, user, "x" * 72) is None  # the limit itself is fine


def test_the_dashboard_listens_on_localhost_unless_told(monkeypatch):
    import subprocess

    from typer.testing import CliRunner

    from tierlens.cli import app

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **_kw: calls.append(cmd) or 0)
    runner = CliRunner()
    assert runner.invoke(app, ["dashboard", "--port", "8599"]).exit_code == 0
    assert runner.invoke(app, ["dashboard", "--host", "0.0.0.0"]).exit_code == 0
    opts = [dict(zip(cmd[5::2], cmd[6::2], strict=False)) for cmd in calls]
    assert opts[0]["--server.address"] == "127.0.0.1" and opts[0]["--server.port"] == "8599"
    assert opts[1]["--server.address"] == "0.0.0.0"
    assert all(o["--client.showErrorDetails"] == "none" for o in opts)


def test_login_page_refuses_the_right_password_after_failures(users_file, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tierlens.dashboard import context
    from tierlens.settings import get_settings

    monkeypatch.setenv("TIERLENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIERLENS_USERS_FILE", str(users_file))
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(PAGES / "login.py"), default_timeout=60)
        at.session_state[context.SETTINGS_KEY] = get_settings()  # as the app installs them
        at.run()
        at.text_input(key="login_user").input("ann")
        for password in ["a", "b", "c", "d", "e", "right-password", "x" * 100]:
            at.text_input(key="login_password").input(password)
            at.button[0].click().run()
        errors = [e.value for e in at.error]
        assert not at.exception and auth.SESSION_KEY not in at.session_state
        assert len(errors) == 1 and errors[0].startswith("Too many failed logins: try again in")
    finally:
        get_settings.cache_clear()
