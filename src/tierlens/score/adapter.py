"""A LoRA delta for the sentence encoder: load it, name it, merge it into the base weights.

The adapter is one ``.npz`` file (``models/encoder/adapter.npz``, trained by
``models/train_encoder.py``): for every adapted Linear layer ``<module>`` of the base model it
holds ``<module>.lora_A`` (r x in) and ``<module>.lora_B`` (out x r) in float16, plus a
``scaling`` scalar (lora_alpha / r). Merging adds ``scaling * B @ A`` (computed in float32)
to the layer's weight, so the merged model is an ordinary BERT: same graph, same cost per
forward, exported and quantized exactly like the frozen one.

The digest is a hash of the array names and bytes (not of the zip file, whose timestamps
change with every save): the encoder version carries it, so embeddings and heads from
different adapters never mix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tierlens.errors import ModelError

_A, _B = ".lora_A", ".lora_B"


def load_adapter(path: Path) -> dict[str, np.ndarray]:
    """The adapter's arrays by name; ModelError naming the file if it is missing or broken."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"encoder adapter {path} not found; set encoder_adapter to an "
                         "existing file or to empty for the frozen base")
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"encoder adapter {path} is not a readable .npz: {exc}") from exc
    if "scaling" not in arrays or not any(k.endswith(_A) for k in arrays):
        raise ModelError(f"encoder adapter {path} holds no LoRA factors (lora_A/lora_B, scaling)")
    for k in arrays:
        if k.endswith(_A) and k[:-len(_A)] + _B not in arrays:
            raise ModelError(f"encoder adapter {path}: {k} has no matching lora_B")
    return arrays


def adapter_digest(arrays: dict[str, np.ndarray]) -> str:
    """12 hex digits identifying the adapter's content (names, shapes, dtypes, bytes)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:12]


def save_adapter(path: Path, factors: dict[str, tuple[np.ndarray, np.ndarray]],
                 scaling: float) -> str:
    """Write ``{module: (A, B)}`` as float16 + scaling; return the digest."""
    arrays: dict[str, np.ndarray] = {"scaling": np.asarray(scaling, np.float32)}
    for name, (a, b) in factors.items():
        arrays[name + _A] = np.asarray(a, np.float16)
        arrays[name + _B] = np.asarray(b, np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return adapter_digest(arrays)


def merge_adapter(model, arrays: dict[str, np.ndarray]) -> int:
    """Add ``scaling * B @ A`` to each named Linear weight of ``model`` in place.

    Returns the number of layers changed. Module names are those of the base
    ``AutoModel`` (e.g. ``encoder.layer.0.attention.self.query``)."""
    import torch

    modules = dict(model.named_modules())
    scaling = float(arrays["scaling"])
    n = 0
    with torch.no_grad():
        for key in sorted(arrays):
            if not key.endswith(_A):
                continue
            name = key[:-len(_A)]
            layer = modules.get(name)
            if layer is None or not hasattr(layer, "weight"):
                raise ModelError(f"encoder adapter: the base model has no layer {name!r}")
            a = torch.from_numpy(arrays[key].astype(np.float32))
            b = torch.from_numpy(arrays[name + _B].astype(np.float32))
            if tuple(layer.weight.shape) != (b.shape[0], a.shape[1]):
                raise ModelError(f"encoder adapter: {name} is {tuple(layer.weight.shape)}, "
                                 f"the adapter's delta is {(b.shape[0], a.shape[1])}")
            layer.weight += scaling * (b @ a)
            n += 1
    return n
