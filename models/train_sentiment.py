"""Train the sentiment head (negative / neutral / positive) for customer-service turns.

Data:
- in-domain: data/sentiment/items.csv labelled by two annotators (labels_a.csv, labels_b.csv;
  gold.csv = adjudicated labels when present, else the items both annotators agree on).
  Split by item id, as the labelled set defines it: TEST iff sha1(item_id) % 3 == 0; of the
  rest sha1(item_id) % 5 == 1 is VALIDATION (model choice, temperature), the others TRAIN.
- models/sentiment_seeds.csv: 75 customer-service sentences written by the tierlens team
  (thanks after a fix, complaints stated as facts, plain requests), added to TRAIN only:
  the labelled items come from intent datasets, which have almost no "thanks, it works now".
- extra (optional, chosen on validation): tweeteval val + test tweets, except a held-out
  slice (sha1(text) % 5 == 0 of tweeteval test) kept for a secondary macro-recall check and
  a validation slice (sha1(text) % 5 == 1 of the rest) used in the model choice.
Model choice: best in-domain validation macro-F1; a candidate within 0.02 of it wins if its
macro-recall on the tweet validation slice is higher.
If no in-domain labels exist yet, trains on tweeteval only and says so in the metadata.

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


def main() -> None:
    rows, info = in_domain()
    tw_train, tw_held = tweet_rows()
    parts = {p: [r for r in rows if split_of(r[2]) == p] for p in ("train", "val", "test")}
    if not rows:  # fallback: tweets only (clearly marked), validation = a tweet slice
        parts = {"train": [r for r in tw_train if common.sha_bucket(r[0], 5) != 1],
                 "val": [r for r in tw_train if common.sha_bucket(r[0], 5) == 1],
                 "test": tw_held}
    seeds = [(r["text"], LABELS.index(r["label"]), "seed")
             for r in common.read_csv(SEEDS)] if rows else []
    parts["train"] = parts["train"] + seeds  # handwritten seeds: training only, never scored
    fixes = [(t, LABELS.index(lab), "correction") for t, lab in
             common.corrections("sentiment", LABELS)] if rows else []
    if fixes:  # reviewers' corrections: training only; a corrected text leaves val/test
        fixed = {t for t, _, _ in fixes}
        parts = {p: [r for r in v if r[0] not in fixed] for p, v in parts.items()}
        parts["train"] += fixes
        info["reviewer_corrections"] = len(fixes)
    x = {p: common.embed([r[0] for r in v]) for p, v in parts.items()}
    y = {p: np.array([r[1] for r in v]) for p, v in parts.items()}
    x_tw = common.embed([r[0] for r in tw_train])
    y_tw = np.array([r[1] for r in tw_train])
    x_twh, y_twh = common.embed([r[0] for r in tw_held]), np.array([r[1] for r in tw_held])
    print(info, {p: np.bincount(v, minlength=3).tolist() for p, v in y.items()}, flush=True)
    tried: list[dict] = []
    # a validation slice of the training tweets (never trained on) for the secondary check
    tw_val = np.array([common.sha_bucket(t, 5) == 1 for t, _ in tw_train])
    x_twv, y_twv = x_tw[tw_val], y_tw[tw_val]
    x_tw, y_tw = x_tw[~tw_val], y_tw[~tw_val]
    variants = [("in-domain", 0, 0), ("in-domain", 0, 256)] if rows else [("tweets", 0, 0)]
    if rows:
        variants += [(f"in-domain + tweets ({k}x as many)", k, 256) for k in (1, 3, 6)]
    rng = np.random.default_rng(0)
    for name, tw_w, hidden in variants:
        xt, yt = x["train"], y["train"]
        if tw_w:  # add a random sample of tweets, tw_w times as many as in-domain rows
            pick = rng.permutation(len(x_tw))[:int(tw_w * len(xt))]
            xt = np.vstack([xt, x_tw[pick]])
            yt = np.concatenate([yt, y_tw[pick]])
        cw = len(yt) / (3 * np.maximum(np.bincount(yt, minlength=3), 1))
        cfg = {"hidden": hidden, "epochs": 60 if hidden else 80,
               "lr": 2e-3 if hidden else 1e-2, "dropout": 0.2 if hidden else 0.0}
        layers = common.train_mlp(xt, yt, 3, class_weight=cw.astype(np.float32), **cfg)
        pv = common.softmax(common.logits_of(layers, x["val"]))
        m = common.evaluate_probs(pv, y["val"], 3)
        m["tweet_val_macro_recall"] = macro_recall(
            y_twv, common.logits_of(layers, x_twv).argmax(1))
        p_tw_c = common.softmax(common.logits_of(layers, x_twh)).argmax(1)
        tried.append({"data": name, "config": cfg, "val": m, "_layers": layers,
                      "test_in_domain_macro_f1": common.macro_f1(
                          y["test"], common.logits_of(layers, x["test"]).argmax(1), 3),
                      "test_tweeteval_macro_recall": macro_recall(y_twh, p_tw_c)})
        print(name, cfg, m, flush=True)
    # choice (validation only): the best in-domain macro-F1, except that a candidate within
    # 0.02 of it wins if it generalises better to the tweet validation slice (robustness to
    # social-media complaints, the secondary check)
    top = max(t["val"]["macro_f1"] for t in tried)
    near = [t for t in tried if t["val"]["macro_f1"] >= top - 0.02]
    chosen = max(near, key=lambda t: t["val"]["tweet_val_macro_recall"])
    layers, cfg, name = chosen["_layers"], chosen["config"], chosen["data"]
    for t in tried:
        t.pop("_layers")
    z_va, z_te = common.logits_of(layers, x["val"]), common.logits_of(layers, x["test"])
    temp = common.fit_temperature(z_va, y["val"])
    test = common.evaluate_probs(common.softmax(z_te / temp), y["test"], 3)
    test_uncal = common.evaluate_probs(common.softmax(z_te), y["test"], 3)
    p_tw = common.softmax(common.logits_of(layers, x_twh) / temp).argmax(1)
    tweet_check = {"macro_recall": macro_recall(y_twh, p_tw),
                   "macro_f1": common.macro_f1(y_twh, p_tw, 3), "n": len(y_twh)}
    out = {"data": name, "config": cfg, "temperature": temp, "test_in_domain": test,
           "test_in_domain_uncalibrated": test_uncal, "tweeteval_heldout": tweet_check,
           "label_info": info}
    print(json.dumps(out, indent=1))
    meta = {"task": "customer-turn sentiment; sentiment_score = p(positive) - p(negative)",
            "data": f"{name}; in-domain labels: {info.get('labels')}; plus {len(seeds)} "
                    "handwritten seeds (models/sentiment_seeds.csv, train only)",
            "split": "in-domain items: sha1(item_id) % 3 == 0 test; of the rest sha1(item_id) % 5 "
                     "== 1 validation, others train; "
                     "tweeteval held-out slice: sha1(text) % 5 == 0 of its test split",
            "label_info": info, "n_train": len(y["train"]), "config": cfg,
            "metrics": {"test_in_domain" if rows else "test_tweeteval_only": test,
                        "test_uncalibrated": test_uncal, "tweeteval_heldout": tweet_check},
            "tried": tried}
    print("wrote", common.save_head("sentiment", layers, LABELS, temp, meta))


if __name__ == "__main__":
    main()
