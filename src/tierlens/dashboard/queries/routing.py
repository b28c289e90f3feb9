"""Queries of the routing & escalation page. Routing accuracy, the misroute matrix and tier
adherence are computed once, by :mod:`tierlens.metrics.routing` in the derive step; these
read what it published (``misroute_matrix``, ``conversation_scores``), never re-derive it."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import NotComputed, df, need, scored


def misroute_matrix(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Misroutes as the derive step counted them (:func:`tierlens.metrics.routing.misroute_matrix`,
    current model version). Grain: one row per (evidence, expected queue, actual queue)."""
    need(con, "conversation_scores", "misroute_matrix")
    return df(con, "SELECT evidence, expected_queue, actual_queue, n FROM misroute_matrix "
                   "ORDER BY evidence, n DESC, expected_queue, actual_queue")


def escalation_summary(con: duckdb.DuckDBPyConnection, target_seconds: float) -> pl.DataFrame:
    """Escalation, handoff and trapped figures. Grain: one row."""
    need(con, "conversation_scores")
    return df(con, """
        SELECT count(*) FILTER (WHERE escalated) AS escalations,
               median(handoff_seconds) AS handoff_median_s,
               quantile_cont(handoff_seconds, 0.9) AS handoff_p90_s,
               avg((handoff_seconds <= ?)::INT) AS handoff_within_target,
               avg(repeated_after_handoff::INT) FILTER (WHERE escalated) AS repeated_after_handoff_rate,
               count(*) FILTER (WHERE trapped) AS trapped,
               avg(routed_correctly::INT) AS routing_accuracy
        FROM conversation_scores""", [target_seconds])


def handoff_histogram(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Handoff seconds in 10 s bins (capped at 120). Grain: one row per bin."""
    need(con, "conversation_scores")
    return df(con, "SELECT least(floor(handoff_seconds / 10) * 10, 120)::INT AS seconds_bin, "
                    "count(*) AS escalations FROM conversation_scores "
                    "WHERE handoff_seconds IS NOT NULL GROUP BY 1 ORDER BY 1")


def escalation_reasons(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Grain: one row per escalation reason."""
    need(con, "conversation_scores")
    return df(con, "SELECT coalesce(escalation_reason, 'unknown') AS reason, count(*) AS n "
                    "FROM conversation_scores WHERE escalated GROUP BY 1 ORDER BY 2 DESC")


def tier_adherence(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Conversations flagged ``should_have_escalated`` / ``needless_escalation`` by the derive
    step (:func:`tierlens.metrics.routing.routing_flags`). Grain: one row per (kind, intent)."""
    need(con, "conversation_scores")
    return df(con, """
        SELECT CASE WHEN should_have_escalated THEN 'should_have_escalated'
                    ELSE 'needless_escalation' END AS kind, intent, count(*) AS n
        FROM conversation_scores WHERE should_have_escalated OR needless_escalation
        GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""")


def drill(con: duckdb.DuckDBPyConnection, column: str, value: Any, limit: int = 1000) -> pl.DataFrame:
    """Conversations behind a routing/escalation chart bar. Grain: one row per conversation."""
    allowed = {"escalation_reason", "first_queue", "trapped", "intent"}
    if column not in allowed:
        raise ValueError(f"can't drill on {column!r}")
    scores = scored(con)
    join = "LEFT JOIN conversation_scores s USING (conversation_id)" if scores else ""
    ref = f"s.{column}" if column in ("escalation_reason", "trapped") else f"c.{column}"
    if ref.startswith("s.") and not scores:
        raise NotComputed("conversation_scores")
    return df(con, f"SELECT c.conversation_id, c.started_at, c.first_queue, c.tier_path, c.intent "
                    f"FROM conversations c {join} WHERE {ref} = ? ORDER BY c.started_at DESC "
                    f"LIMIT ?", [value, int(limit)])
