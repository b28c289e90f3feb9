"""The snapshot side every page's query module shares: connections, checks, frames.

The snapshot (``settings.serving_dir / serving.duckdb``) is swapped atomically by the
pipeline, so each call opens a fresh read-only connection (:func:`open_snapshot`) and never
holds it. Tables the pipeline hasn't produced yet raise :class:`NotComputed`, which pages
show as "not computed yet". Parameters are always bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tierlens.errors import StoreError
from tierlens.settings import Settings
from tierlens.store.publish import snapshot_path

SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}
SENTIMENT_CUT = 0.25  # sentiment_end below -0.25 is negative, above +0.25 positive
TIER_PATHS = {"ai": ("bot_only",), "human": ("bot_then_human", "human_only")}


class NotComputed(StoreError):
    """A table the page needs is not in the serving snapshot yet."""

    def __init__(self, table: str, hint: str = "run `tierlens score`") -> None:
        super().__init__(f"`{table}` is not computed yet - {hint}")
        self.table = table
        self.hint = hint



def snapshot(settings: Settings) -> Path:
    return snapshot_path(settings.serving_dir)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot (NotComputed before the first)."""
    if not Path(path).exists():
        raise NotComputed("serving snapshot", "run `tierlens ingest` (or `tierlens run`)")
    return duckdb.connect(str(path), read_only=True)


@contextmanager
def open_snapshot(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published snapshot."""
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}


def has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table in tables(con)


_INGEST_TABLES = ("conversations", "turns", "ingest_runs", "quarantine", "dq_results")
_FLOW_TABLES = ("flow_runs", "alerts")


_PEOPLE_FROM_TURNS = ("(SELECT DISTINCT conversation_id, speaker AS role, agent_id FROM turns "
                      "WHERE speaker IN ('agent', 'bot') AND agent_id IS NOT NULL)")


def people(con: duckdb.DuckDBPyConnection) -> str:
    """Who spoke in each conversation (``conversation_id, role, agent_id``; role agent | bot):
    the published ``conversation_agents`` (6x smaller than the turns), else derived from the
    turns of an older snapshot."""
    return "conversation_agents" if has(con, "conversation_agents") else _PEOPLE_FROM_TURNS


def scored(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ``conversation_scores`` exists and holds scored rows.

    The pipeline publishes the view over every conversation even before scoring; each row's
    ``model_version`` / ``rulebook_version`` is the version last applied to it (NULL until
    something was scored). One row with a version tells.
    """
    if not has(con, "conversation_scores"):
        return False
    cols = columns(con, "conversation_scores")
    probe = [c for c in ("model_version", "rulebook_version") if c in cols]
    if not probe:
        return False
    where = " OR ".join(f"{c} IS NOT NULL" for c in probe)  # column names from the catalogue
    return con.execute(f"SELECT 1 FROM conversation_scores WHERE {where} LIMIT 1"
                       ).fetchone() is not None


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of a published table (cheaper than information_schema.columns)."""
    if table not in tables(con):
        return []
    cur = con.execute(f'SELECT * FROM "{table}" LIMIT 0')  # table name comes from the catalog
    return [d[0] for d in cur.description]


def need(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    have = tables(con)
    for n in names:
        if n == "conversation_scores" and n in have and not scored(con):
            raise NotComputed(n)
        if n not in have:
            raise NotComputed(n, "run `tierlens ingest`" if n in _INGEST_TABLES
                              else "no flow has run yet (`tierlens run` or the Prefect flows)" if n in _FLOW_TABLES
                              else "run `tierlens score`")


def df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    return con.execute(sql, params or []).pl()

