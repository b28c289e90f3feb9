"""`tierlens demo --no-serve`: the README's main job, the ingest_and_score pipeline run once
(ledgered in flow_runs under that name, as the 15-minute flow is)."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb


def test_demo_runs_the_flow_once_and_publishes(tmp_path, prefect_api):
    env = {**os.environ, "PREFECT_API_URL": prefect_api,
           "TIERLENS_DATA_DIR": str(tmp_path / "data"),
           "TIERLENS_WAREHOUSE": str(tmp_path / "wh.duckdb"),
           "TIERLENS_SERVING_DIR": str(tmp_path / "serving"),
           "TIERLENS_INBOX": str(tmp_path / "inbox")}
    cmd = [sys.executable, "-m", "tierlens.cli", "demo", "--no-serve", "--conversations", "40"]
    run = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "simulated 40 demo conversations" in run.stdout
    assert "ingest_and_score: read 40, stored 40" in run.stdout
    con = duckdb.connect(str(tmp_path / "serving" / "serving.duckdb"), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM conversations").fetchone()[0] == 40
        assert con.sql("SELECT count(*) FROM conversation_scores "
                       "WHERE sentiment_start IS NOT NULL").fetchone()[0] > 0
        flow, outcome = con.sql("SELECT flow_name, outcome FROM flow_runs").fetchone()
        assert (flow, outcome) == ("ingest_and_score", "succeeded")
    finally:
        con.close()
    # a second demo finds the file already ingested: nothing stored twice
    again = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "stored 0" in again.stdout


def test_demo_with_db_keeps_everything_next_to_that_warehouse(tmp_path, prefect_api):
    from tests.cli.test_db_isolation import _tree
    from tests.conftest import REPO
    from tierlens.settings import get_settings

    cache = get_settings().cache_dir  # machine-wide by design, see docs/settings.md
    before = _tree(REPO / "data", cache)
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    db = tmp_path / "x.duckdb"
    cmd = [sys.executable, "-m", "tierlens.cli", "demo", "--no-serve", "--conversations", "20",
           "--db", str(db)]
    run = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    home = tmp_path / "x.tierlens"
    assert (home / "demo" / "conversations.jsonl.gz").exists()
    assert (home / "inbox" / "demo-conversations.jsonl.gz").exists()
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM conversations").fetchone()[0] == 20
    finally:
        con.close()
    assert _tree(REPO / "data", cache) == before
