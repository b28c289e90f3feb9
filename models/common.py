"""Shared helpers for the training scripts in models/ (data loading, embedding, fitting).

Only the scripts in models/ import this; runtime code never reads /work/shared.
Embeddings are computed once with the served encoder precision and cached under
``$TIERLENS_TRAIN_CACHE`` (default /tmp/models/cache) by the encoder's own text-hash cache.
The encoder is the served one: with ``TIERLENS_ENCODER_ADAPTER`` set, the LoRA adapter is
merged in and the cache folder and the heads' ``encoder_version`` name its digest. Heads go
to ``$TIERLENS_TRAIN_HEADS_DIR`` (default models/heads), so an experiment can leave the
shipped heads alone. :func:`settings` is the one place the training scripts read tierlens's
settings (the adapter, the exported int8 graph's folder, the handle-time caps).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import itertools
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

SHARED = Path(os.environ.get("TIERLENS_SHARED_DATA", REPO.parent / "shared" / "data"))
TRAIN_CACHE = Path(os.environ.get("TIERLENS_TRAIN_CACHE", "/tmp/models/cache"))
HEADS_DIR = Path(os.environ.get("TIERLENS_TRAIN_HEADS_DIR", REPO / "models" / "heads"))
PRECISION = os.environ.get("TIERLENS_TRAIN_PRECISION", "int8")

_ENCODER = None


def settings():
    """tierlens's settings (environment and ``.env``), read once."""
    from tierlens.settings import get_settings

    return get_settings()


def encoder(precision: str = PRECISION, frozen: bool = False):
    """The served encoder (its adapter, its int8 graph) at ``precision`` on the training
    cache, 2 threads; the one at the training precision is kept. ``frozen``: the base
    without the adapter, built the same way (for comparisons with the frozen encoder)."""
    global _ENCODER
    served = precision == PRECISION and not frozen
    if served and _ENCODER is not None:
        return _ENCODER
    import torch

    from tierlens.score.encoder import Encoder
    torch.set_num_threads(2)
    s = settings()
    enc = Encoder(precision, cache_dir=TRAIN_CACHE, threads=2, runtime_dir=s.cache_dir / "onnx",
                  adapter=None if frozen else s.encoder_adapter)
    if served:
        _ENCODER = enc
    return enc


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of ``texts`` (cached across scripts and runs)."""
    return encoder().encode(list(texts))


def sha_bucket(text: str, mod: int = 5) -> int:
    """``int(sha1(text), 16) % mod``: the project's deterministic split rule."""
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % mod


# -- datasets ---------------------------------------------------------------------------
def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def banking77() -> list[tuple[str, str]]:
    """(text, category) rows of banking77 train.csv."""
    return [(r["text"], r["category"]) for r in read_csv(SHARED / "intents/banking77/train.csv")]


def banking77_is_test(text: str) -> bool:
    """banking77 held-out rule: TEST iff sha1(text) % 5 == 0 (the simulator excludes these)."""
    return sha_bucket(text, 5) == 0


def clinc150(split: str) -> list[tuple[str, str]]:
    """(text, intent) rows of clinc150 ``train``, ``val``, ``oos_train`` or ``oos_val``."""
    return [(r["text"], r["intent"]) for r in read_csv(SHARED / f"intents/clinc150/{split}.csv")]


