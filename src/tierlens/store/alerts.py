"""Repository of the alerts: the KPIs they are checked on, and the stored alerts (an alert's
id is its kind and subject, so the same alert is never stored twice).
SQL and table grains: ``sql/alerts.sql``."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from tierlens.store.db import frame, queries
from tierlens.store.writes import append


def current_kpis(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """The current model version's monthly KPIs (the ``kpi_monthly`` view); None when
    nothing was derived yet."""
    q = queries("alerts.sql")
    if not con.execute(q["derived_kpis"]).fetchone()[0]:  # type: ignore[index]
        return None
    return frame(con, q["current_kpis"])


def store_alerts(con: duckdb.DuckDBPyConnection, run_id: str, alerts: pl.DataFrame,
                 notified: bool = False) -> pl.DataFrame:
    """Insert the alerts not raised before; returns the new ones."""
    if alerts.is_empty():
        return alerts
    known = {r[0] for r in con.execute(queries("alerts.sql")["known_alerts"]).fetchall()}
    new = alerts.filter(~pl.col("alert_id").is_in(list(known)))
    if new.is_empty():
        return new
    append(con, "alerts", new.with_columns(run_id=pl.lit(run_id),
                                           raised_at=pl.lit(datetime.now(UTC)),
                                           notified=pl.lit(notified)))
    return new
