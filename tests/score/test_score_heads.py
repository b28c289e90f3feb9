"""The committed heads: golden sentences, calibrated outputs, sizes, load errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from score_helpers import HEADS

from tierlens.errors import ModelError
from tierlens.score.encoder import Encoder
from tierlens.score.heads import HEAD_NAMES, load_head
from tierlens.score.oos import default_oos_score

GOLDEN_SENTIMENT = [
    ("I've been waiting three weeks and nobody helps me", "negative"),
    ("Thanks, that fixed it!", "positive"),
    ("I was charged twice for the same order", "negative"),
    ("What time do you open on Saturday?", "neutral"),
    ("My card still hasn't arrived and it's been two weeks", "negative"),
    ("Great, thank you so much for your help", "positive"),
    ("I'd like to book a table for two people", "neutral"),
]
GOLDEN_INTENT = [
    ("I ordered my new card ten days ago and it still hasn't come", "card_arrival"),
    ("I want to talk to a real person", "talk_to_human"),
    ("I forgot my password and can't log in", "password_reset"),
]
GOLDEN_OUTCOME = [
    ("Your reservation has been made successfully.", "success"),
    ("Sorry, I was unable to make the booking. Would you like to try another time?",
     "failure"),
    ("Is there anything else I can help you with?", "request_more"),
    ("Have a great day, goodbye!", "goodbye"),
]


@pytest.mark.parametrize(("text", "label"), GOLDEN_SENTIMENT)
def test_golden_sentiment(encoder: Encoder, text: str, label: str) -> None:
    lab, conf = load_head("sentiment", HEADS).predict(encoder.encode([text]))
    assert lab[0] == label, (text, lab[0], conf[0])


@pytest.mark.parametrize(("text", "label"), GOLDEN_INTENT)
def test_golden_intent(encoder: Encoder, text: str, label: str) -> None:
    lab, _ = load_head("intent", HEADS).predict(encoder.encode([text]))
    assert lab[0] == label


@pytest.mark.parametrize(("text", "label"), GOLDEN_OUTCOME)
def test_golden_bot_outcome(encoder: Encoder, text: str, label: str) -> None:
    lab, _ = load_head("bot_outcome", HEADS).predict(encoder.encode([text]))
    assert lab[0] == label


def test_oos_separates_off_topic_from_banking(encoder: Encoder) -> None:
    p = default_oos_score(load_head("oos", HEADS), encoder.encode(["how many calories are in a banana",
                                                            "what is the capital of mongolia",
                                                            "how do I activate my new card",
                                                            "my transfer hasn't arrived yet"]))
    assert p[:2].min() > p[2:].max()


def test_csat_is_lower_for_angry_turns(encoder: Encoder) -> None:
    y = load_head("csat", HEADS).regress(encoder.encode(["Thank you, that's perfect, great job.",
                                                  ("This is useless, you got it all wrong "
                                                  "again.")]))
    assert 1 <= y.min() and y.max() <= 5 and y[0] > y[1]


def test_probabilities_are_distributions(encoder: Encoder) -> None:
    emb = encoder.encode(["hello there", "where is my refund"])
    for name in ("sentiment", "intent", "oos", "bot_outcome"):
        p = load_head(name, HEADS).predict_proba(emb)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        assert (p >= 0).all()


def test_heads_record_calibration_and_encoder() -> None:
    for name in HEAD_NAMES:
        meta = json.loads((HEADS / f"{name}.json").read_text())
        assert meta["encoder_version"].endswith("/int8-pt")
        assert meta["temperature"] > 0 and meta["metrics"]


def test_all_model_files_under_10_mb() -> None:
    models = HEADS.parent
    total = sum(p.stat().st_size for p in models.rglob("*") if p.is_file()
                and "cache" not in p.parts and ".work" not in p.parts)
    assert total < 10 * 1024 * 1024, total


def test_missing_head_is_a_model_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_head("sentiment", tmp_path)


def test_wrong_embedding_width_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="expects"):
        load_head("sentiment", HEADS).predict(np.zeros((2, 10), np.float32))
