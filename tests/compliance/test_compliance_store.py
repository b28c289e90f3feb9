"""apply_rulebook / diff_rulebook_versions on a real DuckDB warehouse (the golden set stored)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from tierlens.errors import ConfigError, StoreError
from tierlens.score.compliance import evaluate_rulebook
from tierlens.stages.compliance import apply_rulebook
from tierlens.store.compliance import diff_rulebook_versions

TABLES = ("compliance_hits", "compliance_scores")


@pytest.fixture
def stored(con, golden):
    """The golden conversations in core tables; half started in September, half in October."""
    conv, turns, pii, _ = golden
    n = conv.height
    core = conv.with_row_index("i").select(
        "conversation_id", "channel",
        started_at=pl.when(pl.col("i") % 2 == 0)
        .then(pl.lit(datetime(2026, 9, 15, tzinfo=UTC)))
        .otherwise(pl.lit(datetime(2026, 10, 15, tzinfo=UTC))),
        n_turns=pl.lit(1), content_hash=pl.lit("h"), source_file=pl.lit("golden.json"),
        source_line=pl.col("i").cast(pl.Int64))
    con.register("_c", core.to_arrow())
    con.execute("INSERT INTO core_conversations (conversation_id, channel, started_at, n_turns, "
                "content_hash, source_file, source_line) SELECT * FROM _c")
    con.register("_t", turns.to_arrow())
    con.execute("INSERT INTO core_turns (conversation_id, turn_index, speaker, text, event) "
                "SELECT conversation_id, turn_index, speaker, text, event FROM _t")
    con.register("_p", pii.to_arrow())
    con.execute("INSERT INTO pii_spans SELECT * FROM _p")
    assert n >= 150
    return con


def rows(con, table, version=None):
    return con.execute(f"SELECT * FROM {table} WHERE (? IS NULL OR rulebook_version = ?) "
                       "ORDER BY ALL", [version, version]).fetchall()


def test_apply_writes_what_evaluate_returns_and_is_idempotent(stored, no_semantic, golden):
    con = stored
    out = apply_rulebook(con, no_semantic, batch_conversations=40)
    conv, turns, pii, _ = golden
    hits, scores = evaluate_rulebook(no_semantic, conv, turns, pii)
    assert out["conversations"] == conv.height and out["turns"] == turns.height
    assert out["hits"] == hits.height and out["red_flags"] == int(scores["red_flag"].sum())
    first = {t: rows(con, t) for t in TABLES}
    assert len(first["compliance_hits"]) == hits.height
    apply_rulebook(con, no_semantic)  # one big batch this time: same rows
    assert {t: rows(con, t) for t in TABLES} == first
    cols = hits.columns
    stored_hits = con.execute("SELECT * FROM compliance_hits").pl().select(cols)
    assert stored_hits.sort(cols, nulls_last=True).equals(hits.sort(cols, nulls_last=True))
    assert con.execute("SELECT count(*) FROM compliance_runs").fetchone()[0] == 2
    assert con.execute("SELECT n_rules FROM compliance_rulebooks").fetchone()[0] == len(
        no_semantic.rules)


def test_versions_sit_side_by_side_and_diff_shows_the_change(stored, no_semantic):
    con = stored
    apply_rulebook(con, no_semantic)
    v1 = no_semantic.rulebook_version
    old_rows = rows(con, "compliance_hits", v1)
    # v2: the trapped-customer rule becomes minor and a new critical phrase rule appears
    rules = []
    for r in no_semantic.rules:
        rules.append(r.model_copy(update={"severity": "minor"}) if r.id == "trapped_customer"
                     else r)
    new_rule = type(no_semantic.rule("no_guaranteed_outcome")).model_validate({
        "id": "no_opening_hours_talk", "version": "1", "kind": "regex", "severity": "critical",
        "speakers": ["bot"], "description": "A made-up rule for the test.",
        "patterns": [r"\bopen until 8pm\b"]})
    v2 = no_semantic.model_copy(update={"rulebook_version": "v2", "rules": (*rules, new_rule)})
    apply_rulebook(con, v2, since=date(2026, 10, 1))
    assert rows(con, "compliance_hits", v1) == old_rows  # old version untouched
    n_v2 = con.execute("SELECT count(*) FROM compliance_scores WHERE rulebook_version = 'v2'"
                       ).fetchone()[0]
    n_oct = con.execute("SELECT count(*) FROM core_conversations "
                        "WHERE started_at >= '2026-10-01'").fetchone()[0]
    assert n_v2 == n_oct < len(rows(con, "compliance_scores", v1))

    diff = diff_rulebook_versions(con, v1, "v2")
    assert set(diff["change"]) <= {"newly_flagged", "no_longer_flagged"}
    newly = diff.filter(pl.col("change") == "newly_flagged")
    expect = {r[0] for r in con.execute("""
        SELECT DISTINCT t.conversation_id FROM core_turns t
        JOIN core_conversations c USING (conversation_id)
        JOIN compliance_scores s ON s.conversation_id = t.conversation_id
             AND s.rulebook_version = ? AND NOT s.red_flag
        WHERE t.speaker = 'bot' AND t.text ILIKE '%open until 8pm%'
          AND c.started_at >= '2026-10-01'""", [v1]).fetchall()}
    assert expect and set(newly["conversation_id"]) == expect
    for r in newly.iter_rows(named=True):
        assert "no_opening_hours_talk" in r["rules_only_new"]
    gone = diff.filter(pl.col("change") == "no_longer_flagged")
    assert gone.height > 0  # trapped-only conversations are no longer red-flagged
    for r in gone.iter_rows(named=True):
        assert r["new_risk_score"] < r["old_risk_score"] or not r["rules_only_old"]
    assert diff_rulebook_versions(con, v1, "v2", since=date(2026, 12, 1)).height == 0


def test_only_unscored_and_version_content_guard(stored, no_semantic):
    con = stored
    first = apply_rulebook(con, no_semantic, since=date(2026, 10, 1))
    rest = apply_rulebook(con, no_semantic, only_unscored=True)
    total = con.execute("SELECT count(*) FROM core_conversations").fetchone()[0]
    assert first["conversations"] + rest["conversations"] == total
    assert apply_rulebook(con, no_semantic, only_unscored=True)["conversations"] == 0
    changed = no_semantic.model_copy(update={"rules": no_semantic.rules[:-1]})
    with pytest.raises(ConfigError, match="bump `rulebook_version`"):
        apply_rulebook(con, changed)
    with pytest.raises(StoreError, match="no stored results"):
        diff_rulebook_versions(con, no_semantic.rulebook_version, "nope")


def test_failure_rolls_back(stored, no_semantic):
    con = stored
    apply_rulebook(con, no_semantic)
    before = {t: rows(con, t) for t in TABLES}

    def boom(turns):
        raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        apply_rulebook(con, no_semantic, embeddings_provider=boom, batch_conversations=10)
    assert {t: rows(con, t) for t in TABLES} == before
