"""Queries of the data quality page: ingest and flow runs, quarantine, GX results."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import df, need


def ingest_runs(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """Grain: one row per ingest run, newest first."""
    need(con, "ingest_runs")
    return df(con, "SELECT * EXCLUDE (paths), array_to_string(paths, ', ') AS paths "
                    "FROM ingest_runs ORDER BY started_at DESC LIMIT ?", [limit])


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Grain: one row per (reason, field) with a count and one example."""
    need(con, "quarantine")
    return df(con, "SELECT reason, field, count(*) AS records, any_value(message) AS example, "
                    "any_value(source_file || ':' || coalesce(source_line::VARCHAR, '-')) AS at "
                    "FROM quarantine GROUP BY 1, 2 ORDER BY 3 DESC")


def quarantine_rows(con: duckdb.DuckDBPyConnection, reason: str, limit: int = 200) -> pl.DataFrame:
    """Grain: one row per quarantined record with that reason."""
    need(con, "quarantine")
    return df(con, "SELECT * FROM quarantine WHERE reason = ? LIMIT ?", [reason, limit])


def dq_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """GX results. Grain: one row per (suite, expectation, column)."""
    need(con, "dq_results")
    return df(con, "SELECT suite, expectation, column_name, count(*) AS batches, "
                    "sum((NOT success)::INT) AS failed_batches, "
                    "sum(coalesce(unexpected_count, 0)) AS unexpected "
                    "FROM dq_results GROUP BY 1, 2, 3 ORDER BY failed_batches DESC, 1, 2")


def ledger(con: duckdb.DuckDBPyConnection, table: str, limit: int = 200) -> pl.DataFrame:
    """``flow_runs`` or ``alerts``, as published. Grain: that table's (one row per run/alert)."""
    if table not in ("flow_runs", "alerts"):
        raise ValueError(table)
    need(con, table)
    return df(con, f"SELECT * FROM {table} LIMIT ?", [limit])
