"""Conversation-level model outputs, derived from the turn scores (pure polars, no row loops).

:func:`score_conversations` returns ``CONVERSATION_SCORE_SCHEMA``: one row per conversation
that has at least one scored turn.

Definitions (documented in models/cards/conversation.md):
- **sentiment_start / sentiment_end**: mean ``sentiment_score`` of the customer's first /
  last k customer turns, where k = 1 when the customer spoke fewer than 4 times, else 2.
  ``sentiment_delta = end - start``. Null when the customer never spoke.
- **intent**: the intent of the customer's opening: of the first two customer turns, the one
  with the higher ``intent_confidence`` (a greeting such as "hi" loses to the request).
- **resolution** (first rule that applies):
  1. ``resolved``: the customer's last turn is not negative, and either a bot/agent turn
     carries the ``success`` cue with no ``failure`` cue after it, or a positive customer
     turn (thanks) comes after every ``failure`` cue: "thanks, that fixed it" followed by
     "no, that's all" is resolved.
     Evidence: the last success turn and/or that thanks turn.
  2. ``abandoned``: the conversation ends waiting for the customer (the last scored turn is a
     bot/agent turn whose cue is ``request_more`` or ``other``), or a handoff/transfer/hold
     event comes after the last scored turn (the customer left in the queue).
     Evidence: that last turn.
  3. ``unresolved``: everything else (a failure cue, a negative ending, no closure).
     Evidence: the last failure turn and/or the last customer turn.
  ``resolution_confidence`` is the calibrated probability of the deciding evidence turn's
  label (the cue's or the sentiment's), or 0.5 when no evidence turn decided it.
- **csat_predicted**: the mean predicted CSAT of the customer's turns (on USS this tracked the
  dialogue's overall rating better than the last turn or the minimum; see the csat card).
"""

from __future__ import annotations

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
_CUE_MIN_CONFIDENCE = 0.5


def _scored(turns: pl.DataFrame, turn_scores: pl.DataFrame) -> pl.DataFrame:
    cue = "outcome_cue" if "outcome_cue" in turn_scores.columns else "bot_outcome"
    cue_conf = f"{cue}_confidence"
    return (turn_scores.join(turns.select("conversation_id", pl.col("turn_index").cast(pl.Int32),
                                          "speaker"),
                             on=["conversation_id", "turn_index"], how="left")
            .with_columns(pl.col(cue).alias("_cue"), pl.col(cue_conf).alias("_cue_conf"))
            .sort("conversation_id", "turn_index"))


def _last_idx(cond: pl.Expr) -> pl.Expr:
    return pl.col("turn_index").filter(cond).max()


