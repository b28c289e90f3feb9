"""What the review store accepts: known labels, known criteria, totals in the scorecard's range.

The write functions of :mod:`tierlens.reviews.store` call these checks, so every entry
point (dashboard pages, scripts, tests) is covered. Each check returns ``None`` when the
input is fine, else a one-line problem that names the field; it never echoes more than a
short, cut value back.

Known labels per type:

- ``sentiment``: the sentiment head's classes (negative, neutral, positive);
- ``resolution``: resolved, unresolved, abandoned;
- ``escalation_reason``: the reasons the escalation detector assigns;
- ``intent``: the bundled taxonomy (``intents.yaml``) plus the labels of every intent head
  found in ``settings.models_dir / "heads"`` (``intent*.json``, e.g. a taxonomy trained with
  ``tierlens train-intents``), so a user's own intents can be corrected too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from numbers import Real
from pathlib import Path

from tierlens.schema import ESCALATION_REASONS
from tierlens.settings import Settings

SENTIMENT_LABELS = ("negative", "neutral", "positive")
RESOLUTION_LABELS = ("resolved", "unresolved", "abandoned")
SCORE_RANGE = (0.0, 100.0)  # qa_score = 100 * weighted share of the criteria that apply


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def intent_labels(settings: Settings) -> frozenset[str]:
    """The bundled taxonomy's intents plus the labels of every installed intent head."""
    from tierlens.config import load_intents

    names = {it.name for it in load_intents()}
    heads = settings.models_dir / "heads"
    for path in sorted(Path(heads).glob("intent*.json")) if Path(heads).is_dir() else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a broken head is reported where it is loaded, not here
        if isinstance(doc, dict) and doc.get("kind") == "classifier":
            names.update(str(label) for label in doc.get("labels", []))
    names.update(_warehouse_intents(settings))
    return frozenset(names)


def _warehouse_intents(settings: Settings) -> set[str]:
    """Labels of the taxonomies trained into the settings' warehouse (`tierlens
    train-intents`), read only; none when the warehouse is missing or a run holds its lock."""
    import duckdb

    path = Path(settings.warehouse)
    if not path.exists():
        return set()
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return set()
    try:
        rows = con.execute("SELECT head_json FROM intent_taxonomies").fetchall()
    except duckdb.Error:
        return set()
    finally:
        con.close()
    out: set[str] = set()
    for (doc,) in rows:
        try:
            out.update(str(label) for label in json.loads(doc).get("labels", []))
        except (ValueError, AttributeError):
            continue
    return out


def known_labels(label_type: str, settings: Settings) -> frozenset[str]:
    """The labels a correction of ``label_type`` may set."""
    if label_type == "intent":
        return intent_labels(settings)
    if label_type == "escalation_reason":
        return frozenset(ESCALATION_REASONS)
    return frozenset({"sentiment": SENTIMENT_LABELS,
                      "resolution": RESOLUTION_LABELS}.get(label_type, ()))


def label_problem(label_type: str, value: str, settings: Settings) -> str | None:
    """``None`` if ``value`` is a known label of ``label_type``, else why not."""
    labels = known_labels(label_type, settings)
    if value in labels:
        return None
    hint = ", ".join(sorted(labels)) if len(labels) <= 8 else \
        f"one of the {len(labels)} intents of the taxonomy or an installed intent head"
    return f"{label_type} label {_short(value)} is unknown; use {hint}"


def review_problem(criteria: Mapping[str, object], total: object,
                   criterion_names: tuple[str, ...]) -> str | None:
    """``None`` if a review's criteria and total are acceptable, else the first problem.

    ``criteria`` maps criterion names of the scorecard to 1, 0 or ``None`` (N/A); ``total``
    is ``None`` (nothing applied) or a finite number within :data:`SCORE_RANGE`.
    """
    if not isinstance(criteria, Mapping) or not criteria:
        return "criteria must map at least one scorecard criterion to 1, 0 or N/A"
    for name, score in criteria.items():
        if name not in criterion_names:
            return (f"criterion {_short(name)} is not in the scorecard; use "
                    f"{', '.join(criterion_names)}")
        if score is not None and (type(score) is not int or score not in (0, 1)):
            return f"criterion {name!r}: score must be 1, 0 or N/A, got {_short(score)}"
    if total is None:
        return None
    if isinstance(total, bool) or not isinstance(total, Real):
        return f"total must be a number, got {type(total).__name__}"
    low, high = SCORE_RANGE
    if math.isnan(float(total)) or not low <= float(total) <= high:
        return f"total {_short(total)} is outside the scorecard's range {low:g}-{high:g}"
    return None
