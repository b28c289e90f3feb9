"""Draw the in-domain sentiment items to be labelled (reads ../shared; run once).

Writes data/sentiment/items.csv (item_id, source, text): customer turns from the
permissively licensed shared sets only (banking77, clinc150, MultiDoGO, SGD).
Deterministic: a fixed seed and sorted inputs.

    python data/scripts/build_sentiment_items.py --shared ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
from pathlib import Path

PLAN = {  # source -> number of items
    "banking77": 600,
    "clinc150": 300,
    "multidogo/airline": 260,
    "multidogo/insurance": 200,
    "multidogo/finance": 200,
    "multidogo/software": 160,
    "multidogo/media": 100,
    "sgd": 280,
}
CLINC_DOMAINS = ("banking", "credit_cards", "travel", "utility", "auto_and_commute", "meta")


def _banking77(root: Path) -> list[str]:
    with open(root / "intents/banking77/train.csv", newline="") as f:
        return [r["text"] for r in csv.DictReader(f)]


def _clinc150(root: Path) -> list[str]:
    domains = json.loads((root / "intents/clinc150/domains.json").read_text())
    keep = {i for d in CLINC_DOMAINS for i in domains[d]}
    with open(root / "intents/clinc150/train.csv", newline="") as f:
        return [r["text"] for r in csv.DictReader(f) if r["intent"] in keep]


def _multidogo(root: Path, domain: str) -> list[str]:
    out = []
    with gzip.open(root / f"intents/multidogo/{domain}/train.tsv.gz", "rt") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (r.get("utterance") or "").strip()
            # names / numbers alone ("contentonly") are trivially neutral: keep few of them
            if len(text.split()) >= 3 or (r.get("intent") != "contentonly" and text):
                out.append(text)
    return out


def _sgd(root: Path) -> list[str]:
    out = []
    with gzip.open(root / "dialogues/sgd_dev/dialogues.jsonl.gz", "rt") as f:
        for line in f:
            for t in json.loads(line)["turns"]:
                if t["speaker"] == "USER":
                    out.append(t["utterance"].strip())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared/data")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "sentiment/items.csv")
    args = ap.parse_args()
    rng = random.Random(20261123)
    pools = {
        "banking77": _banking77(args.shared),
        "clinc150": _clinc150(args.shared),
        "sgd": _sgd(args.shared),
    }
    for key in PLAN:
        if key.startswith("multidogo/"):
            pools[key] = _multidogo(args.shared, key.split("/")[1])
    seen: set[str] = set()
    rows = []
    for source, n in PLAN.items():
        pool = sorted(set(pools[source]))
        rng.shuffle(pool)
        taken = 0
        for text in pool:
            norm = " ".join(text.lower().split())
            if not norm or norm in seen:
                continue
            seen.add(norm)
            rows.append((source, text))
            taken += 1
            if taken == n:
                break
    rng.shuffle(rows)  # annotators see sources mixed
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "source", "text"])
        for i, (source, text) in enumerate(rows):
            w.writerow([f"s{i:04d}", source, text])
    print(f"wrote {len(rows)} items to {args.out}")


if __name__ == "__main__":
    main()
