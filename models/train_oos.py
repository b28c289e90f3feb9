"""Train the out-of-scope head ("the bot shouldn't be handling this") and choose its threshold.

Classifier: clinc150's 150 intents + the default taxonomy's intents (its non-test rows:
banking77, MultiDoGO, SGD, seeds; labels ``tax:*``) + ``oos`` (clinc150 ``oos_train``).
Learning many in-scope and out-of-taxonomy intents as separate classes gives far better OOS
recall than a binary in/out head. Model choice and temperature: a 20% hash slice of those
training rows (``sha1 % 5 == 1``).

Score (runtime: ``tierlens.score.oos.default_oos_score``): ``oos_score`` = 1 - the probability
mass of ``in_scope_labels`` = the ``tax:*`` classes, the clinc150 intents the taxonomy is built
from (intents.yaml ``sources``) and conversational acts (``CONVERSATIONAL``). Mass on a clinc150
intent the taxonomy lacks (weather, recipes, hotel booking, ...) counts as out of scope: with
p(``oos``) alone, "can you add a bag to my reservation" scored 0.0001 because the head put it
on clinc150 ``restaurant_reservation``, an intent the taxonomy does not have.

Threshold (``tierlens.score.oos.choose_threshold``: the middle of the band with recall >= 0.9
and <= 5% of in-scope requests flagged; else the largest recall at <= 5% flagged, said in
``threshold_rule``) is
chosen on VALIDATION rows only. clinc150 has no test split here, so its ``val`` and
``oos_val`` are halved by ``sha1(text) % 2``: half 0 is validation, half 1 is test.
- validation: in scope = the taxonomy's validation slice + clinc150 val half 0 of the
  taxonomy's clinc150 intents; out of scope = clinc150 ``oos_val`` half 0.
- test (never trained on, never used to choose): clinc150 ``oos_val`` half 1 (recall),
  banking77 held-out rows (in scope for the default taxonomy: ``banking77_is_test``), the
  taxonomy's other test rows, clinc150 val half 1 (its taxonomy intents in scope; the others
  reported as "clinc150 intents the taxonomy lacks", which are trained classes, not novel).

Usage: .venv/bin/python models/train_oos.py
"""

from __future__ import annotations

import json

import common
import intent_data
import numpy as np
from sklearn.metrics import roc_auc_score

from tierlens.config import load_intents
from tierlens.score.oos import choose_threshold

# clinc150 intents that are conversational acts, not requests: never out of scope
CONVERSATIONAL = ("greeting", "goodbye", "thank_you", "yes", "no", "maybe", "repeat")


def oos_metrics(score: np.ndarray, y: np.ndarray, threshold: float | None = None) -> dict:
    """AUROC, recall at 95% in-scope kept, and (with a threshold) the decision's rates."""
    ins, oos = score[y == 0], score[y == 1]
    t95 = float(np.quantile(ins, 0.95))
    out = {"auroc": float(roc_auc_score(y, score)),
           "oos_recall_at_inscope_recall_0.95": float((oos > t95).mean()),
           "n_in_scope": len(ins), "n_oos": len(oos)}
    if threshold is not None:
        pred = score >= threshold
        out["threshold"] = threshold
        out["oos_recall_at_threshold"] = float(pred[y == 1].mean())
        out["inscope_flagged_at_threshold"] = float(pred[y == 0].mean())
    return out


def in_scope_labels(labels: list[str]) -> list[str]:
    """The head's classes whose mass is in scope for the default taxonomy."""
    clinc_in = {s.label for it in load_intents() for s in it.sources if s.dataset == "clinc150"}
    return [lab for lab in labels
            if lab.startswith("tax:") or lab in clinc_in or lab in CONVERSATIONAL]


