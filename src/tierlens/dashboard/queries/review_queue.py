"""Queries of the review queue page: the verification sample and the candidates to assign
(the QA page's filtered conversation list)."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import df, need
from tierlens.dashboard.queries.qa import conversation_list

__all__ = ["conversation_list", "verification_progress", "verification_todo"]


def verification_progress(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The verification sample per month and tier: population, reviews needed, reviewed.
    Grain: one row per (month, tier)."""
    need(con, "verification_sample")
    return df(con, """SELECT month, tier, any_value(population) AS population,
                              any_value(needed) AS needed, count_if(reviewed) AS reviewed
                       FROM verification_sample GROUP BY month, tier
                       ORDER BY month DESC, tier""")


def verification_todo(con: duckdb.DuckDBPyConnection, month: str, limit: int = 200
                      ) -> pl.DataFrame:
    """The month's sampled conversations not reviewed yet, in sample order. Grain: one row
    per conversation."""
    need(con, "verification_sample")
    return df(con, """SELECT tier, sample_rank, conversation_id FROM verification_sample
                       WHERE month = ? AND NOT reviewed ORDER BY tier, sample_rank LIMIT ?""",
               [month, limit])
