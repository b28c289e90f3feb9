"""Pure scoring of one batch of turns: encoder and heads, no database.

This is what a scoring task runs, in the flow process or on a Dask worker: the encoder and
the heads the settings name are loaded once per process (the settings travel with the call,
as does a warehouse's own intent head).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from tierlens.score.heads import Head

if TYPE_CHECKING:
    from tierlens.settings import Settings


def heads(settings: Settings, intent: Head | None = None) -> dict[str, Any]:
    """The heads of ``settings`` (each file loaded once per process), with ``intent`` as the
    intent head."""
    from tierlens.score.heads import default_heads_dir
    from tierlens.score.turns import load_heads

    hs = load_heads(default_heads_dir(settings))
    return hs if intent is None else {**hs, "intent": intent}


def model_version_of(settings: Settings, intent: Head | None = None) -> str:
    """The model_version the encoder and heads of ``settings`` produce, with ``intent`` (a
    warehouse's own taxonomy) in place of the default intent head."""
    from tierlens.score.encoder import get_encoder
    from tierlens.score.turns import model_version

    return model_version(get_encoder(settings), heads(settings, intent))


def score_batch(turns: pl.DataFrame, settings: Settings,
                intent: Head | None = None) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    """(model_version, turn scores, conversation scores) of one batch of turns.

    Grain: turn scores one row per scored turn; conversation scores one row per conversation.
    """
    from tierlens.score.conversation import score_conversations
    from tierlens.score.encoder import get_encoder
    from tierlens.score.heads import default_heads_dir
    from tierlens.score.turns import TURN_SCORE_COLUMNS, model_version, score_with_heads

    enc = get_encoder(settings)
    hs = heads(settings, intent)
    version = model_version(enc, hs)
    ts = score_with_heads(turns, enc, hs, version)
    cs = score_conversations(turns, ts, heads_dir=default_heads_dir(settings))
    return version, ts.select(TURN_SCORE_COLUMNS), cs
