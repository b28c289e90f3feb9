"""Source adapters (Contact Lens JSON, Twitter support threads) on committed real-format fixtures."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tierlens.errors import InputError
from tierlens.ingest.adapters import contact_lens, twitter
from tierlens.ingest.readers import HEAD_BYTES, RawRecord, detect_format, reader_for
from tierlens.ingest.registry import ADAPTERS
from tierlens.schema import CHANNELS, EVENTS, SPEAKERS

FIXTURES = Path(__file__).resolve().parents[1] / "golden" / "adapters"
VOICE = FIXTURES / "3f0c2a5e-8d1b-4a77-9c2e-6b5d4e3a2f10_analysis_2026-10-01T09_21_40Z.json"
CHAT = FIXTURES / "contact_lens_chat_lex_handoff.json"
FAILED = FIXTURES / "contact_lens_failed_job.json"
TWEETS = FIXTURES / "twitter_threads.csv"


def _ts(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value)


def assert_contract(p: dict[str, Any]) -> None:
    """The PRODUCT.md input contract, checked field by field."""
    assert isinstance(p["conversation_id"], str) and p["conversation_id"]
    assert p["channel"] in CHANNELS
    start = _ts(p["started_at"])
    if p.get("ended_at") is not None:
        assert _ts(p["ended_at"]) >= start
    assert isinstance(p["turns"], list) and p["turns"]
    previous = start
    for t in p["turns"]:
        assert t["speaker"] in SPEAKERS
        assert isinstance(t["text"], str)
        assert set(t) <= {"speaker", "text", "ts", "agent_id", "bot_confidence", "event", "queue"}
        if "event" in t:
            assert t["event"] in EVENTS and t["speaker"] == "system"
        ts = _ts(t["ts"])
        assert ts >= previous  # turns in time order
        previous = ts
    json.dumps(p)  # plain JSON values only


def _records(module: Any, path: Path) -> tuple[list[dict[str, Any]], list[RawRecord]]:
    recs = list(module.read(path))
    assert all(isinstance(r, RawRecord) and r.source_file == str(path) for r in recs)
    assert all((r.payload is None) != (r.error is None) for r in recs)
    return [r.payload for r in recs if r.payload is not None], [r for r in recs if r.error]


def _head(path: Path) -> bytes:
    return path.read_bytes()[:HEAD_BYTES]


# --- registration and sniffing ----------------------------------------------------------------

def test_adapters_are_registered_and_chosen_by_sniffing() -> None:
    assert [a.NAME for a in ADAPTERS] == ["contact_lens", "twitter"]
    for a in ADAPTERS:
        assert callable(a.sniff) and callable(a.read)
    assert detect_format(VOICE) == detect_format(CHAT) == "contact_lens"
    assert detect_format(TWEETS) == "twitter"
    assert reader_for("twitter") is twitter.read and reader_for("contact_lens") is contact_lens.read


def test_sniff_rejects_other_formats(tmp_path: Path) -> None:
    contract = tmp_path / "conv.json"
    contract.write_text(json.dumps({"conversation_id": "c-1", "channel": "chat", "turns": []}))
    other_csv = tmp_path / "turns.csv"
    other_csv.write_text("conversation_id,started_at,speaker,text\nc,2026-10-01T00:00:00Z,bot,hi\n")
    for path in (contract, other_csv):
        assert not contact_lens.sniff(path, _head(path))
        assert not twitter.sniff(path, _head(path))
    assert not contact_lens.sniff(TWEETS, _head(TWEETS))
    assert not twitter.sniff(VOICE, _head(VOICE))
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('"tweet_id","author_id","inbound","created_at","text","response_tweet_id",'
                      '"in_response_to_tweet_id"\n')
    assert twitter.sniff(quoted, _head(quoted))


# --- Contact Lens -----------------------------------------------------------------------------

def test_contact_lens_voice() -> None:
    convs, errors = _records(contact_lens, VOICE)
    assert errors == [] and len(convs) == 1
    c = convs[0]
    assert_contract(c)
    assert c["conversation_id"] == "3f0c2a5e-8d1b-4a77-9c2e-6b5d4e3a2f10"
    assert (c["channel"], c["language"]) == ("voice", "en")
    # start = the key's analysis stamp 09:21:40 minus TotalConversationDurationMillis (95 s)
    assert (c["started_at"], c["ended_at"]) == ("2026-10-01T09:20:05Z", "2026-10-01T09:21:40Z")
    assert [t["speaker"] for t in c["turns"]] == ["agent", "customer"] * 3 + ["agent"]
    assert c["turns"][1]["ts"] == "2026-10-01T09:20:09.100Z"  # start + BeginOffsetMillis 4100
    assert "4111 1111 1111 1111" in c["turns"][3]["text"]  # redaction happens later, in ingest
    assert all("agent_id" not in t for t in c["turns"])  # voice output names no agent
    cl = c["metadata"]["contact_lens"]
    assert cl["start_time_source"] == "file_name"
    assert cl["turn_sentiment"][:2] == ["NEUTRAL", "NEGATIVE"]
    assert cl["overall_sentiment"] == {"AGENT": 2.5, "CUSTOMER": -0.8}
    assert cl["categories"] == ["Billing"]


def test_contact_lens_voice_without_time_in_name_uses_mtime_and_sorts_offsets(tmp_path: Path) -> None:
    doc = json.loads(VOICE.read_text())
    doc["Transcript"].reverse()  # items out of order: sorted by BeginOffsetMillis
    path = tmp_path / "call.json"
    path.write_text(json.dumps(doc))
    stamp = datetime(2026, 10, 2, 12, 0, 0, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    (c,), _ = _records(contact_lens, path)
    assert_contract(c)
    assert c["started_at"] == "2026-10-02T11:58:25Z"  # mtime minus 95 s
    assert c["metadata"]["contact_lens"]["start_time_source"] == "file_mtime"
    assert c["turns"][0]["text"].startswith("Thank you for calling")


def test_contact_lens_chat_with_lex_bot_and_handoff() -> None:
    (c,), errors = _records(contact_lens, CHAT)
    assert errors == []
    assert_contract(c)
    assert (c["conversation_id"], c["channel"], c["language"]) == (
        "9d8e7f60-1234-4bcd-8ef0-aabbccddeeff", "chat", "en")
    assert [(t["speaker"], t.get("event")) for t in c["turns"]] == [
        ("system", None), ("bot", None), ("customer", None), ("customer", None), ("bot", None),
        ("system", "handoff"), ("agent", None), ("agent", None), ("system", "end")]
    assert c["started_at"] == "2026-10-31T23:58:01.120Z"  # first item, the customer joining
    assert c["ended_at"] == "2026-11-01T00:01:30.500Z"
    assert c["turns"][5]["ts"] == "2026-10-31T23:59:05Z"  # the agent joined
    assert c["turns"][1]["agent_id"] == contact_lens.BOT_AGENT_ID
    assert c["turns"][6]["agent_id"] == "agt-3c4d-4e5f-8a6b-7c8d9e0f1a2b"
    cl = c["metadata"]["contact_lens"]
    assert cl["start_time_source"] == "absolute_time"
    assert cl["items_not_turned_into_turns"] == 4  # joined, typing, attachment, left
    assert cl["turn_sentiment"][2:4] == ["NEGATIVE", "NEGATIVE"]
    assert cl["turn_sentiment"][6] == "POSITIVE"


def test_contact_lens_chat_agent_only_has_no_handoff_and_custom_bot_is_a_bot(tmp_path: Path) -> None:
    doc = json.loads(CHAT.read_text())
    doc["Transcript"] = [t for t in doc["Transcript"] if t.get("DisplayName") != "BOT"]
    path = tmp_path / "agent_only.json"
    path.write_text(json.dumps(doc))
    (c,), _ = _records(contact_lens, path)
    assert "handoff" not in [t.get("event") for t in c["turns"]]
    doc = json.loads(CHAT.read_text())
    for t in doc["Transcript"]:
        if t.get("DisplayName") == "BOT":
            t["ParticipantRole"], t["DisplayName"] = "CUSTOM_BOT", "Helper"
    path.write_text(json.dumps(doc))
    (c,), _ = _records(contact_lens, path)
    assert [t["speaker"] for t in c["turns"]].count("bot") == 2
    assert "handoff" in [t.get("event") for t in c["turns"]]


def _mutated(tmp_path: Path, base: Path, name: str, change: Any) -> Path:
    doc = json.loads(base.read_text())
    change(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("name", "base", "change", "reason", "field"), [
    ("role.json", VOICE, lambda d: d["Participants"][0].update(ParticipantRole="MONITOR"),
     "unknown_speaker", "Transcript[1].ParticipantId"),
    ("no_transcript.json", VOICE, lambda d: d.pop("Transcript"), "missing_field", "Transcript"),
    ("no_content.json", VOICE, lambda d: d["Transcript"][2].pop("Content"), "missing_field",
     "Transcript[2].Content"),
    ("offset.json", VOICE, lambda d: d["Transcript"][0].update(BeginOffsetMillis="soon"),
     "bad_timestamp", "Transcript[0]"),
    ("channel.json", VOICE, lambda d: d.update(Channel="EMAIL"), "bad_value", "Channel"),
    ("noid.json", VOICE, lambda d: d["CustomerMetadata"].pop("ContactId"), "missing_field",
     "CustomerMetadata.ContactId"),
    ("abs.json", CHAT, lambda d: d["Transcript"][3].update(AbsoluteTime="Tuesday"),
     "bad_timestamp", "Transcript[3].AbsoluteTime"),
])
def test_contact_lens_bad_records_become_errors(tmp_path: Path, name: str, base: Path, change: Any,
                                               reason: str, field: str) -> None:
    convs, errors = _records(contact_lens, _mutated(tmp_path, base, name, change))
    assert convs == [] and len(errors) == 1
    assert (errors[0].error.reason, errors[0].error.field) == (reason, field)
    assert errors[0].source_line == 1 and errors[0].error.message


def test_contact_lens_unusable_files(tmp_path: Path) -> None:
    _, (err,) = _records(contact_lens, FAILED)
    assert err.error.reason == "analysis_not_completed"
    broken = tmp_path / "broken.json"
    broken.write_text('{"Channel": "VOICE", "Transcript": [')
    _, (err,) = _records(contact_lens, broken)
    assert err.error.reason == "invalid_json"
    with pytest.raises(InputError):
        list(contact_lens.read(tmp_path / "missing.json"))


def test_contact_lens_reads_gzip(tmp_path: Path) -> None:
    path = tmp_path / "3f0c2a5e-8d1b-4a77-9c2e-6b5d4e3a2f10_analysis_2026-10-01T09_21_40Z.json.gz"
    path.write_bytes(gzip.compress(VOICE.read_bytes()))
    assert detect_format(path) == "contact_lens"
    (c,), _ = _records(contact_lens, path)
    (plain,), _ = _records(contact_lens, VOICE)
    assert c == plain


# --- Twitter ----------------------------------------------------------------------------------

def test_twitter_threads_rebuilt_from_reply_chains() -> None:
    convs, errors = _records(twitter, TWEETS)
    for c in convs:
        assert_contract(c)
    by_id = {c["conversation_id"]: c for c in convs}
    assert set(by_id) == {"tw-100", "tw-200", "tw-300", "tw-400", "tw-500", "tw-600", "tw-800",
                          "tw-900"}

    branching = by_id["tw-100"]  # 100 -> (101 -> 103 -> 105), (102 -> 104)
    assert [t["speaker"] for t in branching["turns"]] == [
        "customer", "agent", "agent", "customer", "customer", "agent"]
    assert branching["turns"][0]["text"] == ("@AcmeSupport my order hasn't arrived & nobody "
                                             "answers the phone")
    assert (branching["customer_id"], branching["queue"], branching["channel"]) == (
        "5001", "AcmeSupport", "social")
    assert branching["metadata"]["brand"] == "AcmeSupport"
    assert {t.get("agent_id") for t in branching["turns"] if t["speaker"] == "agent"} == {
        "AcmeSupport"}
    assert (branching["started_at"], branching["ended_at"]) == ("2017-10-02T09:00:00Z",
                                                                "2017-10-02T09:20:00Z")

    # the customer's tweet answers tweet 199, which is not in the file: it is the root, and
    # the conversation is flagged partial (its beginning is outside the file)
    assert [t["speaker"] for t in by_id["tw-200"]["turns"]] == ["customer", "agent"]
    assert by_id["tw-200"]["metadata"]["partial"] is True
    assert "opened_by" not in by_id["tw-200"]["metadata"]
    assert "partial" not in branching["metadata"] and "opened_by" not in branching["metadata"]

    # a brand reply whose customer tweet is missing: kept, partial, opened by the brand, the
    # customer is the first customer who tweeted in the thread
    cut = by_id["tw-300"]
    assert [t["speaker"] for t in cut["turns"]] == ["agent", "customer"]
    assert (cut["customer_id"], cut["queue"]) == ("5003", "AcmeSupport")
    assert cut["metadata"]["partial"] is True and cut["metadata"]["opened_by"] == "brand"

    # the brand's proactive outreach (no in_response_to): complete, opened by the brand
    outreach = by_id["tw-800"]["metadata"]
    assert "partial" not in outreach and outreach["opened_by"] == "brand"
    assert by_id["tw-800"]["customer_id"] == "5009"

    # a root tweet that is unusable (inbound "maybe") is quarantined on its own; the rest of
    # its thread is kept, partial
    rest = by_id["tw-900"]
    assert [t["speaker"] for t in rest["turns"]] == ["agent"]
    assert rest["metadata"]["partial"] is True and rest["customer_id"] is None

    # 402 has no in_response_to, but 400 lists it in its multi-id response_tweet_id
    multi = by_id["tw-400"]
    assert [t.get("agent_id") for t in multi["turns"]] == [None, "AcmeSupport", "GlobexHelp"]
    assert multi["metadata"]["other_brands"] == ["GlobexHelp"]

    # rows out of time order in the file come out in created_at order
    assert [t["text"][-7:] for t in by_id["tw-500"]["turns"]] == [
        " log in", "you on?", "Android"]

    # bad tweets of a thread are quarantined; the rest of the thread is kept
    assert len(by_id["tw-600"]["turns"]) == 1 and by_id["tw-600"]["queue"] == "GlobexHelp"

    assert sorted((e.source_line, e.error.reason, e.error.field) for e in errors) == [
        (18, "bad_id", "tweet_id"),
        (19, "duplicate_id", "tweet_id"),
        (21, "bad_timestamp", "created_at"),
        (22, "bad_value", "inbound"),
        (23, "reply_cycle", "in_response_to_tweet_id"),
        (24, "reply_cycle", "in_response_to_tweet_id"),
        (27, "bad_value", "inbound"),
    ]


def test_every_tweet_is_one_turn_or_one_error() -> None:
    """The accounting identity: each data row of the file becomes exactly one turn or one
    error record, and the turns are distinct tweets."""
    n_rows = len(TWEETS.read_text().splitlines()) - 1
    convs, errors = _records(twitter, TWEETS)
    n_turns = sum(len(c["turns"]) for c in convs)
    assert n_turns + len(errors) == n_rows == 27
    assert sum(c["metadata"]["n_tweets"] for c in convs) >= n_turns
    assert len({e.source_line for e in errors}) == len(errors)


def test_twitter_source_lines_point_at_the_root_row() -> None:
    recs = {r.payload["conversation_id"]: r.source_line for r in twitter.read(TWEETS) if r.payload}
    assert recs == {"tw-100": 2, "tw-200": 8, "tw-300": 10, "tw-400": 12, "tw-500": 16,
                    "tw-600": 20, "tw-800": 25, "tw-900": 28}  # 900's root row 27 is quarantined


def test_twitter_deep_chain_resolves_by_pointer_doubling(tmp_path: Path) -> None:
    n = 3_000
    lines = ["tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"]
    for i in range(1, n + 1):
        inbound = i % 2 == 1
        author = "777" if inbound else "AcmeSupport"
        minute, second = divmod(i, 60)
        ts = f"Mon Oct 02 {10 + minute // 60:02d}:{minute % 60:02d}:{second:02d} +0000 2017"
        child = str(i + 1) if i < n else ""
        parent = f"{i - 1}.0" if i > 1 else ""
        lines.append(f"{i},{author},{inbound},{ts},message {i},{child},{parent}")
    path = tmp_path / "chain.csv"
    path.write_text("\n".join(lines) + "\n")
    convs, errors = _records(twitter, path)
    assert errors == [] and len(convs) == 1
    assert len(convs[0]["turns"]) == n
    assert convs[0]["turns"][-1]["text"] == f"message {n}"
    assert_contract(convs[0])


def test_resolve_roots_handles_forests_and_cycles() -> None:
    edges = pl.DataFrame({"id": [1, 2, 3, 4, 5, 6, 7, 8],
                          "parent": [None, 1, 2, 2, None, 7, 6, 6]},
                         schema={"id": pl.Int64, "parent": pl.Int64})
    got = dict(twitter.resolve_roots(edges).iter_rows())
    assert got == {1: 1, 2: 1, 3: 1, 4: 1, 5: 5, 6: None, 7: None, 8: None}


def test_twitter_gzip_and_missing_columns(tmp_path: Path) -> None:
    gz = tmp_path / "twcs.csv.gz"
    gz.write_bytes(gzip.compress(TWEETS.read_bytes()))
    assert detect_format(gz) == "twitter"
    got = [(r.source_line, r.payload, r.error and r.error.reason) for r in twitter.read(gz)]
    want = [(r.source_line, r.payload, r.error and r.error.reason) for r in twitter.read(TWEETS)]
    assert got == want
    bad = tmp_path / "bad.csv"
    shutil.copy(TWEETS, bad)
    bad.write_text(bad.read_text().replace("in_response_to_tweet_id", "parent", 1))
    with pytest.raises(InputError, match="in_response_to_tweet_id"):
        list(twitter.read(bad))


# --- end to end through the real ingest pipeline (real DuckDB, real GX suites) ----------------

def test_adapters_end_to_end_through_ingest(con: Any, settings: Any) -> None:
    from tierlens.stages.ingest import ingest_paths

    report = ingest_paths(con, [VOICE, CHAT, FAILED, TWEETS], settings)
    assert report.reconciles()
    assert (report.read, report.stored, report.quarantined) == (18, 10, 8)
    # every tweet is stored as a turn or has its own quarantine row
    turns = con.execute("SELECT count(*) FROM turns WHERE conversation_id LIKE 'tw-%'").fetchone()
    quarantined = con.execute("SELECT count(*) FROM quarantine WHERE source_file = ?",
                              [str(TWEETS)]).fetchone()
    assert turns[0] + quarantined[0] == len(TWEETS.read_text().splitlines()) - 1
    partial = con.execute("SELECT conversation_id FROM conversations WHERE "
                          "json_extract(metadata, '$.partial') = 'true' ORDER BY 1").fetchall()
    assert [p[0] for p in partial] == ["tw-200", "tw-300", "tw-900"]
    paths = dict(con.execute("SELECT conversation_id, tier_path FROM conversations").fetchall())
    assert paths["9d8e7f60-1234-4bcd-8ef0-aabbccddeeff"] == "bot_then_human"
    assert paths["tw-100"] == "human_only"
    text = con.execute("SELECT text FROM turns WHERE conversation_id = ? AND turn_index = 3",
                       ["3f0c2a5e-8d1b-4a77-9c2e-6b5d4e3a2f10"]).fetchone()[0]
    assert text == "Sure, it's [CARD]."


# --- the worked example in docs/adapters.md runs as written -----------------------------------

def test_docs_worked_example_adapter_runs(tmp_path: Path) -> None:
    import re
    import types

    doc = (Path(__file__).resolve().parents[2] / "docs" / "adapters.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    source = next(b for b in blocks if 'NAME = "acme_chat"' in b)
    module = types.ModuleType("acme_chat")
    exec(compile(source, "docs/adapters.md", "exec"), module.__dict__)  # noqa: S102
    path = tmp_path / "acme.jsonl"
    good = {"ticket": "T-1", "opened": "2026-10-01T09:00:00Z", "messages": [
        {"from": "user", "body": "my parcel is late", "at": "2026-10-01T09:00:00Z"},
        {"from": "bot", "body": "Let me check.", "at": "2026-10-01T09:00:02Z"},
        {"from": "agent:42", "body": "Hi, Sam here.", "at": "2026-10-01T09:01:00Z"}]}
    bad = {"ticket": "T-2", "opened": "2026-10-01T10:00:00Z",
           "messages": [{"from": "alien", "body": "?", "at": "2026-10-01T10:00:00Z"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    assert module.sniff(path, _head(path))
    (c,), (err,) = _records(module, path)
    assert_contract(c)
    assert [t["speaker"] for t in c["turns"]] == ["customer", "bot", "agent"]
    assert c["turns"][2]["agent_id"] == "42"
    assert (err.source_line, err.error.reason) == (2, "bad_value")
