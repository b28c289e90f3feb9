"""Queries of the conversation page: one conversation with its scores, its transcript and
its compliance hits."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import columns, df, need, scored


def conversation(con: duckdb.DuckDBPyConnection, cid: str) -> pl.DataFrame:
    """One conversation with its scores. Grain: one row (or none)."""
    need(con, "conversations")
    if scored(con):
        conv = set(columns(con, "conversations"))
        extra = "".join(f", s.{c}" for c in columns(con, "conversation_scores") if c not in conv)
        return df(con, f"SELECT c.*{extra} FROM conversations c LEFT JOIN conversation_scores s "
                        "USING (conversation_id) WHERE conversation_id = ?", [cid])
    return df(con, "SELECT * FROM conversations WHERE conversation_id = ?", [cid])


def transcript(con: duckdb.DuckDBPyConnection, cid: str) -> pl.DataFrame:
    """Grain: one row per turn of the conversation, in order."""
    need(con, "turns")
    return df(con, "SELECT turn_index, speaker, text, ts, agent_id, bot_confidence, event, "
                    "sentiment_label, sentiment_score FROM turns WHERE conversation_id = ? "
                    "ORDER BY turn_index", [cid])


def flags_of(con: duckdb.DuckDBPyConnection, cid: str) -> pl.DataFrame:
    """Grain: one row per rule hit in the conversation."""
    need(con, "compliance_flags")
    return df(con, "SELECT * FROM compliance_flags WHERE conversation_id = ? "
                    "ORDER BY turn_index NULLS FIRST, span_start", [cid])


def recent_conversation_ids(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[str]:
    need(con, "conversations")
    return [r[0] for r in con.execute("SELECT conversation_id FROM conversations "
                                      "ORDER BY started_at DESC LIMIT ?", [limit]).fetchall()]
