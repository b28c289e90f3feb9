"""``tierlens reviews import FILE.csv``: a QA team's existing manual reviews, as label
corrections in the review store (with their audit rows).

CSV columns: ``conversation_id,label_type,label,reviewer`` and optionally ``turn_index``
(required for ``sentiment``, which is a turn label). ``label_type`` is one of ``resolution``,
``sentiment``, ``intent``, ``escalation_reason``. Every row is checked before anything is
written; the first bad row stops the import with its line number, and nothing is imported.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tierlens.errors import InputError
from tierlens.reviews.checks import label_problem
from tierlens.reviews.store import LABEL_TYPES, record_label_corrections
from tierlens.settings import Settings

REQUIRED = ("conversation_id", "label_type", "label", "reviewer")


def read_review_csv(path: Path, known: Callable[[str], bool] | None = None,
                    settings: Settings | None = None) -> list[dict]:
    """Parse and check the file. ``known(conversation_id)`` says whether the warehouse holds
    that conversation (None: don't check); labels are checked by the review store's own rule
    (:func:`tierlens.reviews.checks.label_problem`, the warehouse's taxonomies from
    ``settings``). Raises InputError naming the line and the fix."""
    path = Path(path)
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    rows: list[dict] = []
    with fh:
        try:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                                 f"{','.join(REQUIRED)}[,turn_index]")
            for rec in reader:
                rows.append(_row(path, reader.line_num, rec, known, settings))
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
        except csv.Error as e:
            raise InputError(f"{path}: line {reader.line_num}: not valid CSV ({e})") from None
    if not rows:
        raise InputError(f"{path}: no rows to import")
    return rows


def _row(path: Path, line: int, rec: dict, known: Callable[[str], bool] | None,
         settings: Settings | None) -> dict:
    def bad(why: str) -> InputError:
        return InputError(f"{path}: line {line}: {why}; nothing was imported")

    if None in rec:
        raise bad("more fields than columns")
    val = {k: (rec.get(k) or "").strip() for k in (*REQUIRED, "turn_index")}
    for k in REQUIRED:
        if not val[k]:
            raise bad(f"{k} is empty")
    kind, label = val["label_type"], val["label"]
    if kind not in LABEL_TYPES:
        raise bad(f"label_type {kind[:40]!r} is not one of {', '.join(LABEL_TYPES)}")
    problem = label_problem(kind, label, settings)
    if problem is not None:
        raise bad(problem)
    turn = None
    if val["turn_index"]:
        if not val["turn_index"].isdigit():
            raise bad("turn_index must be a whole number >= 0")
        turn = int(val["turn_index"])
    elif kind == "sentiment":
        raise bad("a sentiment label needs the turn_index of the customer turn it labels")
    if known is not None and not known(val["conversation_id"]):
        raise bad("conversation_id is not in the warehouse")
    return {"conversation_id": val["conversation_id"], "turn_index": turn, "label_type": kind,
            "new_value": label, "who": val["reviewer"], "old_value": None, "text": None}


def import_reviews(path: Path, store: Path, known: Callable[[str], bool] | None = None,
                   settings: Settings | None = None) -> Counter:
    """Check the whole file, then write every row in one transaction. Returns label counts
    per label type. ``settings``: the warehouse whose intent taxonomies count as known."""
    rows = read_review_csv(path, known, settings)
    record_label_corrections(store, rows, settings)
    return Counter(r["label_type"] for r in rows)
