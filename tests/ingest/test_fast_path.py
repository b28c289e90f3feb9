"""The column-at-a-time fast path of ``normalize`` gives exactly what the per-record path gives.

Batches of records (decoded from JSON text as ``read_jsonl`` yields them, or plain Python
values as CSV/Parquet rows and adapters give them) are flattened by both paths; frames,
rejections (reason, field, message, line) and payloads must be identical, for valid records
and for records mutated with any value in any field.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import orjson
import polars as pl
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tierlens.errors import RecordError
from tierlens.ingest.normalize import Batch, _normalize_fast, _normalize_records, normalize
from tierlens.ingest.readers import RawRecord

BASE = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
JSON_SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats() | TEXT
                | st.sampled_from(["", "0.5", "1e20", "true", "2026-01-01T00:00:00Z", "nan"]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["text", "a", "ts"]), inner,
                                             max_size=3), max_leaves=6)
# values that trip type handling: booleans and numbers where text goes, text where numbers go
# (copied on every draw: `mutated` edits values in place, and a shared list or dict changed by
# one example would change what later examples draw: Hypothesis's FlakyStrategyDefinition)
ODD_VALUES = st.sampled_from([True, False, 0, 1, -1, 1.5, 1e20, 2**64, float("nan"),
                              float("inf"), "", "0.5", "true", {"a": 1}, [1], [], None]
                             ).map(copy.deepcopy)
ANY_VALUE = ODD_VALUES | JSON_VALUES
TS_SPELLINGS = st.sampled_from(["{}Z", "{}+00:00", "{}+02:00", "{}", " {}Z "])
TURN_KEYS = ["speaker", "text", "ts", "agent_id", "bot_confidence", "event", "queue"]
CONV_KEYS = ["conversation_id", "channel", "customer_id", "started_at", "ended_at", "queue",
             "language", "csat", "nps", "metadata"]


@st.composite
def valid_conversations(draw, cid: str):
    n = draw(st.integers(0, 6))
    start = BASE + timedelta(seconds=draw(st.integers(0, 10_000_000)))
    turns = []
    for i in range(n):
        speaker = draw(st.sampled_from(["customer", "bot", "agent", "system"]))
        stamp = (start + timedelta(seconds=5 * i)).replace(tzinfo=None).isoformat()
        turn = {"speaker": speaker, "text": draw(TEXT),
                "ts": draw(TS_SPELLINGS).format(stamp) if draw(st.booleans()) else None}
        if speaker == "bot":
            turn["bot_confidence"] = draw(st.floats(0, 1) | st.sampled_from([0, 1]))
            turn["agent_id"] = "bot-v3"
        if speaker == "agent":
            turn["agent_id"] = draw(st.sampled_from(["agent-01", "agent-02"]))
        if speaker == "system":
            turn["event"] = draw(st.sampled_from(["handoff", "transfer", "hold", "end"]))
            if draw(st.booleans()):
                turn["queue"] = "billing"
        turns.append(turn)
    conv = {"conversation_id": cid, "started_at": start.isoformat(),
            "channel": draw(st.sampled_from(["chat", "voice"])), "customer_id": "cust-1",
            "queue": "bot", "language": "en", "turns": turns}
    if draw(st.booleans()):
        conv["ended_at"] = (start + timedelta(seconds=5 * n)).isoformat()
    if draw(st.booleans()):
        conv["csat"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        conv["metadata"] = {"brand": "acme", "nps": draw(st.integers(0, 10))}
    return conv


@st.composite
def mutated(draw, payload: dict):
    """Apply 0-3 mutations: any JSON value in any field, dropped keys, odd turns."""
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["turn_field", "turn_field", "turn_field", "conv_field",
                                     "drop", "turn", "extra"]))
        turns = payload.get("turns")
        if kind == "turn_field" and isinstance(turns, list) and turns:
            turn = turns[draw(st.integers(0, len(turns) - 1))]
            if isinstance(turn, dict):
                turn[draw(st.sampled_from(TURN_KEYS))] = draw(ANY_VALUE)
        elif kind == "conv_field":
            payload[draw(st.sampled_from([*CONV_KEYS, "turns"]))] = draw(ANY_VALUE)
        elif kind == "drop":
            payload.pop(draw(st.sampled_from([*CONV_KEYS, "turns"])), None)
        elif kind == "turn" and isinstance(turns, list):
            turns.insert(draw(st.integers(0, len(turns))), draw(ANY_VALUE))
        elif kind == "extra" and isinstance(turns, list) and turns:
            turn = turns[0]
            if isinstance(turn, dict):
                turn["extra"] = draw(ANY_VALUE)
    return payload


@st.composite
def jsonl_batches(draw, mutate: bool):
    """Records as ``read_jsonl`` yields them (decoded from a JSON line) or, where the payload
    holds values JSON can't (NaN, huge ints), as plain Python values like CSV rows."""
    records = []
    for i in range(draw(st.integers(1, 6))):
        line = i + 1
        if mutate and draw(st.integers(0, 9)) == 0:
            records.append(RawRecord("b.jsonl", line, None, RecordError(
                "invalid_json", "unparseable JSON at column 1: unexpected character")))
            continue
        payload = draw(valid_conversations(cid=f"c-{draw(st.integers(0, 3))}"))
        if mutate:
            payload = draw(mutated(payload))
        try:
            payload = orjson.loads(json.dumps(payload, ensure_ascii=draw(st.booleans())))
        except orjson.JSONDecodeError:
            pass  # NaN/inf or a huge int: keep the Python values
        records.append(RawRecord("b.jsonl", line, payload))
    return records


