"""Conversation-level outputs from hand-built turn scores (pure polars, no model)."""

from __future__ import annotations

import polars as pl
from score_helpers import make_turns

from tierlens.score.conversation import CONVERSATION_SCORE_SCHEMA, score_conversations
from tierlens.score.turns import TURN_SCORE_SCHEMA

V = "test-version"


def build(conv: str, spec: list[tuple]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """spec rows: (speaker, sentiment_label, sentiment_score, cue, cue_conf, intent,
    intent_conf[, event]). System rows have text "" and are not scored."""
    turns = make_turns([(conv, i, s[0], "" if s[0] == "system" else "x",
                         s[7] if len(s) > 7 else None) for i, s in enumerate(spec)])
    rows = []
    for i, s in enumerate(spec):
        if s[0] == "system":
            continue
        staff = s[0] in ("bot", "agent")
        rows.append({"conversation_id": conv, "turn_index": i, "sentiment_label": s[1],
                     "sentiment_score": s[2], "sentiment_confidence": 0.9,
                     "intent": s[5], "intent_confidence": s[6], "oos_score": 0.01,
                     "bot_outcome": s[3] if s[0] == "bot" else None,
                     "bot_outcome_confidence": s[4] if s[0] == "bot" else None,
                     "csat_predicted": 3.0 + s[2] if s[0] == "customer" else None,
                     "model_version": V, "outcome_cue": s[3] if staff else None,
                     "outcome_cue_confidence": s[4] if staff else None})
    return turns, pl.DataFrame(rows, schema=TURN_SCORE_SCHEMA)


def score(*convs: tuple[str, list[tuple]]) -> dict[str, dict]:
    parts = [build(c, s) for c, s in convs]
    turns = pl.concat([p[0] for p in parts])
    ts = pl.concat([p[1] for p in parts])
    out = score_conversations(turns, ts)
    assert out.schema == pl.Schema(CONVERSATION_SCORE_SCHEMA)
    return {r["conversation_id"]: r for r in out.to_dicts()}


C = "customer"
RESOLVED = ("r", [(C, "neutral", 0.0, None, None, "hi", 0.2),
                  (C, "negative", -0.8, None, None, "card_arrival", 0.9),
                  ("bot", "neutral", 0.0, "success", 0.95, "x", 0.1),
                  (C, "positive", 0.9, None, None, "thanks", 0.3)])
FAILED = ("f", [(C, "negative", -0.6, None, None, "request_refund", 0.8),
                ("bot", "neutral", 0.0, "failure", 0.9, "x", 0.1),
                (C, "negative", -0.7, None, None, "complaint", 0.6)])
WAITING = ("w", [(C, "neutral", 0.0, None, None, "order_status", 0.7),
                 ("bot", "neutral", 0.0, "other", 0.8, "x", 0.1)])
QUEUE = ("q", [(C, "neutral", -0.1, None, None, "talk_to_human", 0.9),
               ("bot", "neutral", 0.0, "goodbye", 0.7, "x", 0.1),
               ("system", None, None, None, None, None, None, "handoff")])
AGENT_FIX = ("a", [(C, "negative", -0.5, None, None, "dispute_charge", 0.7),
                   ("bot", "neutral", 0.0, "failure", 0.8, "x", 0.1),
                   ("system", None, None, None, None, None, None, "handoff"),
                   ("agent", "neutral", 0.0, "success", 0.9, "x", 0.1),
                   (C, "neutral", 0.0, None, None, "x", 0.2)])


THANKS_THEN_DONE = ("t", [(C, "neutral", 0.0, None, None, "order_status", 0.8),
                          ("bot", "neutral", 0.0, "other", 0.6, "x", 0.1),
                          (C, "positive", 0.8, None, None, "thanks", 0.3),
                          ("bot", "neutral", 0.0, "request_more", 0.9, "x", 0.1),
                          (C, "neutral", 0.0, None, None, "x", 0.2),
                          ("bot", "neutral", 0.0, "goodbye", 0.9, "x", 0.1)])
THANKS_THEN_ANGRY = ("n", [(C, "neutral", 0.0, None, None, "order_status", 0.8),
                           (C, "positive", 0.8, None, None, "thanks", 0.3),
                           ("bot", "neutral", 0.0, "other", 0.6, "x", 0.1),
                           (C, "negative", -0.8, None, None, "complaint", 0.6)])
THANKS_BEFORE_FAILURE = ("b", [(C, "positive", 0.7, None, None, "x", 0.3),
                               ("bot", "neutral", 0.0, "failure", 0.9, "x", 0.1),
                               (C, "neutral", 0.0, None, None, "x", 0.2)])


def test_thanks_then_nothing_else_is_resolved_but_not_if_anger_follows() -> None:
    out = score(THANKS_THEN_DONE, THANKS_THEN_ANGRY, THANKS_BEFORE_FAILURE)
    assert out["t"]["resolution"] == "resolved" and out["t"]["resolution_evidence"] == [2]
    assert out["t"]["resolution_confidence"] == 0.9  # the thanks turn's sentiment confidence
    assert out["n"]["resolution"] == "unresolved"
    assert out["b"]["resolution"] == "unresolved"  # the failure came after the thanks


def test_resolution_rules() -> None:
    out = score(RESOLVED, FAILED, WAITING, QUEUE, AGENT_FIX)
    assert out["r"]["resolution"] == "resolved"
    assert out["r"]["resolution_evidence"] == [2, 3]
    assert out["f"]["resolution"] == "unresolved"
    assert out["f"]["resolution_evidence"] == [1, 2]
    assert out["w"]["resolution"] == "abandoned" and out["w"]["resolution_evidence"] == [1]
    assert out["q"]["resolution"] == "abandoned"
    assert out["a"]["resolution"] == "resolved" and out["a"]["resolution_evidence"] == [3]
    for r in out.values():
        assert 0 <= r["resolution_confidence"] <= 1 and r["model_version"] == V


def test_sentiment_start_end_delta_and_intent() -> None:
    out = score(RESOLVED, FAILED)
    r = out["r"]  # 3 customer turns -> k = 1: first and last customer turn
    assert r["sentiment_start"] == 0.0 and r["sentiment_end"] == 0.9
    assert abs(r["sentiment_delta"] - 0.9) < 1e-9
    assert r["intent"] == "card_arrival" and r["intent_confidence"] == 0.9  # beats "hi"
    assert abs(r["csat_predicted"] - (3.0 + (0.0 - 0.8 + 0.9) / 3)) < 1e-9
    assert out["f"]["sentiment_delta"] < 0


def test_long_conversations_average_two_turns_at_each_end() -> None:
    spec = [(C, "neutral", s, None, None, "x", 0.5) for s in (0.2, 0.4, 0.0, -0.6, -1.0)]
    r = score(("l", spec))["l"]
    assert abs(r["sentiment_start"] - 0.3) < 1e-9 and abs(r["sentiment_end"] + 0.8) < 1e-9


def test_conversation_without_customer_turns() -> None:
    r = score(("b", [("bot", "neutral", 0.0, "other", 0.9, "x", 0.1)]))["b"]
    assert r["sentiment_start"] is None and r["intent"] is None
    assert r["csat_predicted"] is None


def test_empty_scores_give_empty_frame() -> None:
    turns, ts = build("e", [(C, "neutral", 0.0, None, None, "x", 0.5)])
    out = score_conversations(turns, ts.clear())
    assert out.height == 0 and out.schema == pl.Schema(CONVERSATION_SCORE_SCHEMA)
