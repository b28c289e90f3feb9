"""Write the small held-out samples the slow accuracy tests use (tests/golden/score/).

They let tests/score/test_score_accuracy.py run in a clone without /work/shared. Every row
comes from a TEST split that no head was trained on. Licenses: banking77 CC BY 4.0,
clinc150 CC BY 3.0, SGD CC BY-SA 4.0 (see tests/golden/score/README.md).

Usage: .venv/bin/python models/make_golden.py
"""

from __future__ import annotations

import csv
import random

import common
import train_bot_outcome

OUT = common.REPO / "tests" / "golden" / "score"


def write(name: str, header: list[str], rows: list[tuple]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    print(name, len(rows))


def main() -> None:
    rng = random.Random(7)
    b77 = sorted({(t, c) for t, c in common.banking77() if common.banking77_is_test(t)})
    by_class: dict[str, list] = {}
    for t, c in b77:
        by_class.setdefault(c, []).append((t, c))
    sample = [r for c in sorted(by_class) for r in rng.sample(by_class[c], min(8, len(by_class[c])))]
    write("banking77_test_sample.csv", ["text", "intent"], sample)
    ins = rng.sample(common.clinc150("val"), 400)
    write("clinc_oos_test_sample.csv", ["text", "label"],
          [(t, "in_scope") for t, _ in ins] + [(t, "oos") for t, _ in common.clinc150("oos_val")])
    data = train_bot_outcome.dataset()["test"]
    rows = list(zip(data[0], [train_bot_outcome.LABELS[i] for i in data[1]], strict=True))
    keep = [r for r in rows if r[1] != "other"] + rng.sample([r for r in rows
                                                              if r[1] == "other"], 300)
    write("sgd_bot_outcome_test_sample.csv", ["text", "label"], keep)


if __name__ == "__main__":
    main()
