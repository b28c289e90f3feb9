"""The committed utterance bank: complete, attributed, and free of held-out banking77 rows."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest
from sim_helpers import read_jsonl_gz

from tierlens.config import load_intents
from tierlens.settings import REPO_DIR

BANK = REPO_DIR / "data" / "bank"
SHARED = Path("/work/shared/data")


def _held_out(text: str) -> bool:
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 5 == 0


def test_every_intent_has_openers_and_sources_are_recorded():
    rows = read_jsonl_gz(BANK / "openers.jsonl.gz")
    by_intent: dict[str, int] = {}
    for r in rows:
        assert r["source"] in {"banking77", "clinc150", "multidogo", "sgd", "tierlens_seed"}
        assert r["text"].strip() and r["label"]
        by_intent[r["intent"]] = by_intent.get(r["intent"], 0) + 1
    for it in load_intents():
        assert by_intent.get(it.name, 0) >= 8, it.name


def test_no_held_out_banking77_row_is_in_the_bank():
    rows = [r for r in read_jsonl_gz(BANK / "openers.jsonl.gz") if r["source"] == "banking77"]
    assert len(rows) > 7000
    assert not [r["text"] for r in rows if _held_out(r["text"])]


def test_no_excluded_dataset_and_bot_acts_are_known():
    for name in ("openers", "followups", "bot"):
        for r in read_jsonl_gz(BANK / f"{name}.jsonl.gz"):
            assert r["source"] not in {"tweeteval", "uss"}
    acts = {r["act"] for r in read_jsonl_gz(BANK / "bot.jsonl.gz")}
    assert acts == {"NOTIFY_SUCCESS", "NOTIFY_FAILURE", "REQ_MORE", "GOODBYE", "REQUEST",
                    "OFFER", "CONFIRM"}
    kinds = {r["kind"] for r in read_jsonl_gz(BANK / "followups.jsonl.gz")}
    assert kinds == {"content", "confirm", "reject", "thanks", "closing", "greeting"}


def test_readme_attributes_every_source():
    text = (BANK / "README.md").read_text()
    for needle in ("CC BY 4.0", "CC BY 3.0", "CDLA-Permissive-1.0", "CC BY-SA 4.0",
                   "Casanueva", "Larson", "Peskov", "Rastogi"):
        assert needle in text


@pytest.mark.skipif(not SHARED.exists(), reason="needs the public datasets in /work/shared/data")
def test_committed_bank_is_what_the_build_script_produces(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_bank", REPO_DIR / "data" / "scripts" / "build_utterance_bank.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import sys
    argv, sys.argv = sys.argv, ["build", "--out", str(tmp_path)]
    try:
        mod.main()
    finally:
        sys.argv = argv
    for name in ("openers.jsonl.gz", "followups.jsonl.gz", "bot.jsonl.gz", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (BANK / name).read_bytes(), name