def sgd_dialogues() -> list[dict]:
    with gzip.open(SHARED / "dialogues/sgd_dev/dialogues.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def multidogo(domain: str, split: str = "train") -> list[dict[str, str]]:
    path = SHARED / f"intents/multidogo/{domain}/{split}.tsv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def uss_dialogues() -> list[dict]:
    """USS dialogues: {'id', 'source', 'turns': [(role, text, act, mean_rating|None)],
    'overall': mean overall rating}."""
    out = []
    for name in ("SGD", "MWOZ"):
        text = (SHARED / f"satisfaction/uss/{name}.txt").read_text(encoding="utf-8",
                                                                    errors="replace")
        for i, block in enumerate(text.strip().split("\n\n")):
            turns, overall = [], None
            for line in block.strip().split("\n"):
                parts = line.split("\t")
                if len(parts) < 2:
                    continue
                role, utt = parts[0].strip(), parts[1].strip()
                act = parts[2].strip() if len(parts) > 2 else ""
                rating = None
                if len(parts) > 3 and parts[3].strip():
                    vals = [float(x) for x in parts[3].split(",") if x.strip()]
                    rating = float(np.mean(vals)) if vals else None
                if role == "USER" and utt == "OVERALL":
                    overall = rating
                    continue
                turns.append((role, utt, act, rating))
            if turns:
                out.append({"id": f"{name}-{i}", "source": name, "turns": turns,
                            "overall": overall})
    return out


def tweeteval(split: str) -> list[tuple[str, int]]:
    """(text, label) with 0 negative, 1 neutral, 2 positive; split 'val' or 'test'."""
    d = SHARED / "sentiment/tweeteval"
    texts = (d / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (d / f"{split}_labels.txt").read_text(encoding="utf-8").split("\n")
    return [(t, int(y)) for t, y in zip(texts, labels, strict=False) if y.strip()]


# -- metrics ----------------------------------------------------------------------------
def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence (equal-width bins)."""
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def macro_f1(y: np.ndarray, pred: np.ndarray, n: int | None = None) -> float:
    """Macro-F1 over range(n) when n is given, else over the classes present in y."""
    from sklearn.metrics import f1_score
    labels = list(range(n)) if n else sorted(set(np.asarray(y).tolist()))
    return float(f1_score(y, pred, average="macro", labels=labels, zero_division=0))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the NLL of ``softmax(logits / T)`` on a validation split."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    res = minimize_scalar(nll, bounds=(-3, 3), method="bounded")
    return float(np.exp(res.x))


# -- fitting ----------------------------------------------------------------------------
def train_mlp(x: np.ndarray, y: np.ndarray, n_classes: int, hidden: int = 0,
              epochs: int = 60, lr: float = 2e-3, weight_decay: float = 1e-4,
              dropout: float = 0.1, class_weight: np.ndarray | None = None,
              seed: int = 0, batch: int = 128) -> list[tuple[np.ndarray, np.ndarray]]:
    """Softmax regression (hidden=0) or a 1-hidden-layer ReLU MLP, trained with AdamW.

    Returns the layers as [(W, b), ...] with W of shape (in, out), ready for heads.py.
    """
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # tiny matrices: extra threads only add contention on 2 cores
    d = x.shape[1]
    if hidden:
        net = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(d, hidden),
                                  torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                  torch.nn.Linear(hidden, n_classes))
    else:
        net = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(d, n_classes))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    xt = torch.from_numpy(np.asarray(x, np.float32))
    yt = torch.from_numpy(np.asarray(y, np.int64))
    w = torch.from_numpy(np.asarray(class_weight, np.float32)) if class_weight is not None \
        else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=w)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
            for m in linears]


def logits_of(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    h = np.asarray(x, np.float32)
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    return h


def save_head(name: str, layers: list[tuple[np.ndarray, np.ndarray]], labels: list[str],
              temperature: float, meta: dict, out_dir: Path | None = None) -> Path:
    """Write ``<name>.npz`` (float16 weights) + ``<name>.json`` (labels, T, metrics, version)."""
    from tierlens.score.heads import save_head as _save
    return _save(name, layers, labels, temperature, meta, out_dir or HEADS_DIR,
                 encoder_version=encoder().version)


def evaluate_probs(probs: np.ndarray, y: np.ndarray, n_classes: int) -> dict[str, float]:
    pred = probs.argmax(1)
    # macro-F1 over the classes present in y (a test slice may not hold every class)
    return {"accuracy": float((pred == y).mean()), "macro_f1": macro_f1(y, pred),
            "ece": ece(probs, y), "n": len(y)}


def fit_classifier(x_tr: np.ndarray, y_tr: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                   x_te: np.ndarray, y_te: np.ndarray, n_classes: int,
                   candidates: list[dict], select: str = "accuracy",
                   class_weight: np.ndarray | None = None, select_fn=None) -> dict:
    """Train each candidate config, pick the best on validation, calibrate T on validation.

    Returns {'layers', 'temperature', 'config', 'tried': [...], 'val', 'test', 'test_uncal'}.
    The test split is only scored, never used to choose anything. ``select_fn(layers)``, if
    given, replaces ``val[select]`` as the validation score to maximise.
    """
    tried, best, best_score = [], None, None
    for cfg in candidates:
        layers = train_mlp(x_tr, y_tr, n_classes, class_weight=class_weight, **cfg)
        val = evaluate_probs(softmax(logits_of(layers, x_val)), y_val, n_classes)
        # test numbers of every candidate are recorded for the model card, never used to choose
        tried.append({"config": cfg, "val": val, "_layers": layers,
                      "test": evaluate_probs(softmax(logits_of(layers, x_te)), y_te, n_classes)})
        print(f"  {cfg} -> val acc {val['accuracy']:.4f} f1 {val['macro_f1']:.4f}", flush=True)
        score = select_fn(layers) if select_fn is not None else val[select]
        tried[-1]["val"]["selection_score"] = float(score)
        if best is None or score > best_score:
            best, best_score = (layers, val, cfg), score
    layers, _, cfg = best
    temp = fit_temperature(logits_of(layers, x_val), y_val)
    z_te = logits_of(layers, x_te)
    test_uncal = evaluate_probs(softmax(z_te), y_te, n_classes)
    test = evaluate_probs(softmax(z_te / temp), y_te, n_classes)
    val_cal = evaluate_probs(softmax(logits_of(layers, x_val) / temp), y_val, n_classes)
    extra = {}
    for t in tried:  # callers may compute more test numbers per candidate, then drop them
        extra[id(t)] = t.pop("_layers")
    return {"layers": layers, "temperature": temp, "config": cfg, "tried": tried,
            "candidate_layers": [extra[id(t)] for t in tried],
            "val": val_cal, "test": test, "test_uncal": test_uncal}


def corrections(label_type: str, known: Sequence[str]) -> list[tuple[str, str]]:
    """Reviewers' label corrections from the dashboard's review store, as (text, label).

    The store is ``$TIERLENS_REVIEWS`` or ``data/reviews/reviews.sqlite``; none there means
    none. Only labels in ``known`` are kept. Training scripts add these to the training
    split only, never to validation or test (a corrected text is dropped from those).
    """
    from tierlens.reviews.store import export_corrections

    path = Path(os.environ.get("TIERLENS_REVIEWS", REPO / "data/reviews/reviews.sqlite"))
    frame = export_corrections(path, label_type)
    allowed = set(known)
    return [(t, lab) for t, lab in frame.iter_rows() if lab in allowed]
