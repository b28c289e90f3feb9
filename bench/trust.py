"""Trust layer on simulated months: does a 10% human-reviewed sample correct the model's KPIs?

Simulates (or reuses) a data set with planted truth, derives the KPIs from the model's
predictions (``bench/predictions.py``: the real pipeline's heads) and from the truth, then,
for each of ``--draws`` random samples, imports the TRUE resolution of ``--share`` of the
conversations as reviews and computes ``value_corrected`` and the 95% interval
(:mod:`tierlens.metrics.trust`). Prints, for durable containment and FCR, per tier: how often
the interval covers the planted KPI (month-by-tier rows), and the mean error of the raw and
the corrected value. Baseline in the same run: the raw model figure.

    .venv/bin/python bench/predictions.py --conversations 10000 --months 6 --seed 7 \\
        --out /tmp/tierlens-bench-metrics/preds-10000.parquet
    .venv/bin/python bench/trust.py --predictions /tmp/tierlens-bench-metrics/preds-10000.parquet
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from datetime import datetime
from pathlib import Path

import polars as pl

KPIS = ("containment_durable", "fcr", "abandonment_rate", "cost_per_resolution")


def evaluate(conv: pl.DataFrame, turns: pl.DataFrame, truth: pl.DataFrame,
             model: pl.DataFrame, as_of: datetime, share: float, draws: int, seed: int,
             kpis: tuple[str, ...] = KPIS) -> pl.DataFrame:
    """One row per draw, month, tier and KPI: truth, raw, corrected, ci_low, ci_high,
    n_reviewed. ``truth``/``model``: conversation_id, intent, resolution."""
    from tierlens.metrics.derive import derive
    from tierlens.metrics.trust import apply_labels, trust_columns
    from tierlens.settings import Settings

    s = Settings()
    d_truth = derive(conv, turns, truth, settings=s, as_of=as_of)
    d_model = derive(conv, turns, model, settings=s, as_of=as_of)
    keys = ["month", "tier", "kpi"]
    t = d_truth.kpis.filter(pl.col("kpi").is_in(kpis)).select(*keys, truth="value")
    ids = conv["conversation_id"].to_list()
    rng = random.Random(seed)
    frames = []
    for draw in range(draws):
        picked = rng.sample(ids, int(share * len(ids)))
        labels = (truth.filter(pl.col("conversation_id").is_in(picked))
                  .select("conversation_id", label_type=pl.lit("resolution"),
                          label="resolution"))
        cs, _ = apply_labels(model, None, labels, pl.DataFrame(
            schema={"conversation_id": pl.String, "turn_index": pl.Int32, "label": pl.String}))
        human = derive(conv, turns, cs, settings=s, as_of=as_of)
        out = trust_columns(d_model.kpis, d_model.outcomes, human.outcomes,
                            labels.select("conversation_id", "label_type"))
        frames.append(out.filter(pl.col("kpi").is_in(kpis)).join(t, on=keys)
                      .select(pl.lit(draw).alias("draw"), *keys, "truth", raw="value",
                              corrected="value_corrected", ci_low="ci_low",
                              ci_high="ci_high", n_reviewed="n_reviewed"))
    return pl.concat(frames)


def summary(rows: pl.DataFrame) -> pl.DataFrame:
    """Per KPI and tier: coverage of the planted KPI by the interval, mean |error| raw and
    corrected, share of rows where the corrected value is closer."""
    ok = rows.filter(pl.col("truth").is_not_null() & pl.col("corrected").is_not_null())
    return (ok.with_columns(err_raw=(pl.col("raw") - pl.col("truth")).abs(),
                            err_corr=(pl.col("corrected") - pl.col("truth")).abs(),
                            covered=(pl.col("ci_low") <= pl.col("truth"))
                            & (pl.col("truth") <= pl.col("ci_high")),
                            half=(pl.col("ci_high") - pl.col("ci_low")) / 2)
            .group_by("kpi", "tier")
            .agg(rows=pl.len(), coverage=pl.col("covered").mean(),
                 mean_abs_err_raw=pl.col("err_raw").mean(),
                 mean_abs_err_corrected=pl.col("err_corr").mean(),
                 corrected_closer=(pl.col("err_corr") < pl.col("err_raw")).mean(),
                 mean_half_width=pl.col("half").mean(),
                 mean_n_reviewed=pl.col("n_reviewed").mean())
            .sort("kpi", "tier"))


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tierlens-bench-metrics"))
    ap.add_argument("--predictions", type=Path, required=True)
    ap.add_argument("--share", type=float, default=0.10)
    ap.add_argument("--draws", type=int, default=20)
    a = ap.parse_args()

    from truthcheck import records_to_frames, truth_scores

    from tierlens.simulate import simulate, truth_files

    sim = a.work / f"sim-{a.conversations}-{a.months}-{a.seed}"
    rows_file, kpis_file = truth_files(sim)
    if not kpis_file.exists():
        simulate(a.conversations, a.months, a.seed, sim)
    conv, turns = records_to_frames(_lines(sim / "conversations.jsonl.gz"))
    truth = truth_scores(_lines(rows_file))
    as_of = datetime.fromisoformat(json.loads(kpis_file.read_text())["as_of"])
    model = pl.read_parquet(a.predictions).select("conversation_id", "intent", "resolution")
    rows = evaluate(conv, turns, truth, model, as_of, a.share, a.draws, a.seed)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True, tbl_formatting="ASCII_MARKDOWN",
                   float_precision=4, tbl_width_chars=200):
        print(f"{a.conversations:,} simulated conversations x {a.months} months, true "
              f"resolution of {a.share:.0%} imported as reviews, {a.draws} random draws\n")
        print(summary(rows))


if __name__ == "__main__":
    main()
