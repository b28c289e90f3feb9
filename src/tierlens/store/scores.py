"""Repository of the model scores and of the versions the views show.

Reads by ids, replaces one batch's rows by key (model_version, conversation_id), and reads or
sets the current version of a component. SQL and table grains: ``sql/scores.sql``.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from tierlens.store.db import queries, registered, transaction
from tierlens.store.writes import append


def _q(name: str) -> str:
    return queries("scores.sql")[name]


def current_version(con: duckdb.DuckDBPyConnection, component: str) -> str | None:
    """The version of ``component`` (model | rulebook) the views show; None: none yet."""
    row = con.execute(_q("current_version"), [component]).fetchone()
    return row[0] if row else None


def set_current_version(con: duckdb.DuckDBPyConnection, component: str, version: str) -> None:
    """Make ``version`` the one the views show for ``component``."""
    con.execute(_q("set_current_version"), [component, version])


def select_for_scoring(con: duckdb.DuckDBPyConnection, version: str,
                       since: date | datetime | None = None,
                       only_unscored: bool = True) -> list[str]:
    """Conversation ids to score, sorted: those without scores under ``version`` or whose
    last applied model version is another one (or all selected by ``since`` when
    ``only_unscored`` is false)."""
    if only_unscored:
        rows = con.execute(_q("unscored_conversations"), [version, since]).fetchall()
    else:
        rows = con.execute(_q("conversations_since"), [since]).fetchall()
    return [r[0] for r in rows]


def read_turns(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Core turns of ``ids`` (one row per turn, ordered by conversation and turn)."""
    with registered(con, "_ids", ids):
        out = pl.from_arrow(con.execute(_q("turns_of")).arrow())
    assert isinstance(out, pl.DataFrame)
    return out


def replace_model_scores(con: duckdb.DuckDBPyConnection, ids: list[str], version: str,
                         turn_scores: pl.DataFrame, conversation_scores: pl.DataFrame) -> None:
    """Replace one batch's rows under ``version`` (delete-then-insert, one transaction) and
    record ``version`` as the model version last applied to each of ``ids``."""
    with registered(con, "_ids", ids), transaction(con):
        con.execute(_q("delete_turn_scores"), [version])
        con.execute(_q("delete_conversation_scores"), [version])
        append(con, "turn_scores", turn_scores)
        append(con, "model_conversation_scores", conversation_scores)
        con.execute(_q("mark_applied"), ["model", version])
