"""Train the out-of-scope head ("the bot shouldn't be handling this") from clinc150.

A classifier over clinc150's 150 intents + the default taxonomy's intents (its non-test
rows: banking77, MultiDoGO, SGD, seeds) + ``oos`` (clinc150 ``oos_train``); ``oos_score`` is
its calibrated p(oos). A first version without the MultiDoGO/seed rows flagged 76% of
in-taxonomy MultiDoGO test turns at its threshold: the in-scope side must cover our domain. Learning the in-scope
intents as separate classes gives far better OOS recall than a binary in/out head
(test recall 0.57 -> ~0.9 at in-scope recall 0.95, see the model card). Validation (model choice, temperature, threshold): a 20% hash
slice of those. Test (never trained on): clinc150 ``val`` (in-scope) + ``oos_val``.

Primary metric: OOS recall at the threshold that keeps 95% of in-scope turns in scope
(in-scope recall 0.95), plus AUROC; reported on the test split.

Usage: .venv/bin/python models/train_oos.py
"""

from __future__ import annotations

import json

import common
import intent_data
import numpy as np
from sklearn.metrics import roc_auc_score


def oos_metrics(score: np.ndarray, y: np.ndarray, threshold: float | None = None) -> dict:
    ins, oos = score[y == 0], score[y == 1]
    t95 = float(np.quantile(ins, 0.95))
    out = {"auroc": float(roc_auc_score(y, score)),
           "oos_recall_at_inscope_recall_0.95": float((oos > t95).mean()),
           "n_in_scope": len(ins), "n_oos": len(oos)}
    if threshold is not None:
        pred = score > threshold
        out["threshold"] = threshold
        out["oos_recall_at_threshold"] = float(pred[y == 1].mean())
        out["inscope_recall_at_threshold"] = float((~pred[y == 0]).mean())
        tp_in = float((~pred[y == 0]).sum())
        out["inscope_precision_at_threshold"] = tp_in / max(tp_in + float((~pred[y == 1]).sum()),
                                                            1.0)
    return out


def main() -> None:
    clinc_tr = common.clinc150("train")
    clinc_texts = {t for t, _ in clinc_tr}
    # in scope = clinc150's 150 intents + every non-test row of the default taxonomy
    # (banking77, MultiDoGO, SGD, seeds); test rows of the taxonomy are only scored
    tax = [(t, "tax:" + i) for t, i, _ in intent_data.intent_rows()
           if intent_data.split_of(t) != "test" and t not in clinc_texts]
    tax_test = [t for t, _, src in intent_data.intent_rows()
                if intent_data.split_of(t) == "test" and src != "banking77"]
    labels = sorted({c for _, c in clinc_tr} | {c for _, c in tax}) + ["oos"]
    idx = {lab: i for i, lab in enumerate(labels)}
    oos = idx["oos"]
    rows = [(t, idx[c]) for t, c in clinc_tr] + [(t, idx[c]) for t, c in tax]
    rows += [(t, oos) for t, _ in common.clinc150("oos_train")]
    tr = [r for r in rows if common.sha_bucket(r[0], 5) != 1]
    va = [r for r in rows if common.sha_bucket(r[0], 5) == 1]
    te = [(t, 0) for t, _ in common.clinc150("val")] + [(t, 1) for t, _ in
                                                         common.clinc150("oos_val")]
    x_tr, x_va = common.embed([r[0] for r in tr]), common.embed([r[0] for r in va])
    x_te = common.embed([t for t, _ in te])
    y_tr, y_va = np.array([r[1] for r in tr]), np.array([r[1] for r in va])
    y_te = np.array([y for _, y in te])
    yb_va = (y_va == oos).astype(int)
    print("train", len(y_tr), (y_tr == oos).sum(), "val", len(y_va), yb_va.sum(),
          "test", np.bincount(y_te))
    tried, best = [], None
    for hidden, cw in ((512, 10.0), (512, 3.0)):
        cfg = {"hidden": hidden, "epochs": 20, "lr": 3e-3}
        w = np.ones(len(labels), np.float32)
        w[oos] = cw
        layers = common.train_mlp(x_tr, y_tr, len(labels), class_weight=w, **cfg)
        s_va = common.softmax(common.logits_of(layers, x_va))[:, oos]
        m = oos_metrics(s_va, yb_va)
        tried.append({"config": {**cfg, "oos_weight": cw}, "val": m})
        print(cfg, cw, m, flush=True)
        key = (m["oos_recall_at_inscope_recall_0.95"], m["auroc"])
        if best is None or key > best[0]:
            best = (key, layers, {**cfg, "oos_weight": cw})
    _, layers, cfg = best
    z_va, z_te = common.logits_of(layers, x_va), common.logits_of(layers, x_te)
    temp = common.fit_temperature(z_va, y_va)
    s_va = common.softmax(z_va / temp)[:, oos]
    threshold = float(np.quantile(s_va[yb_va == 0], 0.95))
    s_te = common.softmax(z_te / temp)[:, oos]
    s_te_uncal = common.softmax(z_te)[:, oos]
    p_te = np.stack([1 - s_te, s_te], 1)
    test = {**oos_metrics(s_te, y_te, threshold), **common.evaluate_probs(p_te, y_te, 2)}
    test_uncal = common.evaluate_probs(np.stack([1 - s_te_uncal, s_te_uncal], 1), y_te, 2)
    s_tax = common.softmax(common.logits_of(layers, common.embed(tax_test)) / temp)[:, oos]
    test["taxonomy_test_rows_flagged_at_threshold"] = float((s_tax > threshold).mean())
    test["taxonomy_test_rows_flagged_at_0.5"] = float((s_tax > 0.5).mean())
    test["n_taxonomy_test_rows"] = len(tax_test)
    val_ece = {"uncalibrated": common.ece(common.softmax(z_va), y_va),
               "calibrated": common.ece(common.softmax(z_va / temp), y_va)}
    print(json.dumps({"config": cfg, "temperature": temp, "test": test,
                      "test_uncal": test_uncal, "val_ece_all_classes": val_ece}, indent=1))
    meta = {"task": "out-of-scope for the bot: oos_score = calibrated p(`oos`) of a classifier "
                    "over clinc150 + banking77 intents + oos",
            "data": "clinc150 train + oos_train; default-taxonomy non-test rows (labels `tax:*`)",
            "split": "validation = sha1(text) % 5 == 1 of the training rows; test = clinc150 "
                     "val + oos_val (never trained on)",
            "threshold": threshold, "n_train": len(y_tr), "config": cfg,
            "metrics": {"test": test, "test_uncalibrated": test_uncal,
                        "val_ece_all_classes": val_ece}, "tried": tried}
    print("wrote", common.save_head("oos", layers, labels, temp, meta))


if __name__ == "__main__":
    main()
