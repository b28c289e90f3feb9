"""The encoder: shape, normalisation, dedup, on-disk cache, int8 fidelity (real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from score_helpers import ONNX

from tierlens.errors import ModelError
from tierlens.score.encoder import DIM, EmbeddingCache, Encoder, encoder_version

SAMPLE = ["I was charged twice for the same order", "What time do you open on Saturday?",
          "Thanks, that fixed it!", "My card hasn't arrived yet",
          "I want to talk to a real person", "Your booking is confirmed.",
          "Is there anything else I can help you with?", "hello",
          "I've been waiting three weeks and nobody helps me",
          "Can you reset my password please, I'm locked out of the app since yesterday"]


def test_shape_dtype_and_unit_norm(encoder: Encoder) -> None:
    v = encoder.encode(SAMPLE)
    assert v.shape == (len(SAMPLE), DIM) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert encoder.encode([]).shape == (0, DIM)


def test_order_is_preserved_across_length_buckets(encoder: Encoder) -> None:
    texts = SAMPLE[::-1] + ["a much longer sentence " * 20]
    together = encoder.encode(texts)
    for i in (0, 3, len(texts) - 1):
        alone = encoder.encode([texts[i]])
        assert float(alone[0] @ together[i]) > 0.999


def test_identical_texts_are_encoded_once(tmp_path) -> None:
    enc = Encoder("int8", cache_dir=None, threads=2, runtime_dir=ONNX)
    v = enc.encode(["same text", "other text", "same text", "same text"])
    assert enc.forward_texts == 2
    np.testing.assert_array_equal(v[0], v[2])


def test_disk_cache_avoids_reencoding_across_runs(encoder: Encoder, tmp_path) -> None:
    saved = encoder.cache
    try:
        _check_cache(encoder, tmp_path)
    finally:
        encoder.cache = saved


def _check_cache(encoder: Encoder, tmp_path) -> None:
    encoder.cache = EmbeddingCache(tmp_path / "emb")
    texts = [f"cache probe number {i}" for i in range(7)]
    first = encoder.encode(texts)
    calls, n = encoder.forward_calls, encoder.forward_texts
    encoder.cache = EmbeddingCache(tmp_path / "emb")  # a fresh run reads the shards on disk
    again = encoder.encode(texts + ["one new text"])
    assert encoder.forward_texts == n + 1  # only the new text went through the model
    assert encoder.forward_calls == calls + 1
    np.testing.assert_allclose(again[:7], first, atol=1e-6)
    encoder.cache.compact()
    assert len(list((tmp_path / "emb").glob("shard-*.npz"))) == 1
    assert len(EmbeddingCache(tmp_path / "emb")) == 8


def test_cache_keys_with_trailing_nul_bytes_round_trip(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "c")
    keys = [b"\x01" * 15 + b"\x00", b"\x00" * 16, b"abc" + b"\x00" * 13]
    vecs = np.eye(3, DIM, dtype=np.float32)
    cache.put(keys, vecs)
    found, got = EmbeddingCache(tmp_path / "c").get(keys)
    assert found.all()
    np.testing.assert_array_equal(got, vecs)


def test_int8_stays_close_to_fp32(encoder: Encoder, encoder_fp32: Encoder) -> None:
    a, b = encoder.encode(SAMPLE), encoder_fp32.encode(SAMPLE)
    cos = (a * b).sum(axis=1)
    assert cos.min() >= 0.97, cos


def test_versions_name_the_precision(encoder: Encoder, encoder_fp32: Encoder) -> None:
    assert encoder.version == encoder_version("int8", encoder.adapter_digest)
    assert encoder.version.endswith("/int8-pt")
    assert encoder_fp32.version.endswith("/fp32")
    # the shipped adapter is merged by default, and the version names it
    assert encoder.adapter_digest and f"+lora-{encoder.adapter_digest}/" in encoder.version
    assert encoder.version.startswith("all-MiniLM-L6-v2@")


def test_int8_embedding_depends_on_the_text_only(encoder: Encoder) -> None:
    """Dynamic int8 scales activations per input tensor: in a batch, a text's embedding would
    depend on its batch mates (cosine down to 0.93 measured). Per-text forwards make it a
    function of the text alone: bit-identical alone, in any company, with any thread count."""
    from tierlens.score.encoder import Encoder as Fresh

    long = "my card was charged twice for the same order and nobody answers the phone " * 6
    texts = [*SAMPLE, long, "ok", "Where is my parcel?"]
    together = encoder._encode_unique(texts)
    alone = np.vstack([encoder._encode_unique([t]) for t in texts])
    reversed_ = encoder._encode_unique(texts[::-1])[::-1]
    single = Fresh("int8", cache_dir=None, threads=1, runtime_dir=ONNX,
                   adapter=encoder.adapter_path)
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(together, reversed_)
    np.testing.assert_array_equal(together[:3], single._encode_unique(texts[:3]))


def test_unknown_precision_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="precision"):
        Encoder("fp8")


# -- the LoRA adapter (models/encoder/adapter.npz) merged in at load time ----------------------
ADAPTER = Path(__file__).resolve().parents[2] / "models" / "encoder" / "adapter.npz"


@pytest.fixture(scope="module")
def adapted(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    """The int8 encoder with the committed adapter merged in (own embedding cache)."""
    return Encoder("int8", cache_dir=tmp_path_factory.mktemp("emb-lora"), threads=2,
                   runtime_dir=ONNX, adapter=ADAPTER)


def test_adapter_changes_embeddings_and_version(adapted: Encoder,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    from tierlens.score.adapter import adapter_digest, load_adapter

    frozen = Encoder("int8", cache_dir=tmp_path_factory.mktemp("emb-frozen"), threads=2,
                     adapter=None)
    digest = adapter_digest(load_adapter(ADAPTER))
    assert adapted.version == encoder_version("int8", digest)
    assert f"+lora-{digest}/int8-pt" in adapted.version and adapted.version != frozen.version
    assert frozen.version == encoder_version("int8")
    a, b = adapted.encode(SAMPLE), frozen.encode(SAMPLE)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    cos = (a * b).sum(axis=1)
    assert cos.max() < 0.9999, cos  # the delta moved every embedding ...
    assert cos.mean() > 0.5, cos  # ... without destroying them: the geometry is kept
    iu = np.triu_indices(len(SAMPLE), 1)
    rho = np.corrcoef((a @ a.T)[iu], (b @ b.T)[iu])[0, 1]
    assert rho > 0.6, rho


def test_adapted_int8_is_bit_stable_per_text(adapted: Encoder) -> None:
    texts = [*SAMPLE, "ok", "Where is my parcel?"]
    together = adapted._encode_unique(texts)
    alone = np.vstack([adapted._encode_unique([t]) for t in texts])
    reversed_ = adapted._encode_unique(texts[::-1])[::-1]
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(together, reversed_)
    again = Encoder("int8", cache_dir=None, threads=1, runtime_dir=ONNX,
                    adapter=ADAPTER)  # a second load
    np.testing.assert_array_equal(together[:4], again._encode_unique(texts[:4]))


def test_adapted_fp32_is_the_merged_model(adapted: Encoder) -> None:
    fp32 = Encoder("fp32", cache_dir=None, threads=2, adapter=ADAPTER)
    assert fp32.version.startswith(adapted.version.split("/")[0]) and fp32.version.endswith("/fp32")
    cos = (fp32.encode(SAMPLE) * adapted.encode(SAMPLE)).sum(axis=1)
    assert cos.min() >= 0.97, cos  # int8 of the merged graph tracks its fp32


def test_embedding_cache_is_keyed_by_encoder_version(tmp_path) -> None:
    """Frozen and adapted embeddings live in different cache folders and never mix."""
    frozen = Encoder("fp32", cache_dir=tmp_path, threads=2, adapter=None)
    lora = Encoder("fp32", cache_dir=tmp_path, threads=2, adapter=ADAPTER)
    assert frozen.cache.folder != lora.cache.folder
    v0 = frozen.encode(SAMPLE[:3])
    v1 = lora.encode(SAMPLE[:3])
    assert lora.forward_texts == 3  # nothing was served from the frozen encoder's cache
    assert not np.allclose(v0, v1, atol=1e-3)
    for enc in (frozen, lora):
        assert enc.version.replace("/", "_") == enc.cache.folder.name


def test_adapter_setting_empty_means_frozen(monkeypatch) -> None:
    from tierlens.settings import Settings

    monkeypatch.setenv("TIERLENS_ENCODER_ADAPTER", "")
    assert Settings().encoder_adapter is None
    monkeypatch.setenv("TIERLENS_ENCODER_ADAPTER", str(ADAPTER))
    assert Settings().encoder_adapter == ADAPTER


def test_missing_adapter_is_one_line_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="nowhere.npz not found"):
        Encoder("fp32", cache_dir=None, adapter=tmp_path / "nowhere.npz")
