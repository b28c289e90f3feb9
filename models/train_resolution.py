"""Train the conversation-level resolution model (resolved / unresolved / abandoned).

Data (models/resolution_data.py): SGD dev dialogues with their notify-act outcome plus cut
variants (abandoned), USS (SGD and MultiWOZ parts, same rules), and a simulated set with
planted resolutions. Every turn is scored by the shipped heads (the same code as the pipeline),
then ``tierlens.score.resolution.features`` turns each conversation into a feature row.
Model: multinomial logistic regression on standardised features (class-balanced), C chosen
on the validation split; saved as the head ``resolution`` (one linear layer, the feature
standardisation in its json).

Usage: .venv/bin/python models/train_resolution.py [--sim-conversations 3000]
"""

from __future__ import annotations

import argparse
import json

import common
import numpy as np
import polars as pl
import resolution_data as rd

CACHE = common.TRAIN_CACHE / "resolution"


def scored_sets(sim_n: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(turns, turn scores, labels) for every source, cached under the training cache by the
    model version that scored them (new encoder or heads: new scores, never stale ones)."""
    import hashlib

    from tierlens.score.heads import HEAD_NAMES
    from tierlens.score.turns import load_heads, model_version, score_embeddings, turn_keys
    from tierlens.simulate import simulate

    # the turn heads score the turns; the resolution head (retrained here, so possibly still
    # the previous encoder's) takes no part in the encoder check or the cache key
    heads = {k: h for k, h in load_heads(common.HEADS_DIR).items() if k != "resolution"}
    version = model_version(common.encoder(), heads, [k for k in HEAD_NAMES if k in heads])
    tag = hashlib.sha1(version.encode()).hexdigest()[:10]
    paths = [CACHE / f"{n}-{sim_n}-{tag}.parquet" for n in ("turns", "scores", "labels")]
    if all(p.exists() for p in paths):
        return tuple(pl.read_parquet(p) for p in paths)  # type: ignore[return-value]

    sim_dir = CACHE / f"sim-{sim_n}"
    if not (sim_dir / "ground_truth.jsonl.gz").exists():
        simulate(sim_n, 3, 11, sim_dir, handle=common.settings().handle_time)
    convs = rd.sgd() + rd.uss() + rd.simulated(sim_dir)
    turns, labels = rd.to_frames(convs)
    keys = turn_keys(turns)
    print(f"{labels.height} conversations, {keys.height} turns to score", flush=True)
    emb = common.embed(keys.get_column("text").to_list())
    scores = score_embeddings(keys.select("conversation_id", "turn_index", "speaker"), emb,
                              heads, version)
    CACHE.mkdir(parents=True, exist_ok=True)
    for p, f in zip(paths, (turns, scores, labels), strict=True):
        f.write_parquet(p)
    return turns, scores, labels


def per_class(y: np.ndarray, pred: np.ndarray) -> dict:
    """Precision, recall and support per label, accuracy, and the confusion (true -> pred)."""
    from tierlens.score.resolution import LABELS
    out: dict = {"n": len(y), "accuracy": float((y == pred).mean()) if len(y) else None}
    for i, lab in enumerate(LABELS):
        tp = int(((pred == i) & (y == i)).sum())
        out[lab] = {"precision": tp / max(int((pred == i).sum()), 1),
                    "recall": tp / max(int((y == i).sum()), 1), "support": int((y == i).sum())}
    out["confusion"] = {LABELS[i]: {LABELS[j]: int(((y == i) & (pred == j)).sum())
                                    for j in range(len(LABELS))} for i in range(len(LABELS))}
    return out


def fit_lr(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y)


def evaluate_sets(frame: pl.DataFrame, pred: np.ndarray, split: str) -> dict:
    """Per-source metrics on one split; 'real' pools SGD dev and both USS parts."""
    y = frame.get_column("y").to_numpy()
    res = {}
    groups = {"real (SGD dev + USS)": frame.get_column("source") != "sim",
              **{s: frame.get_column("source") == s
                 for s in ("sgd", "uss_sgd", "uss_mwoz", "sim")}}
    for name, m in groups.items():
        m = (m & (frame.get_column("split") == split)).to_numpy()
        res[name] = per_class(y[m], pred[m])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim-conversations", type=int, default=3000)
    ap.add_argument("--no-mwoz-train", action="store_true",
                    help="leave the USS MultiWOZ part out of training (still evaluated)")
    a = ap.parse_args()
    from tierlens.score.resolution import FEATURES, LABELS, features, matrix

    turns, scores, labels = scored_sets(a.sim_conversations)
    frame = (features(turns, scores).join(labels, on="conversation_id", how="inner")
             .with_columns(y=pl.col("label").replace_strict(
                 {k: i for i, k in enumerate(LABELS)}, return_dtype=pl.Int64)))
    print(frame.group_by("source", "split", "label").len().sort("source", "split", "label"))
    x, y = matrix(frame), frame.get_column("y").to_numpy()
    part = {k: (frame.get_column("split") == k).to_numpy() for k in ("train", "val", "test")}
    if a.no_mwoz_train:
        part["train"] &= (frame.get_column("source") != "uss_mwoz").to_numpy()
    mean = x[part["train"]].mean(0)
    scale = x[part["train"]].std(0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    real_val = part["val"] & (frame.get_column("source") != "sim").to_numpy()
    tried, best = [], None
    for c in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0):
        m = fit_lr(z[part["train"]], y[part["train"]], c)
        pv = m.predict(z)
        val = per_class(y[part["val"]], pv[part["val"]])
        real = per_class(y[real_val], pv[real_val])
        score = min(real[lab]["recall"] for lab in LABELS) + min(
            val[lab]["recall"] for lab in LABELS)
        tried.append({"C": c, "val_accuracy": val["accuracy"], "select_score": score})
        print(f"C={c}: val acc {val['accuracy']:.3f} min-recall score {score:.3f}", flush=True)
        if best is None or score > best[1]:
            best = (m, score, c)
    model, _, c = best
    layers = [(model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32))]
    logits_val = z[part["val"]] @ layers[0][0] + layers[0][1]
    temperature = common.fit_temperature(logits_val, y[part["val"]])
    pred = model.predict(z)
    metrics = {"test": evaluate_sets(frame, pred, "test"), "val": evaluate_sets(frame, pred,
                                                                                "val")}
    print(json.dumps(metrics["test"], indent=1))
    coef = {f: dict(zip(LABELS, map(float, model.coef_[:, j]), strict=True))
            for j, f in enumerate(FEATURES)}
    meta = {"task": "conversation resolution (resolved / unresolved / abandoned)",
            "data": "SGD dev (notify acts + cut variants), USS SGD + MultiWOZ parts (acts + cut "
                    f"variants), simulator ({a.sim_conversations} conversations, seed 11)",
            "split": "by dialogue / conversation id: sha1 % 5 == 0 test, == 1 validation, "
                     "rest train (cut variants share their dialogue's split)",
            "n_train": int(part["train"].sum()), "config": f"logistic regression C={c}",
            "features": list(FEATURES), "feature_mean": mean.tolist(),
            "feature_scale": scale.tolist(), "coefficients": coef,
            "metrics": metrics, "tried": tried}
    path = common.save_head("resolution", layers, list(LABELS), temperature, meta)
    print("wrote", path)


if __name__ == "__main__":
    main()
