"""Hand-computed golden cases (tests/golden/metrics): every edge of the definitions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from metrics_frames import frames_from_records

from tierlens.metrics.derive import derive
from tierlens.settings import Settings

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "metrics"


@pytest.fixture(scope="module")
def golden():
    exp = json.loads((GOLDEN / "expected.json").read_text())
    records = [json.loads(line) for line in (GOLDEN / "cases.jsonl").read_text().splitlines()]
    conv, turns = frames_from_records(records)
    scores = pl.DataFrame([(cid, i, r) for cid, (i, r) in exp["scores"].items()],
                          schema=["conversation_id", "intent", "resolution"], orient="row")
    as_of = datetime.fromisoformat(exp["as_of"])
    d = derive(conv, turns, scores, settings=Settings(), as_of=as_of)
    return exp, d


def test_every_case_is_present(golden):
    exp, d = golden
    assert sorted(d.outcomes["conversation_id"]) == sorted(exp["scores"])


@pytest.mark.parametrize("cid", json.loads((GOLDEN / "expected.json").read_text())["outcomes"])
def test_outcomes(golden, cid):
    exp, d = golden
    row = d.outcomes.filter(pl.col("conversation_id") == cid).to_dicts()[0]
    for col, want in exp["outcomes"][cid].items():
        got = row[col]
        if isinstance(want, float) and got is not None:
            assert got == pytest.approx(want), f"{cid}.{col}"
        else:
            assert got == want, f"{cid}.{col}: got {got!r}, want {want!r}"


def test_kpis(golden):
    exp, d = golden
    k = d.kpis
    for month, tier, kpi, value, num, den in exp["kpis"]:
        rows = k.filter((pl.col("month") == month) & (pl.col("tier") == tier)
                        & (pl.col("kpi") == kpi)).to_dicts()
        assert len(rows) == 1, (month, tier, kpi)
        r = rows[0]
        assert r["denominator"] == den, (month, tier, kpi, r)
        assert r["numerator"] == pytest.approx(num), (month, tier, kpi, r)
        if value is None:
            assert r["value"] is None, (month, tier, kpi, r)
        else:
            assert r["value"] == pytest.approx(value), (month, tier, kpi, r)


def test_misroute_matrix(golden):
    exp, d = golden
    got = sorted(tuple(r) for r in d.misroutes.rows())
    assert got == sorted(tuple(r) for r in exp["misroutes"])


def test_every_kpi_has_value_numerator_denominator(golden):
    _, d = golden
    assert d.kpis.columns == ["month", "tier", "kpi", "value", "numerator", "denominator"]
    assert d.kpis.filter(pl.col("denominator").is_null()).is_empty()
    # value == numerator / denominator for every rate
    rates = d.kpis.filter(pl.col("kpi").is_in(["containment_raw", "escalation_rate", "fcr"])
                          & (pl.col("denominator") > 0))
    assert (rates["value"] - rates["numerator"] / rates["denominator"]).abs().max() < 1e-12
    # three tiers per month, KPIs in the same catalogue for each
    assert set(d.kpis["tier"]) == {"ai", "human", "all"}
