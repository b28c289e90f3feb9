"""Connection and versioned migrations.

Migrations are the numbered ``migrations/NNNN_name.sql`` files, applied in order, each
exactly once, recorded in ``schema_migrations``. Views (``sql/views.sql``) are recreated
after every migration run, so a view change never needs a migration.

Only one process may write a DuckDB file. A second writer gets :class:`StoreError` with
a message that says who to wait for; readers (the dashboard) use the published snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from tierlens.errors import StoreError

_MIGRATION = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every packaged migration, in order."""
    folder = resources.files("tierlens.store") / "migrations"
    out = []
    for entry in folder.iterdir():
        m = _MIGRATION.match(entry.name)
        if m:
            out.append((int(m.group(1)), m.group(2), entry.read_text()))
    return sorted(out)


def sql_file(name: str) -> str:
    return (resources.files("tierlens.store") / "sql" / name).read_text()


_NAMED = re.compile(r"^-- name: ([a-z_]+)\s*$", re.MULTILINE)


@cache
def queries(name: str) -> dict[str, str]:
    """The named statements of ``sql/<name>`` (each starts with a ``-- name: x`` line), so
    the repository modules keep their SQL, and the grains it relies on, in SQL files."""
    parts = _NAMED.split(sql_file(name))
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> pl.DataFrame:
    """The result of ``sql`` as a polars frame."""
    return con.execute(sql, params or []).pl()


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, ids: list[str]
               ) -> Iterator[duckdb.DuckDBPyConnection]:
    """``ids`` as a one-column relation ``name`` (conversation_id) for joins, while inside."""
    con.register(name, pl.DataFrame({"conversation_id": ids},
                                    schema={"conversation_id": pl.String}).to_arrow())
    try:
        yield con
    finally:
        con.unregister(name)


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating and migrating it when writable)."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"{path}: no warehouse here; run `tierlens ingest` (or `make demo`) first")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: can't create the warehouse folder ({exc.strerror})") from exc
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc).splitlines()[0]
        if "lock" in msg.lower():
            raise StoreError(f"{path}: another process is writing this warehouse ({msg}); "
                             "wait for it to finish, or read the published snapshot") from exc
        raise StoreError(f"{path}: can't open the warehouse ({msg})") from exc
    if not read_only:
        migrate(con)
    return con


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    con.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)""")
    return {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; then recreate the views."""
    done = applied_versions(con)
    applied = []
    known = migrations()
    newest = max((v for v, _, _ in known), default=0)
    if done and max(done) > newest:
        raise StoreError(f"warehouse is at schema version {max(done)}, newer than this tierlens "
                         f"({newest}); upgrade tierlens")
    for version, name, sql in known:
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                        [version, name, datetime.now(UTC)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    con.execute(sql_file("views.sql"))
    return applied


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
