"""Helpers shared by the score tests."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from tierlens.schema import TURN_SCHEMA
from tierlens.score.heads import default_heads_dir
from tierlens.settings import get_settings


def make_turns(rows: list[tuple[str, int, str, str, str | None]]) -> pl.DataFrame:
    ts = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    return pl.DataFrame(
        {"conversation_id": [r[0] for r in rows], "turn_index": [r[1] for r in rows],
         "speaker": [r[2] for r in rows], "text": [r[3] for r in rows],
         "ts": [ts] * len(rows), "agent_id": [None] * len(rows),
         "bot_confidence": [None] * len(rows), "event": [r[4] for r in rows],
         "queue": [None] * len(rows)}, schema=TURN_SCHEMA)


# The served heads and the exported int8 graph of the settings tests run under: the library
# reads no settings itself, so the tests pass these in as every entry point does.
SERVED = get_settings()
HEADS = default_heads_dir(SERVED)
ONNX = SERVED.cache_dir / "onnx"
ADAPTER = SERVED.encoder_adapter  # the shipped LoRA delta the served heads were trained on
