"""Redaction recall and look-alike precision on the committed PII test set
(tests/golden/pii/pii_set.jsonl, written by tests/golden/pii/make_pii_set.py).

Targets (docs/adapters.md, "PII redaction"): recall >= 99.5% per PII type and overall, and at
most 1% of look-alikes (order numbers, amounts, dates, ids...) touched. A PII item counts as
found when every character of its value lies inside a redacted span (of any type: a value
redacted under another type still leaks nothing); the type agreement is printed too.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from tierlens.ingest.redact import PII_TYPES, detect, redact_text

SET_DIR = Path(__file__).resolve().parents[1] / "golden" / "pii"
ITEMS = [json.loads(line) for line in
         (SET_DIR / "pii_set.jsonl").read_text(encoding="utf-8").splitlines()]
RECALL_MIN = 0.995
LOOKALIKE_MAX = 0.01


def _generator():
    spec = importlib.util.spec_from_file_location("make_pii_set", SET_DIR / "make_pii_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_set_is_what_the_script_writes() -> None:
    gen = _generator()
    assert gen.render(gen.generate()) == (SET_DIR / "pii_set.jsonl").read_text(encoding="utf-8")


def test_the_set_is_big_and_varied() -> None:
    per_type = Counter(it["type"] for it in ITEMS)
    formats: dict[str | None, set[str]] = {}
    for it in ITEMS:
        formats.setdefault(it["type"], set()).add(it["format"])
        assert it["text"][it["start"]:it["end"]], it
    assert set(per_type) == {*PII_TYPES, None}
    for kind in [*PII_TYPES, None]:
        assert per_type[kind] >= 300, kind
        assert len(formats[kind]) >= 10, kind


def _covered(item: dict, found: list[tuple[int, int, str]]) -> bool:
    chars = {i for s, e, _ in found for i in range(s, e)}
    return all(i in chars for i in range(item["start"], item["end"]))


def test_recall_and_lookalikes(capsys: pytest.CaptureFixture[str]) -> None:
    found_by: Counter = Counter()
    typed_by: Counter = Counter()
    total_by: Counter = Counter()
    missed: list[dict] = []
    touched: list[dict] = []
    for item in ITEMS:
        found = detect(item["text"])
        kind = item["type"]
        total_by[kind] += 1
        if kind is None:
            if found:
                touched.append(item)
            continue
        if _covered(item, found):
            found_by[kind] += 1
            typed_by[kind] += any(k == kind and s <= item["start"] and e >= item["end"]
                                  for s, e, k in found)
        else:
            missed.append(item)
    n_pii = sum(total_by[k] for k in PII_TYPES)
    recall = sum(found_by.values()) / n_pii
    lookalike_rate = len(touched) / total_by[None]
    with capsys.disabled():
        print(f"\nPII set: recall {recall:.4f} over {n_pii} values; look-alikes redacted "
              f"{lookalike_rate:.4f} ({len(touched)}/{total_by[None]}); per type (found/typed/"
              "total): " + ", ".join(f"{k} {found_by[k]}/{typed_by[k]}/{total_by[k]}"
                                     for k in PII_TYPES))
        for item in (missed + touched)[:10]:
            print(f"  {'missed' if item['type'] else 'touched'} [{item['format']}] "
                  f"{item['text']!r}")
    for kind in PII_TYPES:
        assert found_by[kind] / total_by[kind] >= RECALL_MIN, kind
    assert recall >= RECALL_MIN
    assert lookalike_rate <= LOOKALIKE_MAX


@pytest.mark.parametrize("item", [it for it in ITEMS if it["type"]][::37],
                         ids=lambda it: f"{it['type']}-{it['format']}")
def test_redacted_text_keeps_no_character_of_the_value(item: dict) -> None:
    redacted, spans = redact_text(item["text"])
    value = item["text"][item["start"]:item["end"]]
    assert redacted.startswith(item["text"][:item["start"]])
    assert redacted.endswith(item["text"][item["end"]:])
    assert value not in redacted and spans