def scorer(layers, temp: float, labels: list[str]):
    """texts -> (1 - in-scope mass, p(oos)) under the calibrated head."""
    inside = [labels.index(lab) for lab in in_scope_labels(labels)]
    k = labels.index("oos")

    def score(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        p = common.softmax(common.logits_of(layers, common.embed(texts)) / temp)
        return np.clip(1 - p[:, inside].sum(1), 0, 1), p[:, k]
    return score


def held_out_sets() -> tuple[dict, dict]:
    """(validation sets, test sets): name -> texts (see the module docstring)."""
    clinc_in = {s.label for it in load_intents() for s in it.sources if s.dataset == "clinc150"}
    half = {h: [(t, c) for t, c in common.clinc150("val") if common.sha_bucket(t, 2) == h]
            for h in (0, 1)}
    oos_half = {h: [t for t, _ in common.clinc150("oos_val") if common.sha_bucket(t, 2) == h]
                for h in (0, 1)}
    rows = intent_data.intent_rows()
    tax_val = [t for t, _, _ in rows if intent_data.split_of(t) != "test"
               and common.sha_bucket(t, 5) == 1]
    val = {"in_scope": tax_val + [t for t, c in half[0] if c in clinc_in],
           "oos": oos_half[0]}
    test = {"oos: clinc150 oos_val half 1": oos_half[1],
            "in scope: banking77 held-out (sha1 % 5 == 0)":
                [t for t, _, s in rows if s == "banking77" and common.banking77_is_test(t)],
            "in scope: other taxonomy test rows (MultiDoGO, SGD, clinc150, seeds)":
                [t for t, _, s in rows if s != "banking77" and intent_data.split_of(t) == "test"],
            "in scope: clinc150 val half 1, the taxonomy's clinc150 intents":
                [t for t, c in half[1] if c in clinc_in],
            "clinc150 val half 1, intents the taxonomy lacks (trained classes)":
                [t for t, c in half[1] if c not in clinc_in and c not in CONVERSATIONAL]}
    return val, test


def decision_report(score_fn, which: int, val: dict, test: dict) -> dict:
    """Threshold on validation, then flagged shares on every test set (with n and source)."""
    s_val = {k: score_fn(v)[which] for k, v in val.items()}
    chosen = choose_threshold({"in_scope": s_val["in_scope"]}, s_val["oos"])
    t = chosen["threshold"]
    flagged, n = {}, {}
    for name, texts in test.items():
        s = score_fn(texts)[which]
        flagged[name], n[name] = float((s >= t).mean()), len(texts)
    oos_te = score_fn(test["oos: clinc150 oos_val half 1"])[which]
    ins_te = np.concatenate([score_fn(v)[which] for k, v in test.items()
                             if k.startswith("in scope")])
    y = np.r_[np.zeros(len(ins_te)), np.ones(len(oos_te))]
    return {**chosen, "test": {"flagged_by_set": flagged, "n_by_set": n,
                               **oos_metrics(np.r_[ins_te, oos_te], y, t)}}


def main() -> None:
    clinc_tr = common.clinc150("train")
    clinc_texts = {t for t, _ in clinc_tr}
    # in scope = clinc150's 150 intents + every non-test row of the default taxonomy
    # (banking77, MultiDoGO, SGD, seeds); test rows of the taxonomy are only scored
    tax = [(t, "tax:" + i) for t, i, _ in intent_data.intent_rows()
           if intent_data.split_of(t) != "test" and t not in clinc_texts]
    labels = sorted({c for _, c in clinc_tr} | {c for _, c in tax}) + ["oos"]
    idx = {lab: i for i, lab in enumerate(labels)}
    oos = idx["oos"]
    rows = [(t, idx[c]) for t, c in clinc_tr] + [(t, idx[c]) for t, c in tax]
    rows += [(t, oos) for t, _ in common.clinc150("oos_train")]
    tr = [r for r in rows if common.sha_bucket(r[0], 5) != 1]
    va = [r for r in rows if common.sha_bucket(r[0], 5) == 1]
    x_tr, x_va = common.embed([r[0] for r in tr]), common.embed([r[0] for r in va])
    y_tr, y_va = np.array([r[1] for r in tr]), np.array([r[1] for r in va])
    yb_va = (y_va == oos).astype(int)
    print("train", len(y_tr), (y_tr == oos).sum(), "val", len(y_va), yb_va.sum())
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
    z_va = common.logits_of(layers, x_va)
    temp = common.fit_temperature(z_va, y_va)
    val, test = held_out_sets()
    score_fn = scorer(layers, temp, labels)
    shipped = decision_report(score_fn, 0, val, test)
    p_oos_only = decision_report(score_fn, 1, val, test)
    val_ece = {"uncalibrated": common.ece(common.softmax(z_va), y_va),
               "calibrated": common.ece(common.softmax(z_va / temp), y_va)}
    print(json.dumps({"config": cfg, "temperature": temp, "shipped": shipped,
                      "p_oos_only": p_oos_only}, indent=1))
    meta = {"task": "out of scope for the default taxonomy: oos_score = 1 - calibrated "
                    "probability mass of `in_scope_labels` in a classifier over the taxonomy, "
                    "clinc150 intents and oos",
            "data": "clinc150 train + oos_train; default-taxonomy non-test rows (labels `tax:*`)",
            "split": "model choice/temperature: sha1(text) % 5 == 1 of the training rows; "
                     "threshold: validation = taxonomy validation slice + clinc150 val/oos_val "
                     "with sha1 % 2 == 0; test = clinc150 val/oos_val with sha1 % 2 == 1, "
                     "banking77 held-out, other taxonomy test rows (never trained on or used "
                     "to choose)",
            "in_scope_labels": in_scope_labels(labels),
            "threshold": shipped["threshold"], "threshold_met": shipped["met"],
            "threshold_rule": shipped["rule"], "n_train": len(y_tr), "config": cfg,
            "metrics": {"validation": shipped["validation"], "test": shipped["test"],
                        "p_oos_only_for_comparison": {
                            "threshold": p_oos_only["threshold"],
                            "validation_oos_recall": p_oos_only["validation"]["oos_recall"],
                            "validation_in_scope_flagged":
                                p_oos_only["validation"]["in_scope_flagged"],
                            "test_flagged_by_set": p_oos_only["test"]["flagged_by_set"]},
                        "val_ece_all_classes": val_ece},
            "tried": tried}
    print("wrote", common.save_head("oos", layers, labels, temp, meta))


if __name__ == "__main__":
    main()