def score_conversations(turns: pl.DataFrame, turn_scores: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation with scored turns (``CONVERSATION_SCORE_SCHEMA``)."""
    if turn_scores.height == 0:
        return pl.DataFrame(schema=CONVERSATION_SCORE_SCHEMA)
    s = _scored(turns, turn_scores)
    cust = pl.col("speaker") == "customer"
    staff = pl.col("speaker").is_in(["bot", "agent"])
    cue_ok = pl.col("_cue_conf") >= _CUE_MIN_CONFIDENCE
    success = staff & (pl.col("_cue") == "success") & cue_ok
    failure = staff & (pl.col("_cue") == "failure") & cue_ok

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
        model_version=pl.col("model_version").first(),
        _last_success=_last_idx(success),
        _last_failure=_last_idx(failure),
        _last_cust=_last_idx(cust),
        _last_thanks=_last_idx(cust & (pl.col("sentiment_label") == "positive")),
        _last_turn=pl.col("turn_index").max(),
        _last_speaker=pl.col("speaker").last(),
        _last_cue=pl.col("_cue").last(),
        _last_cue_conf=pl.col("_cue_conf").last(),
    )
    # per-turn lookups of the evidence turns' labels and confidences
    look = s.select("conversation_id", "turn_index", "sentiment_label", "sentiment_confidence",
                    "intent", "intent_confidence", "_cue_conf")
    agg = (agg
           .join(look.select("conversation_id", pl.col("turn_index").alias("_open_idx"),
                             "intent", "intent_confidence"),
                 on=["conversation_id", "_open_idx"], how="left")
           .join(look.select("conversation_id", pl.col("turn_index").alias("_last_cust"),
                             pl.col("sentiment_label").alias("_end_label"),
                             pl.col("sentiment_confidence").alias("_end_conf")),
                 on=["conversation_id", "_last_cust"], how="left")
           .join(look.select("conversation_id", pl.col("turn_index").alias("_last_thanks"),
                             pl.col("sentiment_confidence").alias("_thanks_conf")),
                 on=["conversation_id", "_last_thanks"], how="left")
           .join(look.select("conversation_id", pl.col("turn_index").alias("_last_success"),
                             pl.col("_cue_conf").alias("_success_conf")),
                 on=["conversation_id", "_last_success"], how="left")
           .join(look.select("conversation_id", pl.col("turn_index").alias("_last_failure"),
                             pl.col("_cue_conf").alias("_failure_conf")),
                 on=["conversation_id", "_last_failure"], how="left"))
    # a handoff / transfer / hold event after the last scored turn: the customer left waiting
    events = (turns.filter(pl.col("event").is_in(["handoff", "transfer", "hold"]))
              .group_by("conversation_id")
              .agg(_last_wait_event=pl.col("turn_index").cast(pl.Int32).max()))
    agg = agg.join(events, on="conversation_id", how="left")

    fail_before = lambda idx: pl.col("_last_failure").is_null() | (
        pl.col("_last_failure") < idx)
    resolved_by_success = (pl.col("_last_success").is_not_null()
                           & fail_before(pl.col("_last_success"))
                           & (pl.col("_end_label").is_null()
                              | (pl.col("_end_label") != "negative")))
    resolved_by_thanks = (pl.col("_last_thanks").is_not_null()
                          & fail_before(pl.col("_last_thanks"))
                          & (pl.col("_end_label") != "negative"))
    waiting = (pl.col("_last_speaker").is_in(["bot", "agent"])
               & pl.col("_last_cue").is_in(["request_more", "other"]))
    left_in_queue = pl.col("_last_wait_event").fill_null(-1) > pl.col("_last_turn")
    resolution = (pl.when(resolved_by_success | resolved_by_thanks).then(pl.lit("resolved"))
                  .when(waiting | left_in_queue).then(pl.lit("abandoned"))
                  .otherwise(pl.lit("unresolved")))
    idx_list = lambda *cols: pl.concat_list(
        [pl.col(c) for c in cols]).list.drop_nulls().list.unique().list.sort()
    evidence = (pl.when(resolved_by_success & resolved_by_thanks)
                .then(idx_list("_last_success", "_last_thanks"))
                .when(resolved_by_success).then(idx_list("_last_success"))
                .when(resolved_by_thanks).then(idx_list("_last_thanks"))
                .when(waiting | left_in_queue).then(idx_list("_last_turn"))
                .when(pl.col("_end_label") == "negative")
                .then(idx_list("_last_failure", "_last_cust"))
                .otherwise(idx_list("_last_failure")))
    confidence = (pl.when(resolved_by_success)
                  .then(pl.max_horizontal("_success_conf",
                                          pl.when(resolved_by_thanks).then("_thanks_conf")))
                  .when(resolved_by_thanks).then(pl.col("_thanks_conf"))
                  .when(left_in_queue).then(pl.lit(0.5))
                  .when(waiting).then(pl.col("_last_cue_conf"))
                  .when(pl.col("_end_label") == "negative")
                  .then(pl.max_horizontal("_end_conf", "_failure_conf"))
                  .when(pl.col("_last_failure").is_not_null()).then(pl.col("_failure_conf"))
                  .otherwise(pl.lit(0.5)))
    return (agg.with_columns(sentiment_delta=pl.col("sentiment_end") - pl.col("sentiment_start"),
                             resolution=resolution, resolution_confidence=confidence,
                             resolution_evidence=evidence.cast(pl.List(pl.Int32)))
            .select(list(CONVERSATION_SCORE_SCHEMA))
            .cast(CONVERSATION_SCORE_SCHEMA)
            .sort("conversation_id"))
