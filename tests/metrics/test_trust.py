"""The trust layer's estimator on synthetic confusions (known truth, known error rates), and
its columns on KPI frames."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import polars as pl
import pytest

from tierlens.metrics.kpis import _aggs, contributions, kpi_catalogue, with_cohort
from tierlens.metrics.trust import (
    apply_labels,
    correct,
    latest_labels,
    required_reviews,
    trust_columns,
)


def _population(rng: random.Random, size: int, prevalence: float, fnr: float, fpr: float):
    """(truth, model) 0/1 flags: the model misses ``fnr`` of positives and invents ``fpr``."""
    truth = [1 if rng.random() < prevalence else 0 for _ in range(size)]
    model = [(0 if rng.random() < fnr else 1) if t else (1 if rng.random() < fpr else 0)
             for t in truth]
    return truth, model


def _estimate(rng, truth, model, share):
    idx = rng.sample(range(len(truth)), int(share * len(truth)))
    errors = [(truth[i] - model[i], 0.0) for i in idx]
    return correct(len(truth), float(sum(model)), float(len(truth)), errors)


def test_rate_corrected_toward_truth_and_interval_covers():
    rng = random.Random(7)
    hits, closer, runs = 0, 0, 300
    for _ in range(runs):
        truth, model = _population(rng, 4000, 0.30, fnr=0.30, fpr=0.02)
        true_rate, raw = sum(truth) / len(truth), sum(model) / len(model)
        est, lo, hi = _estimate(rng, truth, model, 0.10)
        hits += lo <= true_rate <= hi
        closer += abs(est - true_rate) < abs(raw - true_rate)
    assert hits / runs >= 0.90      # nominal 95%
    assert closer / runs >= 0.90    # the raw rate is ~8 points off; the sample corrects it


def test_unbiased_model_keeps_its_value_within_noise():
    rng = random.Random(11)
    truth, model = _population(rng, 5000, 0.5, fnr=0.05, fpr=0.05)  # symmetric: no bias
    est, lo, hi = _estimate(rng, truth, model, 0.1)
    assert abs(est - sum(model) / 5000) < 0.03 and lo < est < hi


def test_perfect_agreement_still_gives_a_real_interval():
    est, lo, hi = correct(1000, 300.0, 1000.0, [(0.0, 0.0)] * 50)
    assert est == pytest.approx(0.3)
    assert hi - lo > 0.02           # 50 agreeing reviews don't prove the rate to the decimal


def test_every_review_of_the_group_means_no_sampling_error():
    truth = [1, 0, 1, 1, 0, 0, 1, 0]
    model = [1, 1, 0, 1, 0, 0, 1, 1]
    errors = [(t - m, 0.0) for t, m in zip(truth, model, strict=True)]
    est, lo, hi = correct(8, float(sum(model)), 8.0, errors)
    assert est == pytest.approx(sum(truth) / 8) and lo == pytest.approx(hi)


def test_ratio_with_a_model_denominator():
    """Containment-like: numerator and denominator both move with the model's labels."""
    rng = random.Random(3)
    hits, runs = 0, 200
    for _ in range(runs):
        n = 3000
        den_t = [1 if rng.random() < 0.6 else 0 for _ in range(n)]
        num_t = [d if rng.random() < 0.5 else 0 for d in den_t]
        den_m = [d if rng.random() > 0.05 else 1 - d for d in den_t]
        num_m = [min(d, 1 if (x or rng.random() < 0.15) else 0) for x, d in zip(num_t, den_m,
                                                                               strict=True)]
        idx = rng.sample(range(n), 300)
        errors = [(num_t[i] - num_m[i], den_t[i] - den_m[i]) for i in idx]
        _, lo, hi = correct(n, float(sum(num_m)), float(sum(den_m)), errors)
        hits += lo <= sum(num_t) / sum(den_t) <= hi
    assert hits / runs >= 0.88


def test_no_reviews_gives_nothing():
    assert correct(100, 30.0, 100.0, []) == (None, None, None)


def test_required_reviews():
    assert required_reviews(0) == 0
    assert required_reviews(10) == 10                      # tiny group: review all of it
    assert required_reviews(50) == 45                      # 384 / (1 + 383 / 50), rounded up
    big = required_reviews(100_000, half_width=0.03, error_rate=0.10)
    assert 370 <= big <= 390                               # 1.96^2 * 0.09 / 0.03^2 = 384
    assert required_reviews(100_000, half_width=0.05) < big


# --- frames -------------------------------------------------------------------------------

def _outcomes(n: int, resolutions: list[str]) -> pl.DataFrame:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    res = pl.Series(resolutions)
    flags = {c: [None] * n for c in ("cost", "repeat_strict", "routed_correctly",
                                     "should_have_escalated", "needless_escalation")}
    return pl.DataFrame({**flags,
        "conversation_id": [f"c{i}" for i in range(n)],
        "started_at": [start] * n,
        "tier": ["ai"] * n,
        "bot_entered": [True] * n,
        "contained_durable": (res == "resolved").to_list(),
        "resolution": resolutions,
        "fcr": (res == "resolved").to_list(),
        "escalated": [False] * n,
    }, schema_overrides={"cost": pl.Float64, "repeat_strict": pl.Boolean,
                         "routed_correctly": pl.Boolean, "should_have_escalated": pl.Boolean,
                         "needless_escalation": pl.Boolean})


