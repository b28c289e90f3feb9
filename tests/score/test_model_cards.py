"""models/write_cards.py: a card's held-out rules come from its head's ``split`` metadata.

The training scripts write which rows are held out into the head's JSON; the cards show that
text under **Split** and never retype a hash rule of their own.
"""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "models"))  # write_cards imports models/common.py as `common`
CARDS = importlib.import_module("write_cards")
HEADS = [n for n in CARDS.FAILURE_MODES if (REPO / "models" / "heads" / f"{n}.json").exists()]


def _meta(name: str) -> dict:
    return json.loads((REPO / "models" / "heads" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", HEADS)
def test_the_card_shows_the_heads_split_and_its_headline_points_there(name: str) -> None:
    meta = _meta(name)
    text = CARDS.card(name)
    assert f"- **Split**: {meta['split']}\n" in text
    source = next(line for line in text.splitlines() if line.startswith("Source: "))
    assert source.endswith("; held-out rule under **Split**.")
    # the figures still come from the head's metrics
    key, shown, _ = CARDS.HEADLINE[name]
    assert f"{shown[0]} **{CARDS.fmt(meta['metrics'][key][shown[0]])}**" in text


def test_the_card_tables_retype_no_hash_rule() -> None:
    typed = [s for _, _, s in CARDS.HEADLINE.values()] + list(CARDS.SOURCES.values())
    assert not [s for s in typed if "sha1" in s or "==" in s]


def test_a_head_without_split_metadata_gets_no_pointer() -> None:
    meta = {"metrics": {"test": {"accuracy": 0.5, "n": 4}}}
    assert CARDS.headline("bot_outcome", meta)[-2].endswith("dialogues.")
