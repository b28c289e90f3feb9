"""The issue's acceptance check on simulated months, with a model of known bias: import the
true resolution of a random 10% of conversations as reviews; for durable containment and
FCR the interval covers the planted KPI in >= 80% of month-by-tier rows, and the corrected
value is on average closer to the truth than the raw one. (bench/trust.py runs the same with
the real pipeline's predictions; figures in bench/README.md.)"""

from __future__ import annotations

import gzip
import json
import random
from datetime import datetime

import polars as pl
import pytest

from bench.trust import evaluate, summary
from bench.truthcheck import records_to_frames, truth_scores

pytestmark = pytest.mark.slow


def _lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _biased_model(truth: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Like the rule model: half the abandonments and a fifth of the failures read resolved."""
    rng = random.Random(seed)
    flip = {"abandoned": 0.5, "unresolved": 0.2}
    res = [("resolved" if r in flip and rng.random() < flip[r] else r)
           for r in truth["resolution"].to_list()]
    return truth.with_columns(resolution=pl.Series(res))


def test_reviewed_sample_corrects_containment_and_fcr(tmp_path):
    from tierlens.simulate import simulate, truth_files

    simulate(6000, 4, 20261129, tmp_path)
    conv, turns = records_to_frames(_lines(tmp_path / "conversations.jsonl.gz"))
    rows_file, kpis_file = truth_files(tmp_path)
    truth = truth_scores(_lines(rows_file))
    as_of = datetime.fromisoformat(json.loads(kpis_file.read_text())["as_of"])
    rows = evaluate(conv, turns, truth, _biased_model(truth, 1), as_of, share=0.10, draws=5,
                    seed=3, kpis=("containment_durable", "fcr"))
    s = summary(rows)
    print(s)
    for kpi in ("containment_durable", "fcr"):
        k = rows.filter((pl.col("kpi") == kpi) & pl.col("truth").is_not_null())
        covered = ((k["ci_low"] <= k["truth"]) & (k["truth"] <= k["ci_high"])).mean()
        raw = (k["raw"] - k["truth"]).abs().mean()
        corrected = (k["corrected"] - k["truth"]).abs().mean()
        assert covered >= 0.80, (kpi, covered)
        assert corrected < raw, (kpi, corrected, raw)
