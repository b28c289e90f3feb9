"""Pre-compute (and cache) embeddings of every training text, so each train script is quick.

Usage: .venv/bin/python models/prepare_embeddings.py
"""

from __future__ import annotations

import time

import common
import train_sentiment


def main() -> None:
    texts: list[str] = []
    texts += [t for t, _ in common.banking77()]
    for split in ("train", "val", "oos_train", "oos_val"):
        texts += [t for t, _ in common.clinc150(split)]
    for d in common.sgd_dialogues():
        texts += [t["utterance"] for t in d["turns"]]
    for d in common.uss_dialogues():
        texts += [t[1] for t in d["turns"] if t[0] == "USER"]
    for split in ("val", "test"):
        texts += [t for t, _ in common.tweeteval(split)]
    items = common.REPO / "data/sentiment/items.csv"
    if items.exists():
        texts += [r["text"] for r in common.read_csv(items)]
    for rows in train_sentiment.customer_voice().values():
        texts += [r[0] for r in rows]
    uniq = list(dict.fromkeys(texts))
    t0 = time.time()
    for i in range(0, len(uniq), 5000):
        common.embed(uniq[i:i + 5000])
        print(f"{i + 5000}/{len(uniq)} {time.time() - t0:.0f}s", flush=True)
    common.encoder().cache.compact()


if __name__ == "__main__":
    main()
