"""Crash safety, for real: SIGKILL ``ingest_and_score`` mid-ingest and mid-scoring, run it
again, and the warehouse equals that of one clean run (every table's contents, minus run ids
and wall-clock stamps), with every count reconciled.

The kill is triggered by the flow's own progress log lines; after the kill the test checks
that it really landed inside the step (partial rows committed, the step not finished) and
otherwise retries with another delay. Slow: each run is a fresh Python process (~20-60 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import db_rows
from tests.flows.conftest import SMALL_FILE
from tests.flows.flow_helpers import count, differences, flow_env, kill_after, run_flow, table_sizes

pytestmark = pytest.mark.slow


def _params(base: dict, tmp: Path) -> dict:
    return {**base, "warehouse": str(tmp / "wh.duckdb"), "serving_dir": str(tmp / "serving")}


def _assert_ledger_after_crash(db: Path) -> None:
    outcomes = sorted(r for r in db_rows(db, "SELECT outcome FROM flow_runs"))
    assert outcomes == [("crashed",), ("succeeded",)], outcomes


def test_kill_during_ingest_then_rerun_equals_a_clean_run(prefect_api, inbox, reference_run,
                                                          tmp_path):
    ref_db, ref, base = reference_run
    _, per_file = inbox
    total = sum(per_file.values())
    env = flow_env(prefect_api)
    landed = None
    for attempt, delay in enumerate((0.5, 0.2, 1.0, 0.05, 1.5)):
        work = tmp_path / f"try{attempt}"
        work.mkdir()
        params = _params(base, work)
        db = Path(params["warehouse"])
        kill_after("ingest_and_score", params, env, r"ingested file 1/3 a_small", delay)
        stored = count(db, "SELECT count(*) FROM core_conversations")
        big_done = count(db, "SELECT count(*) FROM ingested_files WHERE path LIKE '%b_big%'")
        if SMALL_FILE < stored < total and not big_done:
            landed = (params, db, stored)
            break
        print(f"kill after {delay}s landed outside the big file ({stored} stored); retrying")
    assert landed, "could not land a kill inside the big file's writes"
    params, db, stored = landed
    # the killed run: some batches of b_big committed, the file not recorded, run unfinished
    assert db_rows(db, "SELECT status FROM ingest_runs WHERE paths[1] LIKE '%b_big%'") == \
        [("running",)]
    assert count(db, "SELECT count(*) FROM turn_scores") == 0
    assert "core_conversations" in differences(ref_db, db)   # the comparison can fail

    result, _ = run_flow("ingest_and_score", params, env)
    partial = stored - SMALL_FILE
    assert result["files_skipped"] == 1                      # a_small was done before the kill
    assert result["unchanged"] == partial                    # committed batches: seen, not doubled
    assert result["stored"] == per_file["b_big"] - partial
    assert result["read"] == per_file["b_big"] + ref["quarantined"]
    assert result["read"] == result["stored"] + result["updated"] + result["unchanged"] + \
        result["quarantined"]
    assert result["scored"] == total
    assert differences(ref_db, db) == {}, table_sizes(db)
    _assert_ledger_after_crash(db)
    # the killed ingest run no longer reads as running: the next ingest marked it failed
    statuses = db_rows(db, "SELECT status FROM ingest_runs WHERE paths[1] LIKE '%b_big%'")
    assert sorted(statuses) == [("failed",), ("succeeded",)], statuses


def test_kill_during_scoring_then_rerun_equals_a_clean_run(prefect_api, inbox, reference_run,
                                                           tmp_path):
    ref_db, ref, base = reference_run
    total = sum(inbox[1].values())
    env = flow_env(prefect_api)
    landed = None
    for attempt, delay in enumerate((0.1, 0.0, 0.5)):
        work = tmp_path / f"try{attempt}"
        work.mkdir()
        params = _params(base, work)
        db = Path(params["warehouse"])
        kill_after("ingest_and_score", params, env, r"scored batch 2/\d+", delay)
        scored = count(db, "SELECT count(DISTINCT conversation_id) FROM model_conversation_scores")
        if 0 < scored < total and count(db, "SELECT count(*) FROM compliance_scores") == 0:
            landed = (params, db, scored)
            break
    assert landed, "could not land a kill inside scoring"
    params, db, scored = landed
    assert count(db, "SELECT count(*) FROM core_conversations") == total
    # only whole batches were committed
    assert scored % base["score_batch_size"] == 0
    assert count(db, "SELECT count(DISTINCT conversation_id) FROM turn_scores") == scored
    assert "model_conversation_scores" in differences(ref_db, db)  # the comparison can fail

    result, _ = run_flow("ingest_and_score", params, env)
    assert result["files_skipped"] == 3 and result["read"] == 0
    assert result["scored"] == total - scored                # the rest, nothing twice
    assert result["flagged"] == ref["flagged"]
    assert differences(ref_db, db) == {}, table_sizes(db)
    _assert_ledger_after_crash(db)
