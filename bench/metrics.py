"""Benchmark and truth check of the outcome metrics (tierlens.metrics).

Two parts, each printing a table:

1. **truth**: simulate N conversations over M months (default 100,000 x 6), derive every metric
   with the TRUE intent and resolution, and compare every KPI with ground_truth_kpis.json
   (structural KPIs must match exactly) and every per-conversation field with the truth rows.
   With ``--predictions FILE`` (a parquet/csv with ``conversation_id, intent, resolution``
   from the model heads) it also derives the KPIs from the predictions and prints each KPI's
   error against the truth-fed KPIs (the "error table" of docs/metrics.md).
2. **speed**: derive all metrics for ~1M conversations (the simulated set replicated with new
   conversation and customer ids until it reaches ``--speed-conversations``) and time each step.

Run:  .venv/bin/python bench/metrics.py [--conversations 100000] [--months 6] [--seed 7]
      [--speed-conversations 1000000] [--skip-speed] [--skip-truth] [--predictions FILE]
Scratch files go to /tmp/tierlens-bench-metrics (or --work).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import time
from datetime import datetime
from pathlib import Path

import polars as pl
from truthcheck import (
    compare_kpis,
    compare_rows,
    records_to_frames,
    truth_scores,
)

from tierlens.config import load_routing_policy
from tierlens.metrics import episodes, kpis, repeat, restate, routing, scorecard
from tierlens.metrics.derive import derive
from tierlens.settings import Settings


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def load_simulated(n: int, months: int, seed: int, work: Path) -> dict:
    """Simulate (or reuse) and normalise; cache the frames as parquet."""
    from tierlens.simulate import simulate, truth_files

    out = work / f"sim-{n}-{months}-{seed}"
    t0 = time.perf_counter()
    if not truth_files(out)[1].exists():
        simulate(n, months, seed, out, handle=Settings().handle_time)
    t_sim = time.perf_counter() - t0
    cache = out / "frames"
    t0 = time.perf_counter()
    if not (cache / "turns.parquet").exists():
        conv, turns = records_to_frames(_lines(out / "conversations.jsonl.gz"))
        cache.mkdir(exist_ok=True)
        conv.write_parquet(cache / "conversations.parquet")
        turns.write_parquet(cache / "turns.parquet")
    conv = pl.read_parquet(cache / "conversations.parquet")
    turns = pl.read_parquet(cache / "turns.parquet")
    t_norm = time.perf_counter() - t0
    truth_path, kpis_path = truth_files(out)
    truth = _lines(truth_path)
    tk = json.loads(kpis_path.read_text())
    return {"conv": conv, "turns": turns, "truth": truth, "tk": tk, "t_sim": t_sim,
            "t_norm": t_norm}


def truth_part(data: dict, predictions: Path | None) -> None:
    tk, truth = data["tk"], data["truth"]
    as_of = datetime.fromisoformat(tk["as_of"])
    t0 = time.perf_counter()
    d = derive(data["conv"], data["turns"], truth_scores(truth), settings=Settings(), as_of=as_of)
    t_derive = time.perf_counter() - t0
    cmp = compare_kpis(d.kpis, tk["rows"])
    summary = (cmp.group_by("truth_kpi", "structural")
               .agg(rows=pl.len(), matching=pl.col("match").sum(),
                    max_abs_diff=(pl.col("our_value") - pl.col("t_value")).abs().max())
               .sort("structural", "truth_kpi", descending=[True, False]))
    n = data["conv"].height
    print(f"\n## truth check: {n:,} simulated conversations, as_of {tk['as_of']}, "
          f"derive {t_derive:.1f} s\n")
    with pl.Config(tbl_rows=100, tbl_formatting="MARKDOWN", tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True):
        print(summary)
        print("\nper-conversation fields vs truth rows:\n")
        print(compare_rows(d.outcomes, truth))
    bad = cmp.filter(pl.col("structural") & ~pl.col("match"))
    print(f"\nstructural KPI rows: {cmp.filter(pl.col('structural')).height}, "
          f"mismatches: {bad.height}")
    if predictions is not None:
        pred = (pl.read_parquet(predictions) if predictions.suffix == ".parquet"
                else pl.read_csv(predictions))
        dp = derive(data["conv"], data["turns"], pred, settings=Settings(), as_of=as_of)
        err = kpis.kpi_error(d.kpis, dp.kpis).filter(pl.col("tier") == "all")
        table = (err.group_by("kpi").agg(mean_abs_error=pl.col("abs_error").mean(),
                                         max_abs_error=pl.col("abs_error").max(),
                                         mean_rel_error=pl.col("rel_error").mean())
                 .sort("kpi"))
        print("\n## KPI error with model predictions (tier all, over months)\n")
        with pl.Config(tbl_rows=100, tbl_formatting="MARKDOWN", tbl_hide_dataframe_shape=True,
                       tbl_hide_column_data_types=True):
            print(table)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def replicate(conv: pl.DataFrame, turns: pl.DataFrame, scores: pl.DataFrame, target: int
              ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Copies of a data set with fresh conversation and customer ids (vectorised)."""
    copies = -(-target // conv.height)
    sfx = [f"~{i}" for i in range(copies)]

    def rep(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
        return pl.concat([df.with_columns([pl.col(c) + s for c in cols]) for s in sfx])

    return (rep(conv, ["conversation_id", "customer_id"]).head(target),
            rep(turns, ["conversation_id"]), rep(scores, ["conversation_id"]))


def speed_part(data: dict, target: int) -> None:
    scores = truth_scores(data["truth"])
    conv, turns, sc = replicate(data["conv"], data["turns"], scores, target)
    turns = turns.join(conv.select("conversation_id"), on="conversation_id", how="semi")
    sc = sc.join(conv.select("conversation_id"), on="conversation_id", how="semi")
    policy, card, s = load_routing_policy(), scorecard.load_scorecard(), Settings()
    steps: list[tuple[str, float, float]] = []

    def timed(name, fn):
        t0, c0 = time.perf_counter(), _cpu()
        out = fn()
        steps.append((name, time.perf_counter() - t0, _cpu() - c0))
        return out

    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), _cpu()
    d = derive(conv, turns, sc, policy=policy, scorecard=card, settings=s)
    total, total_cpu = time.perf_counter() - t0, _cpu() - c0
    load1 = os.getloadavg()[0]
    # the same steps one by one, for the breakdown
    ep = timed("episodes (turn-level structure)", lambda: episodes.episode_frame(turns))
    c2 = conv.join(sc, on="conversation_id", how="left")
    timed("repeat contact", lambda: repeat.repeat_contacts(c2, s.repeat_window_days))
    timed("repeated after handoff", lambda: restate.repeated_after_handoff(turns, ep))
    timed("queue moves", lambda: routing.queue_moves(turns, conv, policy))
    timed("QA scorecard criteria", lambda: scorecard.criteria_scores(
        c2.join(ep, on="conversation_id"), turns, None, card))
    timed("kpi_monthly", lambda: kpis.kpi_monthly(d.outcomes))
    print(f"\n## speed: derive() on {conv.height:,} conversations / {turns.height:,} turns\n")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, polars "
          f"{pl.__version__}, load average {load0:.1f} before / {load1:.1f} after derive()")
    print("\n| step | wall s | CPU s (all threads) |\n|---|---:|---:|")
    for name, sec, cpu in steps:
        print(f"| {name} | {sec:.1f} | {cpu:.1f} |")
    print(f"| **derive() end to end (all outcomes + KPIs + misroutes + QA)** | **{total:.1f}** "
          f"| **{total_cpu:.1f}** |")
    print(f"\nconversations/s: {conv.height / total:,.0f}; target < 60 s: "
          f"{'met' if total < 60 else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--speed-conversations", type=int, default=1_000_000)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-truth", action="store_true")
    ap.add_argument("--predictions", type=Path, default=None)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tierlens-bench-metrics"))
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    data = load_simulated(a.conversations, a.months, a.seed, a.work)
    print(f"simulate {data['t_sim']:.0f} s, normalise/load {data['t_norm']:.0f} s")
    if not a.skip_truth:
        truth_part(data, a.predictions)
    if not a.skip_speed:
        speed_part(data, a.speed_conversations)


if __name__ == "__main__":
    main()
