"""The CLI runs the one pipeline: a `tierlens run` is ledgered in ``flow_runs`` (with its
alerts checked), and the derive stage gets the run's encoder, so the semantic "customer
repeated themselves after handoff" check runs in production."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import conversations_file
from tests.conftest import conversation, db_rows, write_jsonl

BEFORE = "I cannot log into my account"
# Same meaning, other words: no shared entity and one content word in common, so only the
# embedding comparison (cosine >= metrics.restate.SIMILARITY_THRESHOLD) can catch it.
RESTATED = "I am unable to sign in to my account"
UNRELATED = "Also, what time does your shop open on Sundays?"


def test_a_cli_run_leaves_a_row_in_flow_runs(cli, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cli("run", conversations_file(tmp_path / "in.jsonl"), "--db", db)
    runs = db_rows(db, "SELECT flow_name, outcome, read, stored, scored, model_version, "
                       "rulebook_version, finished_at, parameters FROM flow_runs")
    assert len(runs) == 1, runs
    name, outcome, read, stored, scored, mv, rv, finished, params = runs[0]
    assert (name, outcome, read, stored, scored) == ("cli-run", "succeeded", 5, 5, 5)
    assert mv and rv and finished is not None
    assert json.loads(params)["paths"] == [str(tmp_path / "in.jsonl")]
    # the published snapshot shows the finished run, as the flows' runs are shown
    snap = tmp_path / "w.tierlens" / "serving" / "serving.duckdb"
    assert db_rows(snap, "SELECT flow_name, outcome FROM flow_runs") == [("cli-run", "succeeded")]

    cli("score", "--db", db)
    assert db_rows(db, "SELECT flow_name, outcome, scored FROM flow_runs "
                       "ORDER BY started_at") == [("cli-run", "succeeded", 5),
                                                  ("cli-score", "succeeded", 0)]


def _escalated(cid: str, started: str, after: str) -> dict:
    """Customer states the problem to the bot, is handed to an agent, then says ``after``."""
    return conversation(cid, started_at=started, ended_at=started.replace(":00Z", ":59Z"),
                        turns=[
                            {"speaker": "customer", "text": BEFORE, "ts": started},
                            {"speaker": "bot", "text": "Let me get someone for you.",
                             "ts": started, "agent_id": "bot-v3", "bot_confidence": 0.4},
                            {"speaker": "system", "event": "handoff", "text": "",
                             "ts": started},
                            {"speaker": "agent", "text": "Hi, Sam here. How can I help?",
                             "ts": started, "agent_id": "agent-17"},
                            {"speaker": "customer", "text": after, "ts": started},
                        ])


def test_the_semantic_restatement_check_runs_in_a_real_pipeline_run(cli, tmp_path: Path
                                                                    ) -> None:
    from tierlens.settings import get_settings
    from tierlens.stages.derive import derive_outcomes
    from tierlens.store.db import connect

    db = tmp_path / "w.duckdb"
    path = write_jsonl(tmp_path / "in.jsonl", [
        _escalated("same-meaning", "2026-10-01T09:00:00Z", RESTATED),
        _escalated("new-question", "2026-10-01T10:00:00Z", UNRELATED)])
    cli("run", path, "--db", db)
    flags = dict(db_rows(db, "SELECT conversation_id, repeated_after_handoff FROM outcomes"))
    assert flags == {"same-meaning": True, "new-question": False}

    # without embeddings (what production did before) the same data is not caught: the flag
    # above comes from the meaning comparison, not from entities or word overlap
    settings = get_settings().for_warehouse(db)
    con = connect(db)
    try:
        version = con.execute("SELECT version FROM current_versions WHERE component = 'model'"
                              ).fetchone()[0]
        res = derive_outcomes(con, version, settings, encoder=None)
        assert res["semantic_restatement"] is False
        blind = dict(con.execute("SELECT conversation_id, repeated_after_handoff FROM outcomes"
                                 ).fetchall())
    finally:
        con.close()
    assert blind == {"same-meaning": False, "new-question": False}
