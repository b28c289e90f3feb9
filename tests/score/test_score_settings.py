"""Settings reach the encoder and the heads only through the caller (issue 14, item 4).

Each test builds a ``Settings`` object with explicit values and points the environment
somewhere else: if the library read the settings itself, it would see the environment (a
missing adapter, int8), not the object it was given.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from score_helpers import HEADS, make_turns

from tierlens.errors import ModelError
from tierlens.score.adapter import adapter_digest, load_adapter
from tierlens.score.encoder import Encoder, get_encoder
from tierlens.score.heads import default_heads_dir
from tierlens.score.turns import load_heads, model_version, score_turns
from tierlens.settings import Settings

ADAPTER = Path(__file__).resolve().parents[2] / "models" / "encoder" / "adapter.npz"


@pytest.fixture
def hostile_env(monkeypatch, tmp_path: Path) -> None:
    """An environment that disagrees with every value the tests pass in."""
    monkeypatch.setenv("TIERLENS_ENCODER_ADAPTER", str(tmp_path / "not-this-adapter.npz"))
    monkeypatch.setenv("TIERLENS_PRECISION", "int8")
    monkeypatch.setenv("TIERLENS_MODELS_DIR", str(tmp_path / "not-these-models"))
    monkeypatch.setenv("TIERLENS_CACHE_DIR", str(tmp_path / "not-this-cache"))


def test_an_adapter_and_precision_override_reaches_the_encoder(hostile_env, tmp_path) -> None:
    adapted = Settings(precision="fp32", encoder_adapter=ADAPTER, cache_dir=tmp_path / "c")
    frozen = adapted.model_copy(update={"encoder_adapter": None})
    enc = get_encoder(adapted)
    digest = adapter_digest(load_adapter(ADAPTER))
    assert enc.precision == "fp32" and enc.version.endswith(f"+lora-{digest}/fp32")
    assert enc.adapter_path == ADAPTER
    assert enc.cache.folder.is_relative_to(tmp_path / "c")  # the cache_dir given, not the env's
    base = get_encoder(frozen)
    assert base is not enc and base.adapter_path is None and "+lora-" not in base.version
    assert get_encoder(adapted) is enc  # one encoder per distinct settings, loaded once
    assert not (tmp_path / "not-this-cache").exists()


def test_get_encoder_refuses_a_bare_precision() -> None:
    """The old call ``get_encoder("int8")`` would silently read the environment: now loud."""
    with pytest.raises(TypeError, match="settings first"):
        get_encoder("int8")  # type: ignore[arg-type]


def test_int8_without_a_runtime_folder_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="runtime_dir"):
        Encoder("int8", cache_dir=None)


def test_heads_follow_the_models_dir_passed_in(hostile_env, encoder, tmp_path) -> None:
    """A models_dir override reaches the heads: a retrained copy changes the model version,
    and the encoder of the same settings scores turns with it."""
    models = tmp_path / "models"
    shutil.copytree(HEADS, models / "heads")
    meta = json.loads((models / "heads" / "oos.json").read_text())
    meta["threshold"] = 0.5  # a "retrained" oos head: other bytes, other version
    (models / "heads" / "oos.json").write_text(json.dumps(meta))
    settings = Settings(models_dir=models)
    assert default_heads_dir(settings) == models / "heads"
    shipped, mine = load_heads(HEADS), load_heads(default_heads_dir(settings))
    assert mine["oos"].version != shipped["oos"].version
    assert mine["sentiment"].version == shipped["sentiment"].version
    turns = make_turns([("c1", 0, "customer", "my card was charged twice", None)])
    out = score_turns(turns, encoder, default_heads_dir(settings))
    assert out["model_version"][0] == model_version(encoder, mine) != model_version(encoder,
                                                                                     shipped)


def test_frozen_settings_refuse_heads_of_the_adapted_encoder(hostile_env, tmp_path) -> None:
    """The adapter override (none: the frozen base) reaches the encoder the shipped heads,
    trained on the shipped adapter, are checked against."""
    settings = Settings(precision="fp32", encoder_adapter=None, cache_dir=tmp_path / "c",
                        models_dir=HEADS.parent)
    with pytest.raises(ModelError, match="trained on encoder"):
        model_version(get_encoder(settings), load_heads(default_heads_dir(settings)))
