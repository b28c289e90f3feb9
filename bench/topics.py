"""Topic discovery speed at scale, given the embeddings: 1M requests on this machine.

Requests are the simulator's bank of real customer openers (data/bank/openers.jsonl.gz),
drawn with replacement to ``--n``; their embeddings come from the encoder once per distinct
text (cached), plus a small per-request jitter so the 1M rows are not 11k repeated points.
Times: the request rule (first substantive customer turn) over 3 customer turns per
conversation, model selection + fit (50k sample), assignment of every request, c-TF-IDF labels over
every request, and the monthly topic table over synthetic outcomes. Baseline in the same run:
fitting k-means on every request (no sample) at the chosen k, and how far its clusters agree
with the sampled fit (NMI).

    .venv/bin/python bench/topics.py --n 1000000
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    from _common import bench_settings
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import normalized_mutual_info_score

    from tierlens.score.encoder import get_encoder
    from tierlens.topics.discover import assign, ctfidf_keywords, fit_centroids, label_of
    from tierlens.topics.monthly import topic_monthly
    from tierlens.topics.requests import first_requests

    with gzip.open(REPO / "data/bank/openers.jsonl.gz", "rt") as fh:
        bank = sorted({json.loads(line)["text"] for line in fh})
    rng = np.random.default_rng(a.seed)
    t0 = time.perf_counter()
    base = get_encoder(bench_settings(), "int8").encode(bank)
    t_bank = time.perf_counter() - t0
    pick = rng.integers(0, len(bank), a.n)
    emb = base[pick] + rng.normal(scale=0.01, size=(a.n, base.shape[1])).astype(np.float32)
    texts = [bank[i] for i in pick]
    rows = []

    def timed(name, fn):
        t = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - t))
        return out

    # the request rule over every customer turn: a greeting, then the request, then a follow-up
    greet = np.array(["hi there", "hello", "good morning"])[rng.integers(0, 3, a.n)]
    turns = pl.DataFrame({
        "conversation_id": np.repeat(np.arange(a.n), 3).astype(str),
        "turn_index": np.tile(np.array([0, 2, 4]), a.n),
        "speaker": ["customer"] * (3 * a.n),
        "text": np.stack([greet, np.array(texts, dtype=object),
                          np.array(["thanks", "ok thanks bye", "is that all?"])[
                              rng.integers(0, 3, a.n)]], axis=1).reshape(-1).tolist()})
    req = timed(f"request rule over {3 * a.n:,} customer turns", lambda: first_requests(turns))
    share = req.height / a.n
    fit = timed("select k + fit (50k sample)", lambda: fit_centroids(emb))
    topic, dist = timed("assign every request", lambda: assign(emb, fit.centroids))
    kw = timed("c-TF-IDF labels (every request)", lambda: ctfidf_keywords(texts, topic, fit.k))
    ids = [f"c{i}" for i in range(a.n)]
    assigned = pl.DataFrame({"conversation_id": ids, "topic_id": topic.astype(np.int64) + 1,
                             "distance": dist})
    months = np.array(["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"])
    bot = rng.random(a.n) < 0.7
    outcomes = pl.DataFrame({
        "conversation_id": ids, "month": months[rng.integers(0, 6, a.n)],
        "intent": None, "bot_entered": bot, "escalated": bot & (rng.random(a.n) < 0.3),
        "contained_durable": bot & (rng.random(a.n) < 0.5),
        "aht_seconds": rng.gamma(2.0, 150.0, a.n), "cost": rng.gamma(2.0, 2.0, a.n)},
        schema_overrides={"intent": pl.String})
    cents = pl.DataFrame({"topic_id": np.arange(1, fit.k + 1),
                          "centroid": [c.tolist() for c in fit.centroids],
                          "active": [True] * fit.k})
    monthly = timed("monthly topic table (6 months)",
                    lambda: topic_monthly(assigned, outcomes, cents))
    total = sum(t for _, t in rows)
    t = time.perf_counter()
    full = MiniBatchKMeans(n_clusters=fit.k, random_state=a.seed, n_init=3,
                           batch_size=4096, max_iter=100).fit(emb)
    t_full = time.perf_counter() - t
    nmi = normalized_mutual_info_score(full.labels_, topic)
    print(f"{a.n:,} requests ({len(bank):,} distinct texts; encoding them: {t_bank:.0f} s, "
          f"not counted), k = {fit.k}, {monthly.height} topic-month rows; the request rule "
          f"found a request in {share:.1%} of the conversations\n")
    print("| step | seconds |\n|---|---|")
    for name, sec in rows:
        print(f"| {name} | {sec:.1f} |")
    print(f"| **total, given the embeddings** | **{total:.1f}** |")
    print(f"| baseline: k-means fit on all {a.n:,} requests (same k, no sample) | {t_full:.1f} |")
    print(f"\nagreement of the sampled fit with the full fit: NMI {nmi:.3f}")
    print("labels, e.g.: " + " | ".join(label_of(k) for k in kw[:6]))


if __name__ == "__main__":
    main()
