"""Review store input validation: every write function rejects what the scorecard and the
label sets don't know, and nothing is written (no event row, no audit row) when it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierlens.reviews import checks
from tierlens.reviews import store as reviews
from tierlens.reviews.store import ReviewError
from tierlens.settings import Settings, get_settings


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "reviews" / "reviews.sqlite"


def _nothing_written(store: Path) -> None:
    assert reviews.audit_log(store).height == 0
    assert reviews.reviews(store).height == 0
    assert reviews.label_corrections(store).height == 0


@pytest.mark.parametrize("criteria, total, match", [
    ({"greeting": 1, "charm": 1}, 100.0, "criterion 'charm' is not in the scorecard"),
    ({}, None, "at least one scorecard criterion"),
    ({"greeting": 1}, 101.0, "outside the scorecard's range 0-100"),
    ({"greeting": 1}, -0.5, "outside the scorecard's range"),
    ({"greeting": 1}, float("nan"), "outside the scorecard's range"),
    ({"greeting": 1}, float("inf"), "outside the scorecard's range"),
    ({"greeting": 1}, "100", "total must be a number"),
    ({"greeting": 1}, True, "total must be a number"),
    ({"greeting": float("nan")}, 100.0, "score must be 1, 0 or N/A"),
    ({"greeting": 2}, 100.0, "score must be 1, 0 or N/A"),
    ({"greeting": True}, 100.0, "score must be 1, 0 or N/A"),
])
def test_bad_reviews_are_rejected_and_nothing_is_written(store, criteria, total, match) -> None:
    with pytest.raises(ReviewError, match=match):
        reviews.record_review(store, "c-1", "qa", criteria, total, settings=Settings())
    _nothing_written(store)


def test_good_reviews_are_accepted(store) -> None:
    reviews.record_review(store, "c-1", "qa", {"greeting": 1, "empathy": None}, 100.0, settings=Settings())
    reviews.record_review(store, "c-1", "qa", {"greeting": 0, "closing": 1}, 0, settings=Settings())
    reviews.record_review(store, "c-1", "qa", {"empathy": None}, None, settings=Settings())  # nothing applied
    assert reviews.reviews(store).height == 3


@pytest.mark.parametrize("label_type, value", [
    ("sentiment", "furious"), ("sentiment", "Positive"), ("resolution", "solved"),
    ("escalation_reason", "because"), ("intent", "definitely_not_an_intent"),
    ("intent", "=HYPERLINK(\"http://x\")"),
])
def test_unknown_labels_are_rejected(store, label_type, value) -> None:
    with pytest.raises(ReviewError, match=f"{label_type} label .* is unknown"):
        reviews.record_label_correction(store, "c-1", 0, label_type, None, value, "qa",
                                        text="hello", settings=Settings())
    _nothing_written(store)


@pytest.mark.parametrize("label_type, value", [
    ("sentiment", "negative"), ("resolution", "abandoned"),
    ("escalation_reason", "customer_request"), ("intent", "lost_or_stolen_card"),
])
def test_known_labels_are_accepted(store, label_type, value) -> None:
    reviews.record_label_correction(store, "c-1", 0, label_type, None, value, "qa", text="hi", settings=Settings())
    assert reviews.label_corrections(store)["new_value"].to_list() == [value]


def test_labels_of_an_installed_intent_head_are_known(tmp_path, monkeypatch) -> None:
    heads = tmp_path / "models" / "heads"
    heads.mkdir(parents=True)
    (heads / "intent_custom.json").write_text(json.dumps(
        {"name": "intent_custom", "kind": "classifier", "labels": ["track_parcel"]}))
    monkeypatch.setenv("TIERLENS_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    try:
        assert "track_parcel" in checks.intent_labels(Settings())
        assert "lost_or_stolen_card" in checks.intent_labels(Settings())  # the bundled taxonomy
        reviews.record_label_correction(tmp_path / "r.sqlite", "c-1", 0, "intent", None,
                                        "track_parcel", "qa", text="where is my parcel", settings=Settings())
    finally:
        get_settings.cache_clear()


def test_problem_messages_cut_long_values() -> None:
    problem = checks.label_problem("sentiment", "x" * 500, Settings())
    assert problem is not None and len(problem) < 150
