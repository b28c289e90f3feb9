"""QA calibration's unit, defined once: each reviewer's latest review of each conversation."""

from __future__ import annotations

import json

import polars as pl

from tierlens.metrics.scorecard import agreement, human_criteria_scores, latest_reviews, total_pairs


def _events() -> pl.DataFrame:
    rows = [  # seq, conversation, reviewer, criteria, total
        (1, "c1", "ann", {"greeting": 1, "empathy": 0}, 50.0),
        (2, "c1", "bob", {"greeting": 0, "empathy": None}, 0.0),
        (3, "c1", "ann", {"greeting": 1, "empathy": 1}, 100.0),  # ann's second look
        (4, "c2", "bob", {"greeting": 1, "empathy": 1}, 100.0),
    ]
    return pl.DataFrame([(s, c, r, json.dumps(k), t) for s, c, r, k, t in rows],
                        schema=["seq", "conversation_id", "reviewer", "criteria", "total"],
                        orient="row")


def test_latest_review_per_reviewer_not_per_conversation():
    latest = latest_reviews(_events())
    assert latest.select("conversation_id", "reviewer", "seq").rows() == [
        ("c1", "ann", 3), ("c1", "bob", 2), ("c2", "bob", 4)]
    human = human_criteria_scores(latest)
    assert human.height == 6 and human.filter(pl.col("score").is_null()).height == 1


def test_agreement_and_total_gap_use_every_reviewer():
    latest = latest_reviews(_events())
    auto = pl.DataFrame({"conversation_id": ["c1", "c1", "c2", "c2"],
                         "criterion": ["greeting", "empathy", "greeting", "empathy"],
                         "score": [1, 1, 1, 0]}, schema_overrides={"score": pl.Int8})
    agree = agreement(auto, human_criteria_scores(latest)).sort("criterion")
    # greeting: ann 1/1, bob 0/1 on c1, bob 1/1 on c2 -> 3 pairs, 2 agree; empathy: bob's
    # N/A is left out -> ann 1/1, bob 1/0 on c2 -> 2 pairs, 1 agrees
    assert agree.select("criterion", "n").rows() == [("empathy", 2), ("greeting", 3)]
    pairs = total_pairs(pl.DataFrame({"conversation_id": ["c1", "c2"], "qa_score": [80.0, 90.0]}),
                        latest)
    assert pairs.select("reviewer", "gap").rows() == [("ann", 20.0), ("bob", 80.0), ("bob", 10.0)]
