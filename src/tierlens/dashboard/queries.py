"""Every SQL the dashboard pages run, against the read-only serving snapshot.

The snapshot (``settings.serving_dir / serving.duckdb``) is swapped atomically by the
pipeline, so each call opens a fresh read-only connection (:func:`open_snapshot`) and never
holds it. Tables the pipeline hasn't produced yet raise :class:`NotComputed`, which pages
show as "not computed yet". Parameters are always bound. Each function documents the grain
of the frame it returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tierlens.errors import StoreError
from tierlens.settings import Settings, get_settings
from tierlens.store.publish import snapshot_path

SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}
SENTIMENT_CUT = 0.25  # sentiment_end below -0.25 is negative, above +0.25 positive
TIER_PATHS = {"ai": ("bot_only",), "human": ("bot_then_human", "human_only")}


class NotComputed(StoreError):
    """A table the page needs is not in the serving snapshot yet."""

    def __init__(self, table: str, hint: str = "run `tierlens score`") -> None:
        super().__init__(f"`{table}` is not computed yet - {hint}")
        self.table = table
        self.hint = hint


def snapshot(settings: Settings | None = None) -> Path:
    return snapshot_path((settings or get_settings()).serving_dir)


@contextmanager
def open_snapshot(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published snapshot."""
    if not Path(path).exists():
        raise NotComputed("serving snapshot", "run `tierlens ingest` (or `tierlens run`)")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}


def has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table in tables(con)


_INGEST_TABLES = ("conversations", "turns", "ingest_runs", "quarantine", "dq_results")
_FLOW_TABLES = ("flow_runs", "alerts")


