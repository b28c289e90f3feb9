"""Repository of the topic tables: read the customer turns and the centroids, replace the
topic tables whole (one transaction). SQL and table grains: ``sql/topics.sql``."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.store.db import frame, queries, transaction
from tierlens.store.writes import append

TABLES = ("topic_centroids", "conversation_topic_assignments", "topic_monthly")


def customer_turns(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every non-empty customer turn (conversation_id, turn_index, speaker, text)."""
    return frame(con, queries("topics.sql")["customer_turns"])


def centroids(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The stored topic centroids, by topic_id."""
    return frame(con, queries("topics.sql")["centroids"])


def replace_topics(con: duckdb.DuckDBPyConnection, centroids: pl.DataFrame,
                   assignments: pl.DataFrame, monthly: pl.DataFrame) -> None:
    """Rewrite the three topic tables in one transaction."""
    with transaction(con):
        for table in TABLES:
            con.execute(f"DELETE FROM {table}")
        append(con, "topic_centroids", centroids)
        append(con, "conversation_topic_assignments", assignments)
        append(con, "topic_monthly", monthly)
