"""Refit the cosine thresholds of the rulebook's semantic rules on the CURRENT encoder.

The encoder is the served one (``common.encoder()``: the ``encoder_adapter``
and ``precision`` settings), so after a new adapter this refits the thresholds for it.

Development cases: ``data/compliance/dev_cases.csv`` (``rule_id, text, label, source``): every
agent/bot turn a semantic rule looks at in the compliance golden set
(tests/golden/compliance/conversations.json, written together with the rules), minus turns its
``suppressed_by`` rules flag; ``label`` 1 = the rule should fire. ``--export-dev`` rebuilds it.

Procedure (frozen before data/compliance/heldout_cases.csv was written; never fitted on that
file): for each semantic rule, a turn is predicted a hit when its best cosine to an example is
>= t and above its best cosine to a counter-example (exactly ``eval_semantic``). t runs over
0.300, 0.305, ..., 0.900; the chosen threshold is the middle of the widest run of consecutive
t with the best F1 (ties: the lower run), rounded to 3 decimals. When a threshold changes,
the rule's ``version`` and the ``rulebook_version`` are bumped in the YAML (results are stored
per version), and a JSON report (PR curve, chosen band, encoder version) is written.

Usage: .venv/bin/python models/fit_compliance_thresholds.py [--dry-run] [--export-dev]
       [--rulebook PATH] [--report PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))  # tests.compliance.compliance_golden: the golden set's loader

DEV_CASES = REPO / "data" / "compliance" / "dev_cases.csv"
GOLDEN = REPO / "tests" / "golden" / "compliance" / "conversations.json"
RULEBOOK = REPO / "src" / "tierlens" / "config" / "rulebook.yaml"
REPORT = REPO / "models" / "compliance_thresholds.json"
GRID = [round(0.300 + 0.005 * i, 3) for i in range(121)]


def rule_similarities(rule, texts: list[str], encoder) -> tuple[np.ndarray, np.ndarray]:
    """(best cosine to an example, best cosine to a counter-example) per text, as the rule
    sees an agent chat turn; texts the rule skips (fewer than min_words words) get -1."""
    from tierlens.score.compliance import prepare_turns, semantic_scores

    ids = [f"t{i}" for i in range(len(texts))]
    turns = pl.DataFrame({"conversation_id": ids, "turn_index": [0] * len(texts),
                          "speaker": ["agent"] * len(texts), "text": texts,
                          "event": [None] * len(texts)},
                         schema_overrides={"turn_index": pl.Int32, "event": pl.String})
    conv = turns.select("conversation_id", channel=pl.lit("chat"))
    rows, scores, offsets = semantic_scores([rule], prepare_turns(conv, turns), None, encoder)
    start, k, m = offsets[rule.id]
    sim, counter = np.full(len(texts), -1.0), np.full(len(texts), -1.0)
    pos = np.array([int(c[1:]) for c in rows["conversation_id"]], dtype=int)
    if len(pos):
        sim[pos] = scores[:, start:start + k].max(axis=1)
        if m:
            counter[pos] = scores[:, start + k:start + k + m].max(axis=1)
    return sim, counter


def predict(sim: np.ndarray, counter: np.ndarray, t: float) -> np.ndarray:
    return (sim >= t) & (sim > counter)


def prf(pred: np.ndarray, y: np.ndarray) -> dict:
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def fit_threshold(sim: np.ndarray, counter: np.ndarray, y: np.ndarray) -> dict:
    """The middle of the widest run of grid thresholds with the best F1 (module docstring)."""
    curve = [{"threshold": t, **prf(predict(sim, counter, t), y)} for t in GRID]
    best = max(c["f1"] for c in curve)
    runs: list[list[float]] = []
    for c in curve:
        if c["f1"] == best:
            if runs and runs[-1][-1] == round(c["threshold"] - 0.005, 3):
                runs[-1].append(c["threshold"])
            else:
                runs.append([c["threshold"]])
    band = max(runs, key=len)  # max() keeps the first (lowest) of equally wide runs
    t = round((band[0] + band[-1]) / 2, 3)
    return {"threshold": t, "band": [band[0], band[-1]], "best_f1": best,
            "at_threshold": prf(predict(sim, counter, t), y), "curve": curve}


def read_cases(path: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """rule_id -> (texts, labels as a bool array) from a cases CSV with a ``label`` column."""
    out: dict[str, tuple[list[str], list[bool]]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            texts, ys = out.setdefault(r["rule_id"], ([], []))
            texts.append(r["text"])
            ys.append(r["label"].strip() == "1")
    return {k: (t, np.array(y, bool)) for k, (t, y) in out.items()}


def export_dev(rulebook, path: Path = DEV_CASES) -> int:
    """Write the golden set's semantic candidates (module docstring) to ``path``."""
    from tests.compliance.compliance_golden import load_golden
    from tierlens.score.compliance import evaluate_rulebook, prepare_turns, semantic_rows

    conv, turns, pii, expected = load_golden(GOLDEN)
    gold = set(expected.select("conversation_id", "rule_id", "turn_index").iter_rows())
    base = prepare_turns(conv, turns)
    out = []
    for rule in [r for r in rulebook.active_rules if r.kind == "semantic"]:
        rows = semantic_rows(rule, base)
        if rule.suppressed_by:
            kinds = {r.kind for r in rulebook.active_rules if r.id in rule.suppressed_by}
            hits, _ = evaluate_rulebook(rulebook, conv, turns, pii, kinds=kinds)
            cover = hits.filter(pl.col("rule_id").is_in(list(rule.suppressed_by)))
            rows = rows.join(cover.select("conversation_id", "turn_index"),
                             on=["conversation_id", "turn_index"], how="anti")
        out += [{"rule_id": rule.id, "text": r["text"],
                 "label": int((r["conversation_id"], rule.id, r["turn_index"]) in gold),
                 "source": f"golden:{r['conversation_id']}#{r['turn_index']}"}
                for r in rows.iter_rows(named=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(out).write_csv(path)
    return len(out)


def write_thresholds(path: Path, fitted: dict[str, float]) -> list[str]:
    """Set each rule's ``threshold:`` in the YAML text (comments kept); a changed threshold
    bumps the rule's ``version`` and the ``rulebook_version``. Returns the changed rule ids."""
    text = path.read_text(encoding="utf-8")
    changed = []
    for rule_id, t in fitted.items():
        block = re.search(rf"(?ms)^  - id: {re.escape(rule_id)}\n.*?(?=^  - id: |\Z)", text)
        if block is None:
            raise SystemExit(f"{path}: no rule {rule_id!r}")
        old = block.group(0)
        cur = float(re.search(r"(?m)^    threshold: ([0-9.]+)", old).group(1))
        if abs(cur - t) < 1e-9:
            continue
        new = re.sub(r"(?m)^    threshold: [0-9.]+", f"    threshold: {t}", old, count=1)
        new = re.sub(r'(?m)^    version: "?(\d+)"?',
                     lambda m: f'    version: "{int(m.group(1)) + 1}"', new, count=1)
        text = text.replace(old, new)
        changed.append(rule_id)
    if changed:
        text = re.sub(r'(?m)^rulebook_version: "([^"]*?)(\d+)"',
                      lambda m: f'rulebook_version: "{m.group(1)}{int(m.group(2)) + 1}"',
                      text, count=1)
        path.write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rulebook", type=Path, default=RULEBOOK)
    ap.add_argument("--report", type=Path, default=REPORT)
    ap.add_argument("--dry-run", action="store_true", help="report only; leave the YAML")
    ap.add_argument("--export-dev", action="store_true",
                    help="rebuild data/compliance/dev_cases.csv from the golden set first")
    args = ap.parse_args(argv)
    import common

    from tierlens.score.rules import load_rulebook

    book = load_rulebook(args.rulebook)
    if args.export_dev:
        print("dev cases:", export_dev(book))
    enc = common.encoder()
    cases = read_cases(DEV_CASES)
    report = {"encoder_version": enc.version, "dev_cases": str(DEV_CASES.relative_to(REPO)),
              "procedure": "middle of the widest best-F1 run on the grid 0.300..0.900 step "
                           "0.005 (models/fit_compliance_thresholds.py)", "rules": {}}
    for rule in [r for r in book.active_rules if r.kind == "semantic"]:
        texts, y = cases[rule.id]
        fit = fit_threshold(*rule_similarities(rule, texts, enc), y)
        fit.update(previous=rule.threshold, n=len(y), positives=int(y.sum()))
        report["rules"][rule.id] = fit
        print(f"{rule.id}: {rule.threshold} -> {fit['threshold']} (band {fit['band']}, "
              f"best F1 {fit['best_f1']}, n {len(y)}, positives {int(y.sum())})")
    if not args.dry_run:
        fitted = {k: v["threshold"] for k, v in report["rules"].items()}
        report["changed"] = write_thresholds(args.rulebook, fitted)
        print("rulebook:", args.rulebook, "changed:", report["changed"] or "nothing")
        if report["changed"]:
            print("next: update the thresholds and tables in docs/compliance.md (`threshold "
                  "**X**`; tests/compliance/compliance_golden.py prints the curves) and run "
                  "models/eval_compliance_heldout.py")
    args.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print("report:", args.report)


if __name__ == "__main__":
    main()
