"""Hypothesis properties: valid conversations round-trip; any mutation is stored or quarantined."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.conftest import conversation
from tierlens.ingest.normalize import normalize
from tierlens.ingest.readers import RawRecord
from tierlens.validate import validate_batch

SAFE_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                    max_size=80).filter(lambda t: not any(ch.isdigit() for ch in t) and "@" not in t)
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def valid_conversations(draw):
    n = draw(st.integers(1, 8))
    start = BASE + timedelta(seconds=draw(st.integers(0, 10_000_000)))
    turns = []
    for i in range(n):
        speaker = draw(st.sampled_from(["customer", "bot", "agent", "system"]))
        turn = {"speaker": speaker, "text": draw(SAFE_TEXT),
                "ts": (start + timedelta(seconds=5 * i)).isoformat().replace("+00:00", "Z")}
        if speaker == "bot":
            turn["bot_confidence"] = draw(st.floats(0, 1))
        if speaker == "system":
            turn["event"] = draw(st.sampled_from(["handoff", "transfer", "hold", "end"]))
        turns.append(turn)
    return {"conversation_id": draw(st.text(min_size=1, max_size=20)),
            "started_at": start.isoformat(), "channel": draw(st.sampled_from(["chat", "voice"])),
            "csat": draw(st.none() | st.integers(1, 5)), "turns": turns}


def _check(payload):
    batch = normalize([RawRecord("p.jsonl", 1, payload)], salt="s")
    if batch.rejected:
        return "rejected", batch
    result = validate_batch(batch.conversations, batch.turns, max_turn_chars=100_000,
                            huge_conversation_turns=500)
    return ("quarantined" if result.failures else "stored"), batch


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_conversations())
def test_valid_conversation_round_trips(payload):
    outcome, batch = _check(payload)
    assert outcome == "stored"
    turns = batch.turns.sort("turn_index")
    assert turns["text"].to_list() == [t["text"] for t in payload["turns"]]
    assert turns["speaker"].to_list() == [t["speaker"] for t in payload["turns"]]
    assert batch.conversations["conversation_id"].item() == payload["conversation_id"]
    assert batch.conversations["started_at"].item() == datetime.fromisoformat(payload["started_at"])


MUTATIONS = st.sampled_from([
    ("drop", "conversation_id"), ("drop", "started_at"), ("drop", "turns"),
    ("set", "turns", None), ("set", "turns", "x"), ("set", "turns", []), ("set", "turns", [1]),
    ("set", "started_at", "garbage"), ("set", "started_at", 12), ("set", "started_at", 1_000_000_000),
    ("set", "started_at", "9999-12-31T00:00:00Z"), ("set", "csat", 0),
    ("set", "csat", "four"), ("set", "conversation_id", None), ("set", "conversation_id", ""),
    ("turn", "speaker", "wizard"), ("turn", "speaker", None), ("turn", "text", None),
    ("turn", "ts", "nope"), ("turn", "bot_confidence", -1), ("turn", "event", "explode"),
    ("turn", "text", 42), ("turn", "agent_id", {"a": 1}),
])


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_conversations(), MUTATIONS, st.integers(0, 7))
def test_any_mutation_is_stored_or_quarantined(payload, mutation, which):
    payload = json.loads(json.dumps(payload))
    op, key, *value = mutation
    if op == "drop":
        payload.pop(key, None)
    elif op == "set":
        payload[key] = value[0]
    else:
        payload["turns"][which % len(payload["turns"])][key] = value[0]
    outcome, batch = _check(payload)
    # numbers where strings are expected are coerced (ids from CSV), epoch seconds are times
    # (2001-09-09 here, inside the 2000..ingest+1 day window; epoch 12 is 1970, outside it):
    # those two mutations stay valid; every other one breaks the contract and must not be stored
    benign = mutation in (("turn", "text", 42), ("set", "started_at", 1_000_000_000))
    assert (outcome == "stored") == benign, (mutation, outcome)
    # never silently dropped: the record is either a frame row or a rejection, exactly once
    assert batch.conversations.height + len(batch.rejected) == 1


def test_contract_example_stored():
    assert _check(conversation())[0] == "stored"
