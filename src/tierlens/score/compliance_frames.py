"""The frames every compliance evaluator reads and writes (pure polars, no I/O).

- :data:`HIT_SCHEMA`, :data:`SCORE_SCHEMA`: the outputs (grains in :mod:`tierlens.score.compliance`);
- :data:`LOC_SCHEMA`: one evaluator's hit locations, before the rule's columns are added;
- :func:`prepare_turns`: the turns frame every rule runs over; :func:`rule_turns`: a rule's turns.
"""

from __future__ import annotations

import numpy as np
import polars as pl

CID, TI = "conversation_id", "turn_index"

HIT_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "turn_index": pl.Int32,
    "rule_id": pl.String,
    "rule_version": pl.String,
    "rulebook_version": pl.String,
    "kind": pl.String,
    "severity": pl.String,
    "span_start": pl.Int32,
    "span_end": pl.Int32,
    "matched_text": pl.String,
    "detail": pl.String,
}
SCORE_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String,
    "rulebook_version": pl.String,
    "risk_score": pl.Float64,
    "red_flag": pl.Boolean,
    "n_hits": pl.Int32,
}
LOC_SCHEMA: dict[str, pl.DataType] = {
    CID: pl.String, TI: pl.Int32, "span_start": pl.Int32, "span_end": pl.Int32,
    "matched_text": pl.String, "detail": pl.String,
}
Embeddings = tuple[pl.DataFrame, np.ndarray]


# ----------------------------------------------------------------------------- basics
def prepare_turns(conversations: pl.DataFrame, turns: pl.DataFrame) -> pl.DataFrame:
    """Turns with the conversation's channel, sorted; one row per turn (+ ``_g``, an integer
    conversation key that window expressions partition by)."""
    conv_cols = [CID] + (["channel"] if "channel" in conversations.columns else [])
    conv = conversations.select(conv_cols).unique(CID, keep="last")
    if "channel" not in conv.columns:
        conv = conv.with_columns(channel=pl.lit(None, pl.String))
    event = pl.col("event") if "event" in turns.columns else pl.lit(None, pl.String)
    base = turns.select(
        pl.col(CID).cast(pl.String), pl.col(TI).cast(pl.Int32), pl.col("speaker"),
        pl.col("text").fill_null("").cast(pl.String), event.alias("event"))
    base = base.join(conv, on=CID, how="left").sort(CID, TI)
    return base.with_columns(_g=pl.col(CID).rle_id())  # integer conversation key for windows


def rule_turns(base: pl.DataFrame, speakers: tuple[str, ...] | None,
               channels: tuple[str, ...]) -> pl.DataFrame:
    """The turns of ``base`` a rule looks at: its speakers and channels."""
    cond = pl.lit(True)
    if speakers:
        cond = cond & pl.col("speaker").is_in(list(speakers))
    if channels:  # an unknown channel never matches a channel-restricted rule
        cond = cond & pl.col("channel").is_in(list(channels)).fill_null(False)
    return base.filter(cond)


def empty_loc() -> pl.DataFrame:
    """No hit locations (:data:`LOC_SCHEMA`)."""
    return pl.DataFrame(schema=LOC_SCHEMA)
