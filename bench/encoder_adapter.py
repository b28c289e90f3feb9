"""Frozen vs LoRA-adapted encoder: encoder-only turns/s in the same run.

The adapter is merged into the weights at load time, so the served int8 graph has the same
shape and ops as the frozen one: it should cost nothing per text. Both encoders run the
served path (int8, one text per forward, ``--threads`` calls at a time) over the same
distinct bank sentences as bench/encoder_runtimes.py, interleaved, best of ``--repeats``
(the machine is shared). Also prints the per-text cosine between the two (how far the
delta moved the embeddings).

    .venv/bin/python bench/encoder_adapter.py [--texts 1500] [--threads 2]
        [--adapter models/encoder/adapter.npz]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from encoder_runtimes import texts

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--adapter", type=Path, default=REPO / "models" / "encoder" / "adapter.npz")
    a = ap.parse_args()
    from _common import bench_settings

    from tierlens.score.encoder import Encoder

    onnx = bench_settings().cache_dir / "onnx"
    xs = texts(a.texts)
    encoders = {"frozen": Encoder("int8", cache_dir=None, threads=a.threads, runtime_dir=onnx,
                                  adapter=None),
                "adapted": Encoder("int8", cache_dir=None, threads=a.threads, runtime_dir=onnx,
                                   adapter=a.adapter)}
    best = dict.fromkeys(encoders, 0.0)
    out = {}
    for enc in encoders.values():
        enc._encode_unique(xs[:64])  # warm up
    for _ in range(a.repeats):
        for name, enc in encoders.items():
            t0 = time.perf_counter()
            out[name] = enc._encode_unique(xs)
            best[name] = max(best[name], len(xs) / (time.perf_counter() - t0))
    cos = (out["frozen"] * out["adapted"]).sum(1)
    print(f"# bench/encoder_adapter.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
          f"{len(xs)} distinct sentences  threads={a.threads}  cores={os.cpu_count()}  "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| encoder | version | sentences/s (best of "
          f"{a.repeats}) | vs frozen |")
    print("|---|---|---|---|")
    for name, enc in encoders.items():
        print(f"| {name} | `{enc.version}` | {best[name]:.0f} | "
              f"{best[name] / best['frozen']:.2f}x |")
    print(f"cosine frozen vs adapted per text: min {cos.min():.3f}, median "
          f"{np.median(cos):.3f}, max {cos.max():.3f}")


if __name__ == "__main__":
    main()