def _rejections(batch: Batch) -> list[tuple]:
    return [(rec.source_file, rec.source_line, err.reason, err.field, err.message)
            for rec, err in batch.rejected]


def _assert_same(slow: Batch, fast: Batch) -> None:
    assert_frame_equal(fast.conversations, slow.conversations, check_exact=True)
    assert_frame_equal(fast.turns, slow.turns, check_exact=True)
    assert _rejections(fast) == _rejections(slow)
    assert fast.payloads == slow.payloads


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonl_batches(mutate=False))
def test_fast_path_equals_per_record_path_on_valid_records(records):
    fast = _normalize_fast(records, "salt")
    assert fast is not None  # valid records never need the per-record path
    _assert_same(_normalize_records(records, "salt"), fast)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonl_batches(mutate=True))
def test_fast_path_equals_per_record_path_on_mutated_records(records):
    _assert_same(_normalize_records(records, "salt"), normalize(records, "salt"))


def _record(line: str) -> RawRecord:
    return RawRecord("x.jsonl", 1, orjson.loads(line))


def test_duplicate_and_escaped_keys_follow_the_parsed_record():
    # orjson keeps the last of duplicate keys; the fast path works from the parsed record
    line = ('{"conversation_id":"c","started_at":"2026-01-01T00:00:00Z","turns":[{"speaker":'
            '"bot","text":"first","text":"last","sp\\u0065aker":"agent","ts":"2026-01-01T00:00:0'
            '1Z"}]}')
    records = [_record(line)]
    fast = _normalize_fast(records, "s")
    assert fast is not None
    assert fast.turns.select("speaker", "text").row(0) == ("agent", "last")
    _assert_same(_normalize_records(records, "s"), fast)


def test_non_strings_in_turn_fields_take_the_per_record_path():
    base = {"conversation_id": "c", "started_at": "2026-01-01T00:00:00Z"}
    for turn in ({"speaker": "bot", "text": True}, {"speaker": "bot", "text": 1e20},
                 {"speaker": "bot", "text": "x", "bot_confidence": "0.5"},
                 {"speaker": "bot", "text": "x", "ts": 1767225600}):
        records = [_record(json.dumps({**base, "turns": [turn]}))]
        assert _normalize_fast(records, "s") is None, turn
        _assert_same(_normalize_records(records, "s"), normalize(records, "s"))
    # a CSV/Parquet cell read as NaN is a float where text goes: per-record path ("nan")
    nan_text = [RawRecord("x.parquet", 1, {**base, "turns": [{"speaker": "bot",
                                                               "text": float("nan")}]})]
    assert _normalize_fast(nan_text, "s") is None
    assert normalize(nan_text, "s").turns["text"].to_list() == ["nan"]


def test_fast_path_content_hash_is_format_independent():
    payload = {"conversation_id": "c", "started_at": "2026-01-01T00:00:00Z",
               "turns": [{"speaker": "bot", "text": "hi", "ts": "2026-01-01T00:00:01+00:00",
                          "bot_confidence": 0.9}]}
    fast = _normalize_fast([_record(json.dumps(payload))], "s")
    slow = _normalize_records([RawRecord("x.csv", 2, payload)], "s")
    assert fast is not None
    assert fast.conversations["content_hash"].item() == slow.conversations["content_hash"].item()
    assert fast.turns.schema["ts"] == pl.Datetime("us", "UTC")


def test_int_fields_beyond_their_column_are_rejected_not_crashing():
    base = {"conversation_id": "c", "started_at": "2026-01-01T00:00:00Z",
            "turns": [{"speaker": "bot", "text": "hi"}]}
    for csat in (32768, float("inf"), "inf", -40000):
        batch = normalize([RawRecord("x.csv", 2, {**base, "csat": csat})], "s")
        assert [(e.reason, e.field) for _, e in batch.rejected] == [("out_of_range", "csat")]
        assert batch.conversations.height == 0
