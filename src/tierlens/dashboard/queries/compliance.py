"""Queries of the compliance page: the red-flag queue (with the review store's
dispositions attached) and the transcript around a hit."""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import NotComputed, df, need, scored
from tierlens.dashboard.queries.conversation import transcript

__all__ = ["red_flag_queue", "transcript", "with_dispositions"]


def red_flag_queue(con: duckdb.DuckDBPyConnection, severity: str | None = None,
                   limit: int = 1000) -> pl.DataFrame:
    """Hits of red-flagged conversations (or any critical hit): severity, then newest first.

    Grain: one row per rule hit.
    """
    need(con, "conversations", "compliance_flags")
    if not scored(con) and not con.execute("SELECT count(*) FROM compliance_flags").fetchone()[0]:
        raise NotComputed("compliance_flags")  # published but the rulebook never ran
    red = ("OR f.conversation_id IN (SELECT conversation_id FROM conversation_scores "
           "WHERE red_flag)") if scored(con) else ""
    sev, p = ("AND f.severity = ?", [severity]) if severity else ("", [])
    return df(con, f"""
        SELECT f.severity, c.started_at, f.conversation_id, f.rule_id, f.rule_version,
               f.turn_index, f.span_start, f.span_end, f.matched_text,
               f.disposition AS pipeline_disposition, c.first_queue
        FROM compliance_flags f JOIN conversations c USING (conversation_id)
        WHERE (f.severity = 'critical' {red}) {sev}
        ORDER BY CASE f.severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END,
                 c.started_at DESC, f.conversation_id, f.turn_index NULLS FIRST
        LIMIT ?""", [*p, int(limit)])


def with_dispositions(queue: pl.DataFrame, latest: pl.DataFrame) -> pl.DataFrame:
    """Attach the review store's current disposition to each flag (pure). Same grain."""
    if latest.is_empty():
        return queue.with_columns(disposition=pl.lit(None, pl.String),
                                  disposition_note=pl.lit(None, pl.String),
                                  disposed_by=pl.lit(None, pl.String))
    d = latest.select(pl.col("conversation_id").cast(pl.String), pl.col("rule_id").cast(pl.String),
                      pl.col("turn_index").cast(pl.Int32), "disposition",
                      disposition_note="note", disposed_by="who")
    return queue.with_columns(pl.col("turn_index").cast(pl.Int32)).join(
        d, on=["conversation_id", "rule_id", "turn_index"], how="left", nulls_equal=True)
