"""Login, roles and the page access matrix.

On the embedded default, users come from a YAML file with bcrypt password hashes
(``data/users.yaml``; see docs/dashboard.md for the format and for OIDC with ``st.login``).
Every page calls :func:`guard` first: a user whose role lacks the page gets an
"access denied" message and the script stops before any query runs, even when the page
is opened by URL or the navigation is bypassed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from tierlens.errors import ConfigError

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


def hash_password(password: str) -> str:
    """A bcrypt hash for the users file."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


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


def authenticate(username: str, password: str, path: Path | str | None = None) -> User | None:
    """The user when the password matches its bcrypt hash, else None."""
    users = load_users(path)
    entry = users.get((username or "").strip())
    if entry is None or not password:
        return None
    if not bcrypt.checkpw(password.encode("utf-8"), entry["password_hash"].encode("ascii")):
        return None
    return User(username=username.strip(), name=str(entry.get("name", username)),
                role=entry["role"])


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
