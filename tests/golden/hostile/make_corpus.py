"""Write the hostile-input corpus and its manifest (expected.json). Deterministic.

    python tests/golden/hostile/make_corpus.py     # rewrites tests/golden/hostile/files/

Each file's expected outcome, written here by hand from the ingest contract (README, "What
ingest guarantees"): ``stored`` conversations, ``turns`` stored, ``quarantined`` records with
their ``reasons`` (sorted), or ``rejected``: the file gets one file-level row with that reason.
tests/security/test_hostile_inputs.py ingests each file into a fresh warehouse and checks it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"


def ts(n: int) -> str:  # n seconds after 09:00 on 2026-10-01
    return f"2026-10-01T{9 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"


def conv(cid: str, n: int = 2, **over) -> dict:
    base = {"conversation_id": cid, "channel": "chat", "customer_id": "cust-1",
            "started_at": ts(0), "ended_at": ts(59), "queue": "bot",
            "language": "en", "csat": 4, "metadata": {"brand": "acme"},
            "turns": [{"speaker": "customer" if i % 2 == 0 else "bot", "text": f"message {i}",
                       "ts": ts(i + 1)} for i in range(n)]}
    base.update(over)
    return base


def line(obj) -> bytes:
    return (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n"


def jsonl(*objs) -> bytes:
    return b"".join(line(o) for o in objs)


def turn(**kw) -> dict:
    return {"speaker": "customer", "text": "hello", "ts": ts(1), **kw}


def csv(header: str, *rows: str, nl: str = "\n") -> bytes:
    return (nl.join([header, *rows]) + nl).encode()


CSV_HEAD = "conversation_id,channel,customer_id,started_at,speaker,text,ts"


def csv_row(cid: str, i: int, text: str = "", at: str | None = None) -> str:
    return (f"{cid},chat,cust-1,{ts(0)},{'customer' if i % 2 == 0 else 'bot'},"
            f"{text or f'message {i}'},{at or ts(i + 1)}")


def ok(stored: int = 1, turns: int | None = None, **q) -> dict:
    reasons = sorted(r for r, n in q.items() for _ in range(n))
    return {"stored": stored, "turns": 2 * stored if turns is None else turns,
            "quarantined": len(reasons), "reasons": reasons}


def rejected(reason: str = "unreadable_file") -> dict:
    return {"rejected": reason}


def nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def pretty(*objs) -> bytes:
    return b"\n".join(json.dumps(o, indent=2).encode() for o in objs) + b"\n"


def cases() -> dict[str, tuple[bytes, dict]]:
    good, good2 = conv("good"), conv("good-2")
    c: dict[str, tuple[bytes, dict]] = {}
    # --- invalid JSON
    c["json_truncated_line.jsonl"] = (jsonl(good, b'{"conversation_id": "x", "turns": ['),
                                      ok(invalid_json=1))
    c["json_trailing_comma.jsonl"] = (jsonl(good, b'{"conversation_id": "x",}'),
                                      ok(invalid_json=1))
    c["json_single_quotes.jsonl"] = (jsonl(good, b"{'conversation_id': 'x'}"), ok(invalid_json=1))
    c["json_unquoted_key.jsonl"] = (jsonl(good, b'{conversation_id: "x"}'), ok(invalid_json=1))
    c["json_first_line_broken.jsonl"] = (jsonl(b'{"conversation_id": "x", "turns": [', good, good2),
                                         ok(2, invalid_json=1))
    c["json_array_line.jsonl"] = (jsonl(good, b"[1, 2, 3]"), ok(not_an_object=1))
    c["json_string_line.jsonl"] = (jsonl(good, b'"hello"'), ok(not_an_object=1))
    c["json_null_line.jsonl"] = (jsonl(good, b"null"), ok(not_an_object=1))
    c["json_lone_surrogate.jsonl"] = (jsonl(good, b'{"conversation_id": "\\ud800"}'),
                                      ok(invalid_json=1))
    c["json_all_garbage.jsonl"] = (b"".join(b"garbage line %d\n" % i for i in range(40)),
                                   rejected())
    # --- wrong types
    c["type_turns_string.jsonl"] = (jsonl(good, conv("x", turns="hello")), ok(bad_type=1))
    c["type_turn_not_object.jsonl"] = (jsonl(good, conv("x", turns=[1])), ok(bad_type=1))
    c["type_speaker_number.jsonl"] = (jsonl(good, conv("x", turns=[turn(speaker=5)])),
                                      ok(unknown_speaker=1))
    c["type_speaker_list.jsonl"] = (jsonl(good, conv("x", turns=[turn(speaker=["bot"])])),
                                    ok(bad_type=1))
    c["type_text_object.jsonl"] = (jsonl(good, conv("x", turns=[turn(text={"a": 1})])),
                                   ok(bad_type=1))
    c["type_text_number.jsonl"] = (jsonl(good, conv("x", turns=[turn(text=42)])),
                                   ok(2, turns=3))
    c["type_csat_string.jsonl"] = (jsonl(good, conv("x", csat="great")), ok(bad_type=1))
    c["type_csat_float.jsonl"] = (jsonl(good, conv("x", csat=4.5)), ok(bad_type=1))
    c["type_csat_bool.jsonl"] = (jsonl(good, conv("x", csat=True)), ok(bad_type=1))
    c["type_metadata_list.jsonl"] = (jsonl(good, conv("x", metadata=[1])), ok(bad_type=1))
    c["type_id_object.jsonl"] = (jsonl(good, conv({"id": 1})), ok(bad_type=1))
    c["type_confidence_string.jsonl"] = (
        jsonl(good, conv("x", turns=[turn(speaker="bot", bot_confidence="high")])), ok(bad_type=1))
    c["type_started_at_bool.jsonl"] = (jsonl(good, conv("x", started_at=True)),
                                       ok(bad_timestamp=1))
    # --- missing fields
    c["missing_conversation_id.jsonl"] = (jsonl(good, conv(None)), ok(missing_field=1))
    no_turns = conv("x")
    del no_turns["turns"]
    c["missing_turns.jsonl"] = (jsonl(good, no_turns), ok(missing_field=1))
    no_start = conv("x")
    del no_start["started_at"]
    c["missing_started_at.jsonl"] = (jsonl(good, no_start), ok(missing_field=1))
    c["missing_speaker.jsonl"] = (jsonl(good, conv("x", turns=[{"text": "hi", "ts": ts(1)}])),
                                  ok(missing_field=1))
    c["missing_text.jsonl"] = (jsonl(good, conv("x", turns=[{"speaker": "customer"}])),
                               ok(missing_field=1))
    c["empty_turns.jsonl"] = (jsonl(good, conv("x", turns=[])), ok(empty_conversation=1))
    c["empty_object.jsonl"] = (jsonl(good, {}), ok(missing_field=1))
    # --- huge fields
    c["huge_turn_text.jsonl"] = (jsonl(good, conv("x", turns=[turn(text="a" * 200_000)])),
                                 ok(turn_too_long=1))
    c["huge_metadata.jsonl"] = (jsonl(good, conv("x", metadata={"blob": "b" * 300_000})),
                                ok(2))
    c["huge_turn_count.jsonl"] = (jsonl(conv("x", n=600)), ok(1, turns=600))
    c["huge_csat.jsonl"] = (jsonl(good, conv("x", csat=10**30)), ok(out_of_range=1))
    c["huge_confidence.jsonl"] = (
        jsonl(good, conv("x", turns=[turn(speaker="bot", bot_confidence=1e308)])),
        ok(out_of_range=1))
    # --- control characters
    c["control_raw_in_string.jsonl"] = (jsonl(good, b'{"conversation_id": "a\x01b", "turns": []}'),
                                        ok(invalid_json=1))
    c["control_escaped_nul.jsonl"] = (
        jsonl(conv("x", turns=[turn(text="nul\u0000here"), turn(text="esc\u001b[31m", ts=ts(2))])),
        ok(1))
    c["control_zero_width_bidi.jsonl"] = (
        jsonl(conv("x", turns=[turn(text="\u202eevil\u200b"), turn(text="ok", ts=ts(2))])),
        ok(1))
    # --- encodings
    c["utf8_invalid_line.jsonl"] = (jsonl(good, json.dumps(good2).encode().replace(
        b"message 0", b"mess\xffge 0")), ok(invalid_utf8=1))
    c["utf8_invalid_every_line.jsonl"] = (
        b"".join(json.dumps(conv(f"c{i}")).encode().replace(b"message", b"m\xfe") + b"\n"
                 for i in range(25)), rejected())
    c["utf8_bom.jsonl"] = (b"\xef\xbb\xbf" + jsonl(good, good2), ok(2))
    c["utf16le_bom.jsonl"] = (jsonl(good, good2).decode().encode("utf-16"), ok(2))
    c["utf16be_bom.jsonl"] = (b"\xfe\xff" + jsonl(good, good2).decode().encode("utf-16-be"),
                              ok(2))
    c["utf16le_no_bom.jsonl"] = (jsonl(good, good2).decode().encode("utf-16-le"), rejected())
    c["utf16_odd_bytes.jsonl"] = (jsonl(good).decode().encode("utf-16") + b"\x00",
                                  ok(truncated_file=1))
    c["binary_garbage.jsonl"] = (bytes(range(256)) * 8, rejected())
    # --- line endings and layouts
    c["cr_only.jsonl"] = (jsonl(good, good2, conv("good-3")).replace(b"\n", b"\r"), ok(3))
    c["crlf.jsonl"] = (jsonl(good, good2).replace(b"\n", b"\r\n"), ok(2))
    c["no_final_newline.jsonl"] = (jsonl(good, good2).rstrip(b"\n"), ok(2))
    c["pretty_object.jsonl"] = (pretty(good), ok(1))
    c["pretty_array.jsonl"] = (json.dumps([good, good2, conv("good-3")], indent=2).encode(),
                               ok(3))
    c["pretty_sequence.jsonl"] = (pretty(good, good2), ok(2))
    c["pretty_truncated.jsonl"] = (pretty(good)[:-40], rejected())
    c["pretty_second_broken.jsonl"] = (pretty(good) + b'{\n  "conversation_id": \n', ok(invalid_json=1))
    c["pretty_dup_key.jsonl"] = (pretty(good) + b'{\n "conversation_id": "a",\n "conversation_id": "b"\n}\n',
                                 ok(duplicate_key=1))
    c["pretty_two_on_a_line.jsonl"] = (b'[\n {"conversation_id": "a"}, {"conversation_id": "b"}\n]\n',
                                       ok(0, missing_field=2))
    c["pretty_nan.jsonl"] = (pretty(good) + b'{\n "csat": NaN\n}\n', ok(invalid_json=1))
    # --- duplicate keys
    dup = json.dumps(good2).replace('"speaker": "customer"', '"speaker": "customer", "speaker": "agent"', 1)
    c["dupkey_speaker.jsonl"] = (jsonl(good, dup.encode()), ok(duplicate_key=1))
    dup = json.dumps(good2).replace('"channel": "chat"', '"conversation_id": "other", "channel": "chat"')
    c["dupkey_top_level.jsonl"] = (jsonl(good, dup.encode()), ok(duplicate_key=1))
    dup = json.dumps(good2).replace('{"brand": "acme"}', '{"brand": "acme", "brand": "evil"}')
    c["dupkey_metadata.jsonl"] = (jsonl(good, dup.encode()), ok(duplicate_key=1))
    dup = json.dumps(good2, separators=(" , ", " : ")).replace('"text" : "message 1"', '"text" : "a" , "text" : "b"')
    c["dupkey_spaced.jsonl"] = (jsonl(good, dup.encode()), ok(duplicate_key=1))
    c["dupkey_lookalike_text.jsonl"] = (jsonl(conv("x", turns=[turn(text='he said "x": "y" and "x": "z"')])),
                                        ok(1, turns=1))
    # --- timestamps
    c["ts_year_1900.jsonl"] = (jsonl(good, conv("x", started_at="1900-01-01T00:00:00Z")),
                               ok(timestamp_out_of_window=1))
    c["ts_year_9999.jsonl"] = (jsonl(good, conv("x", ended_at="9999-12-31T23:59:59Z")),
                               ok(timestamp_out_of_window=1))
    c["ts_turn_9999.jsonl"] = (jsonl(good, conv("x", turns=[turn(ts="9999-01-01T00:00:00Z")])),
                               ok(timestamp_out_of_window=1))
    c["ts_year_2099.jsonl"] = (jsonl(good, conv("x", started_at="2099-06-01T00:00:00Z")),
                               ok(timestamp_out_of_window=1))
    c["ts_epoch_zero.jsonl"] = (jsonl(good, conv("x", started_at=0)), ok(timestamp_out_of_window=1))
    c["ts_epoch_millis.jsonl"] = (jsonl(good, conv("x", started_at=1790000000000)),
                                  ok(bad_timestamp=1))
    c["ts_year_1999_turn.jsonl"] = (jsonl(good, conv("x", turns=[turn(ts="1999-12-31T23:59:59Z")])),
                                    ok(timestamp_out_of_window=1))
    c["ts_garbage.jsonl"] = (jsonl(good, conv("x", started_at="yesterday")), ok(bad_timestamp=1))
    # --- NaN / Infinity
    c["nan_literal.jsonl"] = (jsonl(good, b'{"conversation_id": "x", "csat": NaN, "turns": []}'),
                              ok(invalid_json=1))
    c["infinity_literal.jsonl"] = (jsonl(good, b'{"conversation_id": "x", "csat": Infinity}'),
                                   ok(invalid_json=1))
    c["number_overflow.jsonl"] = (jsonl(good, b'{"conversation_id": "x", "csat": 1e999}'),
                                  ok(invalid_json=1))
    # --- nesting
    c["nested_metadata_100.jsonl"] = (jsonl(conv("x", metadata=nested(100))), ok(1))
    c["nested_metadata_5000.jsonl"] = (jsonl(good, b'{"metadata": ' + b'[' * 5000 + b']' * 5000 + b"}"),
                                       ok(invalid_json=1))
    # --- empty files
    c["empty.jsonl"] = (b"", rejected("empty_file"))
    c["blank_lines.jsonl"] = (b"\n\n   \n\t\n", rejected("empty_file"))
    c["empty.csv"] = (b"", rejected("empty_file"))
    c["csv_header_only.csv"] = (csv(CSV_HEAD), rejected("empty_file"))
    # --- gzip
    c["gzip_bomb.jsonl.gz"] = (gzip.compress(jsonl(good) + b"0" * (64 << 20), 9, mtime=0),
                               ok(line_too_long=1))
    whole = gzip.compress(jsonl(*[conv(f"g{i}") for i in range(300)]), 9, mtime=0)
    c["gzip_truncated.jsonl.gz"] = (whole[: len(whole) // 2], {"truncated": True})
    c["gzip_not_gzip.jsonl.gz"] = (jsonl(good), ok(0, truncated_file=1))
    c["gzip_empty.jsonl.gz"] = (gzip.compress(b"", mtime=0), rejected("empty_file"))
    c["gzip_valid.jsonl.gz"] = (gzip.compress(jsonl(good, good2), mtime=0), ok(2))
    # --- duplicate ids, CSV
    c["duplicate_id.jsonl"] = (jsonl(good, good), ok(duplicate_id=1))
    c["csv_valid.csv"] = (csv(CSV_HEAD, csv_row("a", 0), csv_row("a", 1), csv_row("b", 0)),
                          ok(2, turns=3))
    c["csv_duplicate_row.csv"] = (csv(CSV_HEAD, csv_row("a", 0), csv_row("a", 0), csv_row("a", 1),
                                      csv_row("a", 1)), ok(1, turns=2))
    c["csv_invalid_utf8.csv"] = (csv(CSV_HEAD, csv_row("a", 0), csv_row("b", 0, "caf\xe9"))
                                 .replace("caf\xe9".encode(), b"caf\xe9"), ok(1, turns=1, invalid_utf8=1))
    c["csv_utf16.csv"] = (csv(CSV_HEAD, csv_row("a", 0)).decode().encode("utf-16"), rejected())
    c["csv_cr_only.csv"] = (csv(CSV_HEAD, csv_row("a", 0), nl="\r"), rejected())
    c["csv_crlf.csv"] = (csv(CSV_HEAD, csv_row("a", 0), csv_row("a", 1), nl="\r\n"), ok(1))
    c["csv_bom.csv"] = (b"\xef\xbb\xbf" + csv(CSV_HEAD, csv_row("a", 0)), ok(1, turns=1))
    c["csv_dup_header.csv"] = (csv(CSV_HEAD + ",speaker", csv_row("a", 0) + ",agent"), rejected())
    c["csv_missing_column.csv"] = (csv("conversation_id,text", "a,hi"), rejected())
    c["csv_noncontiguous.csv"] = (csv(CSV_HEAD, csv_row("a", 0), csv_row("b", 0), csv_row("a", 1)),
                                  ok(2, turns=2, duplicate_id=1))
    c["csv_ts_9999.csv"] = (csv(CSV_HEAD, csv_row("a", 0), csv_row("b", 0, at="9999-01-01T00:00:00Z")),
                            ok(1, turns=1, timestamp_out_of_window=1))
    c["csv_ragged_row.csv"] = (csv(CSV_HEAD, csv_row("a", 0), "b,chat"),  # short row: nulls
                               {**ok(1, turns=1), "quarantined": 1,
                                "reasons": ["missing_field"] * 3})
    c["csv_nul_bytes.csv"] = (csv(CSV_HEAD, csv_row("a", 0)).replace(b"message", b"mes\x00sage"),
                              rejected())
    # --- split conversations (each half alone; both orders: see the test)
    full = conv("split", n=8, metadata={"brand": "acme", "note": "mail bob@example.com"})
    head = dict(full, turns=full["turns"][:4], csat=None, ended_at=ts(4))
    tail = dict(full, turns=full["turns"][4:], started_at=ts(5))
    c["split_a.jsonl"] = (jsonl(head), ok(1, turns=4))
    c["split_b.jsonl"] = (jsonl(tail), ok(1, turns=4))
    c["split_overlap_a.jsonl"] = (jsonl(dict(full, turns=full["turns"][:5])), ok(1, turns=5))
    c["split_overlap_b.jsonl"] = (jsonl(dict(full, turns=full["turns"][3:])), ok(1, turns=5))
    c["split_full.jsonl"] = (jsonl(full), ok(1, turns=8))
    rows = [csv_row("s", i) for i in range(6)]
    c["split_csv_a.csv"] = (csv(CSV_HEAD, *rows[:3]), ok(1, turns=3))
    c["split_csv_b.csv"] = (csv(CSV_HEAD, *rows[3:]), ok(1, turns=3))
    c["valid.ndjson"] = (jsonl(good, good2), ok(2))
    return c


# Pairs ingested in both orders: the warehouse must be the same, with this many turns.
SPLITS = {"split_a.jsonl+split_b.jsonl": 8, "split_overlap_a.jsonl+split_overlap_b.jsonl": 8,
          "split_csv_a.csv+split_csv_b.csv": 6}


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    manifest = {}
    for name, (data, expected) in sorted(cases().items()):
        (FILES / name).write_bytes(data)
        manifest[name] = expected
    (HERE / "expected.json").write_text(json.dumps(
        {"files": manifest, "splits": SPLITS}, indent=1, sort_keys=True) + "\n")
    print(f"{len(manifest)} files in {FILES}")


if __name__ == "__main__":
    main()
