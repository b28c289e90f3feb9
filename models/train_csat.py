"""Train the predicted-satisfaction head (``csat``) from USS per-user-turn ratings.

Target: the mean of the annotators' 1-5 ratings of each USER turn (SGD and MultiWOZ parts).
Split by dialogue: sha1(dialogue id) % 5 == 0 test, == 1 validation, rest train.
Also measures how well conversation-level aggregates of the turn predictions track the
dialogue's OVERALL rating (used by tierlens.score.conversation).
Always reported as *predicted* CSAT.

Usage: .venv/bin/python models/train_csat.py
"""

from __future__ import annotations

import json

import common
import numpy as np
from scipy.stats import pearsonr, spearmanr


def buckets(v: np.ndarray) -> np.ndarray:
    """dissatisfied (< 2.5) = 0, neutral = 1, satisfied (> 3.5) = 2."""
    return np.where(v < 2.5, 0, np.where(v > 3.5, 2, 1))


def regress_metrics(pred: np.ndarray, y: np.ndarray, base: float) -> dict:
    return {"mae": float(np.abs(pred - y).mean()),
            "mae_constant_baseline": float(np.abs(base - y).mean()),
            "spearman": float(spearmanr(pred, y).statistic),
            "pearson": float(pearsonr(pred, y).statistic),
            "bucket_macro_f1": common.macro_f1(buckets(y), buckets(pred), 3),
            "n": len(y)}


def train_ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> list:
    from sklearn.linear_model import Ridge
    m = Ridge(alpha=alpha).fit(x, y)
    return [(m.coef_.reshape(-1, 1).astype(np.float32), np.array([m.intercept_], np.float32))]


def train_mlp_reg(x: np.ndarray, y: np.ndarray, hidden: int = 128, epochs: int = 30) -> list:
    import torch
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(x.shape[1], hidden),
                              torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(xt[idx])[:, 0], yt[idx])
            loss.backward()
            opt.step()
    net.eval()
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in lin]


def main() -> None:
    dialogues = common.uss_dialogues()
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for d in dialogues:
        b = common.sha_bucket(d["id"], 5)
        parts["test" if b == 0 else "val" if b == 1 else "train"].append(d)
    xs, ys = {}, {}
    for k, ds in parts.items():
        rows = [(t[1], t[3]) for d in ds for t in d["turns"] if t[0] == "USER" and t[3]]
        xs[k] = common.embed([r[0] for r in rows])
        ys[k] = np.array([r[1] for r in rows], np.float32)
    base = float(ys["train"].mean())
    tried, best = [], None
    for name, fn in [("ridge a=1", lambda: train_ridge(xs["train"], ys["train"], 1.0)),
                     ("ridge a=10", lambda: train_ridge(xs["train"], ys["train"], 10.0)),
                     ("mlp 128", lambda: train_mlp_reg(xs["train"], ys["train"]))]:
        layers = fn()
        m = regress_metrics(common.logits_of(layers, xs["val"])[:, 0], ys["val"], base)
        tried.append({"config": name, "val": m})
        print(name, m, flush=True)
        if best is None or m["mae"] < best[1]["mae"]:
            best = (layers, m, name)
    layers, _, name = best
    test = regress_metrics(np.clip(common.logits_of(layers, xs["test"])[:, 0], 1, 5),
                           ys["test"], base)
    # conversation level: aggregate the turn predictions, compare to the OVERALL rating
    agg = {"mean": [], "last": [], "min": [], "mean_last": []}
    overall = []
    for d in parts["test"]:
        utts = [t[1] for t in d["turns"] if t[0] == "USER"]
        if not utts or d["overall"] is None:
            continue
        p = np.clip(common.logits_of(layers, common.embed(utts))[:, 0], 1, 5)
        agg["mean"].append(p.mean())
        agg["last"].append(p[-1])
        agg["min"].append(p.min())
        agg["mean_last"].append(0.5 * p.mean() + 0.5 * p[-1])
        overall.append(d["overall"])
    overall = np.array(overall)
    conv = {k: {"spearman": float(spearmanr(v, overall).statistic),
                "mae": float(np.abs(np.array(v) - overall).mean())} for k, v in agg.items()}
    conv["constant_baseline_mae"] = float(np.abs(overall.mean() - overall).mean())
    print(json.dumps({"config": name, "test": test, "conversation": conv}, indent=1))
    meta = {"kind": "regressor", "range": [1.0, 5.0],
            "task": "predicted satisfaction (1-5) after a user turn",
            "data": "USS (SGD + MultiWOZ parts): mean annotator rating of each USER turn",
            "split": "by dialogue: sha1(id) % 5 == 0 test, == 1 validation, rest train",
            "n_train": len(ys["train"]), "config": name,
            "metrics": {"test": test, "conversation_test": conv}, "tried": tried}
    print("wrote", common.save_head("csat", layers, ["csat_predicted"], 1.0, meta))


if __name__ == "__main__":
    main()
