"""PII typed into any field, not only turn text, is never stored raw: not in the warehouse
tables, not in quarantine messages or payloads, not in data-quality results."""

from __future__ import annotations

import re

import pytest

from tests.conftest import conversation, table_contents, write_jsonl
from tierlens.errors import describe
from tierlens.stages.ingest import ingest_paths

CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"
PHONE = "415-555-2671"


def _turn(**over) -> dict:
    return {"speaker": "customer", "text": "hello", "ts": "2026-10-01T09:14:03Z", **over}


def _everything(con) -> str:
    """Every stored value of every data table, as one text."""
    return "\n".join(str(v) for rows in table_contents(con).values() for row in rows
                     for v in row)


def _assert_no_raw_pii(con) -> None:
    stored = _everything(con)
    compact = re.sub(r"[\s-]|\\[tnr]", "", stored)  # separators, JSON-escaped ones too
    assert "4111111111111111" not in compact
    assert EMAIL not in stored and "jane.doe" not in stored
    assert "4155552671" not in compact


BAD_FIELDS = [
    ("csat", {"csat": CARD}, "csat"),
    ("csat as a number", {"csat": 4111111111111111}, "csat"),
    ("nps", {"nps": CARD}, "nps"),
    ("started_at", {"started_at": EMAIL}, "started_at"),
    ("speaker", {"turns": [_turn(speaker=EMAIL)]}, "turns[0].speaker"),
    ("ts", {"turns": [_turn(ts=f"call {PHONE}")]}, "turns[0].ts"),
    ("event", {"turns": [_turn(speaker="system", event=EMAIL, text="")]}, "turns[0].event"),
    ("bot_confidence", {"turns": [_turn(speaker="bot", bot_confidence=CARD)]},
     "turns[0].bot_confidence"),
]


@pytest.mark.parametrize("name, over, field", BAD_FIELDS, ids=[b[0] for b in BAD_FIELDS])
def test_a_bad_value_is_described_never_repeated(con, settings, tmp_path, name, over, field):
    path = write_jsonl(tmp_path / "in.jsonl", [conversation("c-1", **over), conversation("c-2")])
    report = ingest_paths(con, [path], settings)
    assert (report.stored, report.quarantined) == (1, 1)
    (fld, message), = con.execute("SELECT field, message FROM quarantine").fetchall()
    assert fld == field and message.startswith(field)
    assert re.search(r"\((?:got )?(?:text \(\d+ chars\)|a \d+-digit number)\)", message), message
    _assert_no_raw_pii(con)


def test_identifier_fields_are_redacted_before_storage(con, settings, tmp_path):
    rec = conversation(EMAIL, queue=f"callback {PHONE}", language=EMAIL, channel=EMAIL)
    rec["turns"][1]["agent_id"] = f"agent {EMAIL}"
    rec["turns"][2]["queue"] = f"billing {CARD}"
    report = ingest_paths(con, [write_jsonl(tmp_path / "ids.jsonl", [rec])], settings)
    assert report.stored == 1
    row = con.execute("SELECT conversation_id, first_queue, language, channel "
                      "FROM core_conversations").fetchone()
    assert row == ("[EMAIL]", "callback [PHONE]", "[EMAIL]", "[EMAIL]")
    turns = con.execute("SELECT conversation_id, agent_id, queue FROM core_turns "
                        "ORDER BY turn_index").fetchall()
    assert {t[0] for t in turns} == {"[EMAIL]"}
    assert turns[1][1] == "agent [EMAIL]" and turns[2][2] == "billing [CARD]"
    _assert_no_raw_pii(con)  # the soft suite's unknown-channel sample included


def test_quarantined_record_with_pii_id_keeps_no_raw_id(con, settings, tmp_path):
    bad = conversation(EMAIL, csat=9)
    ingest_paths(con, [write_jsonl(tmp_path / "q.jsonl", [bad])], settings)
    (cid, message), = con.execute("SELECT conversation_id, message FROM quarantine").fetchall()
    assert cid == "[EMAIL]" and "9" not in message.split("(")[0]
    _assert_no_raw_pii(con)


def test_quarantined_payload_is_redacted_before_json_escapes_it(con, settings, tmp_path):
    rec = conversation("c-1", csat=9)
    rec["turns"][0]["text"] = "card 4111\t1111\t1111\t1111 ok"
    ingest_paths(con, [write_jsonl(tmp_path / "p.jsonl", [rec])], settings)
    (payload,), = con.execute("SELECT payload FROM quarantine").fetchall()
    assert "card [CARD] ok" in payload
    _assert_no_raw_pii(con)


def test_duplicate_id_message_names_the_redacted_id(con, settings, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [conversation(EMAIL), conversation(EMAIL)])
    ingest_paths(con, [path], settings)
    (message,), = con.execute("SELECT message FROM quarantine").fetchall()
    assert "[EMAIL]" in message
    _assert_no_raw_pii(con)


def test_csv_csat_and_twitter_created_at(con, settings, tmp_path):
    csv = tmp_path / "turns.csv"
    csv.write_text("conversation_id,started_at,csat,speaker,text\n"
                   f"c-1,2026-10-01T00:00:00Z,{CARD},customer,hi\n", encoding="utf-8")
    tweets = tmp_path / "tweets.csv"
    tweets.write_text("tweet_id,author_id,inbound,created_at,text,response_tweet_id,"
                      "in_response_to_tweet_id\n"
                      f"100,5001,True,{EMAIL},@AcmeSupport help,,\n", encoding="utf-8")
    report = ingest_paths(con, [csv, tweets], settings)
    assert report.quarantined == 2
    messages = [m for (m,) in con.execute("SELECT message FROM quarantine").fetchall()]
    assert any(m.startswith("csat: not a number (text (19 chars))") for m in messages), messages
    assert any(m.startswith("created_at: not like") for m in messages), messages
    _assert_no_raw_pii(con)


@pytest.mark.parametrize("value, shown", [
    (CARD, "text (19 chars)"), (4111111111111111, "a 16-digit number"), (None, "empty"),
    (float("nan"), "NaN"), (True, "a boolean"), ({"a": EMAIL}, "an object (1 keys)"),
])
def test_describe_never_repeats_the_value(value, shown):
    assert describe(value) == shown
