"""Conversation page helpers: captions, evidence turns, sentiment timeline, the review check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from tierlens.dashboard import conversation_view as cv

T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def _turns(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"turn_index": i, "speaker": sp, "text": tx, "ts": T0 + timedelta(seconds=10 * i),
          "agent_id": None, "bot_confidence": None, "event": ev, "sentiment_label": lab,
          "sentiment_score": sc} for i, (sp, tx, ev, lab, sc) in enumerate(rows)],
        schema_overrides={"bot_confidence": pl.Float64, "agent_id": pl.String,
                          "event": pl.String, "sentiment_label": pl.String,
                          "sentiment_score": pl.Float64})


TURNS = _turns([("customer", "my card payment is pending", None, "negative", -0.6),
                ("bot", "Card payments usually show as pending for a day.", None, "negative", -0.9),
                ("customer", "I want to talk to a human", None, "negative", -0.7),
                ("system", "", "handoff", None, None),
                ("agent", "Hi, I released the hold.", None, "positive", 0.5),
                ("customer", "great, thanks", None, "positive", 0.8)])


def test_only_customer_turns_show_sentiment():
    rows = TURNS.to_dicts()
    assert not any("sentiment" in part for part in cv.turn_meta(rows[1]))
    assert not any("sentiment" in part for part in cv.turn_meta(rows[4]))
    assert "customer sentiment: negative (-0.60)" in cv.turn_meta(rows[0])
    assert cv.sentiment_timeline(TURNS)["turn_index"].to_list() == [0, 2, 5]


def test_evidence_marks_the_trigger_and_the_resolution_turns():
    badges = cv.evidence_badges("c1", TURNS, {"escalation_reason": "customer_request",
                                              "resolution": "resolved",
                                              "resolution_evidence": [4, 5]})
    assert badges == {3: ["escalation trigger: customer_request"],
                      4: ["resolution evidence: resolved"], 5: ["resolution evidence: resolved"]}
    bot_only = TURNS.filter(pl.col("turn_index") < 2)
    assert cv.evidence_badges("c2", bot_only, {}) == {}


def test_unanswered_criteria_are_named_and_na_is_an_answer():
    assert cv.unanswered({"greeting": "met", "empathy": None, "closing": "N/A"}) == ["empathy"]


def test_context_window_marks_before_evidence_after():
    win = cv.context(TURNS, 2, around=2)
    assert win["turn_index"].to_list() == [0, 1, 2, 4]  # the empty system turn is left out
    assert win["position"].to_list() == ["before", "before", "evidence", "after"]
    assert cv.context(TURNS, 0, around=1)["position"].to_list() == ["evidence", "after"]
