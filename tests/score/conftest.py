"""Shared fixtures: the real encoder, loaded once per test session."""

from __future__ import annotations

import pytest
from score_helpers import ADAPTER, ONNX

from tierlens.score.encoder import Encoder


@pytest.fixture(scope="session")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    """The served (int8) encoder with an embedding cache in a temporary folder."""
    return Encoder("int8", cache_dir=tmp_path_factory.mktemp("emb-cache"), threads=2,
                   runtime_dir=ONNX, adapter=ADAPTER)


@pytest.fixture(scope="session")
def encoder_fp32() -> Encoder:
    return Encoder("fp32", cache_dir=None, threads=2, adapter=ADAPTER)
