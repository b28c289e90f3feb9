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

from tierlens.dashboard.throttle import Throttle, keys_for
from tierlens.errors import ConfigError, TierlensError

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


def load_users(path: Path | str | None = None) -> dict[str, dict[str, Any]]:
    """Read and validate the users file: ``users: {username: {name, role, password_hash}}``."""
    if path is None:
        from tierlens.settings import get_settings

        path = get_settings().users_file
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


def authenticate(username: str, password: str, path: Path | str | None = None,
                 client: str | None = None, throttle: Throttle | None = None) -> User | None:
    """The user when the password matches its bcrypt hash, else None.

    Raises :class:`LoginThrottled` while the user name or the client is backing off or
    locked out (even for the right password), and :class:`PasswordTooLong` for a password
    over 72 bytes. Both, and the bcrypt work, are the same for known and unknown names.
    """
    users = load_users(path)
    throttle = throttle or Throttle.from_settings()
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


def login(user: User) -> None:
    import streamlit as st

    st.session_state[SESSION_KEY] = user


def logout() -> None:
    import streamlit as st

    st.session_state.pop(SESSION_KEY, None)


def guard(page: str) -> User:
    """Call first on every page: stop unless the logged-in user's role may see ``page``."""
    import streamlit as st

    user = current_user()
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
