"""train_intents: CSV validation errors and a real (small) training run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from score_helpers import EXAMPLES, HEADS, all_rows, make_turns, write_csv

from tests.conftest import REPO
from tierlens.errors import InputError
from tierlens.score.encoder import Encoder
from tierlens.score.heads import load_head
from tierlens.score.train_intents import merge_corrections, read_examples, train_intents
from tierlens.score.turns import score_turns
from tierlens.settings import Settings


def test_trains_a_usable_head(encoder: Encoder, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "mine.csv", all_rows())
    report = train_intents(csv, out_dir=tmp_path / "heads", encoder=encoder)
    assert report["n_intents"] == 3 and report["n_test"] >= 3
    assert report["accuracy"] >= 0.66 and 0 <= report["macro_f1"] <= 1
    head = load_head("intent_custom", tmp_path / "heads")
    assert set(head.labels) == set(EXAMPLES)
    lab, _ = head.predict(encoder.encode(["where's my parcel, it's late"]))
    assert lab[0] == "track_parcel"
    turns = make_turns([("c", 0, "customer", "are you open on saturday", None)])
    out = score_turns(turns, encoder=encoder, heads_dir=HEADS,
                      intent_head=report["head_path"])
    assert out.get_column("intent")[0] == "store_hours"


@pytest.mark.parametrize(("rows", "header", "match"), [
    (all_rows(), "sentence,label", "missing column"),
    ([(t, "only") for t in EXAMPLES["pay_bill"]], "text,intent", "at least 2 intents"),
    (all_rows()[:7] + all_rows()[7:10], "text,intent", "at least 5 examples"),
])
def test_bad_csv_is_an_input_error_naming_the_file(encoder: Encoder, tmp_path: Path, rows,
                                                   header, match) -> None:
    csv = write_csv(tmp_path / "bad.csv", rows, header)
    with pytest.raises(InputError, match=match) as info:
        train_intents(csv, out_dir=tmp_path, encoder=encoder)
    assert "bad.csv" in str(info.value)


def test_a_text_labelled_two_ways_keeps_its_most_frequent_label(tmp_path: Path) -> None:
    twice = [("where is my parcel", "pay_bill"), ("where is my parcel", "pay_bill")]
    csv = write_csv(tmp_path / "clash.csv", all_rows() + twice
                    + [("closing time today?", "pay_bill")])
    notes: list[str] = []
    examples = read_examples(csv, notes)
    labels = dict(examples.iter_rows())
    assert labels["where is my parcel"] == "pay_bill"  # 2 votes against 1
    assert labels["closing time today?"] == "store_hours"  # a tie: the first seen wins
    assert examples.height == len(all_rows())
    assert len(notes) == 1 and notes[0].startswith(f"{csv}: 2 text(s)")
    assert "track_parcel x1" in notes[0] and "pay_bill x2" in notes[0]
    clean: list[str] = []
    read_examples(write_csv(tmp_path / "fine.csv", all_rows()), clean)
    assert clean == []


def test_missing_file_is_an_input_error(encoder: Encoder, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        train_intents(tmp_path / "nope.csv", tmp_path, encoder=encoder)


def test_empty_rows_are_an_input_error(encoder: Encoder, tmp_path: Path) -> None:
    pl.DataFrame({"text": [""], "intent": [""]}).write_csv(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="no rows"):
        train_intents(tmp_path / "empty.csv", tmp_path, encoder=encoder)


def test_reviewer_corrections_replace_labels_and_unknown_intents_are_left_out() -> None:
    examples = pl.DataFrame({"text": ["where is my parcel", "pay the balance due", "hi"],
                             "intent": ["track_parcel", "pay_bill", "pay_bill"]})
    fixes = pl.DataFrame({"text": [" hi ", "cancel everything", "hi"],
                          "label": ["store_hours", "cancel_account", "track_parcel"]})
    merged, used, left_out = merge_corrections(examples, fixes)
    # the latest correction of "hi" wins; "cancel_account" is not in the taxonomy
    assert (used, left_out) == (1, 1)
    assert dict(merged.iter_rows()) == {"where is my parcel": "track_parcel",
                                        "pay the balance due": "pay_bill",
                                        "hi": "track_parcel"}
    same, used, left_out = merge_corrections(examples, None)
    assert same is examples and (used, left_out) == (0, 0)


def test_cli_folds_corrections_from_the_review_store(encoder: Encoder, tmp_path: Path,
                                                      monkeypatch) -> None:
    from typer.testing import CliRunner

    from tierlens.cli import app
    from tierlens.reviews import checks
    from tierlens.reviews import store as reviews
    from tierlens.settings import get_settings

    monkeypatch.setenv("TIERLENS_DATA_DIR", str(tmp_path))  # no --db: the settings' paths
    monkeypatch.setenv("TIERLENS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    get_settings.cache_clear()
    try:
        store = reviews.default_path(Settings())
        store.parent.mkdir(parents=True)
        # the user's taxonomy is the one in use (its head installed), so its labels are known
        monkeypatch.setattr(checks, "intent_labels", lambda settings=None: frozenset(EXAMPLES))
        reviews.record_label_correction(store, "c1", 0, "intent", "pay_bill", "track_parcel",
                                        "qa", text="did my bill payment go through", settings=Settings())
        csv = write_csv(tmp_path / "ex.csv", all_rows())
        out = CliRunner().invoke(app, ["train-intents", str(csv), "--out", str(tmp_path / "h")])
        assert out.exit_code == 0, out.output
        assert '"corrections_used": 1' in out.output
        assert "intent_custom" not in {p.stem for p in (REPO / "models" / "heads").iterdir()}
        exported = CliRunner().invoke(app, ["export-corrections", "intent", "--out",
                                            str(tmp_path / "c.csv")])
        assert exported.exit_code == 0 and "wrote 1 intent correction" in exported.output
        assert pl.read_csv(tmp_path / "c.csv").to_dicts() == [
            {"text": "did my bill payment go through", "label": "track_parcel"}]
    finally:
        get_settings.cache_clear()
