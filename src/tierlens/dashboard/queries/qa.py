"""Queries of the QA page: filter options, distributions, leaderboards, the conversation
list, coaching (one agent or bot version against the team under the same filters) and the
auto side of calibration.

The coaching subject is a :class:`Filters` with ``agent`` or ``bot_version`` set, so the
coaching view follows the same rules as the rest of the page. Criterion scores are the
published ``qa_criteria_scores`` (current model version only).
"""

from __future__ import annotations

import re

import duckdb
import polars as pl

from tierlens.dashboard.queries.base import NotComputed, columns, df, need, people, scored
from tierlens.dashboard.queries.filters import Filters, base_sql


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Distinct values for the QA filter widgets."""
    need(con, "conversations", "turns")
    who = people(con)

    def col(sql: str) -> list[str]:
        return [str(r[0]) for r in con.execute(sql).fetchall() if r[0] is not None]

    out = {
        "queue": col("SELECT DISTINCT first_queue FROM conversations ORDER BY 1"),
        "intent": col("SELECT DISTINCT intent FROM conversations ORDER BY 1"),
        "agent": col(f"SELECT DISTINCT agent_id FROM {who} WHERE role = 'agent' ORDER BY 1"),
        "bot_version": col(f"SELECT DISTINCT agent_id FROM {who} WHERE role = 'bot' UNION "
                           "SELECT DISTINCT bot_version FROM conversations ORDER BY 1"),
        "resolution": [],
    }
    if scored(con):
        out["resolution"] = col("SELECT DISTINCT resolution FROM conversation_scores ORDER BY 1")
    return out


def conversation_list(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 500) -> pl.DataFrame:
    """Filtered conversations, worst QA score first. Grain: one row per conversation."""
    frm, p, scores = base_sql(con, f)
    extra = ("s.qa_score, s.resolution, s.sentiment_start, s.sentiment_end, s.red_flag, "
             "s.risk_score, s.escalated" if scores else "NULL::DOUBLE AS qa_score")
    order = "s.qa_score ASC NULLS LAST, c.started_at DESC" if scores else "c.started_at DESC"
    cut, cp = _score_cut(con, f, limit) if scores else ("", [])
    return df(con, f"SELECT c.conversation_id, c.started_at, c.first_queue, c.tier_path, "
                    f"c.intent, {extra} {frm} {cut} ORDER BY {order} LIMIT ?",
              [*p, *cp, int(limit)])


def _score_cut(con: duckdb.DuckDBPyConnection, f: Filters, limit: int) -> tuple[str, list]:
    """Without conversation filters, the worst ``limit`` QA scores are found in
    ``conversation_scores`` alone, so the join to ``conversations`` only meets those rows (and
    their ties) instead of all of them: ``AND s.qa_score <= the limit-th score``. No cut
    when that score is NULL (fewer scored rows than ``limit``: the NULLs are in the list)."""
    if any(getattr(f, k) is not None for k in Filters.CONVERSATION_FIELDS):
        return "", []
    frm, p, _ = base_sql(con, f, select_conv=False)
    v = con.execute(f"SELECT CASE WHEN count(qa_score) = count(*) THEN max(qa_score) END FROM "
                    f"(SELECT s.qa_score {frm} ORDER BY s.qa_score ASC NULLS LAST LIMIT ?)",
                    [*p, int(limit)]).fetchone()
    if v is None or v[0] is None:
        return "", []
    return "AND s.qa_score <= ?", [v[0]]


def filtered_count(con: duckdb.DuckDBPyConnection, f: Filters) -> int:
    frm, p, _ = base_sql(con, f, select_scores=False, select_conv=False)
    return int(con.execute(f"SELECT count(*) {frm}", p).fetchone()[0])  # type: ignore[index]


def score_distribution(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """QA score histogram (10-point bins). Grain: one row per bin."""
    frm, p, scores = base_sql(con, f, select_conv=False)
    if not scores:
        raise NotComputed("conversation_scores")
    return df(con, f"SELECT least(floor(s.qa_score / 10) * 10, 90)::INT AS qa_bin, "
                    f"count(*) AS conversations {frm} AND s.qa_score IS NOT NULL "
                    f"GROUP BY 1 ORDER BY 1", p)


def resolution_distribution(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Grain: one row per resolution value."""
    frm, p, scores = base_sql(con, f, select_conv=False)
    if not scores:
        raise NotComputed("conversation_scores")
    return df(con, f"SELECT coalesce(s.resolution, 'unknown') AS resolution, "
                    f"count(*) AS conversations {frm} GROUP BY 1 ORDER BY 2 DESC", p)


