"""Topics end to end: `tierlens run` on a simulated inbox refreshes the `topics` and
`conversation_topics` views; `tierlens topics` prints them; a refit keeps the ids; a topic is
promoted to `text,intent` examples; the encoder is not run twice for the requests."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def tierlens(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tierlens.cli", *args], capture_output=True,
                          text=True, env=env, timeout=900, check=False)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from tierlens.simulate import simulate

    root = tmp_path_factory.mktemp("topics")
    simulate(400, 2, 11, root / "sim")
    env = {**ENV, "TIERLENS_CACHE_DIR": str(root / "cache"),
           "TIERLENS_SERVING_DIR": str(root / "serving"),
           "TIERLENS_DATA_DIR": str(root / "data")}
    db = root / "wh.duckdb"
    res = tierlens("run", str(root / "sim" / "conversations.jsonl.gz"), "--db", str(db), env=env)
    assert res.returncode == 0, res.stderr
    return db, env, root


def test_run_fills_the_views(warehouse):
    db, _, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_conv = con.execute("SELECT count(*) FROM conversations").fetchone()[0]
        n_req = con.execute("SELECT count(*) FROM conversation_topics").fetchone()[0]
        assert 0.8 * n_conv <= n_req <= n_conv
        rows = con.execute("SELECT topic_id, label, keywords, n_conversations, share, month, "
                           "opportunity, example_conversation_ids FROM topics").fetchall()
    finally:
        con.close()
    assert rows
    for tid, label, kw, n, share, month, opp, ex in rows:
        assert label and "topic" not in label.lower() and kw and n >= 1 and 0 < share <= 1
        assert opp >= 0 and 1 <= len(ex) <= 3
    by_month = {}
    for r in rows:
        by_month[r[5]] = by_month.get(r[5], 0) + r[4]
    assert all(abs(v - 1.0) < 1e-9 for v in by_month.values())   # shares sum to 1 a month


def test_cli_prints_topics_and_promotes_one(warehouse):
    db, env, root = warehouse
    res = tierlens("topics", "--format", "json", "--db", str(db), env=env)
    assert res.returncode == 0, res.stderr
    topics = json.loads(res.stdout)
    assert topics and [t["opportunity"] for t in topics] == sorted(
        (t["opportunity"] for t in topics), reverse=True)
    tid = topics[0]["topic_id"]
    out = root / "promote.csv"
    res = tierlens("topics", "promote", str(tid), "--intent", "new_reason", "--out", str(out),
                   "--db", str(db), env=env)
    assert res.returncode == 0, res.stderr
    with out.open() as fh:
        ex = list(csv.DictReader(fh))
    assert ex and {e["intent"] for e in ex} == {"new_reason"} and all(e["text"] for e in ex)
    bad = tierlens("topics", "promote", "99999", "--intent", "x_y", "--out", str(out),
                   "--db", str(db), env=env)
    assert bad.returncode == 1 and "topic 99999 does not exist" in bad.stderr
    bad = tierlens("topics", "--month", "2026-13", "--db", str(db), env=env)
    assert bad.returncode == 1 and "is not a month" in bad.stderr


def test_refit_keeps_ids_and_uses_cached_embeddings(warehouse):
    db, env, _ = warehouse
    from tierlens.score.encoder import Encoder
    from tierlens.settings import Settings
    from tierlens.stages.topics import refresh_topics
    from tierlens.store.db import connect

    cache = Path(env["TIERLENS_CACHE_DIR"])
    enc = Encoder("int8", cache_dir=cache, runtime_dir=cache / "onnx",
                  adapter=Settings().encoder_adapter)
    con = connect(db)
    try:
        before = dict(con.execute("SELECT conversation_id, topic_id FROM "
                                  "conversation_topic_assignments").fetchall())
        version = con.execute("SELECT version FROM current_versions WHERE component = 'model'"
                              ).fetchone()[0]
        out = refresh_topics(con, Settings(), version, refit=True, encoder=enc)
        after = dict(con.execute("SELECT conversation_id, topic_id FROM "
                                 "conversation_topic_assignments").fetchall())
    finally:
        con.close()
    assert out["refit"] and enc.forward_texts == 0        # every request came from the cache
    same = sum(before[c] == after.get(c) for c in before) / len(before)
    assert same >= 0.8, same                              # ids follow the clusters


def test_topics_page_on_the_published_snapshot(warehouse, monkeypatch):
    """The Topics page on the snapshot `tierlens run` published: the table, a topic's
    conversations, and the promote download; executives see aggregates only."""
    from streamlit.testing.v1 import AppTest

    from tierlens.dashboard import auth, context
    from tierlens.settings import get_settings

    db, env, _ = warehouse
    page = Path(__file__).resolve().parents[2] / "dashboards" / "pages" / "topics.py"
    for key in ("TIERLENS_SERVING_DIR", "TIERLENS_DATA_DIR"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("TIERLENS_WAREHOUSE", str(db))
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(page), default_timeout=120)
        at.session_state[context.SETTINGS_KEY] = get_settings()  # as the app installs them
        at.session_state[auth.SESSION_KEY] = {"username": "qa", "name": "Q",
                                              "role": "qa_manager"}
        at.run()
        assert not at.exception and [t.value for t in at.title] == ["Topics"]
        assert int(at.metric[0].value) >= 2                      # topics this month
        assert len(at.dataframe) >= 2                            # list + a topic's conversations
        at.text_input(key="topics_intent").input("Bad Name").run()
        assert any("lowercase" in e.value for e in at.error)
        at.text_input(key="topics_intent").input("new_reason").run()
        assert not at.error and not at.exception
        ex = AppTest.from_file(str(page), default_timeout=120)
        ex.session_state[context.SETTINGS_KEY] = get_settings()
        ex.session_state[auth.SESSION_KEY] = {"username": "e", "name": "E", "role": "executive"}
        ex.run()
        assert not ex.exception
        assert len(ex.dataframe) == len(at.dataframe) - 1        # no conversation drill-down
        assert not [t for t in ex.text_input if t.key == "topics_intent"]
    finally:
        get_settings.cache_clear()
