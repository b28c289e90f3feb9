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
    words = (pl.col("text").fill_null("").str.replace_all(f"(?i){_FILLER.pattern}", " ")
             .str.count_matches(_WORD.pattern))
    return (cust.filter(words >= MIN_WORDS).sort("conversation_id", "turn_index")
            .group_by("conversation_id", maintain_order=True).first())
