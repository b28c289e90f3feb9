"""Scale-out benchmark: model scoring mapped over batches on Dask, 1 vs 2 (or more) workers.

What is timed is exactly what ``ingest_and_score`` maps on its task runner: pure
``tierlens.score.batch.score_batch`` over batches of conversations' turns (the encoder
forward pass dominates), plus, separately, the single writer's cost per batch
(``tierlens.store.scores.replace_model_scores`` into DuckDB). Every configuration starts with a cold embedding cache
(a fresh cache folder), and each worker loads its encoder before the clock starts.

    .venv/bin/python bench/scale.py --conversations 600 --batch 100 --workers 1 2

Prints a table, then what the measured rates mean for 1M and 10M conversations a month.
See bench/README.scale.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _prepare(n: int, batch: int, tmp: Path):
    """Simulate, ingest into a scratch warehouse, and read the turns in batches."""
    from _common import bench_settings

    from tierlens.simulate import simulate
    from tierlens.stages.ingest import ingest_paths
    from tierlens.stages.model_scores import chunks
    from tierlens.store.db import connect
    from tierlens.store.scores import read_turns

    settings = bench_settings(warehouse=tmp / "wh.duckdb")
    simulate(n, 2, 5, tmp / "sim", handle=settings.handle_time)
    inbox = tmp / "inbox"
    inbox.mkdir()
    shutil.copy(tmp / "sim" / "conversations.jsonl.gz", inbox / "c.jsonl.gz")
    con = connect(settings.warehouse)
    ingest_paths(con, [inbox], settings)
    ids = [r[0] for r in con.execute(
        "SELECT conversation_id FROM core_conversations ORDER BY 1").fetchall()]
    batches = chunks(ids, batch)
    frames = [read_turns(con, b) for b in batches]
    return con, batches, frames, settings


def _fresh_cache(tmp: Path, name: str, settings) -> Path:
    """A cold embedding cache that reuses the exported int8 graph (export takes minutes)."""
    cache = tmp / name
    onnx = settings.cache_dir / "onnx"
    if onnx.exists():
        shutil.copytree(onnx, cache / "onnx")
    return cache


def _warm(_: int, settings) -> str:
    from tierlens.score.batch import model_version_of

    return model_version_of(settings)


def _run(workers: int, frames, tmp: Path, settings) -> tuple[float, list]:
    from distributed import Client, LocalCluster

    from tierlens.score.batch import score_batch

    # the workers get these settings with each task (no environment to inherit)
    settings = settings.model_copy(update={"cache_dir": _fresh_cache(tmp, f"cache-{workers}w", settings)})
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.gather(client.map(partial(_warm, settings=settings), range(workers * 4),
                                 pure=False))  # load models
        t0 = time.perf_counter()
        futures = client.map(partial(score_batch, settings=settings), frames, pure=False)
        results = client.gather(futures)
        return time.perf_counter() - t0, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conversations", type=int, default=600)
    ap.add_argument("--batch", type=int, default=100, help="conversations per task")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    tmp = Path(tempfile.mkdtemp(prefix="tierlens-scale-"))
    try:
        con, batches, frames, settings = _prepare(args.conversations, args.batch, tmp)
        n_turns = sum(f.height for f in frames)
        rows = []
        results = None
        for w in args.workers:
            secs, results = _run(w, frames, tmp, settings)
            rows.append((w, secs))
        from tierlens.store.scores import replace_model_scores

        t0 = time.perf_counter()
        for b, (v, ts, cs) in zip(batches, results or [], strict=True):
            replace_model_scores(con, b, v, ts, cs)
        write_s = time.perf_counter() - t0
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base = rows[0][1]
    print(f"# scoring {args.conversations} conversations ({n_turns} turns) in "
          f"{len(frames)} batches of {args.batch}; cores: {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| workers | seconds | conversations/s | turns/s | speed-up |")
    print("|---|---|---|---|---|")
    for w, s in rows:
        print(f"| {w} | {s:.1f} | {args.conversations / s:.1f} | {n_turns / s:.0f} | "
              f"{base / s:.2f}x |")
    per_conv_write = write_s / args.conversations
    print(f"\nsingle writer (DuckDB, delete-then-insert per batch): {write_s:.2f}s for "
          f"{args.conversations} conversations = {args.conversations / write_s:.0f} conv/s")
    best = max(args.conversations / s for _, s in rows)
    per_worker = args.conversations / rows[0][1] / rows[0][0]
    print("\n| conversations/month | per day | worker-hours/month at the 1-worker rate | "
          "writer hours/month | 5,000-conversation tasks/day |")
    print("|---|---|---|---|---|")
    for month in (1_000_000, 10_000_000):
        print(f"| {month:,} | {month / 30:,.0f} | {month / per_worker / 3600:,.1f} | "
              f"{month * per_conv_write / 3600:,.2f} | {month / 30 / 5000:,.0f} |")
    print(f"\n(best measured here: {best:.1f} conversations/s; cold cache: bots repeat "
          "themselves, so a warm cache makes steady-state scoring cheaper than this)")


if __name__ == "__main__":
    sys.exit(main())
