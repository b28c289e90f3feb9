"""The conversation page's pieces, pure: turn captions, the evidence turns (escalation trigger,
resolution evidence), the customer's sentiment timeline, and the review form's check.

Sentiment is the customer's: the model reads the customer's voice, so a bot or agent turn's
score says nothing about how the customer felt and is never shown on such a turn.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tierlens.metrics.episodes import episode_frame

AVATAR = {"customer": "user", "bot": ":material/smart_toy:", "agent": ":material/support_agent:",
          "system": ":material/settings:"}


def turn_meta(t: dict[str, Any]) -> list[str]:
    """The caption parts of one turn. Sentiment only on customer turns."""
    meta = [f"#{t['turn_index']}", t["speaker"]]
    if t.get("agent_id"):
        meta.append(t["agent_id"])
    if t.get("event"):
        meta.append(f"event: {t['event']}")
    if t["speaker"] == "customer" and t.get("sentiment_label"):
        score = t.get("sentiment_score")
        meta.append(f"customer sentiment: {t['sentiment_label']}"
                    + (f" ({score:+.2f})" if score is not None else ""))
    if t.get("bot_confidence") is not None:
        meta.append(f"bot confidence {t['bot_confidence']:.2f}")
    return meta


def escalation_trigger(cid: str, turns: pl.DataFrame) -> tuple[int, str] | None:
    """The turn that triggered the escalation and its kind (the handoff event, or else the first
    customer turn asking for a human), by the pipeline's own rule
    (:func:`tierlens.metrics.episodes.episode_frame`); None when not escalated."""
    if turns.is_empty():
        return None
    ep = episode_frame(turns.with_columns(conversation_id=pl.lit(cid)))
    if ep.is_empty() or ep["trigger_index"][0] is None:
        return None
    return int(ep["trigger_index"][0]), str(ep["trigger_kind"][0])


def evidence_badges(cid: str, turns: pl.DataFrame, head: dict[str, Any]) -> dict[int, list[str]]:
    """Per turn index, the evidence it carries: the escalation trigger (with the reason) and
    the turns the resolution model cited (``resolution_evidence``)."""
    out: dict[int, list[str]] = {}
    trig = escalation_trigger(cid, turns)
    if trig:
        reason = head.get("escalation_reason") or trig[1].replace("_", " ")
        out.setdefault(trig[0], []).append(f"escalation trigger: {reason}")
    for i in head.get("resolution_evidence") or []:
        out.setdefault(int(i), []).append(f"resolution evidence: {head.get('resolution')}")
    return out


def sentiment_timeline(turns: pl.DataFrame) -> pl.DataFrame:
    """The customer's turns with a sentiment score. Grain: one row per customer turn."""
    return (turns.filter((pl.col("speaker") == "customer")
                         & pl.col("sentiment_score").is_not_null())
            .select("turn_index", "sentiment_score", "sentiment_label"))


def sentiment_chart(timeline: pl.DataFrame) -> alt.Chart:
    """Customer sentiment per turn (-1 negative .. +1 positive), zero line dashed."""
    line = alt.Chart(timeline.to_pandas()).mark_line(point=True).encode(
        x=alt.X("turn_index:Q", title="turn", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("sentiment_score:Q", title="customer sentiment",
                scale=alt.Scale(domain=[-1, 1])),
        tooltip=["turn_index", "sentiment_label",
                 alt.Tooltip("sentiment_score:Q", format="+.2f")])
    zero = alt.Chart(alt.Data(values=[{"y": 0}])).mark_rule(
        strokeDash=[4, 4], color="gray").encode(y="y:Q")
    return alt.layer(line, zero).properties(height=180)


def unanswered(answers: dict[str, str | None]) -> list[str]:
    """Criteria the reviewer left unanswered (N/A is an answer)."""
    return [name for name, a in answers.items() if a is None]


def context(turns: pl.DataFrame, turn_index: int, around: int = 2) -> pl.DataFrame:
    """The turns around an evidence turn, with ``position``: before | evidence | after. System
    turns without text are left out. Grain: one row per turn of the window."""
    return (turns.filter(((pl.col("turn_index") - turn_index).abs() <= around)
                         & ((pl.col("speaker") != "system") | (pl.col("text").fill_null("") != "")
                            | (pl.col("turn_index") == turn_index)))
            .with_columns(position=pl.when(pl.col("turn_index") < turn_index).then(pl.lit("before"))
                          .when(pl.col("turn_index") == turn_index).then(pl.lit("evidence"))
                          .otherwise(pl.lit("after"))))
