"""The broken-input corpus: each case gives a clear quarantine row or one-line error, never a
traceback, and nothing good in the same file is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import conversation, write_jsonl
from tierlens.stages.ingest import ingest_paths


def _quarantine(con):
    return con.execute("SELECT source_file, source_line, field, reason, message FROM quarantine "
                       "ORDER BY source_line").fetchall()


def test_truncated_gzip_keeps_the_lines_before_the_cut(con, settings, tmp_path):
    full = tmp_path / "full.jsonl.gz"
    write_jsonl(full, [conversation(f"c-{i}") for i in range(400)], gz=True)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    report = ingest_paths(con, [cut], settings)
    assert report.stored > 0 and report.reconciles()
    (row,) = [r for r in _quarantine(con) if r[3] == "truncated_file"]
    assert "truncated" in row[4] and "re-send" in row[4]


def test_invalid_utf8_and_bom(con, settings, tmp_path):
    good = json.dumps(conversation("c-ok")).encode()
    bad = json.dumps(conversation("c-bad")).encode().replace(b"charged", b"ch\xffrged")
    path = tmp_path / "enc.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\n" + bad + b"\n")
    report = ingest_paths(con, [path], settings)
    assert report.stored == 1  # the BOM line is read fine
    assert [r[1:4] for r in _quarantine(con)] == [(2, None, "invalid_utf8")]


def test_ten_megabyte_turn_is_quarantined_with_its_field(con, settings, tmp_path):
    huge = conversation("c-huge", turns=[{"speaker": "customer", "text": "a" * 10_000_000}])
    report = ingest_paths(con, [write_jsonl(tmp_path / "h.jsonl", [huge, conversation("c-2")])],
                          settings)
    assert (report.stored, report.quarantined) == (1, 1)
    (row,) = _quarantine(con)
    assert row[2:4] == ("turns[0].text", "turn_too_long")


@pytest.mark.parametrize("record,field,reason", [
    ({"conversation_id": "a", "started_at": "2026-10-01T00:00:00Z"}, "turns", "missing_field"),
    (conversation("b", turns={"speaker": "customer"}), "turns", "bad_type"),
    (conversation("c", turns=[]), "n_turns", "empty_conversation"),
    (conversation(None), "conversation_id", "missing_field"),
    (conversation("d", started_at="yesterday"), "started_at", "bad_timestamp"),
    (conversation("e", turns=[{"speaker": "alien", "text": "x"}]), "turns[0].speaker",
     "unknown_speaker"),
    (conversation("f", turns=[{"speaker": "bot", "text": "x", "bot_confidence": 3}]),
     "turns[0].bot_confidence", "out_of_range"),
    (conversation("g", turns=[{"speaker": "bot", "text": "x", "ts": "not a time"}]),
     "turns[0].ts", "bad_timestamp"),
    (conversation("h", turns=["hello"]), "turns[0]", "bad_type"),
    (conversation("i", csat=11), "csat", "out_of_range"),
    (conversation("j", turns=[{"speaker": "system", "event": "explode", "text": ""}]),
     "turns[0].event", "unknown_event"),
    ("[1, 2, 3]", None, "not_an_object"),
    ('{"conversation_id": "k", "turns": [', None, "invalid_json"),
])
def test_each_broken_record_is_quarantined_with_field_and_reason(con, settings, tmp_path, record,
                                                                 field, reason):
    path = write_jsonl(tmp_path / "bad.jsonl", [conversation("good"), record])
    report = ingest_paths(con, [path], settings)
    assert (report.stored, report.quarantined) == (1, 1) and report.reconciles()
    (row,) = _quarantine(con)
    assert row[0] == str(path) and row[1] == 2 and row[2] == field and row[3] == reason
    assert row[4]  # a human sentence


def test_duplicate_ids_within_one_file(con, settings, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [conversation("x"), conversation("y"),
                                              conversation("x", csat=1)])
    report = ingest_paths(con, [path], settings)
    assert (report.stored, report.quarantined) == (2, 1)
    (row,) = _quarantine(con)
    assert row[1:4] == (3, "conversation_id", "duplicate_id") and "line 1" in row[4]


def test_csv_missing_columns_and_empty_file(con, settings, tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("conversation_id,speaker\nc1,customer\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("")
    report = ingest_paths(con, [csv, empty, empty_csv], settings)
    # the two empty files have the same (empty) content: the second is skipped by its hash
    assert (report.read, report.files_failed, report.files_skipped) == (0, 2, 1)
    rows = {r[0].rsplit("/", 1)[-1]: r for r in _quarantine(con)}
    assert set(rows) == {"t.csv", "empty.jsonl"}
    assert rows["t.csv"][3] == "unreadable_file"
    assert "started_at" in rows["t.csv"][4] and "text" in rows["t.csv"][4]
    assert rows["empty.jsonl"][3] == "empty_file" and "no records" in rows["empty.jsonl"][4]
    again = ingest_paths(con, [empty, empty_csv], settings)
    assert again.files_skipped == 2 and len(_quarantine(con)) == 2


def test_directory_with_unreadable_entries(con, settings, tmp_path):
    folder = tmp_path / "inbox"
    write_jsonl(folder / "ok.jsonl", [conversation("ok")])
    (folder / "dangling.jsonl").symlink_to(tmp_path / "missing-target")
    os.mkfifo(folder / "pipe.jsonl")  # a special file: must not block the run
    (folder / "notes.txt").write_text("hello")
    (folder / "loop.jsonl").symlink_to("loop.jsonl")
    if os.geteuid() != 0:  # root reads everything; permissions only bite other users
        locked = folder / "locked.jsonl"
        write_jsonl(locked, [conversation("locked")])
        locked.chmod(0)
    report = ingest_paths(con, [folder, tmp_path / "nope"], settings)
    assert report.stored == 1
    reasons = {(r[0].rsplit("/", 1)[-1], r[3]) for r in _quarantine(con)}
    assert ("dangling.jsonl", "unreadable_file") in reasons
    assert ("pipe.jsonl", "unreadable_file") in reasons
    assert ("notes.txt", "unreadable_file") in reasons  # unknown format
    assert ("nope", "unreadable_file") in reasons
    # each says what the path is, and the report lists them for the CLI's one-line errors
    said = {Path(p).name: why for p, why in report.problems}
    assert said["dangling.jsonl"].startswith("broken symbolic link")
    assert said["pipe.jsonl"].startswith("a FIFO (named pipe)")
    assert said["loop.jsonl"].startswith("symbolic link loop")
    assert said["nope"] == "no such file or directory"
    assert "unknown format" in said["notes.txt"] and "ok.jsonl" not in said


def test_cli_gives_one_line_errors_not_tracebacks(tmp_path):
    db = tmp_path / "w.duckdb"
    path = write_jsonl(tmp_path / "x.jsonl", [conversation("ok"), "not json"])
    run = subprocess.run([sys.executable, "-m", "tierlens.cli", "ingest", str(path), "--db",
                          str(db)], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "read 2, stored 1" in run.stdout and "quarantined 1" in run.stdout
    locked = subprocess.run([sys.executable, "-m", "tierlens.cli", "ingest", str(path), "--db",
                             str(path / "w.duckdb")],
                            check=False, capture_output=True, text=True, timeout=120)
    assert locked.returncode != 0 and "Traceback" not in locked.stderr
