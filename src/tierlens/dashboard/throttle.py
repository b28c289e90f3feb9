"""Login throttling: back off, then lock out, per user name and per client.

Failed logins are kept in a small SQLite file (``settings.data_dir / auth / logins.sqlite``)
so every dashboard process and every restart sees them. Keys are sha256 digests of
``user:<name>`` and ``client:<address>``: what people type into the user name field (now and
then a password) is never stored in clear.

With ``n`` failures of a key within ``lockout_seconds``: from the third one on, the next
attempt must wait ``2 ** (n - 3)`` seconds after the last failure (1, 2, 4 ... capped at 60);
at ``max_failures`` the key is locked for ``lockout_seconds`` after its last failure, even
for the right password. A success clears the user's and the client's failures. Unknown user
names are counted exactly like known ones, so the throttle says nothing about who exists.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tierlens.errors import StoreError, TierlensError
from tierlens.settings import Settings

MAX_BACKOFF_S = 60.0


class LoginThrottled(TierlensError):
    """Too many failed logins for this user name or from this client; try again later."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def open_auth_db(path: Path, what: str, ddl: Iterable[str]) -> sqlite3.Connection:
    """A connection (autocommit, WAL) to one of the login SQLite files, its tables created."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        for statement in ddl:
            con.execute(statement)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path}: can't open {what} ({exc})") from exc
    return con


def keys_for(username: str, client: str | None) -> list[str]:
    """The throttle keys of one attempt: the (case-folded) user name, and the client if known."""
    keys = [f"user:{(username or '').strip().casefold()}"]
    if client:
        keys.append(f"client:{client}")
    return keys


class Throttle:
    def __init__(self, path: Path | str, max_failures: int = 5, lockout_seconds: float = 900,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, s: Settings) -> Throttle:
        return cls(s.data_dir / "auth" / "logins.sqlite", s.login_max_failures,
                   s.login_lockout_seconds)

    def _connect(self) -> sqlite3.Connection:
        # grain: one row per failed login attempt and key (user name or client)
        return open_auth_db(self.path, "the login throttle", (
            "CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at REAL NOT NULL)",
            "CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key)"))

    def _wait_one(self, con: sqlite3.Connection, key: str, now: float) -> float:
        n, last = con.execute("SELECT count(*), max(at) FROM login_failures WHERE key = ? AND "
                              "at > ?", (_digest(key), now - self.lockout_seconds)).fetchone()
        if n >= self.max_failures:
            return last + self.lockout_seconds - now
        if n >= 3:
            return last + min(2.0 ** (n - 3), MAX_BACKOFF_S) - now
        return 0.0

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds before another attempt for these keys is allowed (0: go ahead)."""
        now = self.clock()
        con = self._connect()
        try:
            return max([0.0, *(self._wait_one(con, k, now) for k in keys)])
        finally:
            con.close()

    def check(self, keys: Iterable[str]) -> None:
        """Raise :class:`LoginThrottled` (a one-line message with the wait) when throttled."""
        wait = self.wait(keys)
        if wait > 0:
            when = (f"{math.ceil(wait)} second(s)" if wait < 120
                    else f"{math.ceil(wait / 60)} minute(s)")
            raise LoginThrottled(f"Too many failed logins: try again in {when}.")

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        con = self._connect()
        try:
            con.execute("DELETE FROM login_failures WHERE at <= ?", (now - self.lockout_seconds,))
            con.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)",
                            [(_digest(k), now) for k in keys])
        finally:
            con.close()

    def succeeded(self, keys: Iterable[str]) -> None:
        con = self._connect()
        try:
            con.executemany("DELETE FROM login_failures WHERE key = ?",
                            [(_digest(k),) for k in keys])
        finally:
            con.close()
