"""Model predictions for ``bench/metrics.py --predictions``: the real pipeline on a simulated set.

Simulates (or reuses) the same set ``bench/metrics.py`` reads (same --conversations, --months,
--seed and --work), ingests it into a scratch warehouse, runs the model heads
(``tierlens.stages.model_scores.run``: one encoder pass per distinct turn text, every head), and
writes the model's conversation scores (intent, resolution, sentiment, ...) to a parquet file.

    .venv/bin/python bench/predictions.py --conversations 10000 --months 6 --seed 7 \
        --out /tmp/tierlens-bench-metrics/preds-10000.parquet
    .venv/bin/python bench/metrics.py --conversations 10000 --months 6 --seed 7 \
        --skip-speed --predictions /tmp/tierlens-bench-metrics/preds-10000.parquet
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tierlens-bench-metrics"))
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()

    from _common import bench_settings

    from tierlens.simulate import simulate, truth_files
    from tierlens.stages import model_scores
    from tierlens.stages.ingest import ingest_paths
    from tierlens.store.db import connect

    db = a.work / f"preds-{a.conversations}-{a.months}-{a.seed}.duckdb"
    settings = bench_settings(warehouse=db)
    sim = a.work / f"sim-{a.conversations}-{a.months}-{a.seed}"
    if not truth_files(sim)[1].exists():
        simulate(a.conversations, a.months, a.seed, sim, handle=settings.handle_time)
    db.unlink(missing_ok=True)
    con = connect(db)
    try:
        t0 = time.perf_counter()
        report = ingest_paths(con, [sim / "conversations.jsonl.gz"], settings)
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        scored = model_scores.run(con, settings)
        t_score = time.perf_counter() - t0
        frame = con.sql("SELECT * EXCLUDE (model_version) FROM model_conversation_scores "
                        "WHERE model_version = ?", params=[scored["model_version"]]).pl()
    finally:
        con.close()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(a.out)
    print(f"ingest {report.turns_stored:,} turns in {t_ingest:.0f} s; scored "
          f"{scored['conversations']:,} conversations / {scored['turns']:,} turns in "
          f"{t_score:.0f} s [{scored['model_version']}]; wrote {frame.height:,} rows to {a.out}")


if __name__ == "__main__":
    main()
