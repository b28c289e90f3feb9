"""Pure scoring of one batch of turns: encoder and heads, no database.

This is what a scoring task runs, in the flow process or on a Dask worker: the encoder and
the five heads are loaded once per process; a warehouse's own intent head travels with the
call.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tierlens.score.heads import Head

_HEADS: dict[str, Any] = {}


def heads(intent: Head | None = None) -> dict[str, Any]:
    """The five heads (loaded once per process), with ``intent`` as the intent head."""
    from tierlens.score.turns import load_heads

    if not _HEADS:
        _HEADS.update(load_heads())
    return _HEADS if intent is None else {**_HEADS, "intent": intent}


def model_version_of(precision: str | None = None, intent: Head | None = None) -> str:
    """The model_version the encoder of ``precision`` and the heads produce, with ``intent``
    (a warehouse's own taxonomy) in place of the default intent head."""
    from tierlens.score.encoder import get_encoder
    from tierlens.score.turns import model_version

    return model_version(get_encoder(precision), heads(intent))


def score_batch(turns: pl.DataFrame, precision: str | None = None,
                intent: Head | None = None) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    """(model_version, turn scores, conversation scores) of one batch of turns.

    Grain: turn scores one row per scored turn; conversation scores one row per conversation.
    """
    from tierlens.score.conversation import score_conversations
    from tierlens.score.encoder import get_encoder
    from tierlens.score.turns import (
        TURN_SCORE_COLUMNS,
        encode_turns,
        model_version,
        score_embeddings,
    )

    enc = get_encoder(precision)
    hs = heads(intent)
    version = model_version(enc, hs)
    keys, emb = encode_turns(turns, enc)
    ts = score_embeddings(keys, emb, hs, version)
    cs = score_conversations(turns, ts)
    return version, ts.select(TURN_SCORE_COLUMNS), cs
