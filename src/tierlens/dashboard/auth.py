"""Login, roles and the page access matrix.

On the embedded default, users come from a YAML file with bcrypt password hashes
(``data/users.yaml``; see docs/dashboard.md for the format and for OIDC with ``st.login``).
Every page calls :func:`guard` first: a user whose role lacks the page gets an
"access denied" message and the script stops before any query runs, even when the page
is opened by URL or the navigation is bypassed.

Logging in is throttled per user name and per client (:mod:`tierlens.dashboard.throttle`),
and takes the same path for known and unknown user names: bcrypt runs on a dummy hash of the
same cost when the name is unknown, and a password over bcrypt's 72-byte limit gets the same
one-line refusal whoever it is for, so neither timing nor errors tell who exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from tierlens.dashboard.sessions import COOKIE_NAME, Session, SessionStore
from tierlens.dashboard.throttle import Throttle, keys_for
from tierlens.errors import ConfigError, TierlensError
from tierlens.settings import Settings

ROLES = ("executive", "qa_manager", "compliance", "admin")

# page key -> roles allowed. Executives see aggregates only (no transcript text).
PAGE_ACCESS: dict[str, frozenset[str]] = {
    "executive": frozenset({"executive", "qa_manager", "compliance", "admin"}),
    "qa": frozenset({"qa_manager", "admin"}),
    "conversation": frozenset({"qa_manager", "compliance", "admin"}),
    "review_queue": frozenset({"qa_manager", "admin"}),
    "compliance": frozenset({"compliance", "admin"}),
    "routing": frozenset({"qa_manager", "compliance", "admin"}),
    "data_quality": frozenset({"qa_manager", "admin"}),
    "topics": frozenset({"executive", "qa_manager", "admin"}),
}

SESSION_KEY = "tierlens_user"
TOKEN_KEY = "tierlens_session"  # the Session behind this tab's login (its cookie's token)
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (and bcrypt >= 5 refuses longer input)


class PasswordTooLong(TierlensError):
    """A password longer than bcrypt can check; refused the same way for every user name."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str

    def can(self, page: str) -> bool:
        return can_access(self.role, page)


def can_access(role: str | None, page: str) -> bool:
    """True when ``role`` may open ``page`` (unknown pages: nobody)."""
    return role is not None and role in PAGE_ACCESS.get(page, frozenset())


def pages_for(role: str) -> list[str]:
    return [p for p, roles in PAGE_ACCESS.items() if role in roles]


def _password_bytes(password: str) -> bytes:
    raw = (password or "").encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"Passwords are limited to {MAX_PASSWORD_BYTES} bytes; this one "
                              f"has {len(raw)}.")
    return raw


def hash_password(password: str) -> str:
    """A bcrypt hash for the users file (at most 72 bytes of UTF-8, else PasswordTooLong)."""
    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt()).decode("ascii")


@lru_cache(maxsize=8)
def _dummy_hash(cost: int) -> bytes:
    """A hash no password matches in practice, checked when the user name is unknown."""
    return bcrypt.hashpw(b"tierlens: no such user", bcrypt.gensalt(rounds=cost))


def _cost(users: dict[str, dict[str, Any]]) -> int:
    """The highest bcrypt cost among the users' hashes (``$2b$12$...`` -> 12)."""
    costs = []
    for entry in users.values():
        parts = entry["password_hash"].split("$")
        if len(parts) > 2 and parts[2].isdigit():
            costs.append(int(parts[2]))
    return min(max(costs, default=12), 31)


