"""Conversation-level model outputs, derived from the turn scores (pure polars, no row loops).

:func:`score_conversations` returns ``CONVERSATION_SCORE_SCHEMA``: one row per conversation
that has at least one scored turn.

Definitions (documented in models/cards/conversation.md):
- **sentiment_start / sentiment_end**: mean ``sentiment_score`` of the customer's first /
  last k customer turns, where k = 1 when the customer spoke fewer than 4 times, else 2.
  ``sentiment_delta = end - start``. Null when the customer never spoke.
- **intent**: the intent of the customer's opening: of the first two customer turns, the one
  with the higher ``intent_confidence`` (a greeting such as "hi" loses to the request).
- **resolution**: ``resolved`` / ``unresolved`` / ``abandoned`` from the conversation-level
  model (:mod:`tierlens.score.resolution`, the head ``resolution``): features over the whole
  conversation (the last bot/agent outcome and what followed it, who spoke last, an unanswered
  bot question, the customer's last acts, a handoff left waiting, time gaps) into a small
  logistic regression. ``resolution_confidence`` is its probability for the label;
  ``resolution_evidence`` the turns behind the two features that pushed hardest toward it
  (the reason in words is :func:`explain_resolution`). ``pending`` is not a model label: it
  is decided downstream while the repeat window is open.
- **csat_predicted**: the mean predicted CSAT of the customer's turns. EXPERIMENTAL: it does not
  track a dialogue's overall satisfaction well enough to report (Spearman 0.29 on held-out
  USS; models/cards/csat.md), so it is not a KPI.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

CONVERSATION_SCORE_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "sentiment_start": pl.Float64,
    "sentiment_end": pl.Float64,
    "sentiment_delta": pl.Float64,
    "intent": pl.String,
    "intent_confidence": pl.Float64,
    "resolution": pl.String,
    "resolution_confidence": pl.Float64,
    "resolution_evidence": pl.List(pl.Int32),
    "csat_predicted": pl.Float64,
    "model_version": pl.String,
}


def _scored(turns: pl.DataFrame, turn_scores: pl.DataFrame) -> pl.DataFrame:
    return (turn_scores.join(turns.select("conversation_id", pl.col("turn_index").cast(pl.Int32),
                                          "speaker"),
                             on=["conversation_id", "turn_index"], how="left")
            .sort("conversation_id", "turn_index"))


def explain_resolution(turns: pl.DataFrame, turn_scores: pl.DataFrame,
                       heads_dir: Path) -> pl.DataFrame:
    """``conversation_id, resolution, resolution_confidence, resolution_evidence,
    resolution_reason`` (one row per conversation with scored turns)."""
    from tierlens.score.heads import load_head
    from tierlens.score.resolution import features, predict

    return predict(features(turns, turn_scores), load_head("resolution", heads_dir))


def score_conversations(turns: pl.DataFrame, turn_scores: pl.DataFrame,
                        heads_dir: Path) -> pl.DataFrame:
    """One row per conversation with scored turns (``CONVERSATION_SCORE_SCHEMA``)."""
    if turn_scores.height == 0:
        return pl.DataFrame(schema=CONVERSATION_SCORE_SCHEMA)
    s = _scored(turns, turn_scores)
    cust = pl.col("speaker") == "customer"
    n_cust = cust.sum()
    k = pl.when(n_cust >= 4).then(2).otherwise(1)
    cust_scores = pl.col("sentiment_score").filter(cust)
    first2 = pl.col("turn_index").filter(cust).head(2)
    agg = s.group_by("conversation_id").agg(
        sentiment_start=cust_scores.head(k).mean(),
        sentiment_end=cust_scores.tail(k).mean(),
        _open_idx=pl.col("turn_index").filter(cust & pl.col("turn_index").is_in(first2))
        .sort_by(pl.col("intent_confidence").filter(cust & pl.col("turn_index").is_in(first2)),
                 descending=True).first(),
        csat_predicted=pl.col("csat_predicted").filter(cust).mean(),
        model_version=pl.col("model_version").first())
    opening = s.select("conversation_id", pl.col("turn_index").alias("_open_idx"), "intent",
                       "intent_confidence")
    resolution = explain_resolution(turns, turn_scores, heads_dir).drop("resolution_reason")
    return (agg.join(opening, on=["conversation_id", "_open_idx"], how="left")
            .join(resolution, on="conversation_id", how="left")
            .with_columns(sentiment_delta=pl.col("sentiment_end") - pl.col("sentiment_start"))
            .select(list(CONVERSATION_SCORE_SCHEMA))
            .cast(CONVERSATION_SCORE_SCHEMA)
            .sort("conversation_id"))
