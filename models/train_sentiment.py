"""Train the sentiment head (negative / neutral / positive) for customer-service turns.

Data:
- customer-voice (data/sentiment/customer_voice/, gold.csv): real customer turns (MultiDoGO,
  USS low-rated turns, TweetEval) and project-written complaint-style messages, labelled twice
  by GUIDELINE.md v2. Its own split: TRAIN (real + written) trains, VALIDATION chooses the
  model, TEST (real customer text only, never used for any choice) is the card's headline.
- v1 in-domain: data/sentiment/items.csv labelled by two annotators (gold.csv adjudicated),
  mostly neutral intent-data requests. TEST iff sha1(item_id) % 3 == 0; of the rest
  sha1(item_id) % 5 == 1 is VALIDATION, the others TRAIN.
- models/sentiment_seeds.csv: 75 customer-service sentences written by the tierlens team,
  TRAIN only.
- tweets (optional, chosen on validation): tweeteval val + test, except a held-out slice
  (sha1(text) % 5 == 0 of tweeteval test) and a never-trained validation slice.
Model choice: the best mean of v1, customer-voice and tweet-slice validation macro-F1.
The temperature is fit on held-out REAL text (v1 validation + the real items of
customer-voice validation).
Headline: macro-F1, complaint-vs-not AUC and ECE on the customer-voice real test split.

Usage: .venv/bin/python models/train_sentiment.py
"""

from __future__ import annotations

import json
import sys

import common
import numpy as np

LABELS = ["negative", "neutral", "positive"]
SENT_DIR = common.REPO / "data" / "sentiment"
SEEDS = common.REPO / "models" / "sentiment_seeds.csv"  # handwritten by the tierlens team


def kappa(a: list[str], b: list[str]) -> float:
    from sklearn.metrics import cohen_kappa_score
    return float(cohen_kappa_score(a, b))


def split_of(item_id: str) -> str:
    """The labelled set's own split (data/sentiment/AGREEMENT.md): TEST iff
    int(sha1(item_id)) % 3 == 0; of the rest, sha1(item_id) % 5 == 1 is VALIDATION."""
    if common.sha_bucket(item_id, 3) == 0:
        return "test"
    return "val" if common.sha_bucket(item_id, 5) == 1 else "train"


def in_domain() -> tuple[list[tuple[str, int, str]], dict]:
    """(text, label, item_id) rows with trustworthy labels + a description of where they came from."""
    items = {r["item_id"]: r["text"] for r in common.read_csv(SENT_DIR / "items.csv")}
    info: dict = {}
    la = SENT_DIR / "labels_a.csv"
    lb = SENT_DIR / "labels_b.csv"
    if la.exists() and lb.exists():
        a = {r["item_id"]: r["label"].strip() for r in common.read_csv(la)}
        b = {r["item_id"]: r["label"].strip() for r in common.read_csv(lb)}
        both = sorted(set(a) & set(b))
        info["n_double_labelled"] = len(both)
        info["agreement"] = float(np.mean([a[i] == b[i] for i in both])) if both else None
        info["cohen_kappa"] = kappa([a[i] for i in both], [b[i] for i in both]) if both else None
    gold_path = SENT_DIR / "gold.csv"
    if gold_path.exists():
        gold = {r["item_id"]: r["label"].strip() for r in common.read_csv(gold_path)}
        info["labels"] = "gold.csv (adjudicated)"
    elif la.exists() and lb.exists():
        gold = {i: a[i] for i in both if a[i] == b[i]}
        info["labels"] = "items where annotators A and B agree (no gold.csv yet)"
    else:
        return [], {"labels": "none: no in-domain labels available"}
    rows = [(items[i], LABELS.index(lab), i) for i, lab in gold.items()
            if i in items and lab in LABELS]
    info["n_items"] = len(rows)
    return rows, info


def customer_voice() -> dict[str, list[tuple[str, int, str, bool]]]:
    """The customer-voice set by its own split: {split: [(text, label, item_id, is_real)]}.

    Labels are gold.csv (adjudicated); splits are the set's (train / validation / test, the
    test split real customer text only). Texts of USS and TweetEval items are resolved from
    the public data folder (data/scripts/build_customer_voice.py)."""
    sys.path.insert(0, str(common.REPO / "data" / "scripts"))
    import build_customer_voice as cv
    out: dict[str, list] = {"train": [], "validation": [], "test": []}
    for r in cv.load_labelled(cv.CV_DIR / "gold.csv", common.SHARED):
        out[r["split"]].append((r["text"], LABELS.index(r["label"]), r["item_id"],
                                r["source"] != "written"))
    return out


