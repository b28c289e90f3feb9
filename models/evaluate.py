"""Evaluate every committed head on held-out splits that were never trained on.

Loads the heads through the runtime code (tierlens.score.heads, float16 weights as shipped)
and the served encoder precision, recomputes each metric from the shared data, and prints
one table. ``--json`` also writes the numbers to models/heads/evaluation.json.

Usage: .venv/bin/python models/evaluate.py [--json]
"""

from __future__ import annotations

import json
import sys

import common
import intent_data
import numpy as np
import train_bot_outcome
import train_csat
import train_oos
import train_resolution
import train_sentiment

from tierlens.score.heads import load_head
from tierlens.score.oos import default_oos_score


def _cls(head, texts: list[str], y: np.ndarray) -> dict:
    p = head.predict_proba(common.embed(texts))
    return common.evaluate_probs(p, y, len(head.labels))


def eval_intent() -> dict:
    head = load_head("intent", common.HEADS_DIR)
    li = {lab: i for i, lab in enumerate(head.labels)}
    test = [r for r in intent_data.intent_rows() if intent_data.split_of(r[0]) == "test"]
    b77 = [r for r in test if r[2] == "banking77"]
    return {"banking77 held-out 20%": _cls(head, [r[0] for r in b77],
                                           np.array([li[r[1]] for r in b77])),
            "all taxonomy test rows": _cls(head, [r[0] for r in test],
                                           np.array([li[r[1]] for r in test]))}


def eval_oos() -> dict:
    """Flagged share at the shipped threshold on each test set of train_oos (the runtime
    score: 1 - in-scope mass), plus AUROC of novel OOS against every in-scope set."""
    head = load_head("oos", common.HEADS_DIR)
    _, test = train_oos.held_out_sets()
    scores = {k: default_oos_score(head, common.embed(v)) for k, v in test.items()}
    out = {k: {"flagged_at_threshold": float((s >= head.meta["threshold"]).mean()),
               "n": len(s)} for k, s in scores.items()}
    ins = np.concatenate([s for k, s in scores.items() if k.startswith("in scope")])
    novel = scores["oos: clinc150 oos_val half 1"]
    y = np.r_[np.zeros(len(ins)), np.ones(len(novel))]
    out["novel oos vs in scope"] = train_oos.oos_metrics(np.r_[ins, novel], y,
                                                         head.meta["threshold"])
    return out


def eval_bot_outcome() -> dict:
    head = load_head("bot_outcome", common.HEADS_DIR)
    texts, y = train_bot_outcome.dataset()["test"]
    return {"SGD dev, test dialogues": _cls(head, texts, y)}


def eval_csat() -> dict:
    head = load_head("csat", common.HEADS_DIR)
    rows = [(t[1], t[3]) for d in common.uss_dialogues() if common.sha_bucket(d["id"], 5) == 0
            for t in d["turns"] if t[0] == "USER" and t[3]]
    y = np.array([r[1] for r in rows])
    pred = head.regress(common.embed([r[0] for r in rows]))
    base = float(head.meta["metrics"]["test"]["mae_constant_baseline"])
    m = train_csat.regress_metrics(pred, y, base)
    m["mae_constant_baseline"] = float(np.abs(y.mean() - y).mean())
    return {"USS test dialogues (user turns)": m}


def eval_resolution() -> dict:
    """The conversation-level resolution model through the runtime code, per test set."""
    import polars as pl

    from tierlens.score.resolution import LABELS, features, predict
    turns, scores, labels = train_resolution.scored_sets(3000)
    pred = predict(features(turns, scores), load_head("resolution", common.HEADS_DIR))
    frame = labels.join(pred, on="conversation_id").with_columns(
        *[pl.col(c).replace_strict({k: i for i, k in enumerate(LABELS)}, return_dtype=pl.Int64)
          .alias(a) for c, a in (("label", "y"), ("resolution", "p"))])
    out = train_resolution.evaluate_sets(frame, frame.get_column("p").to_numpy(), "test")
    for m in out.values():
        m.update({f"recall_{lab}": m[lab]["recall"] for lab in LABELS})
    return out


def eval_sentiment() -> dict:
    head = load_head("sentiment", common.HEADS_DIR)
    rows, _ = train_sentiment.in_domain()
    test = [r for r in rows if train_sentiment.split_of(r[2]) == "test"]
    out = {}
    if test:
        out["in-domain test (gold)"] = _cls(head, [r[0] for r in test],
                                             np.array([r[1] for r in test]))
    cv = [r for r in train_sentiment.customer_voice()["test"] if r[3]]  # real text only
    p_cv = head.predict_proba(common.embed([r[0] for r in cv]))
    out["customer-voice real test (headline)"] = train_sentiment.real_metrics(
        p_cv, np.array([r[1] for r in cv]))
    _, held = train_sentiment.tweet_rows()
    p = head.predict_proba(common.embed([t for t, _ in held]))
    y = np.array([v for _, v in held])
    m = common.evaluate_probs(p, y, 3)
    m["macro_recall"] = train_sentiment.macro_recall(y, p.argmax(1))
    out["tweeteval held-out slice"] = m
    return out


def main() -> None:
    results = {"intent": eval_intent(), "oos": eval_oos(), "bot_outcome": eval_bot_outcome(),
               "csat": eval_csat(), "sentiment": eval_sentiment(),
               "resolution": eval_resolution()}
    print(f"{'head':12} {'split':34} {'n':>6} {'acc':>7} {'macroF1':>8} {'ECE':>6}  other")
    for head, splits in results.items():
        for split, m in splits.items():
            other = {k: round(v, 3) for k, v in m.items() if k in (
                "auroc", "oos_recall_at_inscope_recall_0.95", "flagged_at_threshold",
                "oos_recall_at_threshold", "inscope_flagged_at_threshold", "mae", "mae_constant_baseline",
                "spearman", "macro_recall", "bucket_macro_f1", "recall_resolved",
                "recall_unresolved", "recall_abandoned", "complaint_auc")}
            acc = f"{m['accuracy']:.4f}" if "accuracy" in m else "-"
            f1 = f"{m['macro_f1']:.4f}" if "macro_f1" in m else "-"
            ece = f"{m['ece']:.4f}" if "ece" in m else "-"
            print(f"{head:12} {split:34} {m.get('n', m.get('n_in_scope', 0)):>6} {acc:>7} "
                  f"{f1:>8} {ece:>6}  {other}")
    if "--json" in sys.argv:
        path = common.HEADS_DIR / "evaluation.json"
        path.write_text(json.dumps(results, indent=1) + "\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
