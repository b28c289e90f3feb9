"""Integrity of the customer-voice sentiment set (data/sentiment/customer_voice/).

Fast: reads the committed CSVs only. The one check that needs the shared public data (that no
USS / TweetEval text was committed) is skipped where that folder is absent.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO

CV = REPO / "data" / "sentiment" / "customer_voice"
INDUSTRIES = {"airline", "telecom", "bank", "retail", "utilities", "insurance", "food_delivery",
              "software"}
CHANNELS = {"chat", "email", "social_post"}
STYLES = {"question", "statement", "sarcasm", "thanks_but", "polite_frustration",
          "caps_emoji_typos", "venting", "praise", "request"}


def _load_builder():
    spec = importlib.util.spec_from_file_location(
        "build_customer_voice", REPO / "data" / "scripts" / "build_customer_voice.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


B = _load_builder()


def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return _read(CV / "items.csv")


def test_size_and_sources(items):
    assert len(items) >= 3000
    ids = [r["item_id"] for r in items]
    assert len(set(ids)) == len(ids), "duplicate item ids"
    written = [r for r in items if r["source"] == "written"]
    real = [r for r in items if r["source"].startswith(B.REAL)]
    assert len(written) >= 1500 and len(real) >= 1000
    assert len(written) + len(real) == len(items), "unknown source"


def test_every_item_has_one_valid_pass_a_label(items):
    labels = _read(CV / "labels_a.csv")
    by_id = Counter(r["item_id"] for r in labels)
    assert set(by_id) == {r["item_id"] for r in items}
    assert max(by_id.values()) == 1
    assert {r["label"] for r in labels} <= set(B.LABELS)
    dist = Counter(r["label"] for r in labels)
    assert all(dist[x] >= 0.1 * len(labels) for x in B.LABELS), dist


def test_no_text_committed_for_non_committable_sources(items):
    for r in items:
        if r["source"].startswith(B.COMMITTABLE):
            assert r["text"].strip(), r["item_id"]
        else:
            assert r["text"] == "", f"{r['item_id']}: {r['source']} text must not be committed"
            assert r["ref"] and len(r["text_sha1"]) == 12, r["item_id"]


def test_test_split_is_real_text_only_and_fixed(items):
    test = [r for r in items if r["split"] == "test"]
    assert len(test) >= 400
    assert all(r["source"] != "written" for r in test)
    for r in items:
        assert r["split"] == B.split_of(r["item_id"], r["source"]), r["item_id"]


def test_coverage_of_industries_channels_and_styles(items):
    assert INDUSTRIES <= {r["industry"] for r in items}
    assert {r["channel"] for r in items} == CHANNELS
    assert {r["style"] for r in items} == STYLES
    written = [r for r in items if r["source"] == "written"]
    assert {r["industry"] for r in written} == INDUSTRIES
    assert min(Counter(r["channel"] for r in written).values()) >= 40


def test_items_match_the_written_sources(items):
    written = {r["item_id"]: r for r in items if r["source"] == "written"}
    authored = [r for p in sorted((CV / "written").glob("*.csv")) for r in _read(p)]
    assert {r["item_id"] for r in authored} == set(written)
    for r in authored:
        assert written[r["item_id"]]["text"] == r["text"]
    norms = [B.norm(r["text"]) for r in items if r["text"]]
    assert len(set(norms)) == len(norms), "duplicate texts"
    assert not set(norms) & B.v1_texts(), "items shared with the v1 in-domain set"


def test_readme_counts_are_current(items):
    readme = (CV / "README.md").read_text(encoding="utf-8")
    assert B.stats(items, _read(CV / "labels_a.csv")) in readme, "rerun: build_customer_voice.py stats"


def test_missing_shared_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(B.ResolveError, match=r"missing \(set TIERLENS_SHARED_DATA"):
        B.load_items(shared=tmp_path)


@pytest.mark.skipif(not (B.SHARED / "satisfaction" / "uss").exists(),
                    reason="shared public data folder not present")
def test_references_resolve_and_their_text_is_not_in_the_repo(items):
    labelled = B.load_labelled()  # resolves every reference and checks its text_sha1
    assert len(labelled) == len(items) and all(r["text"] and r["label"] for r in labelled)
    resolved = {r["item_id"]: r["text"] for r in labelled}
    secret = [resolved[r["item_id"]] for r in items if not r["source"].startswith(B.COMMITTABLE)]
    committed = "\n".join(p.read_text(encoding="utf-8") for p in CV.rglob("*.csv"))
    leaked = [t for t in secret if len(t) > 25 and t in committed]
    assert not leaked, leaked[:3]
