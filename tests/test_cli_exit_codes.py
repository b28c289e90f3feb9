"""Exit codes and one-line messages of the CLI, through the real CLI in a subprocess.

A path that can't be ingested makes ``ingest`` and ``run`` exit non-zero with one line naming
the path and the reason, and what the path is (a FIFO, a symbolic link loop) is said as such;
it never hangs and never shows a traceback. ``dashboard`` on a port in use and ``audit
verify`` before any review are one line too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, conversation, write_jsonl


def tierlens(*args: str | Path, cwd: Path, **env_vars: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}", **env_vars}
    return subprocess.run([sys.executable, "-m", "tierlens.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def error_lines(run: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in run.stderr, run.stderr
    return [ln for ln in run.stderr.splitlines() if ln.strip()]


@pytest.mark.parametrize("command", ["ingest", "run"])
def test_missing_path_fails_before_touching_the_warehouse(tmp_path, command):
    missing = tmp_path / "no" / "such" / ("missing.jsonl" if command == "ingest" else "dir")
    out = tierlens(command, missing, "--db", tmp_path / "w.duckdb", cwd=tmp_path)
    assert out.returncode == 1
    assert error_lines(out) == [f"error: {missing}: no such file or directory"]
    assert not (tmp_path / "w.duckdb").exists()


def test_fifo_is_named_as_such_and_never_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.jsonl")  # opening it for reading would block forever
    out = tierlens("ingest", "pipe.jsonl", "--db", "w.duckdb", cwd=tmp_path)
    assert out.returncode == 1
    (line,) = error_lines(out)
    assert line == "error: pipe.jsonl: a FIFO (named pipe), not a regular file; not read"


def test_symlink_loop_is_named_as_such(tmp_path):
    (tmp_path / "a.jsonl").symlink_to("b.jsonl")
    (tmp_path / "b.jsonl").symlink_to("a.jsonl")
    out = tierlens("ingest", "a.jsonl", "--db", "w.duckdb", cwd=tmp_path)
    assert out.returncode == 1
    (line,) = error_lines(out)
    assert line.startswith("error: a.jsonl: symbolic link loop")


def test_every_file_failing_is_non_zero_with_a_line_per_file(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "t.csv").write_text("conversation_id,speaker\nc1,customer\n")  # columns missing
    (inbox / "empty.jsonl").write_text("")
    os.mkfifo(inbox / "pipe.jsonl")
    write_jsonl(inbox / "garbage.jsonl", ["not json", "[1, 2]"])  # every record quarantined
    for command in ("ingest", "run"):  # run stops before scoring: nothing could be ingested
        out = tierlens(command, inbox, "--db", tmp_path / f"{command}.duckdb", cwd=tmp_path)
        assert out.returncode == 1, out.stdout
        lines = sorted(error_lines(out))
        assert len(lines) == 4, lines
        by_file = {ln.split(": ", 2)[1].rsplit("/", 1)[-1]: ln for ln in lines}
        assert set(by_file) == {"t.csv", "empty.jsonl", "pipe.jsonl", "garbage.jsonl"}
        assert "missing required column" in by_file["t.csv"]
        assert "no records" in by_file["empty.jsonl"]
        assert "FIFO" in by_file["pipe.jsonl"]
        assert "all 2 record(s) quarantined" in by_file["garbage.jsonl"]
        assert "read 2, stored 0" in out.stdout
        assert "scored" not in out.stdout


def test_a_good_file_still_exits_zero(tmp_path):
    good = write_jsonl(tmp_path / "ok.jsonl", [conversation("a"), conversation("b")])
    out = tierlens("ingest", good, "--db", tmp_path / "w.duckdb", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert error_lines(out) == [] and "read 2, stored 2" in out.stdout


def test_dashboard_on_a_port_in_use_suggests_another(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = tierlens("dashboard", "--port", str(port), cwd=tmp_path)
    assert out.returncode == 1
    (line,) = error_lines(out)
    assert line == f"error: port {port} is already in use; serve the dashboard on another with " \
        "--port N"


def test_audit_verify_before_any_review(tmp_path):
    out = tierlens("audit", "verify", cwd=tmp_path, TIERLENS_DATA_DIR=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "nothing has been reviewed" in out.stdout and error_lines(out) == []
    assert not (tmp_path / "reviews").exists()  # verifying creates nothing
    named = tierlens("audit", "verify", "--store", tmp_path / "typo.sqlite", cwd=tmp_path)
    assert named.returncode == 1
    assert error_lines(named) == [f"error: {tmp_path / 'typo.sqlite'}: no such review store"]
