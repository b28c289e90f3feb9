"""Dashboard fixtures: a real serving snapshot (ingest + publish) and settings pointing at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from snapshot_fixture import build_snapshot

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "streamlit_app.py"
PAGES = REPO / "dashboards" / "pages"

ROLE_USERS = {
    "executive": {"username": "exec", "name": "Erin", "role": "executive"},
    "qa_manager": {"username": "qa", "name": "Quinn", "role": "qa_manager"},
    "compliance": {"username": "compliance", "name": "Casey", "role": "compliance"},
    "admin": {"username": "admin", "name": "Ada", "role": "admin"},
}


@pytest.fixture(scope="session")
def scored_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dash_scored")
    build_snapshot(root, with_scores=True)
    return root


@pytest.fixture(scope="session")
def bare_root(tmp_path_factory) -> Path:
    """Only what ingest publishes today (no score tables added by the fixture)."""
    root = tmp_path_factory.mktemp("dash_bare")
    build_snapshot(root, with_scores=False)
    return root


def _point_settings(monkeypatch, root: Path) -> None:
    from tierlens.settings import get_settings

    monkeypatch.setenv("TIERLENS_SERVING_DIR", str(root / "serving"))
    monkeypatch.setenv("TIERLENS_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("TIERLENS_WAREHOUSE", str(root / "wh" / "tierlens.duckdb"))
    get_settings.cache_clear()


@pytest.fixture
def scored_env(monkeypatch, scored_root):
    _point_settings(monkeypatch, scored_root)
    yield scored_root
    from tierlens.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture
def bare_env(monkeypatch, bare_root):
    _point_settings(monkeypatch, bare_root)
    yield bare_root
    from tierlens.settings import get_settings

    get_settings.cache_clear()
