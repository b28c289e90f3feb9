"""Topic discovery quality on labelled real requests, with the labels hidden from the method.

- MultiDoGO (real customer turns of human-to-human customer-service chats, 6 domains):
  the first substantive customer turn of each conversation (the product's own request rule,
  tierlens.topics.requests), clustered; NMI and ARI against that turn's intent, over the
  requests whose intent is a task (greetings, confirmations and 'contentonly' turns are
  clustered too but not scored).
- CLINC150 val (3,000 requests, 150 intents across 10 domains).

    .venv/bin/python models/evaluate_topics.py [--json]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, clinc150, embed

NOT_TASK = {"contentonly", "confirmation", "openinggreeting", "rejection", "thankyou",
            "outofdomain", "closinggreeting", "", "intent"}


def multidogo_requests() -> list[tuple[str, str]]:
    from tierlens.topics.requests import is_substantive

    out = []
    for path in sorted((SHARED / "intents/multidogo").glob("*/*.tsv.gz")):
        convs: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for r in csv.DictReader(io.StringIO(fh.read()), delimiter="\t"):
                try:
                    convs[r["conversationId"]].append((int(r["turnNumber"]), r["utterance"],
                                                       r["intent"].split("<div>")[0]))
                except (TypeError, ValueError):
                    continue
        for turns in convs.values():
            for _, text, intent in sorted(turns):
                if is_substantive(text):
                    out.append((text, intent))
                    break
    return out


def evaluate(name: str, rows: list[tuple[str, str]], k_grid: tuple[int, ...]) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from tierlens.topics.discover import assign, ctfidf_keywords, fit_centroids, label_of

    texts = [t for t, _ in rows]
    labels = np.asarray([lab for _, lab in rows])
    t0 = time.perf_counter()
    emb = embed(texts)
    t_emb = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = fit_centroids(emb, k_grid=k_grid, seed=0)
    topic, _ = assign(emb, fit.centroids)
    kw = ctfidf_keywords(texts, topic, fit.k)
    t_fit = time.perf_counter() - t0
    task = np.asarray([lab not in NOT_TASK for lab in labels])
    res = {"set": name, "n": len(rows), "n_scored": int(task.sum()),
           "labels": len(set(labels[task].tolist())), "k": fit.k,
           "nmi": round(float(normalized_mutual_info_score(labels[task], topic[task])), 4),
           "ari": round(float(adjusted_rand_score(labels[task], topic[task])), 4),
           "silhouette": {k: round(v, 4) for k, v in fit.silhouette.items()},
           "embed_s": round(t_emb, 1), "fit_s": round(t_fit, 1),
           "examples": [label_of(kw[t]) for t in range(min(fit.k, 8))]}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = [evaluate("multidogo first requests", multidogo_requests(),
                    (16, 24, 32, 40, 48, 64)),
           evaluate("clinc150 val", clinc150("val"), (50, 100, 150, 200))]
    if a.json:
        print(json.dumps(out, indent=2))
        return
    for r in out:
        print(f"{r['set']}: n={r['n']} (scored {r['n_scored']}, {r['labels']} intents), "
              f"k={r['k']}, NMI {r['nmi']}, ARI {r['ari']}; silhouette {r['silhouette']}; "
              f"embed {r['embed_s']} s, fit {r['fit_s']} s")
        print("   e.g. " + " | ".join(r["examples"]))


if __name__ == "__main__":
    main()
