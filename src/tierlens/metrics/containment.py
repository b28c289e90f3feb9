"""Containment, raw and durable, over bot-entered conversations.

Row-level flags (one row per conversation), NULL when they don't apply or can't be known:

- contained_raw = bot-entered and not escalated; NULL when not bot-entered;
- contained_durable = contained_raw AND resolution = 'resolved' AND NOT abandoned AND NOT
  repeat_strict, in three-valued (Kleene) logic: false as soon as one known part is false
  (escalated, unresolved, abandoned); NULL when it depends on an unknown part (repeat window
  pending, customer or intent unknown, resolution unknown); NULL when not bot-entered.

KPIs: both divided by bot-entered (PRODUCT.md). Raw: count(true) / bot-entered. Durable:
count(true) / bot-entered, and the bot-entered conversations whose durable status is still
NULL are reported next to it as ``containment_durable_pending`` (a pending window is never
counted as a failure silently: the pending count says how much may still turn durable).
"""

from __future__ import annotations

import polars as pl


def contained_raw() -> pl.Expr:
    """Needs ``bot_entered, escalated``."""
    return pl.when(pl.col("bot_entered")).then(~pl.col("escalated"))


def contained_durable() -> pl.Expr:
    """Needs ``bot_entered, escalated, resolution, repeat_strict`` (Kleene AND)."""
    res = pl.col("resolution")
    return pl.when(pl.col("bot_entered")).then(
        ~pl.col("escalated") & (res == "resolved") & (res != "abandoned") & ~pl.col("repeat_strict"))


def with_containment(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds contained_raw and contained_durable (same grain as ``frame``)."""
    return frame.with_columns(contained_raw=contained_raw(), contained_durable=contained_durable())
