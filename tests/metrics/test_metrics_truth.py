"""The metrics reproduce the simulator's planted truth exactly (fed the TRUE intent and
resolution): every structural KPI, per month and tier, and the per-conversation fields."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from bench.truthcheck import (
    STRUCTURAL,
    compare_kpis,
    compare_rows,
    records_to_frames,
    truth_scores,
)
from tierlens.metrics.derive import derive
from tierlens.settings import Settings

EXACT_FIELDS = ("bot_entered", "escalated", "tier_path", "handoff_seconds", "trapped",
                "repeat_strict", "repeat_loose", "contained_raw", "contained_durable", "fcr",
                "should_have_escalated", "needless_escalation", "aht_seconds", "bot_seconds",
                "human_seconds", "n_handoffs", "elapsed_seconds")


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def run_truth_check(n: int, months: int, seed: int, out: Path):
    from tierlens.simulate import simulate

    sim = simulate(n, months, seed, out)
    truth = _lines(sim.ground_truth_path)
    tk = json.loads(sim.kpis_path.read_text())
    conv, turns = records_to_frames(_lines(sim.conversations_path))
    as_of = datetime.fromisoformat(tk["as_of"])
    d = derive(conv, turns, truth_scores(truth), settings=Settings(), as_of=as_of)
    return d, truth, tk


def _assert_exact(d, truth, tk):
    cmp = compare_kpis(d.kpis, tk["rows"])
    assert set(cmp["truth_kpi"]) >= STRUCTURAL
    bad = cmp.filter(pl.col("structural") & ~pl.col("match"))
    assert bad.is_empty(), f"structural KPIs differ from the planted truth:\n{bad}"
    rows = compare_rows(d.outcomes, truth)
    exact = rows.filter(pl.col("field").is_in(EXACT_FIELDS) & (pl.col("mismatches") > 0))
    assert exact.is_empty(), f"per-conversation fields differ:\n{exact}"
    return cmp, rows


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return run_truth_check(5_000, 6, 20261123, tmp_path_factory.mktemp("sim5k"))


def test_structural_kpis_match_truth_exactly(small):
    d, truth, tk = small
    cmp, _ = _assert_exact(d, truth, tk)
    # the check is not vacuous: six months, three tiers, every structural KPI compared
    assert cmp.filter(pl.col("structural")).height >= 6 * 3 * (len(STRUCTURAL) - 1)
    esc = cmp.filter((pl.col("truth_kpi") == "escalation_rate") & (pl.col("tier") == "all"))
    assert (esc["t_value"] > 0).all()


def test_repeated_after_handoff_close_to_truth(small):
    d, truth, _ = small
    rows = compare_rows(d.outcomes, truth)
    n_esc = sum(1 for r in truth if r["escalated"])
    miss = rows.filter(pl.col("field") == "repeated_after_handoff")["mismatches"][0]
    assert miss / n_esc < 0.02, f"{miss} of {n_esc} escalations disagree"


def test_escalation_reasons_agree_except_sentiment(small):
    """Without per-turn sentiment (truth mode), negative_sentiment can't be seen; every other
    planted reason must be recovered for at least 95% of escalations."""
    d, truth, _ = small
    t = pl.DataFrame([(r["conversation_id"], r["escalation_reason"]) for r in truth
                      if r["escalated"]], schema=["conversation_id", "truth"], orient="row")
    j = t.join(d.outcomes.select("conversation_id", "escalation_reason"), on="conversation_id")
    seen = j.filter(pl.col("truth") != "negative_sentiment")
    agree = (seen["truth"] == seen["escalation_reason"]).mean()
    assert agree >= 0.95, seen.group_by("truth", "escalation_reason").len()


@pytest.mark.slow
def test_100k_six_months_match_truth_exactly(tmp_path):
    d, truth, tk = run_truth_check(100_000, 6, 7, tmp_path / "sim100k")
    _assert_exact(d, truth, tk)