def scored(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ``conversation_scores`` exists and holds scored rows.

    The pipeline publishes the view over every conversation even before scoring; each row's
    ``model_version`` / ``rulebook_version`` is the version last applied to it (NULL until
    something was scored). One row with a version tells.
    """
    if not has(con, "conversation_scores"):
        return False
    cols = columns(con, "conversation_scores")
    probe = [c for c in ("model_version", "rulebook_version") if c in cols]
    if not probe:
        return False
    where = " OR ".join(f"{c} IS NOT NULL" for c in probe)  # column names from the catalogue
    return con.execute(f"SELECT 1 FROM conversation_scores WHERE {where} LIMIT 1"
                       ).fetchone() is not None


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of a published table (cheaper than information_schema.columns)."""
    if table not in tables(con):
        return []
    cur = con.execute(f'SELECT * FROM "{table}" LIMIT 0')  # table name comes from the catalog
    return [d[0] for d in cur.description]


def _need(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    have = tables(con)
    for n in names:
        if n == "conversation_scores" and n in have and not scored(con):
            raise NotComputed(n)
        if n not in have:
            raise NotComputed(n, "run `tierlens ingest`" if n in _INGEST_TABLES
                              else "no flow has run yet (`tierlens run` or the Prefect flows)" if n in _FLOW_TABLES
                              else "run `tierlens score`")


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    return con.execute(sql, params or []).pl()


# --- filters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """QA filters; they round-trip through ``st.query_params`` so a view is a shareable link."""

    date_from: str | None = None  # YYYY-MM-DD, inclusive (started_at, UTC)
    date_to: str | None = None  # YYYY-MM-DD, inclusive
    tier: str | None = None  # ai | human
    queue: str | None = None
    agent: str | None = None
    bot_version: str | None = None
    intent: str | None = None
    sentiment: str | None = None  # negative | neutral | positive (of sentiment_end)
    resolution: str | None = None
    qa_min: float | None = None
    qa_max: float | None = None
    red_flag: bool | None = None

    SCORE_FIELDS = ("sentiment", "resolution", "qa_min", "qa_max", "red_flag")

    @classmethod
    def from_params(cls, params: dict[str, str]) -> Filters:
        kw: dict[str, Any] = {}
        for f in fields(cls):
            v = params.get(f.name)
            if v in (None, ""):
                continue
            if f.name in ("qa_min", "qa_max"):
                try:
                    kw[f.name] = float(v)  # type: ignore[arg-type]
                except ValueError:
                    continue
            elif f.name == "red_flag":
                kw[f.name] = str(v).lower() in ("1", "true", "yes")
            else:
                kw[f.name] = str(v)
        return cls(**kw)

    def to_params(self) -> dict[str, str]:
        return {k: (str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in asdict(self).items() if v is not None}

    def needs_scores(self) -> bool:
        return any(getattr(self, f) is not None for f in self.SCORE_FIELDS)


def _where(f: Filters, scores: bool) -> tuple[str, list[Any]]:
    """WHERE clause over ``c`` (conversations) and ``s`` (conversation_scores)."""
    if f.needs_scores() and not scores:
        raise NotComputed("conversation_scores")
    w, p = ["TRUE"], []
    if f.date_from:
        w.append("c.started_at >= CAST(? AS DATE)")
        p.append(f.date_from)
    if f.date_to:
        w.append("c.started_at < CAST(? AS DATE) + INTERVAL 1 DAY")
        p.append(f.date_to)
    if f.tier in TIER_PATHS:
        w.append("c.tier_path IN (" + ", ".join("?" for _ in TIER_PATHS[f.tier]) + ")")
        p.extend(TIER_PATHS[f.tier])
    for col in ("queue", "intent"):
        v = getattr(f, col)
        if v:
            w.append(f"c.{'first_queue' if col == 'queue' else col} = ?")
            p.append(v)
    if f.agent:
        w.append("EXISTS (SELECT 1 FROM turns t WHERE t.conversation_id = c.conversation_id "
                 "AND t.speaker = 'agent' AND t.agent_id = ?)")
        p.append(f.agent)
    if f.bot_version:
        w.append("(c.bot_version = ? OR EXISTS (SELECT 1 FROM turns t WHERE t.conversation_id = "
                 "c.conversation_id AND t.speaker = 'bot' AND t.agent_id = ?))")
        p.extend([f.bot_version, f.bot_version])
    if f.sentiment == "negative":
        w.append("s.sentiment_end < ?")
        p.append(-SENTIMENT_CUT)
    elif f.sentiment == "positive":
        w.append("s.sentiment_end > ?")
        p.append(SENTIMENT_CUT)
    elif f.sentiment == "neutral":
        w.append("s.sentiment_end BETWEEN ? AND ?")
        p.extend([-SENTIMENT_CUT, SENTIMENT_CUT])
    if f.resolution:
        w.append("s.resolution = ?")
        p.append(f.resolution)
    if f.qa_min is not None:
        w.append("s.qa_score >= ?")
        p.append(f.qa_min)
    if f.qa_max is not None:
        w.append("s.qa_score <= ?")
        p.append(f.qa_max)
    if f.red_flag is not None:
        w.append("coalesce(s.red_flag, FALSE) = ?")
        p.append(f.red_flag)
    return " AND ".join(w), p


def _base(con: duckdb.DuckDBPyConnection, f: Filters, *, select_scores: bool = True,
          select_conv: bool = True) -> tuple[str, list[Any], bool]:
    """``FROM ... WHERE`` over ``c`` (conversations) and/or ``s`` (conversation_scores).

    Joins only what the filters and the select need: a 1M-row join is the costliest step,
    so a score histogram without conversation filters reads ``conversation_scores`` alone.
    """
    _need(con, "conversations")
    scores = scored(con)
    where, p = _where(f, scores)
    conv_filter = any(getattr(f, k) is not None for k in
                      ("date_from", "date_to", "tier", "queue", "intent", "agent", "bot_version"))
    need_s = scores and (select_scores or f.needs_scores())
    need_c = select_conv or conv_filter or not need_s
    if need_c and need_s:
        frm = "FROM conversations c LEFT JOIN conversation_scores s USING (conversation_id)"
    elif need_s:
        frm = "FROM conversation_scores s"
    else:
        frm = "FROM conversations c"
    return f"{frm} WHERE {where}", p, scores


# --- executive ------------------------------------------------------------------------------

def kpi_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    _need(con, "kpi_monthly")
    return [r[0] for r in con.execute(
        "SELECT DISTINCT month FROM kpi_monthly ORDER BY month DESC").fetchall()]


def kpi_table(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """KPIs of ``month`` with the previous month and the change.

    Grain: one row per (tier, kpi) of the month.
    """
    from tierlens.metrics.trust import with_verification

    _need(con, "kpi_monthly")
    have = set(columns(con, "kpi_monthly"))
    trust = ", ".join(c if c in have else f"NULL::{t} AS {c}" for c, t in (
        ("value_corrected", "DOUBLE"), ("ci_low", "DOUBLE"), ("ci_high", "DOUBLE"),
        ("n_reviewed", "BIGINT")))
    return with_verification(_df(con, f"""
        WITH k AS (
          SELECT month, tier, kpi, value, numerator, denominator, {trust},
                 lag(value) OVER (PARTITION BY tier, kpi ORDER BY month) AS prev_value,
                 lag(month) OVER (PARTITION BY tier, kpi ORDER BY month) AS prev_month
          FROM kpi_monthly)
        SELECT tier, kpi, value, numerator, denominator, prev_month, prev_value,
               value - prev_value AS mom_change, value_corrected, ci_low, ci_high, n_reviewed
        FROM k WHERE month = ?
        ORDER BY CASE tier WHEN 'ai' THEN 0 WHEN 'human' THEN 1 ELSE 2 END, kpi""", [month]))


def verification_progress(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The verification sample per month and tier: population, reviews needed, reviewed.
    Grain: one row per (month, tier)."""
    _need(con, "verification_sample")
    return _df(con, """SELECT month, tier, any_value(population) AS population,
                              any_value(needed) AS needed, count_if(reviewed) AS reviewed
                       FROM verification_sample GROUP BY month, tier
                       ORDER BY month DESC, tier""")


def verification_todo(con: duckdb.DuckDBPyConnection, month: str, limit: int = 200
                      ) -> pl.DataFrame:
    """The month's sampled conversations not reviewed yet, in sample order. Grain: one row
    per conversation."""
    _need(con, "verification_sample")
    return _df(con, """SELECT tier, sample_rank, conversation_id FROM verification_sample
                       WHERE month = ? AND NOT reviewed ORDER BY tier, sample_rank LIMIT ?""",
               [month, limit])


def topic_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    _need(con, "topics")
    return [r[0] for r in con.execute(
        "SELECT DISTINCT month FROM topics ORDER BY month DESC").fetchall()]


def topic_table(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """The month's topics, largest opportunity first. Grain: one row per topic."""
    _need(con, "topics")
    return _df(con, "SELECT * FROM topics WHERE month = ? ORDER BY opportunity DESC, "
                    "n_conversations DESC, topic_id", [month])


def topic_conversations(con: duckdb.DuckDBPyConnection, topic_id: int, month: str,
                        limit: int = 500) -> pl.DataFrame:
    """A topic's conversations in a month, closest to the topic first."""
    _need(con, "conversation_topics", "conversations")
    return _df(con, """SELECT c.conversation_id, c.started_at, c.tier_path, c.intent,
                              t.distance
                       FROM conversation_topics t JOIN conversations c USING (conversation_id)
                       WHERE t.topic_id = ? AND strftime(c.started_at AT TIME ZONE 'UTC',
                                                         '%Y-%m') = ?
                       ORDER BY t.distance LIMIT ?""", [topic_id, month, limit])


def topic_examples(con: duckdb.DuckDBPyConnection, topic_id: int, intent: str) -> pl.DataFrame:
    """A topic's requests as `text,intent` examples (tierlens.topics.export)."""
    from tierlens.topics.export import promotion_examples

    _need(con, "conversation_topics")
    return promotion_examples(con, topic_id, intent)


def kpi_trend(con: duckdb.DuckDBPyConnection, kpi: str) -> pl.DataFrame:
    """One KPI over time. Grain: one row per (month, tier)."""
    _need(con, "kpi_monthly")
    return _df(con, "SELECT month, tier, value, numerator, denominator FROM kpi_monthly "
                    "WHERE kpi = ? ORDER BY month, tier", [kpi])


def kpi_history(con: duckdb.DuckDBPyConnection, month: str, kpis: tuple[str, ...],
                months: int = 6) -> pl.DataFrame:
    """Some KPIs over the ``months`` months up to ``month``. Grain: one row per (month, tier,
    kpi)."""
    _need(con, "kpi_monthly")
    return _df(con, """
        WITH m AS (SELECT DISTINCT month FROM kpi_monthly WHERE month <= ?
                   ORDER BY month DESC LIMIT ?)
        SELECT month, tier, kpi, value FROM kpi_monthly
        WHERE month IN (SELECT month FROM m) AND list_contains(?, kpi)
        ORDER BY month, tier, kpi""", [month, months, list(kpis)])


def kpi_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    _need(con, "kpi_monthly")
    return [r[0] for r in con.execute(
        "SELECT DISTINCT kpi FROM kpi_monthly ORDER BY kpi").fetchall()]


# --- QA --------------------------------------------------------------------------------------

def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Distinct values for the QA filter widgets."""
    _need(con, "conversations", "turns")

    def col(sql: str) -> list[str]:
        return [str(r[0]) for r in con.execute(sql).fetchall() if r[0] is not None]

    out = {
        "queue": col("SELECT DISTINCT first_queue FROM conversations ORDER BY 1"),
        "intent": col("SELECT DISTINCT intent FROM conversations ORDER BY 1"),
        "agent": col("SELECT DISTINCT agent_id FROM turns WHERE speaker = 'agent' ORDER BY 1"),
        "bot_version": col("SELECT DISTINCT agent_id FROM turns WHERE speaker = 'bot' UNION "
                           "SELECT DISTINCT bot_version FROM conversations ORDER BY 1"),
        "resolution": [],
    }
    if scored(con):
        out["resolution"] = col("SELECT DISTINCT resolution FROM conversation_scores ORDER BY 1")
    return out


def conversation_list(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 500) -> pl.DataFrame:
    """Filtered conversations, worst QA score first. Grain: one row per conversation."""
    frm, p, scores = _base(con, f)
    extra = ("s.qa_score, s.resolution, s.sentiment_start, s.sentiment_end, s.red_flag, "
             "s.risk_score, s.escalated" if scores else "NULL::DOUBLE AS qa_score")
    order = "s.qa_score ASC NULLS LAST, c.started_at DESC" if scores else "c.started_at DESC"
    return _df(con, f"SELECT c.conversation_id, c.started_at, c.first_queue, c.tier_path, "
                    f"c.intent, {extra} {frm} ORDER BY {order} LIMIT ?", [*p, int(limit)])


def filtered_count(con: duckdb.DuckDBPyConnection, f: Filters) -> int:
    frm, p, _ = _base(con, f, select_scores=False, select_conv=False)
    return int(con.execute(f"SELECT count(*) {frm}", p).fetchone()[0])  # type: ignore[index]


def score_distribution(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """QA score histogram (10-point bins). Grain: one row per bin."""
    frm, p, scores = _base(con, f, select_conv=False)
    if not scores:
        raise NotComputed("conversation_scores")
    return _df(con, f"SELECT least(floor(s.qa_score / 10) * 10, 90)::INT AS qa_bin, "
                    f"count(*) AS conversations {frm} AND s.qa_score IS NOT NULL "
                    f"GROUP BY 1 ORDER BY 1", p)


def resolution_distribution(con: duckdb.DuckDBPyConnection, f: Filters) -> pl.DataFrame:
    """Grain: one row per resolution value."""
    frm, p, scores = _base(con, f, select_conv=False)
    if not scores:
        raise NotComputed("conversation_scores")
    return _df(con, f"SELECT coalesce(s.resolution, 'unknown') AS resolution, "
                    f"count(*) AS conversations {frm} GROUP BY 1 ORDER BY 2 DESC", p)


def leaderboard(con: duckdb.DuckDBPyConnection, f: Filters, by: str) -> pl.DataFrame:
    """Agents (``by='agent'``) or bot versions (``by='bot'``) compared.

    Grain: one row per agent_id (or bot version) with conversations, mean QA score,
    resolved rate, mean sentiment delta and red flags (score columns NULL when unscored).
    """
    use_bot_column = by == "bot" and "bot_version" in columns(con, "conversations") and \
        con.execute("SELECT 1 FROM conversations WHERE bot_version IS NOT NULL LIMIT 1").fetchone()
    frm, p, scores = _base(con, f, select_conv=bool(use_bot_column))
    speaker = "agent" if by == "agent" else "bot"
    agg = ("avg(s.qa_score) AS qa_score_mean, avg((s.resolution = 'resolved')::INT) AS "
           "resolved_rate, avg(s.sentiment_delta) AS sentiment_delta_mean, "
           "sum(coalesce(s.red_flag, FALSE)::INT) AS red_flags" if scores else
           "NULL::DOUBLE AS qa_score_mean")
    order = "qa_score_mean DESC NULLS LAST" if scores else "2 DESC"
    if use_bot_column:  # the bot version is on the conversation: no need to scan the turns
        return _df(con, f"SELECT c.bot_version, count(*) AS conversations, {agg} {frm} "
                        f"AND c.bot_version IS NOT NULL GROUP BY 1 ORDER BY {order}", p)
    who_sql = (f"SELECT DISTINCT conversation_id, agent_id FROM turns "
               f"WHERE speaker = '{speaker}' AND agent_id IS NOT NULL")
    joined = re.sub(r"^FROM (\w+ [cs])", r"FROM \1 JOIN who USING (conversation_id)", frm)
    return _df(con, f"""
        WITH who AS ({who_sql})
        SELECT who.agent_id AS {'agent_id' if by == 'agent' else 'bot_version'},
               count(*) AS conversations, {agg}
        {joined}
        GROUP BY 1 ORDER BY {order}""", p)


def auto_criteria(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Auto criterion scores of some conversations. Grain: one row per (conversation, criterion)."""
    _need(con, "qa_criteria_scores")
    if not ids:
        return pl.DataFrame(schema={"conversation_id": pl.String, "criterion": pl.String,
                                    "score": pl.Int8})
    return _df(con, "SELECT conversation_id, criterion, score FROM qa_criteria_scores "
                    "WHERE conversation_id IN (SELECT unnest(?))", [list(ids)])


def auto_totals(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Auto QA score of some conversations. Grain: one row per conversation."""
    _need(con, "conversation_scores")
    return _df(con, "SELECT conversation_id, qa_score FROM conversation_scores "
                    "WHERE conversation_id IN (SELECT unnest(?))", [list(ids) or [""]])


# --- conversation view ---------------------------------------------------------------------

def conversation(con: duckdb.DuckDBPyConnection, cid: str) -> pl.DataFrame:
    """One conversation with its scores. Grain: one row (or none)."""
    _need(con, "conversations")
    if scored(con):
        conv = set(columns(con, "conversations"))
        extra = "".join(f", s.{c}" for c in columns(con, "conversation_scores") if c not in conv)
        return _df(con, f"SELECT c.*{extra} FROM conversations c LEFT JOIN conversation_scores s "
                        "USING (conversation_id) WHERE conversation_id = ?", [cid])
    return _df(con, "SELECT * FROM conversations WHERE conversation_id = ?", [cid])


def transcript(con: duckdb.DuckDBPyConnection, cid: str) -> pl.DataFrame:
    """Grain: one row per turn of the conversation, in order."""
    _need(con, "turns")
    return _df(con, "SELECT turn_index, speaker, text, ts, agent_id, bot_confidence, event, "
                    "sentiment_label, sentiment_score FROM turns WHERE conversation_id = ? "
                    "ORDER BY turn_index", [cid])


def flags_of(con: duckdb.DuckDBPyConnection, cid: str) -> pl.DataFrame:
    """Grain: one row per rule hit in the conversation."""
    _need(con, "compliance_flags")
    return _df(con, "SELECT * FROM compliance_flags WHERE conversation_id = ? "
                    "ORDER BY turn_index NULLS FIRST, span_start", [cid])


def recent_conversation_ids(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[str]:
    _need(con, "conversations")
    return [r[0] for r in con.execute("SELECT conversation_id FROM conversations "
                                      "ORDER BY started_at DESC LIMIT ?", [limit]).fetchall()]


# --- compliance ----------------------------------------------------------------------------

def red_flag_queue(con: duckdb.DuckDBPyConnection, severity: str | None = None,
                   limit: int = 1000) -> pl.DataFrame:
    """Hits of red-flagged conversations (or any critical hit): severity, then newest first.

    Grain: one row per rule hit.
    """
    _need(con, "conversations", "compliance_flags")
    if not scored(con) and not con.execute("SELECT count(*) FROM compliance_flags").fetchone()[0]:
        raise NotComputed("compliance_flags")  # published but the rulebook never ran
    red = ("OR f.conversation_id IN (SELECT conversation_id FROM conversation_scores "
           "WHERE red_flag)") if scored(con) else ""
    sev, p = ("AND f.severity = ?", [severity]) if severity else ("", [])
    return _df(con, f"""
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


# --- routing & escalation ------------------------------------------------------------------

def _policy(con: duckdb.DuckDBPyConnection, policy: pl.DataFrame | None) -> pl.DataFrame:
    """``policy``, else the routing policy the pipeline derived with (published table
    ``routing_policy``: the warehouse taxonomy's own when it has one), else the settings'."""
    if policy is not None:
        return policy
    if has(con, "routing_policy") and con.execute(
            "SELECT count(*) FROM routing_policy").fetchone()[0]:  # type: ignore[index]
        return _df(con, "SELECT intent, expected_queue, intent_tier, expected_handoff_queue "
                        "FROM routing_policy ORDER BY intent").cast({"intent_tier": pl.Int8})
    from tierlens.config import load_routing_policy
    from tierlens.metrics.routing import policy_frame
    from tierlens.settings import get_settings

    return policy_frame(load_routing_policy(get_settings().routing_policy_path))


def misroute_matrix(con: duckdb.DuckDBPyConnection,
                    policy: pl.DataFrame | None = None) -> pl.DataFrame:
    """Expected queue -> actual first queue. Grain: one row per (expected, actual) pair.

    Uses the published ``misroute_matrix`` when present, else the policy frame
    (``intent, expected_queue``) against conversations with a known intent and queue.
    """
    if has(con, "misroute_matrix") and con.execute(
            "SELECT count(*) FROM misroute_matrix").fetchone()[0]:  # type: ignore[index]
        return _df(con, "SELECT * FROM misroute_matrix ORDER BY n DESC")
    _need(con, "conversations")
    con.register("policy_frame", _policy(con, policy).to_arrow())
    return _df(con, """
        SELECT coalesce(p.expected_queue, 'bot') AS expected_queue, c.first_queue AS actual_queue,
               count(*) AS n, bool_and(coalesce(p.expected_queue, 'bot') = c.first_queue) AS correct
        FROM conversations c LEFT JOIN policy_frame p USING (intent)
        WHERE c.intent IS NOT NULL AND c.first_queue IS NOT NULL
        GROUP BY 1, 2 ORDER BY 3 DESC""")


def escalation_summary(con: duckdb.DuckDBPyConnection, target_seconds: float) -> pl.DataFrame:
    """Escalation, handoff and trapped figures. Grain: one row."""
    _need(con, "conversation_scores")
    return _df(con, """
        SELECT count(*) FILTER (WHERE escalated) AS escalations,
               median(handoff_seconds) AS handoff_median_s,
               quantile_cont(handoff_seconds, 0.9) AS handoff_p90_s,
               avg((handoff_seconds <= ?)::INT) AS handoff_within_target,
               avg(repeated_after_handoff::INT) FILTER (WHERE escalated) AS repeated_after_handoff_rate,
               count(*) FILTER (WHERE trapped) AS trapped
        FROM conversation_scores""", [target_seconds])


def handoff_histogram(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Handoff seconds in 10 s bins (capped at 120). Grain: one row per bin."""
    _need(con, "conversation_scores")
    return _df(con, "SELECT least(floor(handoff_seconds / 10) * 10, 120)::INT AS seconds_bin, "
                    "count(*) AS escalations FROM conversation_scores "
                    "WHERE handoff_seconds IS NOT NULL GROUP BY 1 ORDER BY 1")


def escalation_reasons(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Grain: one row per escalation reason."""
    _need(con, "conversation_scores")
    return _df(con, "SELECT coalesce(escalation_reason, 'unknown') AS reason, count(*) AS n "
                    "FROM conversation_scores WHERE escalated GROUP BY 1 ORDER BY 2 DESC")


def tier_adherence(con: duckdb.DuckDBPyConnection,
                   policy: pl.DataFrame | None = None) -> pl.DataFrame:
    """should_have_escalated / needless_escalation counts. Grain: one row per (kind, intent)."""
    _need(con, "conversations")
    con.register("policy_frame", _policy(con, policy).to_arrow())
    return _df(con, """
        SELECT CASE WHEN p.intent_tier = 2 THEN 'should_have_escalated'
                    ELSE 'needless_escalation' END AS kind, c.intent, count(*) AS n
        FROM conversations c JOIN policy_frame p USING (intent)
        WHERE (p.intent_tier = 2 AND c.tier_path = 'bot_only')
           OR (p.intent_tier = 1 AND c.tier_path IN ('bot_then_human', 'human_only'))
        GROUP BY 1, 2 ORDER BY 1, 3 DESC""")


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
    return _df(con, f"SELECT c.conversation_id, c.started_at, c.first_queue, c.tier_path, c.intent "
                    f"FROM conversations c {join} WHERE {ref} = ? ORDER BY c.started_at DESC "
                    f"LIMIT ?", [value, int(limit)])


# --- data quality ------------------------------------------------------------------------

def ingest_runs(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    """Grain: one row per ingest run, newest first."""
    _need(con, "ingest_runs")
    return _df(con, "SELECT * EXCLUDE (paths), array_to_string(paths, ', ') AS paths "
                    "FROM ingest_runs ORDER BY started_at DESC LIMIT ?", [limit])


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Grain: one row per (reason, field) with a count and one example."""
    _need(con, "quarantine")
    return _df(con, "SELECT reason, field, count(*) AS records, any_value(message) AS example, "
                    "any_value(source_file || ':' || coalesce(source_line::VARCHAR, '-')) AS at "
                    "FROM quarantine GROUP BY 1, 2 ORDER BY 3 DESC")


def quarantine_rows(con: duckdb.DuckDBPyConnection, reason: str, limit: int = 200) -> pl.DataFrame:
    """Grain: one row per quarantined record with that reason."""
    _need(con, "quarantine")
    return _df(con, "SELECT * FROM quarantine WHERE reason = ? LIMIT ?", [reason, limit])


def dq_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """GX results. Grain: one row per (suite, expectation, column)."""
    _need(con, "dq_results")
    return _df(con, "SELECT suite, expectation, column_name, count(*) AS batches, "
                    "sum((NOT success)::INT) AS failed_batches, "
                    "sum(coalesce(unexpected_count, 0)) AS unexpected "
                    "FROM dq_results GROUP BY 1, 2, 3 ORDER BY failed_batches DESC, 1, 2")


def ledger(con: duckdb.DuckDBPyConnection, table: str, limit: int = 200) -> pl.DataFrame:
    """``flow_runs`` or ``alerts``, as published. Grain: that table's (one row per run/alert)."""
    if table not in ("flow_runs", "alerts"):
        raise ValueError(table)
    _need(con, table)
    return _df(con, f"SELECT * FROM {table} LIMIT ?", [limit])
