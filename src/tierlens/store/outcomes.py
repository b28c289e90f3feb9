"""Repository of the derived outcomes: read the derive stage's inputs, replace its rows for
one model_version, and read the KPIs and QA scores back.

SQL and table grains: ``sql/outcomes.sql`` (and ``sql/latest_scores.sql``).
"""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.schema import CONVERSATION_SCHEMA, TURN_SCHEMA
from tierlens.store.db import frame, queries, sql_file, transaction
from tierlens.store.writes import append

# Rows of these tables are replaced per model_version by the derive stage.
PER_VERSION = ("outcomes", "kpi_monthly_all", "qa_criteria_scores", "misroute_matrix")


def _q(name: str) -> str:
    return queries("outcomes.sql")[name]


def _utc(df: pl.DataFrame, cols: tuple[str, ...]) -> pl.DataFrame:
    return df.with_columns([pl.col(c).dt.convert_time_zone("UTC") for c in cols
                            if c in df.columns and isinstance(df.schema[c], pl.Datetime)])


def read_inputs(con: duckdb.DuckDBPyConnection, model_version: str,
                rulebook_version: str | None) -> dict[str, pl.DataFrame]:
    """The frames the derive stage needs, read from the warehouse.

    Scores are each conversation's latest: those of the model and rulebook version last
    applied to it (``applied_versions``), else of ``model_version`` / ``rulebook_version``.
    """
    conv = _utc(frame(con, f"SELECT {', '.join(CONVERSATION_SCHEMA)} FROM core_conversations"),
                ("started_at", "ended_at"))
    turns = _utc(frame(con, f"SELECT {', '.join(TURN_SCHEMA)} FROM core_turns"), ("ts",))
    latest = sql_file("latest_scores.sql")
    cscores = frame(con, latest.format(
        cols="s.conversation_id, s.intent, s.resolution, s.csat_predicted, s.sentiment_start",
        table="model_conversation_scores", version="model_version", component="model"),
        [model_version])
    tscores = frame(con, latest.format(
        cols="s.conversation_id, s.turn_index, s.sentiment_label, s.bot_outcome",
        table="turn_scores", version="model_version", component="model"), [model_version])
    comp = frame(con, latest.format(
        cols="s.conversation_id, s.risk_score, s.red_flag, s.rulebook_version",
        table="compliance_scores", version="rulebook_version", component="rulebook"),
        [rulebook_version])
    hits = frame(con, latest.format(
        cols="s.conversation_id, s.severity", table="compliance_hits",
        version="rulebook_version", component="rulebook"), [rulebook_version])
    return {"conversations": conv, "turns": turns, "conversation_scores": cscores,
            "turn_scores": tscores, "compliance_scores": comp, "compliance_hits": hits}


def replace_derived(con: duckdb.DuckDBPyConnection, model_version: str,
                    per_version: dict[str, pl.DataFrame],
                    latest: dict[str, pl.DataFrame]) -> None:
    """One transaction: the ``PER_VERSION`` tables' rows of ``model_version`` replaced by
    ``per_version`` (table -> frame), the ``latest`` tables (verification_sample,
    routing_policy: only the latest derive's) replaced whole."""
    with transaction(con):
        for table in PER_VERSION:
            con.execute(f"DELETE FROM {table} WHERE model_version = ?", [model_version])
        for table, rows in per_version.items():
            append(con, table, rows)
        for table, rows in latest.items():
            con.execute(f"DELETE FROM {table}")
            append(con, table, rows)


def outcomes_of(con: duckdb.DuckDBPyConnection, model_version: str) -> pl.DataFrame:
    """The columns the topic metrics read of ``model_version``'s outcomes."""
    return frame(con, _q("outcomes_of"), [model_version])


def kpi_rows(con: duckdb.DuckDBPyConnection, month: str, model_version: str | None
             ) -> tuple[str | None, pl.DataFrame]:
    """(version used, one month's KPI rows) of ``model_version``; None: the newest derived."""
    if model_version is None:
        row = con.execute(_q("latest_kpi_version")).fetchone()
        model_version = row[0] if row else None
    return model_version, frame(con, _q("kpis_for_month"), [month, model_version])


def review_events(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """Every review event of the ``reviews`` mirror (seq, conversation_id, reviewer, criteria
    JSON, total); None when the warehouse has no reviews mirror."""
    exists = con.execute(_q("has_reviews")).fetchone()
    if not exists or not exists[0]:
        return None
    return frame(con, _q("review_events"))


def auto_criteria(con: duckdb.DuckDBPyConnection, model_version: str | None) -> pl.DataFrame:
    """The auto scorecard's criterion scores of ``model_version``."""
    return frame(con, _q("auto_criteria"), [model_version])
