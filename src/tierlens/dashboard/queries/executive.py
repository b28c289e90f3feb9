"""Queries of the executive page: the month's KPIs, their history and trends (aggregates
only, never transcript text)."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import columns, df, need
from tierlens.metrics.trust import with_verification


def kpi_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    need(con, "kpi_monthly")
    return [r[0] for r in con.execute(
        "SELECT DISTINCT month FROM kpi_monthly ORDER BY month DESC").fetchall()]


def kpi_table(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """KPIs of ``month`` with the previous month and the change.

    Grain: one row per (tier, kpi) of the month.
    """
    need(con, "kpi_monthly")
    have = set(columns(con, "kpi_monthly"))
    trust = ", ".join(c if c in have else f"NULL::{t} AS {c}" for c, t in (
        ("value_corrected", "DOUBLE"), ("ci_low", "DOUBLE"), ("ci_high", "DOUBLE"),
        ("n_reviewed", "BIGINT")))
    return with_verification(df(con, f"""
        WITH k AS (
          SELECT month, tier, kpi, value, numerator, denominator, {trust},
                 lag(value) OVER (PARTITION BY tier, kpi ORDER BY month) AS prev_value,
                 lag(month) OVER (PARTITION BY tier, kpi ORDER BY month) AS prev_month
          FROM kpi_monthly)
        SELECT tier, kpi, value, numerator, denominator, prev_month, prev_value,
               value - prev_value AS mom_change, value_corrected, ci_low, ci_high, n_reviewed
        FROM k WHERE month = ?
        ORDER BY CASE tier WHEN 'ai' THEN 0 WHEN 'human' THEN 1 ELSE 2 END, kpi""", [month]))


def kpi_trend(con: duckdb.DuckDBPyConnection, kpi: str) -> pl.DataFrame:
    """One KPI over time. Grain: one row per (month, tier)."""
    need(con, "kpi_monthly")
    return df(con, "SELECT month, tier, value, numerator, denominator FROM kpi_monthly "
                    "WHERE kpi = ? ORDER BY month, tier", [kpi])


def kpi_history(con: duckdb.DuckDBPyConnection, month: str, kpis: tuple[str, ...],
                months: int = 6) -> pl.DataFrame:
    """Some KPIs over the ``months`` months up to ``month``. Grain: one row per (month, tier,
    kpi)."""
    need(con, "kpi_monthly")
    return df(con, """
        WITH m AS (SELECT DISTINCT month FROM kpi_monthly WHERE month <= ?
                   ORDER BY month DESC LIMIT ?)
        SELECT month, tier, kpi, value FROM kpi_monthly
        WHERE month IN (SELECT month FROM m) AND list_contains(?, kpi)
        ORDER BY month, tier, kpi""", [month, months, list(kpis)])


def kpi_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    need(con, "kpi_monthly")
    return [r[0] for r in con.execute(
        "SELECT DISTINCT kpi FROM kpi_monthly ORDER BY kpi").fetchall()]