def test_contributions_sum_to_the_kpi_numerators():
    out = _outcomes(6, ["resolved", "resolved", "abandoned", "unresolved", "resolved",
                        "pending"])
    cat = {k.name: k for k in kpi_catalogue()}
    for name in ("containment_durable", "fcr", "abandonment_rate", "escalation_rate"):
        k = cat[name]
        n, d = contributions(k)
        sums = with_cohort(out).select(n.sum().alias("n"), d.sum().alias("d")).collect()
        ref = with_cohort(out).select(_aggs(k)).collect()
        assert sums["n"][0] == ref[f"{name}__num"][0] and sums["d"][0] == ref[f"{name}__den"][0]


def test_trust_columns_structural_model_and_unverified():
    model = _outcomes(4, ["resolved", "resolved", "resolved", "unresolved"])
    human = _outcomes(4, ["unresolved", "resolved", "resolved", "unresolved"])
    kpis = pl.DataFrame({"month": ["2026-09"] * 3, "tier": ["ai"] * 3,
                         "kpi": ["escalation_rate", "fcr", "routing_accuracy"],
                         "value": [0.0, 0.75, 0.5]})
    reviewed = pl.DataFrame({"conversation_id": ["c0", "c1"],
                             "label_type": ["resolution", "resolution"]})
    out = {r["kpi"]: r for r in trust_columns(kpis, model, human, reviewed).iter_rows(named=True)}
    esc, fcr, rout = out["escalation_rate"], out["fcr"], out["routing_accuracy"]
    assert esc["value_corrected"] == 0.0 and esc["ci_low"] == esc["ci_high"] == 0.0
    assert esc["n_reviewed"] is None                           # structural
    assert fcr["n_reviewed"] == 2
    assert fcr["value_corrected"] == pytest.approx(0.75 - 0.5)  # mean error -1/2 over 2 reviews
    assert fcr["ci_low"] < fcr["value_corrected"] < fcr["ci_high"]
    assert rout["n_reviewed"] == 0 and rout["value_corrected"] is None   # intent unreviewed


def test_latest_labels_and_apply():
    corr = pl.DataFrame({
        "id": [1, 2, 3, 4],
        "conversation_id": ["a", "a", "b", "b"],
        "turn_index": [None, None, None, 2],
        "label_type": ["resolution", "resolution", "intent", "sentiment"],
        "new_value": ["resolved", "abandoned", "refund", "negative"],
    }, schema_overrides={"turn_index": pl.Int64})
    conv, turn = latest_labels(corr)
    assert conv.filter(pl.col("conversation_id") == "a")["label"].to_list() == ["abandoned"]
    cs = pl.DataFrame({"conversation_id": ["a", "b", "c"], "intent": ["x", "x", "x"],
                       "resolution": ["resolved"] * 3})
    ts = pl.DataFrame({"conversation_id": ["b", "b"], "turn_index": [1, 2],
                       "sentiment_label": ["neutral", "neutral"]},
                      schema_overrides={"turn_index": pl.Int32})
    cs2, ts2 = apply_labels(cs, ts, conv, turn)
    assert cs2.sort("conversation_id")["resolution"].to_list() == ["abandoned", "resolved",
                                                                   "resolved"]
    assert cs2.sort("conversation_id")["intent"].to_list() == ["x", "refund", "x"]
    assert ts2.sort("turn_index")["sentiment_label"].to_list() == ["neutral", "negative"]


def test_verification_status():
    from tierlens.metrics.trust import verification_status

    assert verification_status(None, 0.5, 0.5) == "structural"
    assert verification_status(0, None, None) == "unverified"
    assert verification_status(120, 0.40, 0.46) == "verified by 120 reviews, ±3.0 pts"
    assert verification_status(80, 4.0, 5.0, kind="ratio", unit="currency") == \
        "verified by 80 reviews, ±0.50 currency"
    assert verification_status(9, 100.0, 140.0, kind="count") == "verified by 9 reviews, ±20.00"


def test_verification_sample_is_stratified_stable_and_sized():
    from tierlens.metrics.trust import verification_sample

    start = datetime(2026, 9, 1, tzinfo=UTC)
    oct1 = datetime(2026, 10, 1, tzinfo=UTC)
    n = 3000
    out = pl.DataFrame({"conversation_id": [f"c{i}" for i in range(n)],
                        "started_at": [start if i % 2 else oct1 for i in range(n)],
                        "tier": ["ai" if i % 3 else "human" for i in range(n)]})
    reviewed = pl.DataFrame({"conversation_id": ["c1", "c2"]})
    s = verification_sample(out, reviewed, half_width=0.05, error_rate=0.10)
    sizes = s.group_by("month", "tier").agg(pl.len(), pl.col("needed").first(),
                                            pl.col("population").first())
    assert sizes.height == 4
    assert (sizes["len"] == sizes["needed"]).all()
    assert (sizes["needed"] < sizes["population"]).all()
    assert s.filter(pl.col("reviewed")).height <= 2
    again = verification_sample(out.sample(fraction=1.0, shuffle=True, seed=1), reviewed,
                                half_width=0.05)
    assert again.sort("conversation_id").equals(s.sort("conversation_id"))
    # a random sample: an attribute held by 1 in 5 of the population is ~1 in 5 of the sample
    ids = s["conversation_id"].str.slice(1).cast(pl.Int64)
    assert 0.13 < (ids % 5 == 0).mean() < 0.27
