"""Precision / recall of the semantic compliance rules on held-out cases, with n.

Cases: data/compliance/heldout_cases.csv (written after the threshold-fitting procedure of
models/fit_compliance_thresholds.py was frozen; never used for fitting), labelled twice by
data/compliance/GUIDELINE.md. Each case is scored as one agent chat turn by the rule alone
(its examples, counter-examples and threshold from the rulebook; the served encoder, i.e. the
``encoder_adapter`` setting). Also writes the two labelling passes' agreement.

Usage: .venv/bin/python models/eval_compliance_heldout.py [--rulebook PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from fit_compliance_thresholds import REPO, predict, prf, rule_similarities

CASES = REPO / "data" / "compliance" / "heldout_cases.csv"
AGREEMENT = REPO / "data" / "compliance" / "heldout_agreement.json"


def read_heldout(path: Path = CASES) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def agreement(rows: list[dict[str, str]]) -> dict:
    """Per rule: n, raw agreement and Cohen's kappa of label_a vs label_b."""
    from sklearn.metrics import cohen_kappa_score

    out = {}
    for rule_id in sorted({r["rule_id"] for r in rows}):
        a = [int(r["label_a"]) for r in rows if r["rule_id"] == rule_id]
        b = [int(r["label_b"]) for r in rows if r["rule_id"] == rule_id]
        out[rule_id] = {"n": len(a), "agreement": float(np.mean(np.equal(a, b))),
                        "cohen_kappa": float(cohen_kappa_score(a, b))}
    return out


def evaluate(rulebook_path: Path | None = None) -> dict:
    import common

    from tierlens.score.rules import load_rulebook

    book, enc, rows = load_rulebook(rulebook_path), common.encoder(), read_heldout()
    out = {"encoder_version": enc.version, "rulebook_version": book.rulebook_version,
           "cases": str(CASES.relative_to(REPO)), "rules": {}}
    for rule in [r for r in book.active_rules if r.kind == "semantic"]:
        mine = [r for r in rows if r["rule_id"] == rule.id]
        y = np.array([r["label"] == "1" for r in mine])
        pred = predict(*rule_similarities(rule, [r["text"] for r in mine], enc), rule.threshold)
        by_industry = {}
        for ind in sorted({r["industry"] for r in mine}):
            m = np.array([r["industry"] == ind for r in mine])
            by_industry[ind] = {k: v for k, v in prf(pred[m], y[m]).items()
                                if k in ("tp", "fp", "fn")}
        out["rules"][rule.id] = {"threshold": rule.threshold, "n": len(y),
                                 "positives": int(y.sum()), **prf(pred, y),
                                 "by_industry": by_industry,
                                 "missed": [r["text"] for r, p, t in zip(mine, pred, y)
                                            if t and not p],
                                 "false_alarms": [r["text"] for r, p, t in zip(mine, pred, y)
                                                  if p and not t]}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rulebook", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    AGREEMENT.write_text(json.dumps(agreement(read_heldout()), indent=1) + "\n",
                         encoding="utf-8")
    res = evaluate(args.rulebook)
    print(f"encoder {res['encoder_version']}, rulebook {res['rulebook_version']}")
    for rule_id, m in res["rules"].items():
        print(f"{rule_id} (threshold {m['threshold']}): precision {m['precision']:.2f} "
              f"({m['tp']} of {m['tp'] + m['fp']}), recall {m['recall']:.2f} "
              f"({m['tp']} of {m['positives']}), n {m['n']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
