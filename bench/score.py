"""Benchmark the scoring stage (encode once + all heads) against two reference rates.

On simulated-like conversations built from data/bank (customer openers and follow-ups, SGD
bot lines with realistic repetition: bots reuse a small set of templates), it prints turns/s for:
- the full scoring stage ``score_turns`` (dedup within the call, cold on-disk cache);
- (a) the encoder-only forward rate on the same texts: every turn text through the batched,
  length-bucketed model at the same precision, no dedup and no cache (the practical limit);
- (b) a naive baseline: a ``transformers`` feature-extraction pipeline called turn by turn,
  fp32, unbatched (timed on a subsample);
- (f) the encoder-only rate of the frozen base encoder (no adapter), the same-run reference
  for "the adapted encoder costs nothing": the adapter is merged into the weights before
  the int8 export, so (a) / (f) should be 1 within noise;
for two data sets: unique texts (no repetition at all) and realistic repetition.
Also prints peak RSS. Results go to bench/README.score.md by hand.

Usage: .venv/bin/python bench/score.py [--conversations 300] [--precision int8] [--threads 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
BANK = REPO / "data" / "bank"


def _bank(name: str) -> list[dict]:
    with gzip.open(BANK / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build_turns(n_conv: int, seed: int, repeat: bool) -> pl.DataFrame:
    """Canonical-like turns: customer opener, then bot/customer exchanges, ~10 turns each.

    repeat=True: bot lines come from 150 templates drawn with a Zipf-like skew plus a few
    fixed generic lines (greeting, "anything else?"); customer turns are mostly distinct.
    repeat=False: every text in the frame is distinct.
    """
    rng = random.Random(seed)
    openers = [r["text"] for r in _bank("openers")]
    follow = [r["text"] for r in _bank("followups")]
    bots = [r["text"] for r in _bank("bot")]
    rng.shuffle(bots)
    templates = bots[:150]
    weights = [1.0 / (i + 1) for i in range(len(templates))]
    generic = ["Hi! I'm the virtual assistant. How can I help you today?",
               "Is there anything else I can help you with?", "Have a great day!"]
    used: set[str] = set()
    rows = []
    bot_pool = iter(bots[150:])
    for c in range(n_conv):
        cid = f"bench-{c}"
        texts: list[tuple[str, str]] = []
        if repeat:
            texts.append(("bot", generic[0]))
        texts.append(("customer", rng.choice(openers)))
        for _ in range(rng.randint(3, 5)):
            if repeat:
                texts.append(("bot", rng.choices(templates, weights)[0]))
            else:
                texts.append(("bot", next(bot_pool)))
            texts.append(("customer", rng.choice(follow)))
        if repeat:
            texts += [("bot", generic[1]), ("customer", rng.choice(follow)), ("bot", generic[2])]
        for i, (spk, text) in enumerate(texts):
            if not repeat:
                while text in used:
                    text = rng.choice(openers + follow) + f" ({rng.randint(0, 10**6)})"
                used.add(text)
            rows.append((cid, i, spk, text))
    return pl.DataFrame(rows, schema={"conversation_id": pl.String, "turn_index": pl.Int32,
                                      "speaker": pl.String, "text": pl.String}, orient="row")


def naive_rate(texts: list[str], threads: int) -> float:
    """(b): transformers feature-extraction pipeline, one turn per call, fp32.

    Timed with 1 thread and with ``threads``; the faster counts (on a shared 2-core box,
    2 torch threads are often slower for single sentences)."""
    return max(_naive(texts, t) for t in sorted({1, threads}))


def _naive(texts: list[str], threads: int) -> float:
    import torch
    from transformers import pipeline

    from tierlens.score.encoder import model_dir
    torch.set_num_threads(threads)
    pipe = pipeline("feature-extraction", model=str(model_dir()), framework="pt", device=-1)
    pipe(texts[0])
    t0 = time.perf_counter()
    for t in texts:
        feats = np.asarray(pipe(t)[0])
        v = feats.mean(axis=0)
        v / np.linalg.norm(v)
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=300)
    ap.add_argument("--precision", default="int8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--naive-sample", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import torch
    from _common import bench_settings

    from tierlens.score.encoder import Encoder
    from tierlens.score.heads import default_heads_dir
    from tierlens.score.turns import load_heads, score_turns
    torch.set_num_threads(args.threads)
    settings = bench_settings()
    heads = default_heads_dir(settings)
    load_heads(heads)

    def encoder(cache: Path, adapter: Path | None = settings.encoder_adapter) -> Encoder:
        """The served encoder on a cold embedding cache (the exported graph is reused);
        ``adapter=None``: the frozen base encoder, the same-run reference."""
        return Encoder(args.precision, cache_dir=cache, threads=args.threads,
                       runtime_dir=settings.cache_dir / "onnx", adapter=adapter)

    results = []
    naive = None
    for label, repeat in (("unique texts", False), ("realistic repetition", True)):
        turns = build_turns(args.conversations, 1, repeat)
        texts = turns.get_column("text").to_list()
        n, n_unique = len(texts), len(set(texts))
        rate_a = rate_s = rate_f = 0.0
        for _ in range(args.repeats):  # interleaved, best of N: the machine is shared
            with tempfile.TemporaryDirectory() as tmp:
                enc = encoder(Path(tmp))
                enc.encode(["warm up the runtime"])
                t0 = time.perf_counter()
                enc._encode_unique(texts)  # (a): every turn through the model, batched
                rate_a = max(rate_a, n / (time.perf_counter() - t0))
            with tempfile.TemporaryDirectory() as tmp:
                enc = encoder(Path(tmp), adapter=None)
                enc.encode(["warm up the runtime"])
                t0 = time.perf_counter()
                enc._encode_unique(texts)  # (f): the same with the frozen base encoder
                rate_f = max(rate_f, n / (time.perf_counter() - t0))
            with tempfile.TemporaryDirectory() as tmp:
                enc = encoder(Path(tmp))
                enc.encode(["warm up the runtime"])
                t0 = time.perf_counter()
                out = score_turns(turns, encoder=enc, heads_dir=heads)  # cold cache: dedup within the call only
                rate_s = max(rate_s, out.height / (time.perf_counter() - t0))
        if naive is None:
            naive = naive_rate(texts[:args.naive_sample], args.threads)
        results.append((label, n, n_unique, rate_s, rate_a, naive, rate_f))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()
    print(f"# bench/score.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  precision={args.precision}"
          f"  threads={args.threads}  {platform.processor() or platform.machine()} "
          f"python {sys.version.split()[0]}  cores={os.cpu_count()}  "
          f"load average {load[0]:.1f} (machine shared)")
    print("| data | turns | unique texts | scoring stage turns/s | (a) encoder-only turns/s "
          "| stage / (a) | (b) naive turns/s | stage / (b) | (f) frozen encoder-only turns/s "
          "| (a) / (f) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, n, nu, s, a, b, f in results:
        print(f"| {label} | {n} | {nu} | {s:.0f} | {a:.0f} | {s / a:.2f} | {b:.1f} | "
              f"{s / b:.1f}x | {f:.0f} | {a / f:.2f} |")
    print(f"peak RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()
