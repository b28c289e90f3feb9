"""Model heads: small numpy networks that read the shared 384-d sentence embedding.

A head is two files in a heads folder (the served one: :func:`default_heads_dir` of the
settings, which the entry points pass in):
- ``<name>.npz``: the layer weights ``w0, b0, w1, b1, ...`` (float16 on disk; W is (in, out));
  ReLU between layers, none after the last;
- ``<name>.json``: ``kind`` (``classifier`` or ``regressor``), ``labels``, ``temperature``
  (fitted on a validation split), the encoder version it was trained on, its metrics and
  the data it was trained on (see models/cards/).

Classifier probabilities are ``softmax(logits / temperature)``. A head's ``version`` is the
name plus a hash of its files, so any retrain changes ``model_version``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tierlens.errors import ModelError
from tierlens.settings import Settings

HEAD_NAMES = ("sentiment", "intent", "oos", "bot_outcome", "csat", "resolution")


def default_heads_dir(settings: Settings) -> Path:
    """The heads folder ``settings`` serve: ``models_dir / "heads"``."""
    return Path(settings.models_dir) / "heads"


@dataclass(frozen=True)
class Head:
    """One trained head (immutable). Grain of its outputs: one row per input embedding."""

    name: str
    kind: str
    labels: tuple[str, ...]
    temperature: float
    layers: tuple[tuple[np.ndarray, np.ndarray], ...] = field(repr=False)
    meta: dict = field(repr=False, default_factory=dict)
    digest: str = ""

    @property
    def version(self) -> str:
        return f"{self.name}@{self.digest}"

    def logits(self, emb: np.ndarray) -> np.ndarray:
        h = np.asarray(emb, np.float32)
        if h.ndim != 2 or h.shape[1] != self.layers[0][0].shape[0]:
            raise ModelError(f"head {self.name!r} expects (n, {self.layers[0][0].shape[0]}) "
                             f"embeddings, got {h.shape}")
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        return h

    def predict_proba(self, emb: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, shape (n, len(labels))."""
        if self.kind != "classifier":
            raise ModelError(f"head {self.name!r} is a {self.kind}, not a classifier")
        z = self.logits(emb) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(label per row, calibrated confidence of that label)."""
        p = self.predict_proba(emb)
        idx = p.argmax(axis=1)
        return np.asarray(self.labels, dtype=object)[idx], p[np.arange(len(p)), idx]

    def regress(self, emb: np.ndarray) -> np.ndarray:
        """Regressor output, clipped to ``meta['range']`` when given."""
        if self.kind != "regressor":
            raise ModelError(f"head {self.name!r} is a {self.kind}, not a regressor")
        y = self.logits(emb)[:, 0]
        lo, hi = self.meta.get("range", (-np.inf, np.inf))
        return np.clip(y, lo, hi)


def save_head(name: str, layers: list[tuple[np.ndarray, np.ndarray]], labels: list[str],
              temperature: float, meta: dict, out_dir: Path, encoder_version: str,
              kind: str = "classifier") -> Path:
    """Write a head's ``.npz`` + ``.json``; returns the json path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for i, (w, b) in enumerate(layers):
        arrays[f"w{i}"] = np.asarray(w, np.float16)
        arrays[f"b{i}"] = np.asarray(b, np.float32)
    np.savez_compressed(out_dir / f"{name}.npz", **arrays)
    doc = {"name": name, "kind": meta.pop("kind", kind), "labels": list(labels),
           "temperature": float(temperature), "encoder_version": encoder_version,
           "n_layers": len(layers), **meta}
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
    return path


_CACHE: dict[tuple[str, str], Head] = {}
_LOCK = threading.Lock()


def load_head(name: str, heads_dir: Path) -> Head:
    """Load (once per process and folder) the head ``name`` from ``heads_dir``."""
    folder = Path(heads_dir)
    key = (str(folder.resolve()), name)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        jpath, npath = folder / f"{name}.json", folder / f"{name}.npz"
        if not jpath.exists() or not npath.exists():
            raise ModelError(f"model head {name!r} not found in {folder} (need {name}.json and "
                             f"{name}.npz); train it with models/train_{name}.py")
        head = head_from_bytes(name, jpath.read_bytes(), npath.read_bytes(), str(folder))
        _CACHE[key] = head
        return head


def head_from_bytes(name: str, json_bytes: bytes, npz_bytes: bytes, where: str) -> Head:
    """A head from the contents of its ``.json`` and ``.npz`` (``where``: for messages).
    Its digest, and so its version, is the same as when loaded from files."""
    import io

    try:
        meta = json.loads(json_bytes.decode("utf-8"))
        with np.load(io.BytesIO(npz_bytes)) as z:
            n = int(meta["n_layers"])
            layers = tuple((z[f"w{i}"].astype(np.float32), z[f"b{i}"].astype(np.float32))
                           for i in range(n))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"model head {name!r} in {where} is unreadable: {exc}") from exc
    digest = hashlib.sha1(json_bytes + npz_bytes).hexdigest()[:8]
    head = Head(name=name, kind=meta.get("kind", "classifier"),
                labels=tuple(meta.get("labels", ())),
                temperature=float(meta.get("temperature", 1.0)), layers=layers,
                meta=meta, digest=digest)
    if head.kind == "classifier" and len(head.labels) != layers[-1][0].shape[1]:
        raise ModelError(f"model head {name!r}: {len(head.labels)} labels but "
                         f"{layers[-1][0].shape[1]} outputs; retrain it")
    return head


def clear_cache() -> None:
    """Forget loaded heads (after retraining in the same process)."""
    with _LOCK:
        _CACHE.clear()