def leaderboard(con: duckdb.DuckDBPyConnection, f: Filters, by: str) -> pl.DataFrame:
    """Agents (``by='agent'``) or bot versions (``by='bot'``) compared.

    Grain: one row per agent_id (or bot version) with conversations, mean QA score,
    resolved rate, mean sentiment delta and red flags (score columns NULL when unscored).
    """
    use_bot_column = by == "bot" and "bot_version" in columns(con, "conversations") and \
        con.execute("SELECT 1 FROM conversations WHERE bot_version IS NOT NULL LIMIT 1").fetchone()
    frm, p, scores = base_sql(con, f, select_conv=bool(use_bot_column))
    speaker = "agent" if by == "agent" else "bot"
    agg = ("avg(s.qa_score) AS qa_score_mean, avg((s.resolution = 'resolved')::INT) AS "
           "resolved_rate, avg(s.sentiment_delta) AS sentiment_delta_mean, "
           "sum(coalesce(s.red_flag, FALSE)::INT) AS red_flags" if scores else
           "NULL::DOUBLE AS qa_score_mean")
    order = "qa_score_mean DESC NULLS LAST" if scores else "2 DESC"
    if use_bot_column:  # the bot version is on the conversation: no need to scan the turns
        return df(con, f"SELECT c.bot_version, count(*) AS conversations, {agg} {frm} "
                        f"AND c.bot_version IS NOT NULL GROUP BY 1 ORDER BY {order}", p)
    who_sql = f"SELECT conversation_id, agent_id FROM {people(con)} WHERE role = '{speaker}'"
    joined = re.sub(r"^FROM (\w+ [cs])", r"FROM \1 JOIN who USING (conversation_id)", frm)
    return df(con, f"""
        WITH who AS ({who_sql})
        SELECT who.agent_id AS {'agent_id' if by == 'agent' else 'bot_version'},
               count(*) AS conversations, {agg}
        {joined}
        GROUP BY 1 ORDER BY {order}""", p)


def auto_criteria(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Auto criterion scores of some conversations. Grain: one row per (conversation, criterion)."""
    need(con, "qa_criteria_scores")
    if not ids:
        return pl.DataFrame(schema={"conversation_id": pl.String, "criterion": pl.String,
                                    "score": pl.Int8})
    return df(con, "SELECT conversation_id, criterion, score FROM qa_criteria_scores "
                    "WHERE conversation_id IN (SELECT unnest(?))", [list(ids)])


def auto_totals(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Auto QA score of some conversations. Grain: one row per conversation."""
    need(con, "conversation_scores")
    return df(con, "SELECT conversation_id, qa_score FROM conversation_scores "
                    "WHERE conversation_id IN (SELECT unnest(?))", [list(ids) or [""]])


# --- coaching -------------------------------------------------------------------------------

def _scored_from(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[str, list]:
    frm, p, scores = base_sql(con, f)
    if not scores:
        raise NotComputed("conversation_scores")
    return frm, p


def _criteria(con: duckdb.DuckDBPyConnection) -> str:
    """Applicable criterion scores (the published table holds the current model version's)."""
    need(con, "qa_criteria_scores")
    return ("SELECT conversation_id, criterion, score FROM qa_criteria_scores "
            "WHERE applicable AND score IS NOT NULL")


def coach_trend(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Mean QA score per month. Grain: one row per month (UTC month of ``started_at``)."""
    frm, p = _scored_from(con, f)
    return df(con, f"SELECT strftime(c.started_at, '%Y-%m') AS month, count(*) AS conversations,"
                    f" avg(s.qa_score) AS qa_score_mean {frm} GROUP BY 1 ORDER BY 1", p)


def _ids(con: duckdb.DuckDBPyConnection, f: Filters) -> tuple[str, list]:
    """``SELECT conversation_id`` of the conversations under ``f``, with the fewest joins."""
    frm, p, scores = base_sql(con, f, select_scores=False, select_conv=False)
    if not scores:
        raise NotComputed("conversation_scores")
    return f"SELECT conversation_id {frm}", p


def coach_criteria(con: duckdb.DuckDBPyConnection, f: Filters, team: Filters) -> pl.DataFrame:
    """Each criterion's met rate for the subject and for the team (``team``: the same filters
    without the subject), weakest first. Grain: one row per criterion. N/A is left out.

    One pass over the criterion scores: the subject's conversations are a small hash join,
    and a team without filters (everyone) adds no join at all."""
    mine, p = _ids(con, f)
    in_team, tp = ("", []) if team == Filters() else _ids(con, team)
    where = f"WHERE q.conversation_id IN ({in_team})" if in_team else ""
    return df(con, f"""
        WITH mine AS ({mine}), q AS ({_criteria(con)})
        SELECT q.criterion, count(m.conversation_id) AS applicable,
               avg(q.score) FILTER (WHERE m.conversation_id IS NOT NULL) AS met_rate,
               avg(q.score) AS team_met_rate
        FROM q LEFT JOIN mine m ON m.conversation_id = q.conversation_id {where}
        GROUP BY 1 HAVING applicable > 0
        ORDER BY met_rate, team_met_rate - met_rate DESC, criterion""", [*p, *tp])


def coach_examples(con: duckdb.DuckDBPyConnection, f: Filters, criterion: str,
                   limit: int = 5) -> pl.DataFrame:
    """The subject's conversations that missed ``criterion``, worst QA score first. Grain: one
    row per conversation."""
    frm, p = _scored_from(con, f)
    return df(con, f"""
        SELECT c.conversation_id, c.started_at, c.intent, s.qa_score, s.resolution
        {frm} AND c.conversation_id IN (SELECT conversation_id FROM ({_criteria(con)})
                                        WHERE criterion = ? AND score = 0)
        ORDER BY s.qa_score NULLS LAST, c.started_at DESC LIMIT ?""", [*p, criterion, limit])
