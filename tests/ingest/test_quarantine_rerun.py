"""Quarantine is keyed by the source file's content hash, so re-reading a failing file (or a
file a killed run left unrecorded) replaces its rows instead of adding more; a run killed
mid-file is marked failed by the next ingest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

from tests.conftest import REPO, conversation, write_jsonl
from tierlens.ingest.pipeline import file_hash
from tierlens.stages.ingest import ingest_paths
from tierlens.store import writes


def _mixed(tmp_path, n_bad: int = 300):
    """Good and bad records interleaved, enough turns for several batches of 1,000."""
    recs = []
    for i in range(n_bad):
        recs.append(conversation(f"good-{i}"))
        recs.append(conversation(f"bad-{i}", started_at="yesterday"))
    return write_jsonl(tmp_path / "mixed.jsonl", recs)


def _rows(con):
    return con.execute("SELECT file_hash, source_file, source_line, conversation_id, field, "
                       "reason FROM quarantine ORDER BY source_line").fetchall()


def test_quarantine_rows_carry_the_file_hash(con, settings, tmp_path):
    path = _mixed(tmp_path, n_bad=20)
    report = ingest_paths(con, [path], settings)
    assert report.quarantined == 20
    assert {r[0] for r in _rows(con)} == {file_hash(path)}


def test_a_failing_file_read_twice_leaves_one_set_of_rows(con, settings, tmp_path):
    bad_csv = tmp_path / "nocols.csv"
    bad_csv.write_text("foo,bar\n1,2\n")
    for _ in range(3):
        report = ingest_paths(con, [bad_csv], settings)
        assert report.files_failed == 1
    rows = _rows(con)
    assert len(rows) == 1 and rows[0][0] == file_hash(bad_csv)


def test_an_unhashable_path_read_twice_leaves_one_row(con, settings, tmp_path):
    for _ in range(2):
        ingest_paths(con, [tmp_path / "missing.jsonl"], settings)
    rows = _rows(con)
    assert len(rows) == 1 and rows[0][0] is None


def test_a_file_left_unrecorded_is_replaced_not_added_to(con, settings, tmp_path):
    path = _mixed(tmp_path)
    ingest_paths(con, [path], settings)
    clean = _rows(con)
    assert len(clean) == 300
    # as if the run had been killed before recording the file: the next run re-reads it
    con.execute("DELETE FROM ingested_files")
    ingest_paths(con, [path], settings)
    assert _rows(con) == clean


def test_a_stale_running_row_becomes_failed(con, settings, tmp_path):
    con.execute("INSERT INTO ingest_runs (run_id, started_at, status, paths) VALUES "
                "('ing-killed', ?, 'running', ['x'])", [datetime.now(UTC)])
    report = ingest_paths(con, [write_jsonl(tmp_path / "a.jsonl", [conversation()])], settings)
    status = dict(con.execute("SELECT run_id, status FROM ingest_runs").fetchall())
    assert status == {"ing-killed": "failed", report.run_id: "succeeded"}
    (error,) = con.execute("SELECT error FROM ingest_runs WHERE run_id = 'ing-killed'").fetchone()
    assert error == writes.STALE_RUN_ERROR


def test_a_live_run_of_this_process_is_not_marked(con):
    con.execute("INSERT INTO ingest_runs (run_id, started_at, status, paths) VALUES "
                "('ing-live', ?, 'running', ['x'])", [datetime.now(UTC)])
    assert writes.mark_stale_runs(con, {"ing-live"}) == 0
    assert writes.mark_stale_runs(con, set()) == 1


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from tierlens.stages import ingest as pipeline
    from tierlens.settings import Settings
    from tierlens.store.db import connect

    real = pipeline.reader_for

    def reader_for(fmt):
        def read(path):
            for i, rec in enumerate(real(fmt)(path)):
                if i == int(sys.argv[3]):
                    os.kill(os.getpid(), signal.SIGKILL)
                yield rec
        return read

    pipeline.reader_for = reader_for
    s = Settings(warehouse=Path(sys.argv[1]), batch_turns=1_000)
    pipeline.ingest_paths(connect(s.warehouse), [Path(sys.argv[2])], s)
""")


def test_kill_9_mid_file_then_rerun_gives_the_clean_rows(settings, tmp_path):
    from tierlens.store.db import connect

    path = _mixed(tmp_path)
    ref = connect(tmp_path / "ref.duckdb")
    ingest_paths(ref, [path], settings)
    clean = [r[2:] for r in _rows(ref)]
    ref.close()
    db = tmp_path / "killed.duckdb"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    for cut in (450, 520):  # killed twice, after some batches were written each time
        proc = subprocess.run([sys.executable, "-c", KILLER, str(db), str(path), str(cut)],
                              env=env, capture_output=True, timeout=300, check=False)
        assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    con = connect(db)
    try:
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] > 0
        ingest_paths(con, [path], settings)
        assert [r[2:] for r in _rows(con)] == clean
        runs = con.execute("SELECT status, count(*) FROM ingest_runs GROUP BY ALL").fetchall()
        assert sorted(runs) == [("failed", 2), ("succeeded", 1)]
    finally:
        con.close()
