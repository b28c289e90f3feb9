"""The LoRA adapter: file format, digest, errors, and the exact merge into the base weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from score_helpers import HEADS

from tierlens.errors import ModelError
from tierlens.score.adapter import adapter_digest, load_adapter, merge_adapter, save_adapter

NAME = "encoder.layer.0.attention.self.query"


def _factors(seed: int = 0, out: int = 6, inp: int = 5, r: int = 2):
    rng = np.random.default_rng(seed)
    return {NAME: (rng.normal(size=(r, inp)), rng.normal(size=(out, r)))}


class _Tiny(torch.nn.Module):
    """A module tree with the base model's layer names (one Linear of shape (6, 5))."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.Module()
        self.encoder.layer = torch.nn.ModuleList([torch.nn.Module()])
        self.encoder.layer[0].attention = torch.nn.Module()
        self.encoder.layer[0].attention.self = torch.nn.Module()
        self.encoder.layer[0].attention.self.query = torch.nn.Linear(5, 6)


def test_save_load_round_trip_keeps_float16_and_digest(tmp_path) -> None:
    path = tmp_path / "a.npz"
    digest = save_adapter(path, _factors(), scaling=2.0)
    arrays = load_adapter(path)
    assert arrays[NAME + ".lora_A"].dtype == np.float16
    assert adapter_digest(arrays) == digest and len(digest) == 12
    save_adapter(tmp_path / "b.npz", _factors(), scaling=2.0)  # same content, new file
    assert adapter_digest(load_adapter(tmp_path / "b.npz")) == digest
    assert save_adapter(tmp_path / "c.npz", _factors(seed=1), scaling=2.0) != digest
    assert save_adapter(tmp_path / "d.npz", _factors(), scaling=1.0) != digest


def test_merge_adds_the_scaled_low_rank_product(tmp_path) -> None:
    path = tmp_path / "a.npz"
    save_adapter(path, _factors(), scaling=2.0)
    arrays = load_adapter(path)
    model = _Tiny()
    before = model.encoder.layer[0].attention.self.query.weight.detach().clone()
    assert merge_adapter(model, arrays) == 1
    a = arrays[NAME + ".lora_A"].astype(np.float32)
    b = arrays[NAME + ".lora_B"].astype(np.float32)
    after = model.encoder.layer[0].attention.self.query.weight.detach().numpy()
    np.testing.assert_allclose(after, before.numpy() + 2.0 * (b @ a), rtol=1e-6, atol=1e-6)


def test_merge_matches_peft_forward(tmp_path) -> None:
    """The hand merge equals peft's unmerged LoRA forward (same factors, eval mode)."""
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    model = _Tiny()
    torch.manual_seed(0)  # the same base weights under peft's wrapper
    cfg = peft.LoraConfig(r=2, lora_alpha=4, target_modules=["query"], lora_dropout=0.0)
    lora = peft.get_peft_model(_Tiny(), cfg)
    layer = lora.base_model.model.encoder.layer[0].attention.self.query
    with torch.no_grad():
        layer.lora_A["default"].weight.normal_()
        layer.lora_B["default"].weight.normal_()
    a = layer.lora_A["default"].weight.detach().numpy().astype(np.float16)
    b = layer.lora_B["default"].weight.detach().numpy().astype(np.float16)
    with torch.no_grad():  # compare on the float16-rounded factors that are saved
        layer.lora_A["default"].weight.copy_(torch.from_numpy(a.astype(np.float32)))
        layer.lora_B["default"].weight.copy_(torch.from_numpy(b.astype(np.float32)))
    save_adapter(tmp_path / "a.npz", {NAME: (a, b)}, scaling=2.0)
    merge_adapter(model, load_adapter(tmp_path / "a.npz"))
    x = torch.randn(3, 5)
    with torch.no_grad():
        np.testing.assert_allclose(model.encoder.layer[0].attention.self.query(x).numpy(),
                                   layer(x).numpy(), rtol=1e-5, atol=1e-5)


def test_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(ModelError, match="nope.npz not found"):
        load_adapter(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ModelError, match="junk.npz is not a readable"):
        load_adapter(tmp_path / "junk.npz")
    np.savez(tmp_path / "empty.npz", x=np.zeros(2))
    with pytest.raises(ModelError, match="holds no LoRA factors"):
        load_adapter(tmp_path / "empty.npz")
    save_adapter(tmp_path / "wide.npz", _factors(inp=7), scaling=1.0)
    with pytest.raises(ModelError, match="delta is"):
        merge_adapter(_Tiny(), load_adapter(tmp_path / "wide.npz"))
    arrays = load_adapter(tmp_path / "wide.npz")
    renamed = {k.replace("layer.0", "layer.9"): v for k, v in arrays.items()}
    with pytest.raises(ModelError, match="no layer"):
        merge_adapter(_Tiny(), renamed)


def test_heads_trained_on_other_encoder_weights_are_refused() -> None:
    """The shipped heads were fit on the frozen encoder: an adapted encoder must not use them
    silently (int8 heads on the fp32 runtime of the same weights stay allowed)."""
    from types import SimpleNamespace

    from tierlens.score.encoder import encoder_version
    from tierlens.score.turns import load_heads, model_version

    heads = load_heads(HEADS)
    trained = heads["intent"].meta["encoder_version"]
    assert model_version(SimpleNamespace(version=trained), heads).startswith(trained + "|")
    weights = trained.split("/")[0]
    assert model_version(SimpleNamespace(version=weights + "/fp32"), heads)
    other = SimpleNamespace(version=encoder_version("int8", "0123456789ab"))
    with pytest.raises(ModelError, match="trained on encoder .* the encoder is .*lora-0123"):
        model_version(other, heads)
