"""Out of scope as a decision: the threshold rule, the shipped head, custom taxonomies, the view."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from score_helpers import HEADS, SERVED, all_rows, make_turns, write_csv

from tests.conftest import REPO
from tierlens.score.batch import score_batch
from tierlens.score.encoder import Encoder
from tierlens.score.heads import clear_cache, load_head
from tierlens.score.oos import choose_threshold
from tierlens.score.train_intents import train_intents
from tierlens.score.turns import score_turns

FAR = ["what's the weather in paris tomorrow", "can you recommend a good pizza recipe",
       "who won the football game last night"]
IN_SCOPE = ["my card hasn't arrived yet", "I want to change my seat on the flight",
            "how much is my bill this month"]


def test_threshold_meets_both_targets_when_it_can() -> None:
    ins = {"a": np.linspace(0, 0.5, 100)}
    out = choose_threshold(ins, np.linspace(0.45, 1.0, 20))
    assert out["met"] and out["validation"]["oos_recall"] >= 0.9
    assert out["validation"]["in_scope_flagged"] <= 0.05
    assert (ins["a"] >= out["threshold"]).mean() <= 0.05


def test_threshold_falls_back_to_the_largest_recall_within_the_budget() -> None:
    ins = {"a": np.linspace(0, 1, 100), "b": np.zeros(10)}
    out = choose_threshold(ins, np.linspace(0.0, 1.0, 10))  # overlapping: 0.9 unreachable
    assert not out["met"] and "not reachable" in out["rule"]
    assert out["validation"]["in_scope_flagged"] <= 0.05  # the worst source counts
    assert out["validation"]["oos_recall"] == pytest.approx(0.1)


def test_threshold_without_oos_rows_only_bounds_the_flagged_share() -> None:
    out = choose_threshold({"held_out": np.linspace(0, 1, 40)})
    assert not out["met"] and out["validation"]["oos_recall"] is None
    assert (np.linspace(0, 1, 40) >= out["threshold"]).mean() <= 0.05


def _score(texts: list[str], encoder: Encoder, **kw) -> pl.DataFrame:
    turns = make_turns([(f"c{i}", 0, "customer", t, None) for i, t in enumerate(texts)]
                       + [("b", 0, "bot", "Is there anything else I can help you with?", None)])
    return score_turns(turns, encoder=encoder, **{"heads_dir": HEADS, **kw})


def test_default_taxonomy_flags_far_requests_at_the_shipped_threshold(encoder: Encoder) -> None:
    out = _score(FAR + IN_SCOPE, encoder)
    cust = out.filter(pl.col("conversation_id") != "b")
    assert cust.get_column("out_of_scope").to_list() == [True] * 3 + [False] * 3
    threshold = load_head("oos", HEADS).meta["threshold"]
    assert (cust.get_column("out_of_scope")
            == (cust.get_column("oos_score") >= threshold)).all()
    # a decision about customers' requests: none on bot turns
    assert out.filter(pl.col("conversation_id") == "b").get_column("out_of_scope")[0] is None


def test_the_threshold_comes_from_the_head_metadata(encoder: Encoder, tmp_path: Path) -> None:
    heads = tmp_path / "heads"
    shutil.copytree(REPO / "models" / "heads", heads)
    before = _score(FAR, encoder, heads_dir=heads)
    meta = json.loads((heads / "oos.json").read_text())
    meta["threshold"] = 1.0  # nothing reaches it
    (heads / "oos.json").write_text(json.dumps(meta))
    clear_cache()
    try:
        after = _score(FAR, encoder, heads_dir=heads)
    finally:
        clear_cache()
    cust = pl.col("conversation_id") != "b"
    assert before.filter(cust).get_column("out_of_scope").all()
    assert not after.filter(cust).get_column("out_of_scope").any()
    # the threshold is part of the model version: a rescore with it is a new version
    assert before.get_column("model_version")[0] != after.get_column("model_version")[0]


def test_custom_taxonomy_decides_with_its_own_threshold(encoder: Encoder,
                                                        tmp_path: Path) -> None:
    oos_rows = [(t, "out_of_scope") for t in ("what's the weather tomorrow", "tell me a joke",
                                              "book me a table for two",
                                              "how many calories in a banana")]
    report = train_intents(write_csv(tmp_path / "mine.csv", all_rows() + oos_rows),
                           out_dir=tmp_path / "heads", encoder=encoder)
    head = load_head("intent_custom", tmp_path / "heads")
    own = head.meta["out_of_scope"]
    assert "out_of_scope" not in head.labels  # examples of what it doesn't cover, not a class
    assert own == report["out_of_scope"] and own["validation"]["n_oos"] == 4
    assert own["validation"]["oos_recall"] is not None
    out = _score(["can you recommend a good pizza recipe", "my parcel still hasn't come",
                  "I need to pay my bill"], encoder, intent_head=report["head_path"])
    cust = out.filter(pl.col("conversation_id") != "b")
    assert cust.get_column("out_of_scope").to_list() == [True, False, False]
    assert (cust.get_column("out_of_scope")
            == (cust.get_column("oos_score") >= own["threshold"])).all()


def test_custom_taxonomy_without_oos_rows_bounds_held_out_flags(encoder: Encoder,
                                                                tmp_path: Path) -> None:
    report = train_intents(write_csv(tmp_path / "mine.csv", all_rows()),
                           out_dir=tmp_path / "heads", encoder=encoder)
    own = report["out_of_scope"]
    assert not own["met"] and "recall unmeasured" in own["rule"]
    assert own["validation"]["in_scope_flagged"] <= 0.05


def test_turns_view_ends_with_out_of_scope(con) -> None:
    cols = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_name = 'turns' ORDER BY ordinal_position").fetchall()
    assert cols[-1] == ("out_of_scope", "BOOLEAN")
    assert [c for c, _ in cols][:16][-1] == "csat_predicted"  # earlier columns unchanged


@pytest.mark.parametrize("entry", ["score_turns", "score_batch"])
def test_the_decision_is_on_the_request_turn_only(encoder: Encoder, entry: str) -> None:
    """out_of_scope decides the customer's request (first substantive customer turn); an
    answer to the bot later in the conversation gets no decision (NULL), only a score. Both
    entry points (a direct call, a pipeline/flow batch) apply the rule."""
    turns = make_turns([("c", 0, "bot", "Hi! How can I help?", None),
                        ("c", 1, "customer", "hi", None),
                        ("c", 2, "customer", "what's the weather in paris tomorrow", None),
                        ("c", 3, "bot", "What are the last four digits of your card?", None),
                        ("c", 4, "customer", "The last four digits are 6669", None)])
    out = (score_turns(turns, encoder=encoder, heads_dir=HEADS) if entry == "score_turns"
           else score_batch(turns, SERVED)[1]).sort("turn_index")
    decided = dict(zip(out["turn_index"], out["out_of_scope"], strict=True))
    assert decided[2] is True
    assert decided[1] is None and decided[4] is None and decided[0] is None
    assert out.filter(pl.col("turn_index") == 4)["oos_score"][0] is not None
