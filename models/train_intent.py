"""Train the default intent head from the taxonomy in src/tierlens/config/intents.yaml.

Rows: every dataset row mapped by an intent's ``sources`` plus its handwritten ``seeds``
(models/intent_data.py). Split by text hash: sha1(text) % 5 == 0 TEST (for banking77 exactly
the project's held-out 20%), sha1(text) % 10 == 1 VALIDATION (model choice + temperature),
rest TRAIN. The chosen config is refit on TRAIN + VALIDATION for the shipped head.
Primary metric: accuracy on the banking77 test rows (predictions over the whole taxonomy).

Usage: .venv/bin/python models/train_intent.py
"""

from __future__ import annotations

import json

import common
import intent_data
import numpy as np
import yaml

# earlier runs (70/10/20 split, banking77 test accuracy): LR 0.898, MLP-512 0.907,
# MLP-1024 (30 epochs, dropout 0.3) 0.917, MLP-2048 (40 epochs, dropout 0.5) 0.911
CANDIDATES = [{"hidden": 0, "epochs": 30, "lr": 1e-2, "dropout": 0.0, "batch": 256},
              {"hidden": 1024, "epochs": 60, "lr": 2e-3, "dropout": 0.5, "batch": 256},
              {"hidden": 2048, "epochs": 80, "lr": 2e-3, "dropout": 0.5, "batch": 256}]
# also tried on this encoder (2026-11-23, validation / banking77 test, not shipped): no class
# weights 0.9184/0.9206; dropout 0.6 + weight decay 1e-3 + 100 epochs 0.9143/0.9172; another
# seed 0.9122/0.9163; an average of 2 seeds' MLPs 0.9174/0.9172 (seed noise is ~0.2 points)


def main() -> None:
    from tierlens.config import load_intents
    rows = intent_data.intent_rows()
    labels = [it.name for it in load_intents()]
    li = {lab: i for i, lab in enumerate(labels)}
    parts = {p: [r for r in rows if intent_data.split_of(r[0]) == p]
             for p in ("train", "val", "test")}
    fixes = common.corrections("intent", labels)  # reviewers' corrections: training only
    if fixes:
        fixed = {t for t, _ in fixes}
        parts = {p: [r for r in v if r[0] not in fixed] for p, v in parts.items()}
        parts["train"] += [(t, lab, "correction") for t, lab in fixes]
    x = {p: common.embed([r[0] for r in rs]) for p, rs in parts.items()}
    y = {p: np.array([li[r[1]] for r in rs]) for p, rs in parts.items()}
    counts = np.bincount(y["train"], minlength=len(labels)).astype(np.float32)
    weight = np.sqrt(np.median(counts) / np.maximum(counts, 1))
    print({p: len(v) for p, v in y.items()}, flush=True)
    b77_val = np.array([r[2] == "banking77" for r in parts["val"]])

    def selection(layers) -> float:
        """Validation accuracy on the whole taxonomy and on its banking77 rows (the issue's
        target), weighted equally."""
        pred = common.logits_of(layers, x["val"]).argmax(1)
        ok = pred == y["val"]
        return float((ok.mean() + ok[b77_val].mean()) / 2)

    res = common.fit_classifier(x["train"], y["train"], x["val"], y["val"], x["test"],
                                y["test"], len(labels), CANDIDATES, class_weight=weight,
                                select_fn=selection)
    # final head: the chosen config refit on train + validation (10% more data); the
    # temperature fitted on validation with the train-only model is kept
    x_all = np.vstack([x["train"], x["val"]])
    y_all = np.concatenate([y["train"], y["val"]])
    counts_all = np.bincount(y_all, minlength=len(labels)).astype(np.float32)
    res["layers"] = common.train_mlp(x_all, y_all, len(labels), class_weight=np.sqrt(
        np.median(counts_all) / np.maximum(counts_all, 1)), **res["config"])
    z_te = common.logits_of(res["layers"], x["test"])
    res["test"] = common.evaluate_probs(common.softmax(z_te / res["temperature"]), y["test"],
                                        len(labels))
    res["test_uncal"] = common.evaluate_probs(common.softmax(z_te), y["test"], len(labels))
    b77 = np.array([r[2] == "banking77" for r in parts["test"]])
    p_te = common.softmax(common.logits_of(res["layers"], x["test"]) / res["temperature"])
    b77_metrics = common.evaluate_probs(p_te[b77], y["test"][b77], len(labels))
    seed = np.array([r[2] == "seed" for r in parts["test"]])
    seed_acc = float((p_te[seed].argmax(1) == y["test"][seed]).mean()) if seed.any() else None
    for t, ls in zip(res["tried"], res["candidate_layers"], strict=True):
        pt = common.softmax(common.logits_of(ls, x["test"][b77]))
        t["test_banking77_accuracy"] = float((pt.argmax(1) == y["test"][b77]).mean())
    out = {"config": res["config"], "temperature": res["temperature"],
           "test_all": res["test"], "test_all_uncal": res["test_uncal"],
           "test_banking77": b77_metrics, "test_seed_accuracy": seed_acc,
           "tried": res["tried"]}
    print(json.dumps(out, indent=1))
    meta = {"task": "customer intent (default taxonomy)",
            "taxonomy_version": yaml.safe_load(
                (common.REPO / "src/tierlens/config/intents.yaml").read_text())["version"],
            "data": "intents.yaml sources (banking77, clinc150, multidogo, sgd) + seeds",
            "split": "sha1(text) % 5 == 0 test (banking77: the project's held-out 20%), "
                     "sha1(text) % 10 == 1 validation (model choice: mean of all-row and "
                     "banking77-row accuracy; temperature), rest "
                     "train; shipped head refit on train + validation",
            "n_train": len(y["train"]), "config": res["config"],
            "metrics": {"test_banking77": b77_metrics, "test_all": res["test"],
                        "test_all_uncalibrated": res["test_uncal"], "val": res["val"],
                        "test_seed_accuracy": seed_acc, "n_test_seed": int(seed.sum())},
            "tried": res["tried"]}
    print("wrote", common.save_head("intent", res["layers"], labels, res["temperature"], meta))


if __name__ == "__main__":
    main()
