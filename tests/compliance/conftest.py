"""Compliance test fixtures: the real encoder, loaded once per session; the golden set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # compliance_golden helpers


@pytest.fixture(scope="session")
def encoder():
    """The shared sentence encoder (settings' precision), loaded once for the session."""
    import torch

    torch.set_num_threads(2)
    from tierlens.score.encoder import get_encoder
    from tierlens.settings import get_settings

    return get_encoder(get_settings())


@pytest.fixture(scope="session")
def rulebook():
    from tierlens.score.rules import load_rulebook

    return load_rulebook()


@pytest.fixture(scope="session")
def golden():
    from compliance_golden import load_golden

    return load_golden()


@pytest.fixture(scope="session")
def no_semantic(rulebook):
    """The default rulebook without its semantic rules (no encoder needed)."""
    rules = tuple(r for r in rulebook.rules if r.kind != "semantic")
    return rulebook.model_copy(update={"rules": rules})
