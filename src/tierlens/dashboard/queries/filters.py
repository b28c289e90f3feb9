"""QA filters (shareable in the link) and the ``FROM ... WHERE`` they make over the
snapshot's ``conversations c`` and ``conversation_scores s``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import duckdb

from tierlens.dashboard.queries.base import (
    SENTIMENT_CUT,
    TIER_PATHS,
    NotComputed,
    need,
    people,
    scored,
)


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
    CONVERSATION_FIELDS = ("date_from", "date_to", "tier", "queue", "intent", "agent",
                           "bot_version")

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


def where_sql(f: Filters, scores: bool, who: str = "conversation_agents") -> tuple[str, list[Any]]:
    """WHERE clause over ``c`` (conversations) and ``s`` (conversation_scores); ``who``: the
    relation of who spoke in each conversation (:func:`.base.people`)."""
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
        # IN, not a correlated EXISTS: DuckDB semi-joins it before the 1M-row join (2x faster)
        w.append(f"c.conversation_id IN (SELECT conversation_id FROM {who} "
                 "WHERE role = 'agent' AND agent_id = ?)")
        p.append(f.agent)
    if f.bot_version:
        w.append(f"(c.bot_version = ? OR c.conversation_id IN (SELECT conversation_id FROM {who} "
                 "WHERE role = 'bot' AND agent_id = ?))")
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


def base_sql(con: duckdb.DuckDBPyConnection, f: Filters, *, select_scores: bool = True,
          select_conv: bool = True) -> tuple[str, list[Any], bool]:
    """``FROM ... WHERE`` over ``c`` (conversations) and/or ``s`` (conversation_scores).

    Joins only what the filters and the select need: a 1M-row join is the costliest step,
    so a score histogram without conversation filters reads ``conversation_scores`` alone.
    """
    need(con, "conversations")
    scores = scored(con)
    where, p = where_sql(f, scores, people(con) if f.agent or f.bot_version else "")
    conv_filter = any(getattr(f, k) is not None for k in f.CONVERSATION_FIELDS)
    need_s = scores and (select_scores or f.needs_scores())
    need_c = select_conv or conv_filter or not need_s
    if need_c and need_s:
        frm = "FROM conversations c LEFT JOIN conversation_scores s USING (conversation_id)"
    elif need_s:
        frm = "FROM conversation_scores s"
    else:
        frm = "FROM conversations c"
    return f"{frm} WHERE {where}", p, scores
