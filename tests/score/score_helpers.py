"""Helpers shared by the score tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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


# a small custom taxonomy (tierlens train-intents) for the training and out-of-scope tests
EXAMPLES = {
    "track_parcel": ["where is my parcel", "my package hasn't arrived", "track my delivery",
                     "when will my order be delivered", "has my parcel shipped yet",
                     "I need the tracking number for my order", "delivery status please"],
    "pay_bill": ["I want to pay my bill", "how can I pay my invoice", "pay the balance due",
                 "can I settle my bill by card", "make a payment on my account",
                 "I'd like to pay what I owe", "where do I pay my monthly bill"],
    "store_hours": ["what time do you open", "are you open on sunday", "opening hours please",
                    "when does the shop close today", "what are your hours on holidays",
                    "is the store open late on thursday", "closing time today?"],
}


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,intent") -> Path:
    lines = [header] + [f'"{t}",{i}' for t, i in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def all_rows() -> list[tuple[str, str]]:
    return [(t, k) for k, texts in EXAMPLES.items() for t in texts]
