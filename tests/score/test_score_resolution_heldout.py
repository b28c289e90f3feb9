"""The resolution model on a committed held-out SGD sample reproduces the model card (slow).

tests/golden/score/resolution_sgd_test_sample.jsonl (models/make_resolution_golden.py): SGD dev
TEST-split dialogues (never trained on), full and cut after a bot question: 60 per label, or
all of them where the test split has fewer (21 unresolved: SGD rarely ends in failure). They
go through the real pipeline path (served encoder, shipped heads, score_conversations) and
each label's recall is compared with the SGD held-out recall recorded in the resolution head's
metadata (models/cards/resolution.md), within a tolerance for the sample's sampling error
(2.5 standard errors, at least 0.1; 60 per label: one standard error is about 0.04 at a recall
of 0.9).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from score_helpers import HEADS

from tierlens.schema import TURN_SCHEMA
from tierlens.score.conversation import score_conversations
from tierlens.score.encoder import Encoder
from tierlens.score.heads import load_head
from tierlens.score.resolution import LABELS
from tierlens.score.turns import load_heads, model_version, score_embeddings, turn_keys

pytestmark = pytest.mark.slow
SAMPLE = (Path(__file__).resolve().parents[1] / "golden" / "score"
          / "resolution_sgd_test_sample.jsonl")


def test_resolution_recall_on_heldout_sgd_sample(encoder: Encoder) -> None:
    convs = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    turns = pl.DataFrame([{"conversation_id": c["conversation_id"], "turn_index": i,
                           "speaker": spk, "text": text}
                          for c in convs for i, (spk, text) in enumerate(c["turns"])]
                         ).with_columns(*[pl.lit(None).cast(t).alias(k)
                                          for k, t in TURN_SCHEMA.items()
                                          if k not in ("conversation_id", "turn_index",
                                                       "speaker", "text")]
                                        ).select(list(TURN_SCHEMA)).cast(TURN_SCHEMA)
    keys = turn_keys(turns)
    heads = load_heads(HEADS)
    scores = score_embeddings(keys.select("conversation_id", "turn_index", "speaker"),
                              encoder.encode(keys.get_column("text").to_list()), heads,
                              model_version(encoder, heads))
    pred = dict(score_conversations(turns, scores, HEADS).select("conversation_id", "resolution")
                .iter_rows())
    card = load_head("resolution", HEADS).meta["metrics"]["test"]["sgd"]
    for lab in LABELS:
        mine = [c for c in convs if c["label"] == lab]
        assert len(mine) == min(60, card[lab]["support"])
        recall = sum(pred[c["conversation_id"]] == lab for c in mine) / len(mine)
        r = card[lab]["recall"]
        tol = max(0.1, 2.5 * math.sqrt(r * (1 - r) / len(mine)))
        assert abs(recall - r) <= tol, (lab, recall, card[lab])
        assert recall >= 0.75, (lab, recall)
