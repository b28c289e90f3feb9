"""Dashboard sessions that outlive a browser tab: an opaque token in a cookie, kept server-side.

A login creates a session: 32 random bytes (``secrets.token_urlsafe``) that the browser keeps
in the ``tierlens_session`` cookie for ``dashboard_session_seconds``. The server keeps only
the token's sha256 digest with the user name, its absolute expiry and, after a logout, its
revocation time (``settings.data_dir / auth / sessions.sqlite``, next to the login throttle).
So:

- a reload or a new tab sends the cookie and :meth:`SessionStore.resolve` finds the user;
- the session ends at its expiry whatever the cookie's own expiry says (the server decides);
- a logout revokes the token: a copy of the cookie replayed later logs no one in;
- whoever reads the SQLite file sees digests, never a token that would log in.

No signing key is needed: the token is a random lookup key, not a claim to be trusted.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tierlens.dashboard.throttle import open_auth_db
from tierlens.settings import Settings

COOKIE_NAME = "tierlens_session"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    expires_at: float


class SessionStore:
    def __init__(self, path: Path | str, lifetime_seconds: float = 8 * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.lifetime_seconds = lifetime_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, s: Settings) -> SessionStore:
        return cls(s.data_dir / "auth" / "sessions.sqlite", s.dashboard_session_seconds)

    def _connect(self) -> sqlite3.Connection:
        # grain: one row per login (a session); the token itself is never stored
        return open_auth_db(self.path, "the session store", [
            ("CREATE TABLE IF NOT EXISTS sessions (token_sha256 TEXT PRIMARY KEY, "
             "username TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, "
             "revoked_at REAL)")])

    def create(self, username: str) -> Session:
        """A new session for ``username``; expired sessions are purged on the way."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        expires = now + self.lifetime_seconds
        con = self._connect()
        try:
            con.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            con.execute("INSERT INTO sessions (token_sha256, username, created_at, expires_at) "
                        "VALUES (?, ?, ?, ?)", (_digest(token), username, now, expires))
        finally:
            con.close()
        return Session(token=token, username=username, expires_at=expires)

    def resolve(self, token: str | None) -> Session | None:
        """The live session of ``token``; None when unknown, expired or revoked."""
        if not token or len(token) > 200:
            return None
        con = self._connect()
        try:
            row = con.execute("SELECT username, expires_at FROM sessions WHERE token_sha256 = ? "
                              "AND revoked_at IS NULL AND expires_at > ?",
                              (_digest(token), self.clock())).fetchone()
        finally:
            con.close()
        return Session(token=token, username=row[0], expires_at=row[1]) if row else None

    def revoke(self, token: str | None) -> None:
        """End the session of ``token`` for good (a logout); unknown tokens are ignored."""
        if not token:
            return
        con = self._connect()
        try:
            con.execute("UPDATE sessions SET revoked_at = ? WHERE token_sha256 = ? AND "
                        "revoked_at IS NULL", (self.clock(), _digest(token)))
        finally:
            con.close()
