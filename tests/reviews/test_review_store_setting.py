"""``review_store`` is a real setting: a default under data_dir, an environment override, and
next to a --db warehouse unless it was set."""

from __future__ import annotations

from pathlib import Path

from tierlens.settings import Settings


def test_the_default_follows_data_dir_and_moves_next_to_another_warehouse(tmp_path: Path):
    s = Settings(data_dir=tmp_path / "d")
    assert s.review_store == tmp_path / "d" / "reviews" / "reviews.sqlite"
    assert "review_store" not in s.model_fields_set  # a default, so --db may move it
    moved = s.for_warehouse(tmp_path / "x.duckdb")
    assert moved.review_store == tmp_path / "x.tierlens" / "reviews.sqlite"


def test_the_environment_sets_it_and_then_it_wins(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TIERLENS_REVIEW_STORE", str(tmp_path / "mine.sqlite"))
    s = Settings()
    assert s.review_store == tmp_path / "mine.sqlite"
    assert s.for_warehouse(tmp_path / "x.duckdb").review_store == tmp_path / "mine.sqlite"
