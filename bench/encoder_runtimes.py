"""Encoder runtimes side by side: speed, fidelity to fp32, and whether a text's embedding
depends on the other texts in its batch.

Same 1,500 distinct sentences from data/bank (customer openers and bot lines) for every row:

- ``fp32 batched``: PyTorch, length-bucketed padded batches (the fp32 path);
- ``int8 batched``: ONNX Runtime int8 (per-channel weights), the same padded batches;
- ``int8 per-text``: the served path, one text per forward, single-threaded calls on a
  pool of ``--threads`` Python threads.

"self-consistency" encodes the same texts a second time in another order and other
company (halves, reversed) and reports the lowest cosine of a text with itself: 1.0 means
the embedding is a function of the text alone.

    .venv/bin/python bench/encoder_runtimes.py [--texts 1500] [--threads 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

BANK = Path(__file__).resolve().parents[1] / "data" / "bank"


def texts(n: int) -> list[str]:
    rows = []
    for name in ("openers", "bot"):
        with gzip.open(BANK / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            rows += [json.loads(line)["text"] for line in fh]
    random.Random(1).shuffle(rows)
    return list(dict.fromkeys(rows))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    from _common import bench_settings

    from tierlens.score.encoder import Encoder

    settings = bench_settings()
    onnx = settings.cache_dir / "onnx"
    xs = texts(a.texts)
    fp32 = Encoder("fp32", cache_dir=None, threads=a.threads)
    int8 = Encoder("int8", cache_dir=None, threads=a.threads, runtime_dir=onnx)

    # the earlier batched int8 path, on a session with ``threads`` intra-op threads (the
    # served session is single-threaded: it runs ``threads`` texts at a time instead)
    from tierlens.score.encoder import load_int8_session, model_dir

    int8_batched = Encoder("int8", cache_dir=None, threads=a.threads, runtime_dir=onnx)
    int8_batched._session = load_int8_session(model_dir(), onnx, a.threads)
    int8_batched.per_text = False
    batched_int8 = int8_batched._encode_unique

    runs = {"fp32 batched": fp32._encode_unique, "int8 batched": batched_int8,
            "int8 per-text (served)": int8._encode_unique}
    for fn in runs.values():
        fn(xs[:64])  # warm up
    reference = fp32._encode_unique(xs)
    half = len(xs) // 2
    print(f"# bench/encoder_runtimes.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
          f"{len(xs)} distinct sentences  threads={a.threads}  cores={os.cpu_count()}  "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| runtime | sentences/s | vs fp32 batched | cosine to fp32 min / p01 | "
          "self-consistency (min cosine) |")
    print("|---|---|---|---|---|")
    base = None
    for name, fn in runs.items():
        best = 0.0
        for _ in range(2):
            t0 = time.perf_counter()
            out = fn(xs)
            best = max(best, len(xs) / (time.perf_counter() - t0))
        base = base or best
        again = np.vstack([fn(xs[half:][::-1])[::-1], fn(xs[:half])])
        again = np.vstack([again[len(xs) - half:], again[:len(xs) - half]])
        cos = (out * reference).sum(1)
        selfc = (out * again).sum(1).min()
        print(f"| {name} | {best:.0f} | {best / base:.2f}x | {cos.min():.3f} / "
              f"{np.quantile(cos, 0.01):.3f} | {selfc:.4f} |")


if __name__ == "__main__":
    main()
