"""docs/compliance.md stays true: every kind and default rule documented, held-out numbers current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tierlens.score.rules import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"


def test_every_kind_and_default_rule_is_documented(rulebook):
    text = DOC.read_text()
    for kind in KINDS:
        assert f"`{kind}`" in text, kind
    for rule in rulebook.rules:
        assert f"`{rule.id}`" in text, rule.id
    assert f"`{rulebook.rulebook_version}`" in text
    for rule in rulebook.rules:
        if rule.kind == "semantic":
            assert f"threshold **{rule.threshold:.2f}**" in text, rule.id


@pytest.mark.slow
def test_documented_semantic_holdout_numbers_are_current(rulebook, encoder):
    from compliance_golden import semantic_holdout_metrics

    text = DOC.read_text()
    for rule_id, m in semantic_holdout_metrics(rulebook, encoder).items():
        row = re.search(rf"\| `{rule_id}` \| ([0-9.]+) \([^)]*\) \| ([0-9.]+) \(", text)
        assert row, f"no held-out row for {rule_id} in {DOC}"
        assert abs(float(row.group(1)) - m["precision"]) < 0.006, (rule_id, m)
        assert abs(float(row.group(2)) - m["recall"]) < 0.006, (rule_id, m)
