"""The hostile-input corpus (tests/golden/hostile/): every file gives its manifest outcome.

Each file is ingested into a fresh warehouse (one DuckDB file for the module, emptied
between files): the stored conversations and turns, the quarantine rows and reasons, or one
file-level rejection must be as expected.json says; never a traceback; the run reconciles
(read = stored + updated + unchanged + quarantined); and no quarantine message echoes a raw
value from the file.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys

import pytest

from tests.conftest import GOLDEN, table_contents
from tierlens.stages.ingest import ingest_paths

HOSTILE = GOLDEN / "hostile"
MANIFEST = json.loads((HOSTILE / "expected.json").read_text())
DATA_TABLES = ("core_conversations", "core_turns", "pii_spans", "quarantine", "dq_results",
               "ingested_files", "ingest_runs")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from tierlens.settings import Settings
    from tierlens.store.db import connect

    root = tmp_path_factory.mktemp("hostile")
    settings = Settings(warehouse=root / "h.duckdb", serving_dir=root / "serving",
                        inbox=root / "inbox", cache_dir=root / "cache", batch_turns=1_000)
    con = connect(settings.warehouse)
    yield con, settings, root
    con.close()


def _fresh(con) -> None:
    for table in DATA_TABLES:
        con.execute(f"DELETE FROM {table}")


def _counts(con) -> tuple[int, int]:
    return (con.execute("SELECT count(*) FROM core_conversations").fetchone()[0],
            con.execute("SELECT count(*) FROM core_turns").fetchone()[0])


def test_the_corpus_is_what_the_script_writes(tmp_path):
    """The committed files are reviewable: regenerating them gives the same bytes."""
    out = tmp_path / "hostile"
    shutil.copytree(HOSTILE, out, ignore=shutil.ignore_patterns("files", "__pycache__"))
    subprocess.run([sys.executable, str(out / "make_corpus.py")], check=True,
                   capture_output=True)
    committed = sorted(p.name for p in (HOSTILE / "files").iterdir())
    assert committed == sorted(p.name for p in (out / "files").iterdir())
    assert len(committed) >= 70
    for name in committed:
        assert (out / "files" / name).read_bytes() == (HOSTILE / "files" / name).read_bytes(), name
    assert (out / "expected.json").read_text() == (HOSTILE / "expected.json").read_text()


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_each_hostile_file_gives_its_manifest_outcome(warehouse, name):
    con, settings, _ = warehouse
    _fresh(con)
    expected = MANIFEST["files"][name]
    path = HOSTILE / "files" / name
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = ingest_paths(con, [path], settings)  # raises on a traceback-worthy bug
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert report.reconciles(), report
    rows = con.execute("SELECT source_line, field, reason, message FROM quarantine "
                       "ORDER BY source_line NULLS FIRST").fetchall()
    file_rows = [r for r in rows if r[0] is None]
    if "rejected" in expected:
        assert [r[2] for r in file_rows] == [expected["rejected"]], rows
        assert report.files_failed == 1 and _counts(con) == (0, 0)
        assert len(rows) == 1, "a rejected file gets one row, never one per line"
    elif expected.get("truncated"):
        assert [r[2] for r in rows] == ["truncated_file"]
        assert report.stored > 0 and report.quarantined == 1
    else:
        assert file_rows == []
        assert sorted(r[2] for r in rows) == expected["reasons"], rows
        assert (report.stored, report.quarantined) == (expected["stored"], expected["quarantined"])
        assert _counts(con) == (expected["stored"], expected["turns"])
        assert report.read == expected["stored"] + expected["quarantined"]
    for _, _, _, message in rows:
        assert message and "\n" not in message
    assert grew_mb < 200, f"peak memory grew {grew_mb:.0f} MB on {name}"


def test_record_messages_name_the_field_and_never_echo_the_value(warehouse):
    con, settings, _ = warehouse
    _fresh(con)
    paths = [HOSTILE / "files" / n for n in ("ts_year_9999.jsonl", "dupkey_metadata.jsonl",
                                             "csv_invalid_utf8.csv", "dupkey_speaker.jsonl")]
    ingest_paths(con, paths, settings)
    rows = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT regexp_extract(source_file, '[^/]*$'), reason, field, message FROM quarantine"
    ).fetchall()}
    assert rows[("ts_year_9999.jsonl", "timestamp_out_of_window")][0] == "ended_at"
    assert rows[("dupkey_metadata.jsonl", "duplicate_key")][0] == "brand"
    assert rows[("csv_invalid_utf8.csv", "invalid_utf8")][0] == "text"
    assert rows[("dupkey_speaker.jsonl", "duplicate_key")][0] == "speaker"
    for field, message in rows.values():
        assert field in message
        for raw in ("9999", "evil", "caf", "agent"):
            assert raw not in message, message


@pytest.mark.parametrize("pair", sorted(MANIFEST["splits"]))
def test_split_conversation_is_the_same_in_either_file_order(warehouse, pair, tmp_path):
    con, settings, _ = warehouse
    first, second = (HOSTILE / "files" / n for n in pair.split("+"))
    results = []
    for order in ((first, second), (second, first)):
        _fresh(con)
        for path in order:
            assert ingest_paths(con, [path], settings).reconciles()
        results.append(table_contents(con, ("core_conversations", "core_turns", "pii_spans")))
        assert _counts(con) == (1, MANIFEST["splits"][pair])
        # re-delivering either half (as a new file: same bytes would be skipped unread)
        # changes nothing, and so does re-delivering it twice
        for path in order:
            copy = tmp_path / f"again-{path.name}"
            copy.write_bytes(path.read_bytes() + b"\n")
            report = ingest_paths(con, [copy], settings)
            assert (report.unchanged, report.updated, report.stored) == (1, 0, 0), path.name
            copy.unlink()
        again = table_contents(con, ("core_conversations", "core_turns", "pii_spans"))
        assert again == results[-1]
    assert results[0] == results[1]
    turns = con.execute("SELECT ts FROM core_turns ORDER BY turn_index").fetchall()
    assert turns == sorted(turns)  # the halves are put in time order
