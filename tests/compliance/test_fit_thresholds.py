"""models/fit_compliance_thresholds.py (the refit rule, the YAML edit) and the held-out cases."""

from __future__ import annotations

import csv
import importlib.util
import shutil

import numpy as np

from tests.conftest import REPO
from tierlens.score.rules import load_rulebook


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "models" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FIT = _load("fit_compliance_thresholds")
SEMANTIC = ("agent_dismissive_semantic", "outcome_promise_semantic")


def _rows(name: str) -> list[dict[str, str]]:
    with open(REPO / "data" / "compliance" / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_threshold_is_the_middle_of_the_best_f1_band() -> None:
    sim = np.array([0.70, 0.60, 0.50, 0.40])
    y = np.array([True, True, False, False])
    fit = FIT.fit_threshold(sim, np.full(4, -1.0), y)
    assert fit["best_f1"] == 1.0 and fit["band"] == [0.505, 0.6]
    assert abs(fit["threshold"] - 0.5525) <= 0.001
    # closer to a counter-example than to the examples: never a hit, whatever the threshold
    assert not FIT.predict(np.array([0.9]), np.array([0.95]), 0.3).any()


def test_a_changed_threshold_bumps_the_rule_and_rulebook_versions(tmp_path) -> None:
    path = tmp_path / "rulebook.yaml"
    shutil.copy(REPO / "src" / "tierlens" / "config" / "rulebook.yaml", path)
    before = load_rulebook(path)
    same = {r: before.rule(r).threshold for r in SEMANTIC}
    assert FIT.write_thresholds(path, same) == []  # nothing changed, nothing written
    assert FIT.write_thresholds(path, {**same, SEMANTIC[0]: 0.61}) == [SEMANTIC[0]]
    after = load_rulebook(path)
    assert after.rule(SEMANTIC[0]).threshold == 0.61
    assert int(after.rule(SEMANTIC[0]).version) == int(before.rule(SEMANTIC[0]).version) + 1
    assert after.rule(SEMANTIC[1]) == before.rule(SEMANTIC[1])
    assert after.rulebook_version != before.rulebook_version


def test_heldout_cases_are_balanced_labelled_twice_and_never_in_fitting(rulebook) -> None:
    held, dev = _rows("heldout_cases.csv"), _rows("dev_cases.csv")
    for rule_id in SEMANTIC:
        mine = [r for r in held if r["rule_id"] == rule_id]
        labels = [r["label"] for r in mine]
        assert labels.count("1") >= 20 and labels.count("0") >= 20, rule_id
        assert len({r["industry"] for r in mine}) >= 6
        rule = rulebook.rule(rule_id)
        seen = {t.lower() for t in (*rule.examples, *rule.counter_examples)}
        assert not seen & {r["text"].lower() for r in mine}
    assert all(r["label_a"] in "01" and r["label_b"] in "01" and r["label"] in "01"
               for r in held)
    assert not {r["text"] for r in held} & {r["text"] for r in dev}
    assert {r["rule_id"] for r in dev} == set(SEMANTIC)


def test_export_dev_rebuilds_the_committed_dev_cases_from_the_golden_loader(rulebook,
                                                                            tmp_path) -> None:
    # export_dev reads the golden set through compliance_golden.load_golden (the one loader)
    out = tmp_path / "dev_cases.csv"
    assert FIT.export_dev(rulebook, out) == len(_rows("dev_cases.csv"))
    assert out.read_bytes() == (REPO / "data" / "compliance" / "dev_cases.csv").read_bytes()
