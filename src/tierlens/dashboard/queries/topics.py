"""Queries of the topics page: the month's contact-reason topics, a topic's conversations
and its requests as intent examples."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import df, need


def topic_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    need(con, "topics")
    return [r[0] for r in con.execute(
        "SELECT DISTINCT month FROM topics ORDER BY month DESC").fetchall()]


def topic_table(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """The month's topics, largest opportunity first. Grain: one row per topic."""
    need(con, "topics")
    return df(con, "SELECT * FROM topics WHERE month = ? ORDER BY opportunity DESC, "
                    "n_conversations DESC, topic_id", [month])


def topic_conversations(con: duckdb.DuckDBPyConnection, topic_id: int, month: str,
                        limit: int = 500) -> pl.DataFrame:
    """A topic's conversations in a month, closest to the topic first."""
    need(con, "conversation_topics", "conversations")
    return df(con, """SELECT c.conversation_id, c.started_at, c.tier_path, c.intent,
                              t.distance
                       FROM conversation_topics t JOIN conversations c USING (conversation_id)
                       WHERE t.topic_id = ? AND strftime(c.started_at AT TIME ZONE 'UTC',
                                                         '%Y-%m') = ?
                       ORDER BY t.distance LIMIT ?""", [topic_id, month, limit])


def topic_examples(con: duckdb.DuckDBPyConnection, topic_id: int, intent: str) -> pl.DataFrame:
    """A topic's requests as `text,intent` examples (tierlens.topics.export)."""
    from tierlens.topics.export import promotion_examples

    need(con, "conversation_topics")
    return promotion_examples(con, topic_id, intent)
