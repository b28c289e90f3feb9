"""score_turns on a canonical turns frame, with the real encoder and heads."""

from __future__ import annotations

import numpy as np
import polars as pl
from score_helpers import ADAPTER, HEADS, ONNX, make_turns

from tierlens.score.encoder import Encoder
from tierlens.score.turns import (
    TURN_SCORE_COLUMNS,
    TURN_SCORE_SCHEMA,
    encode_turns,
    score_turns,
)

BOT_LINE = "Is there anything else I can help you with?"


TURNS = make_turns([
    ("c1", 0, "customer", "I was charged twice for the same order", None),
    ("c1", 1, "bot", "I'm sorry about that. Your refund has been processed.", None),
    ("c1", 2, "bot", BOT_LINE, None),
    ("c1", 3, "customer", "Thanks, that fixed it!", None),
    ("c2", 0, "customer", "I want to talk to a real person", None),
    ("c2", 1, "bot", BOT_LINE, None),
    ("c2", 2, "system", "", "handoff"),
    ("c2", 3, "agent", "Hi, I'm Sam from billing, how can I help?", None),
    ("c2", 4, "customer", "   ", None),
])


def test_one_row_per_nonempty_nonsystem_turn(encoder: Encoder) -> None:
    out = score_turns(TURNS, encoder=encoder, heads_dir=HEADS)
    assert out.schema == pl.Schema(TURN_SCORE_SCHEMA)
    assert out.select("conversation_id", "turn_index").rows() == [
        ("c1", 0), ("c1", 1), ("c1", 2), ("c1", 3), ("c2", 0), ("c2", 1), ("c2", 3)]
    assert set(TURN_SCORE_COLUMNS) <= set(out.columns)


def test_outputs_follow_the_speaker(encoder: Encoder) -> None:
    out = score_turns(TURNS, encoder=encoder, heads_dir=HEADS).join(
        TURNS.select("conversation_id", "turn_index", "speaker"),
        on=["conversation_id", "turn_index"])
    bots = out.filter(pl.col("speaker") == "bot")
    others = out.filter(pl.col("speaker") != "bot")
    assert bots.get_column("bot_outcome").null_count() == 0
    assert others.get_column("bot_outcome").null_count() == others.height
    cust = out.filter(pl.col("speaker") == "customer")
    assert cust.get_column("csat_predicted").null_count() == 0
    assert out.filter(pl.col("speaker") != "customer").get_column(
        "csat_predicted").null_count() == out.height - cust.height
    assert out.get_column("sentiment_score").is_between(-1, 1).all()
    assert out.get_column("oos_score").is_between(0, 1).all()
    row = out.filter((pl.col("conversation_id") == "c1") & (pl.col("turn_index") == 2))
    assert row.get_column("bot_outcome")[0] == "request_more"
    labels = {(r["conversation_id"], r["turn_index"]): r["sentiment_label"]
              for r in cust.to_dicts()}
    assert out.get_column("model_version").n_unique() == 1
    assert out.get_column("model_version")[0].startswith("all-MiniLM-L6-v2@")
    assert labels[("c1", 0)] == "negative" and labels[("c1", 3)] == "positive"
    assert labels[("c2", 0)] == "neutral"


def test_each_distinct_text_is_encoded_once(tmp_path) -> None:
    enc = Encoder("int8", cache_dir=tmp_path, threads=2, runtime_dir=ONNX, adapter=ADAPTER)
    score_turns(TURNS, encoder=enc, heads_dir=HEADS)
    distinct = TURNS.filter((pl.col("speaker") != "system")
                            & (pl.col("text").str.strip_chars() != "")
                            ).get_column("text").n_unique()
    assert enc.forward_texts == distinct  # the repeated bot line went through once
    score_turns(TURNS, encoder=enc, heads_dir=HEADS)  # a rescore is served from the cache
    assert enc.forward_texts == distinct


def test_encode_turns_rows_align_with_keys(encoder: Encoder) -> None:
    keys, emb = encode_turns(TURNS, encoder)
    assert keys.columns == ["conversation_id", "turn_index", "speaker"]
    assert emb.shape == (keys.height, 384)
    i = keys.with_row_index().filter((pl.col("conversation_id") == "c2")
                                     & (pl.col("turn_index") == 3)).get_column("index")[0]
    direct = encoder.encode(["Hi, I'm Sam from billing, how can I help?"])[0]
    assert float(np.dot(emb[i], direct)) > 0.9999


def test_empty_input_gives_empty_frame(encoder: Encoder) -> None:
    out = score_turns(TURNS.filter(pl.col("speaker") == "system"), encoder=encoder,
                      heads_dir=HEADS)
    assert out.height == 0 and out.schema == pl.Schema(TURN_SCORE_SCHEMA)
