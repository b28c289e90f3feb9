"""Conversation-level outputs from hand-built turn scores: the resolution features (pure
polars), the shipped resolution model on tiny conversations, and the other aggregates."""

from __future__ import annotations

import polars as pl
import pytest
from score_helpers import HEADS, make_turns

from tierlens.score.conversation import (
    CONVERSATION_SCORE_SCHEMA,
    explain_resolution,
    score_conversations,
)
from tierlens.score.resolution import FEATURES, features
from tierlens.score.turns import TURN_SCORE_SCHEMA

V = "test-version"
C = "customer"


def build(conv: str, spec: list[tuple]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """spec rows: (speaker, text, sentiment_score, cue, cue_conf, intent, intent_conf
    [, event]). The sentiment label follows the score; system rows are not scored."""
    turns = make_turns([(conv, i, s[0], "" if s[0] == "system" else s[1],
                         s[7] if len(s) > 7 else None) for i, s in enumerate(spec)])
    rows = []
    for i, s in enumerate(spec):
        if s[0] == "system":
            continue
        staff = s[0] in ("bot", "agent")
        label = "positive" if s[2] > 0.3 else "negative" if s[2] < -0.3 else "neutral"
        rows.append({"conversation_id": conv, "turn_index": i, "sentiment_label": label,
                     "sentiment_score": s[2], "sentiment_confidence": 0.9,
                     "intent": s[5], "intent_confidence": s[6], "oos_score": 0.01,
                     "bot_outcome": s[3] if s[0] == "bot" else None,
                     "bot_outcome_confidence": s[4] if s[0] == "bot" else None,
                     "csat_predicted": 3.0 + s[2] if s[0] == C else None,
                     "model_version": V, "outcome_cue": s[3] if staff else None,
                     "outcome_cue_confidence": s[4] if staff else None})
    return turns, pl.DataFrame(rows, schema=TURN_SCORE_SCHEMA)


def frames(*convs: tuple[str, list[tuple]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    parts = [build(c, s) for c, s in convs]
    return pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])


def score(*convs: tuple[str, list[tuple]]) -> dict[str, dict]:
    out = score_conversations(*frames(*convs), HEADS)
    assert out.schema == pl.Schema(CONVERSATION_SCORE_SCHEMA)
    return {r["conversation_id"]: r for r in out.to_dicts()}


def feats(*convs: tuple[str, list[tuple]]) -> dict[str, dict]:
    return {r["conversation_id"]: r for r in features(*frames(*convs)).to_dicts()}


FAILED_THANKS = ("f", [(C, "I want to book a table for two at Sino", 0.0, None, None,
                        "book_table", 0.9),
                       ("bot", "Sorry, the reservation could not be placed.", -0.2, "failure",
                        0.95, "x", 0.1),
                       ("bot", "Can I help with anything else?", 0.0, "request_more", 0.9,
                        "x", 0.1),
                       (C, "No, but thanks", 0.5, None, None, "thanks", 0.4)])
SUCCESS_THANKS = ("s", [(C, "I want to book a table for two at Sino", 0.0, None, None,
                         "book_table", 0.9),
                        ("bot", "Your reservation has been made.", 0.3, "success", 0.95, "x",
                         0.1),
                        ("bot", "Can I help with anything else?", 0.0, "request_more", 0.9,
                         "x", 0.1),
                        (C, "No, that's all, thanks", 0.6, None, None, "thanks", 0.4),
                        ("bot", "Have a great day.", 0.5, "goodbye", 0.9, "x", 0.1)])
LEFT = ("w", [(C, "I want to book a table", 0.0, None, None, "book_table", 0.9),
              ("bot", "Which city should I look in?", 0.0, "other", 0.9, "x", 0.1),
              (C, "San Jose", 0.0, None, None, "x", 0.2),
              ("bot", "For how many people?", 0.0, "other", 0.9, "x", 0.1)])
REPEAT = ("r", [(C, "where is my card", -0.2, None, None, "card_arrival", 0.9),
                ("bot", "Cards arrive within 5 days.", 0.0, "other", 0.8, "x", 0.1),
                (C, "my card still has not arrived, where is it", -0.6, None, None,
                 "card_arrival", 0.9)])
QUEUE = ("q", [(C, "I need a person", -0.1, None, None, "talk_to_human", 0.9),
               ("bot", "I'm passing you to a colleague.", 0.0, "other", 0.7, "x", 0.1),
               ("system", "", 0.0, None, None, None, None, "handoff")])


def test_features_of_a_failure_followed_by_thanks() -> None:
    f = feats(FAILED_THANKS, SUCCESS_THANKS)
    fail, ok = f["f"], f["s"]
    assert set(FEATURES) <= set(fail)
    assert fail["last_outcome_failure"] == 1 and fail["last_outcome_success"] == 0
    assert fail["thanks_after_failure"] == 1 and fail["negation_after_failure"] == 1
    assert fail["thanks_after_success"] == 0 and fail["last_speaker_customer"] == 1
    assert fail["last_cust_thanks"] == 1 and fail["_lo_idx"] == 1 and fail["_lc_idx"] == 3
    assert ok["last_outcome_success"] == 1 and ok["thanks_after_success"] == 1
    assert ok["thanks_after_failure"] == 0 and ok["last_cue_goodbye"] == 1
    assert ok["last_cust_closing"] == 1 and ok["unanswered_question"] == 0


def test_features_of_an_unanswered_question_a_repeat_and_a_queue() -> None:
    f = feats(LEFT, REPEAT, QUEUE)
    assert f["w"]["unanswered_question"] == 1 and f["w"]["no_outcome"] == 1
    assert f["w"]["last_speaker_customer"] == 0 and f["w"]["_last_idx"] == 3
    assert f["r"]["last_cust_repeat"] == 1 and f["r"]["unanswered_question"] == 0
    assert f["w"]["last_cust_repeat"] == 0
    assert f["q"]["wait_after_last"] == 1 and f["q"]["handoff"] == 1 and f["q"]["_wait_idx"] == 2
    assert f["r"]["_wait_idx"] is None and f["r"]["has_ts"] == 1


def test_failed_task_with_polite_thanks_is_unresolved() -> None:
    out = score(FAILED_THANKS, SUCCESS_THANKS)
    assert out["f"]["resolution"] == "unresolved"
    assert 1 in out["f"]["resolution_evidence"]  # the failure turn
    assert out["s"]["resolution"] == "resolved"


def test_customer_who_never_answers_the_bot_question_abandoned() -> None:
    out = score(LEFT, QUEUE)
    assert out["w"]["resolution"] == "abandoned" and 3 in out["w"]["resolution_evidence"]
    assert out["q"]["resolution"] == "abandoned"


def test_confidence_evidence_and_reason() -> None:
    out = explain_resolution(*frames(FAILED_THANKS, SUCCESS_THANKS, LEFT, REPEAT, QUEUE), HEADS)
    assert out.height == 5
    for r in out.to_dicts():
        assert 1 / 3 <= r["resolution_confidence"] <= 1
        assert r["resolution_reason"]
        assert all(0 <= i < 5 for i in r["resolution_evidence"])
    reason = {r["conversation_id"]: r["resolution_reason"] for r in out.to_dicts()}
    assert "failure" in reason["f"] and "question" in reason["w"]


def test_sentiment_start_end_delta_intent_and_csat() -> None:
    r = score(SUCCESS_THANKS)["s"]  # 2 customer turns -> k = 1: first and last customer turn
    assert r["sentiment_start"] == 0.0 and r["sentiment_end"] == 0.6
    assert abs(r["sentiment_delta"] - 0.6) < 1e-9
    assert r["intent"] == "book_table" and r["intent_confidence"] == 0.9
    assert abs(r["csat_predicted"] - 3.3) < 1e-9
    assert r["model_version"] == V


def test_long_conversations_average_two_turns_at_each_end() -> None:
    spec = [(C, "hmm", s, None, None, "x", 0.5) for s in (0.2, 0.4, 0.0, -0.6, -1.0)]
    r = score(("l", spec))["l"]
    assert abs(r["sentiment_start"] - 0.3) < 1e-9 and abs(r["sentiment_end"] + 0.8) < 1e-9


def test_conversation_without_customer_turns() -> None:
    r = score(("b", [("bot", "Hello?", 0.0, "other", 0.9, "x", 0.1)]))["b"]
    assert r["sentiment_start"] is None and r["intent"] is None
    assert r["csat_predicted"] is None and r["resolution"] in ("abandoned", "unresolved")


def test_empty_scores_give_empty_frame() -> None:
    turns, ts = build("e", [(C, "hi", 0.0, None, None, "x", 0.5)])
    out = score_conversations(turns, ts.clear(), HEADS)
    assert out.height == 0 and out.schema == pl.Schema(CONVERSATION_SCORE_SCHEMA)


def test_head_trained_on_other_features_is_refused(tmp_path) -> None:
    import json
    import shutil

    from tierlens.errors import ModelError
    src = HEADS
    for ext in ("json", "npz"):
        shutil.copy(src / f"resolution.{ext}", tmp_path / f"resolution.{ext}")
    meta = json.loads((tmp_path / "resolution.json").read_text())
    meta["features"] = meta["features"][:-1] + ["something_else"]
    (tmp_path / "resolution.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="resolution"):
        score_conversations(*frames(LEFT), heads_dir=tmp_path)


def test_issue_examples_through_the_real_heads(encoder) -> None:
    """The reported cases, scored end to end by the served encoder and the shipped heads."""
    from tierlens.score.turns import score_turns

    turns = make_turns([
        ("fail", 0, C, "I'd like to reserve a table for 2 at Sino in San Jose at 11:30", None),
        ("fail", 1, "bot", ("Sorry, the reservation could not be placed. Can I help with "
                            "anything else?"), None),
        ("fail", 2, C, "No, but thanks", None),
        ("ok", 0, C, "I'd like to reserve a table for 2 at Sino in San Jose at 11:30", None),
        ("ok", 1, "bot", "Your reservation has been made. Can I help with anything else?", None),
        ("ok", 2, C, "No, that's all. Thanks", None),
        ("ok", 3, "bot", "Have a great day.", None),
        ("gone", 0, C, "I want to book a table", None),
        ("gone", 1, "bot", "Sure. In which city should I look?", None),
    ])
    out = {r["conversation_id"]: r
           for r in score_conversations(turns, score_turns(turns, encoder, HEADS), HEADS).to_dicts()}
    assert out["fail"]["resolution"] == "unresolved" and 1 in out["fail"]["resolution_evidence"]
    assert out["ok"]["resolution"] == "resolved"
    assert out["gone"]["resolution"] == "abandoned" and out["gone"]["resolution_evidence"] == [1]
