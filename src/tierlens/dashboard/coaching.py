"""QA coaching queries: one agent's (or one bot version's) score trend, weakest criteria and
example conversations, against everyone else under the same filters.

The subject is a :class:`tierlens.dashboard.queries.Filters` with ``agent`` or
``bot_version`` set (the QA page's filters plus the person or bot coached), so the coaching
view follows the same rules as the rest of the QA page. :func:`tierlens.dashboard.ui.q` runs
these like the functions of :mod:`tierlens.dashboard.queries`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from tierlens.dashboard.queries import Filters, NotComputed, _base, _df, _need, columns


def _scored_base(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[str, list]:
    frm, p, scores = _base(con, f)
    if not scores:
        raise NotComputed("conversation_scores")
    return frm, p


def _criteria(con: duckdb.DuckDBPyConnection) -> str:
    """Applicable criterion scores under each conversation's current model version (the table
    keeps every version)."""
    _need(con, "qa_criteria_scores")
    current = ("AND (conversation_id, model_version) IN (SELECT conversation_id, model_version "
               "FROM conversation_scores)"
               if "model_version" in columns(con, "qa_criteria_scores") else "")
    return ("SELECT conversation_id, criterion, score FROM qa_criteria_scores "
            f"WHERE applicable AND score IS NOT NULL {current}")


def coach_trend(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Mean QA score per month. Grain: one row per month (UTC month of ``started_at``)."""
    frm, p = _scored_base(con, f)
    return _df(con, f"SELECT strftime(c.started_at, '%Y-%m') AS month, count(*) AS conversations,"
                    f" avg(s.qa_score) AS qa_score_mean {frm} GROUP BY 1 ORDER BY 1", p)


def coach_criteria(con: duckdb.DuckDBPyConnection, f: Filters, team: Filters) -> pl.DataFrame:
    """Each criterion's met rate for the subject and for the team (``team``: the same filters
    without the subject), weakest first. Grain: one row per criterion. N/A is left out."""
    frm, p = _scored_base(con, f)
    tfrm, tp = _scored_base(con, team)
    return _df(con, f"""
        WITH mine AS (SELECT c.conversation_id {frm}),
             team AS (SELECT c.conversation_id {tfrm}),
             q AS ({_criteria(con)})
        SELECT q.criterion,
               count(*) FILTER (WHERE q.conversation_id IN (SELECT conversation_id FROM mine))
                   AS applicable,
               avg(q.score) FILTER (WHERE q.conversation_id IN (SELECT conversation_id FROM mine))
                   AS met_rate,
               avg(q.score) AS team_met_rate
        FROM q WHERE q.conversation_id IN (SELECT conversation_id FROM team)
        GROUP BY 1 HAVING applicable > 0
        ORDER BY met_rate, team_met_rate - met_rate DESC, criterion""", [*p, *tp])


def coach_examples(con: duckdb.DuckDBPyConnection, f: Filters, criterion: str,
                   limit: int = 5) -> pl.DataFrame:
    """The subject's conversations that missed ``criterion``, worst QA score first. Grain: one
    row per conversation."""
    frm, p = _scored_base(con, f)
    return _df(con, f"""
        SELECT c.conversation_id, c.started_at, c.intent, s.qa_score, s.resolution
        {frm} AND c.conversation_id IN (SELECT conversation_id FROM ({_criteria(con)})
                                        WHERE criterion = ? AND score = 0)
        ORDER BY s.qa_score NULLS LAST, c.started_at DESC LIMIT ?""", [*p, criterion, limit])