def tweet_rows() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(training tweets, held-out tweets)."""
    train = list(common.tweeteval("val"))
    held = []
    for t, y in common.tweeteval("test"):
        (held if common.sha_bucket(t, 5) == 0 else train).append((t, y))
    return train, held


def macro_recall(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import recall_score
    return float(recall_score(y, pred, average="macro", labels=[0, 1, 2], zero_division=0))


def real_metrics(probs: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy, macro-F1, ECE, n, and complaint-vs-not AUC (p(negative) for negative vs not)."""
    from sklearn.metrics import roc_auc_score
    m = common.evaluate_probs(probs, y, 3)
    if 0 < (y == 0).sum() < len(y):
        m["complaint_auc"] = float(roc_auc_score(y == 0, probs[:, 0]))
    return m


def main() -> None:
    rows, info = in_domain()
    cv = customer_voice()
    tw_train, tw_held = tweet_rows()
    parts = {p: [r for r in rows if split_of(r[2]) == p] for p in ("train", "val", "test")}
    seeds = [(r["text"], LABELS.index(r["label"]), "seed") for r in common.read_csv(SEEDS)]
    # customer-voice: its train split (real + written) trains; its validation split chooses
    # the model with the v1 validation split; its test split (real customers only) is the
    # headline and is never used for any choice
    cv_train = [(t, y, i) for t, y, i, _ in cv["train"]]
    cv_val = [(t, y, i) for t, y, i, _ in cv["validation"]]
    cv_val_real = [(t, y, i) for t, y, i, real in cv["validation"] if real]
    cv_test = [(t, y, i) for t, y, i, real in cv["test"] if real]
    parts["train"] = parts["train"] + seeds + cv_train
    fixes = [(t, LABELS.index(lab), "correction") for t, lab in
             common.corrections("sentiment", LABELS)]
    if fixes:  # reviewers' corrections: training only; a corrected text leaves val/test
        fixed = {t for t, _, _ in fixes}
        parts = {p: [r for r in v if r[0] not in fixed] for p, v in parts.items()}
        cv_val, cv_val_real, cv_test = ([r for r in v if r[0] not in fixed]
                                        for v in (cv_val, cv_val_real, cv_test))
        parts["train"] += fixes
        info["reviewer_corrections"] = len(fixes)
    parts.update(cv_val=cv_val, cv_test=cv_test,
                 calib=parts["val"] + cv_val_real)  # calibration: held-out REAL text only
    x = {p: common.embed([r[0] for r in v]) for p, v in parts.items()}
    y = {p: np.array([r[1] for r in v]) for p, v in parts.items()}
    x_tw = common.embed([r[0] for r in tw_train])
    y_tw = np.array([r[1] for r in tw_train])
    x_twh, y_twh = common.embed([r[0] for r in tw_held]), np.array([r[1] for r in tw_held])
    print(info, {p: np.bincount(v, minlength=3).tolist() for p, v in y.items()}, flush=True)
    tried: list[dict] = []
    tw_val = np.array([common.sha_bucket(t, 5) == 1 for t, _ in tw_train])
    x_twv, y_twv = x_tw[tw_val], y_tw[tw_val]  # real social posts: part of the model choice
    x_tw, y_tw = x_tw[~tw_val], y_tw[~tw_val]  # the validation slice is never trained on
    variants = [("labelled sets", 0, 0), ("labelled sets", 0, 256)]
    variants += [(f"labelled sets + tweets ({k}x as many)", k, 256) for k in (1, 2, 3)]
    rng = np.random.default_rng(0)
    for name, tw_w, hidden in variants:
        xt, yt = x["train"], y["train"]
        if tw_w:  # add a random sample of tweets, tw_w times as many as labelled rows
            pick = rng.permutation(len(x_tw))[:int(tw_w * len(xt))]
            xt = np.vstack([xt, x_tw[pick]])
            yt = np.concatenate([yt, y_tw[pick]])
        cw = len(yt) / (3 * np.maximum(np.bincount(yt, minlength=3), 1))
        cfg = {"hidden": hidden, "epochs": 60 if hidden else 80,
               "lr": 2e-3 if hidden else 1e-2, "dropout": 0.2 if hidden else 0.0}
        layers = common.train_mlp(xt, yt, 3, class_weight=cw.astype(np.float32), **cfg)
        val = {p: common.macro_f1(y[p], common.logits_of(layers, x[p]).argmax(1), 3)
               for p in ("val", "cv_val")}
        val["tweet_val"] = common.macro_f1(y_twv, common.logits_of(layers, x_twv).argmax(1), 3)
        val["selection"] = (val["val"] + val["cv_val"] + val["tweet_val"]) / 3
        tried.append({"data": name, "config": cfg, "val_macro_f1": val, "_layers": layers,
                      "cv_real_test_macro_f1 (record only)": common.macro_f1(
                          y["cv_test"], common.logits_of(layers, x["cv_test"]).argmax(1), 3)})
        print(name, cfg, val, flush=True)
    # choice (validation only): mean macro-F1 of the v1, customer-voice and tweet validation
    # splits (the tweets stand for complaints on social media, which the labelled sets lack)
    chosen = max(tried, key=lambda t: t["val_macro_f1"]["selection"])
    layers, cfg, name = chosen["_layers"], chosen["config"], chosen["data"]
    for t in tried:
        t.pop("_layers")
    temp = common.fit_temperature(common.logits_of(layers, x["calib"]), y["calib"])

    def probs(p: str, t: float = temp) -> np.ndarray:
        return common.softmax(common.logits_of(layers, x[p]) / t)

    headline = real_metrics(probs("cv_test"), y["cv_test"])
    by_source: dict[str, dict] = {}
    src = {r["item_id"]: r["source"].split("/")[0] for r in _cv_items()}
    for s_name in sorted({src[i] for _, _, i in cv_test}):
        keep = np.array([src[i] == s_name for _, _, i in cv_test])
        by_source[s_name] = real_metrics(probs("cv_test")[keep], y["cv_test"][keep])
    metrics = {
        "customer_voice_real_test": headline,
        "customer_voice_real_test_uncalibrated": real_metrics(probs("cv_test", 1.0),
                                                              y["cv_test"]),
        "customer_voice_real_test_by_source": by_source,
        "test_in_domain": real_metrics(probs("test"), y["test"]),
        "tweeteval_heldout": {**real_metrics(common.softmax(
            common.logits_of(layers, x_twh) / temp), y_twh),
            "macro_recall": macro_recall(y_twh, common.softmax(
                common.logits_of(layers, x_twh)).argmax(1))},
    }
    print(json.dumps({"data": name, "config": cfg, "temperature": temp, **metrics}, indent=1))
    meta = {"task": "customer-turn sentiment; sentiment_score = p(positive) - p(negative)",
            "data": f"{name}: v1 in-domain gold ({info.get('labels')}) train split + "
                    f"customer-voice gold train split ({len(cv_train)} items, real and "
                    f"written) + {len(seeds)} handwritten seeds (train only)",
            "split": "customer-voice: its own train / validation / test split (test = real "
                     "customer text only, never used for any choice); v1 in-domain items: "
                     "sha1(item_id) % 3 == 0 test, of the rest sha1(item_id) % 5 == 1 "
                     "validation; tweeteval held-out slice: sha1(text) % 5 == 0 of its test "
                     "split. Model choice: mean validation macro-F1 (v1, customer-voice, tweet "
                     "validation slice). "
                     "Temperature: fit on held-out REAL text (v1 validation + customer-voice "
                     f"validation real items, n={len(y['calib'])})",
            "calibration": "temperature scaling on held-out real text (v1 validation + the "
                           f"real customer-voice validation items, n={len(y['calib'])})",
            "label_info": info, "n_train": len(y["train"]), "config": cfg,
            "metrics": metrics, "tried": tried,
            "errors_on_headline_set": headline_errors(probs("cv_test"), y["cv_test"], cv_test)}
    print("wrote", common.save_head("sentiment", layers, LABELS, temp, meta))


def headline_errors(probs: np.ndarray, y: np.ndarray, rows: list, k: int = 12) -> list[dict]:
    """The most confident errors on the headline set whose text may be committed (MultiDoGO,
    CDLA-Permissive-1.0; USS and TweetEval texts stay out of the repository)."""
    src = {r["item_id"]: r["source"] for r in _cv_items()}
    wrong = [i for i in np.argsort(-probs.max(1)) if probs[i].argmax() != y[i]
             and src[rows[i][2]].startswith("multidogo")]
    return [{"text": rows[i][0].replace("|", "/"), "gold": LABELS[y[i]],
             "pred": LABELS[probs[i].argmax()], "p": float(probs[i].max()),
             "source": src[rows[i][2]]} for i in wrong[:k]]


def _cv_items() -> list[dict]:
    return common.read_csv(SENT_DIR / "customer_voice" / "items.csv")


if __name__ == "__main__":
    main()