def load_users(path: Path | str) -> dict[str, dict[str, Any]]:
    """Read and validate the users file (``settings.users_file``):
    ``users: {username: {name, role, password_hash}}``."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: users file not found; copy data/users.yaml and edit it") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    users = (doc or {}).get("users")
    if not isinstance(users, dict) or not users:
        raise ConfigError(f"{path}: needs a top-level `users:` mapping of username -> entry")
    for name, entry in users.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: user {name!r} must be a mapping")
        if entry.get("role") not in ROLES:
            raise ConfigError(f"{path}: user {name!r} has role {entry.get('role')!r}; "
                              f"use one of {', '.join(ROLES)}")
        h = entry.get("password_hash")
        if not isinstance(h, str) or not h.startswith("$2"):
            raise ConfigError(f"{path}: user {name!r} needs a bcrypt `password_hash` "
                              "(make one with `python -m tierlens.dashboard.auth PASSWORD`)")
    return users


def authenticate(username: str, password: str, path: Path | str, *, client: str | None = None,
                 throttle: Throttle) -> User | None:
    """The user when the password matches its bcrypt hash, else None.

    Raises :class:`LoginThrottled` while the user name or the client is backing off or
    locked out (even for the right password), and :class:`PasswordTooLong` for a password
    over 72 bytes. Both, and the bcrypt work, are the same for known and unknown names.
    """
    users = load_users(path)
    keys = keys_for(username, client)
    throttle.check(keys)
    name = (username or "").strip()
    entry = users.get(name)
    try:
        raw = _password_bytes(password)
    except PasswordTooLong:
        throttle.failed(keys)
        raise
    stored = entry["password_hash"].encode("ascii") if entry else _dummy_hash(_cost(users))
    matched = bcrypt.checkpw(raw, stored)  # run for unknown names too: same time
    if entry is None or not raw or not matched:
        throttle.failed(keys)
        return None
    throttle.succeeded(keys)
    return User(username=name, name=str(entry.get("name", name)), role=entry["role"])


# --- Streamlit side ----------------------------------------------------------------------

def current_user() -> User | None:
    import streamlit as st

    value = st.session_state.get(SESSION_KEY)
    if isinstance(value, User):
        return value
    if isinstance(value, dict) and value.get("role") in ROLES:  # set by tests / OIDC mapping
        return User(username=value.get("username", "?"), name=value.get("name", "?"),
                    role=value["role"])
    return None


def session_user(token: str | None, store: SessionStore,
                 path: Path | str) -> tuple[User, Session] | None:
    """The user (as the users file has it now) of a live session token, else None.

    None when the token is unknown, expired or revoked, or its user is no longer in the
    users file; a role changed in the file applies at once."""
    session = store.resolve(token)
    if session is None:
        return None
    entry = load_users(path).get(session.username)
    if entry is None:
        return None
    user = User(username=session.username, name=str(entry.get("name", session.username)),
                role=entry["role"])
    return user, session


def login(user: User, settings: Settings) -> None:
    """Log ``user`` in for this tab and start a session the cookie carries to reloads and tabs."""
    import streamlit as st

    st.session_state[SESSION_KEY] = user
    st.session_state[TOKEN_KEY] = SessionStore.from_settings(settings).create(user.username)


def _cookie() -> str | None:
    """The session cookie the browser sent when this tab connected (None without one)."""
    import streamlit as st

    value = st.context.cookies.get(COOKIE_NAME)
    return value if isinstance(value, str) and value else None


def resume(settings: Settings | None) -> User | None:
    """The logged-in user of this tab while its session is live, else the user of the
    browser's session cookie (a reload, a new tab). One look-up in the session store.

    See :func:`session_user` for when the cookie's session counts. Without ``settings`` (a
    page script run without the app) only this tab's own login counts."""
    import streamlit as st

    user = current_user()
    session = st.session_state.get(TOKEN_KEY)
    if settings is None:
        return user
    store = SessionStore.from_settings(settings)
    if user is not None and isinstance(session, Session):
        # still live? A logout in another tab, or the expiry, ends this tab's login too
        try:
            live = store.resolve(session.token) is not None
        except TierlensError:
            live = False
        if live:
            return user
        st.session_state.pop(SESSION_KEY, None)
        st.session_state.pop(TOKEN_KEY, None)
        return None
    if user is not None:  # set by tests or an OIDC mapping: no session of ours behind it
        return user
    try:
        found = session_user(_cookie(), store, settings.users_file)
    except TierlensError:  # a broken users file or store: log in again (the form says why)
        return None
    if found is None:
        return None
    st.session_state[SESSION_KEY], st.session_state[TOKEN_KEY] = found
    return found[0]


def logout(settings: Settings) -> None:
    """End the session everywhere: the token is revoked server-side, so a copy of the cookie
    (another tab, or replayed) no longer logs anyone in."""
    import streamlit as st

    session = st.session_state.pop(TOKEN_KEY, None)
    if isinstance(session, Session):
        SessionStore.from_settings(settings).revoke(session.token)
    st.session_state.pop(SESSION_KEY, None)


def cookie_script() -> str:
    """A script that sets the session cookie for this tab's session, or clears a dead one.

    Streamlit can't send a Set-Cookie header from a script run, so the browser sets it:
    ``SameSite=Strict``, ``Secure`` over https, expiring with the server-side session."""
    import json

    import streamlit as st

    session = st.session_state.get(TOKEN_KEY)
    if isinstance(session, Session):
        value, expires_ms = session.token, int(session.expires_at * 1000)
    elif _cookie():
        value, expires_ms = "", 0
    else:
        return ""
    return ("<script>document.cookie = " + json.dumps(f"{COOKIE_NAME}={value}; Path=/; "
            "SameSite=Strict; Expires=") + f" + new Date({expires_ms}).toUTCString()"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>")


def legacy_pages_off() -> bool:
    """Turn off Streamlit's legacy ``pages/`` discovery; True when it was on for this run.

    Until a script run calls ``st.navigation``, a server whose entry script has a ``pages/``
    folder next to it uses the legacy discovery: the first session of a fresh server that
    opens a page's URL (a deep link, a reload) runs that page script alone, without the entry
    script's session cookie, login form and navigation. Every page calls this first (``guard``
    does): it turns the discovery off for the process, as ``st.navigation`` would, and
    ``guard`` then reruns through the entry script when nobody is logged in yet, which shows
    the login form at the same URL."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        return True
    return False


def guard(page: str) -> User:
    """Call first on every page: stop unless the logged-in user's role may see ``page``."""
    import streamlit as st

    from tierlens.dashboard import context

    # the app resolved this run's login already (one session-store look-up per run); a page
    # script run alone (below) checks it here
    user = current_user() if context.login_checked() else resume(context.installed())
    if legacy_pages_off() and user is None:
        st.rerun()  # through the entry script: the login form at the same URL

    if user is None:
        st.warning("Please log in to see this page.")
        st.stop()
    if not user.can(page):
        st.error(f"Access denied: the {user.role} role can't open the {page} page.")
        st.stop()
    return user  # type: ignore[return-value]


if __name__ == "__main__":  # python -m tierlens.dashboard.auth PASSWORD
    import sys

    print(hash_password(sys.argv[1]))
