"""The customer's request: the first substantive customer turn of a conversation.

A turn is substantive when, after dropping greetings and fillers ("hi", "hello there",
"good morning", "thanks"), it keeps at least ``MIN_WORDS`` words. Conversations whose
customer never says anything substantive have no request (and no topic).
"""

from __future__ import annotations

import re

import polars as pl

MIN_WORDS = 3
_FILLER = re.compile(r"\b(hi|hello|hey|there|good|morning|afternoon|evening|thanks|thank|you|"
                     r"please|ok|okay|yes|no|sure|great)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]{2,}")


def is_substantive(text: str | None) -> bool:
    if not text:
        return False
    return len(_WORD.findall(_FILLER.sub(" ", text))) >= MIN_WORDS


def first_requests(turns: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation with a request: conversation_id, turn_index, text.
    ``turns``: conversation_id, turn_index, speaker, text."""
    cust = turns.filter(pl.col("speaker") == "customer").select(
        "conversation_id", "turn_index", "text")
    keep = cust.with_columns(ok=pl.col("text").map_elements(is_substantive,
                                                            return_dtype=pl.Boolean))
    return (keep.filter(pl.col("ok")).sort("conversation_id", "turn_index")
            .group_by("conversation_id", maintain_order=True).first().drop("ok"))
