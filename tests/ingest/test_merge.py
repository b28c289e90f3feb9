"""Merge semantics of a conversation delivered in parts (pure: tierlens.ingest.merge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tierlens.ingest.merge import Delivery, merge, same_content

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
FIELDS = ("conversation_id", "csat", "started_at", "ended_at", "source_file")
TURN_FIELDS = ("turn_index", "speaker", "text", "ts")


def _part(name: str, seconds: list[int | None], csat=None, spans=()) -> Delivery:
    turns = [{"turn_index": i, "speaker": "customer", "text": f"{name}{i}",
              "ts": None if s is None else T0 + timedelta(seconds=s)}
             for i, s in enumerate(seconds)]
    times = [t["ts"] for t in turns if t["ts"]]
    conv = {"conversation_id": "c", "csat": csat, "started_at": min(times, default=None),
            "ended_at": max(times, default=None), "source_file": name, "content_hash": name}
    return Delivery(conv, turns, [{"turn_index": i, "span_start": 0, "span_end": 1}
                                  for i in spans])


def test_halves_give_the_same_conversation_in_either_order():
    a = _part("a", [0, 10, None, 20], csat=None, spans=[1])
    b = _part("b", [30, None, 40], csat=5, spans=[2])
    ab, ba = merge(a, b, FIELDS), merge(b, a, FIELDS)
    assert same_content(ab, ba, FIELDS, TURN_FIELDS) and ab.spans == ba.spans
    assert [t["text"] for t in ab.turns] == ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]
    assert ab.conv["csat"] == 5 and ab.conv["source_file"] == "b"  # b holds the latest turn
    assert (ab.conv["started_at"], ab.conv["ended_at"]) == (T0, T0 + timedelta(seconds=40))
    # PII spans follow their turns to the new positions
    assert [s["turn_index"] for s in ab.spans] == [1, 6]


def test_interleaved_parts_are_put_in_time_order():
    a, b = _part("a", [0, 20, 40]), _part("b", [10, 30])
    assert [t["text"] for t in merge(a, b, FIELDS).turns] == ["a0", "b0", "a1", "b1", "a2"]
    assert [t["turn_index"] for t in merge(b, a, FIELDS).turns] == [0, 1, 2, 3, 4]


def test_a_contained_part_changes_nothing_and_a_superset_replaces():
    whole = merge(_part("a", [0, 10]), _part("b", [20, 30]), FIELDS)
    again = merge(whole, _part("a", [0, 10]), FIELDS)
    assert same_content(again, whole, FIELDS, TURN_FIELDS)
    bigger = Delivery({**whole.conv, "csat": 1, "source_file": "z"},
                      [*whole.turns, {"turn_index": 4, "speaker": "agent", "text": "z",
                                      "ts": T0 + timedelta(seconds=5)}])
    replaced = merge(whole, bigger, FIELDS)
    assert same_content(replaced, bigger, FIELDS, TURN_FIELDS)  # its own order, not re-sorted


def test_turn_identity_is_time_speaker_and_text():
    a = _part("a", [0, 10])
    other_text = Delivery(a.conv, [{**a.turns[0], "text": "changed"}])
    merged = merge(a, other_text, FIELDS)
    assert len(merged.turns) == 3  # an edited text is a new turn, appended
