"""A rescore under a new model version must not show (or count) anything twice.

The warehouse keeps every model version's derive outputs (``outcomes``,
``qa_criteria_scores``, ``misroute_matrix``); the snapshot publishes the current version's
only, so the dashboard's queries read one version. Real ingest and derive; the two "model"
versions are fake scores written the way the scoring job writes them (a version string and
its conversation scores), so no encoder is needed.
"""

from __future__ import annotations

import polars as pl
import pytest
from snapshot_fixture import write_jsonl

from tierlens.dashboard.queries import open_snapshot
from tierlens.dashboard.queries import qa as qa_q
from tierlens.dashboard.queries import routing as routing_q
from tierlens.dashboard.queries.filters import Filters
from tierlens.settings import Settings
from tierlens.stages.derive import derive_outcomes
from tierlens.stages.ingest import ingest_paths
from tierlens.stages.publish import publish
from tierlens.store.db import connect

# v1 calls every contact a billing inquiry (expected in the bot queue); v2 calls some of them
# complaints (expected in the complaints queue, tier 2): the misroutes and tier flags differ
V1, V2 = "mv-fake-1", "mv-fake-2"


def _score(con, version: str, intent_of) -> None:
    """What the scoring job leaves behind for one model version: conversation scores, the
    version applied to each conversation, and the version made current."""
    ids = [r[0] for r in con.execute(
        "SELECT conversation_id FROM core_conversations ORDER BY conversation_id").fetchall()]
    con.executemany("INSERT OR REPLACE INTO model_conversation_scores (conversation_id, "
                    "model_version, intent, resolution) VALUES (?, ?, ?, 'resolved')",
                    [(cid, version, intent_of(i)) for i, cid in enumerate(ids)])
    con.execute("INSERT OR REPLACE INTO applied_versions SELECT conversation_id, 'model', ?, "
                "now() FROM core_conversations", [version])
    con.execute("INSERT OR REPLACE INTO current_versions VALUES ('model', ?, now())", [version])


@pytest.fixture(scope="module")
def rescored(tmp_path_factory):
    root = tmp_path_factory.mktemp("rescored")
    settings = Settings(data_dir=root / "data", warehouse=root / "wh" / "t.duckdb",
                        serving_dir=root / "serving", inbox=root / "inbox",
                        cache_dir=root / "cache")
    con = connect(settings.warehouse)
    try:
        ingest_paths(con, [write_jsonl(root / "inbox")], settings)
        _score(con, V1, lambda i: "billing_inquiry")
        derive_outcomes(con, V1, settings)
        _score(con, V2, lambda i: "complaint" if i % 3 == 0 else "billing_inquiry")
        derive_outcomes(con, V2, settings)
        kept = {t: con.execute(f"SELECT count(DISTINCT model_version) FROM {t}").fetchone()[0]
                for t in ("outcomes", "qa_criteria_scores", "misroute_matrix")}
        n = con.execute("SELECT count(*) FROM core_conversations").fetchone()[0]
        snap = publish(con, settings.serving_dir, settings.review_store)
    finally:
        con.close()
    return snap, kept, n


def test_the_warehouse_keeps_both_versions(rescored):
    """Otherwise the test below would pass for the wrong reason."""
    _, kept, _ = rescored
    assert kept == {"outcomes": 2, "qa_criteria_scores": 2, "misroute_matrix": 2}


def test_published_derive_outputs_hold_the_current_version_only(rescored):
    snap, _, n = rescored
    with open_snapshot(snap) as con:
        for table in ("outcomes", "qa_criteria_scores", "misroute_matrix"):
            versions = {r[0] for r in con.execute(f"SELECT DISTINCT model_version FROM {table}"
                                                  ).fetchall()}
            assert versions == {V2}, table
        assert con.execute("SELECT count(*), count(DISTINCT conversation_id) FROM outcomes"
                           ).fetchone() == (n, n)


def test_dashboard_queries_count_each_conversation_once(rescored):
    snap, _, n = rescored
    with open_snapshot(snap) as con:
        matrix = routing_q.misroute_matrix(con)
        misrouted = con.execute("SELECT count(*) FROM conversation_scores "
                                "WHERE routed_correctly = FALSE").fetchone()[0]
        adherence = routing_q.tier_adherence(con)
        flagged = con.execute("SELECT count(*) FROM conversation_scores WHERE "
                              "should_have_escalated OR needless_escalation").fetchone()[0]
        ids = tuple(r[0] for r in con.execute("SELECT conversation_id FROM conversations"
                                              ).fetchall())
        criteria = qa_q.auto_criteria(con, list(ids))
        n_criteria = con.execute("SELECT count(DISTINCT criterion) FROM qa_criteria_scores"
                                 ).fetchone()[0]
        subject = Filters(intent="complaint")
        coach = qa_q.coach_criteria(con, subject, Filters())
    # v2's misroutes, counted once: complaints first routed anywhere but `complaints`
    first = matrix.filter(pl.col("evidence") == "first_queue")
    assert misrouted > 0 and first["n"].sum() == misrouted
    assert not first.select("expected_queue", "actual_queue").is_duplicated().any()
    assert "complaints" in set(first["expected_queue"])  # v2's: v1 expected `bot` everywhere
    assert adherence["n"].sum() == flagged
    assert criteria.height == n * n_criteria
    assert not criteria.select("conversation_id", "criterion").is_duplicated().any()
    assert coach.height > 0 and (coach["applicable"] <= n).all()
