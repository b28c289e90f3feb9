"""First-contact resolution over the whole episode (bot and human count as one contact).

fcr = resolution = 'resolved' (the conversation as a whole, whatever tiers it passed through,
transfers included) AND NOT repeat_strict, in three-valued (Kleene) logic. One row per
conversation: false as soon as the conversation is not resolved; NULL when it is resolved but
the strict repeat flag is NULL (window pending, customer or intent unknown) or when the
resolution is unknown. KPI: count(true) / count(not NULL) (the decided conversations).
"""

from __future__ import annotations

import polars as pl


def fcr() -> pl.Expr:
    """Needs ``resolution, repeat_strict`` (Kleene AND)."""
    return (pl.col("resolution") == "resolved") & ~pl.col("repeat_strict")


def with_fcr(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds ``fcr`` (same grain as ``frame``)."""
    return frame.with_columns(fcr=fcr())
