"""The compliance golden set: loading it into frames and scoring predictions against labels.

``tests/golden/compliance/conversations.json``: one object per conversation (already
redacted text with placeholders, ``pii_spans`` rows, and ``expected`` hits as
``{rule_id, turn_index}``; ``turn_index`` null for a conversation-level ``required`` miss).
Every conversation is labelled for *every* rule of the default rulebook: a hit that is not
listed is a false positive. The golden set was written together with the rules (a development
set). ``holdout_conversations.json`` and ``semantic_holdout.json`` were written after rulebook
2026.11.1 was frozen and never used for tuning: they measure generalisation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from tierlens.schema import PII_SPAN_SCHEMA

GOLDEN_PATH = Path(__file__).resolve().parents[1] / "golden" / "compliance" / "conversations.json"


def load_golden(path: Path = GOLDEN_PATH) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame,
                                               pl.DataFrame]:
    """(conversations, turns, pii_spans, expected) frames of the golden set."""
    data = json.loads(path.read_text(encoding="utf-8"))
    conv = pl.DataFrame([{k: c[k] for k in ("conversation_id", "channel", "started_at")}
                         for c in data])
    turns = pl.DataFrame([{"conversation_id": c["conversation_id"], **t}
                          for c in data for t in c["turns"]],
                         schema={"conversation_id": pl.String, "turn_index": pl.Int32,
                                 "speaker": pl.String, "text": pl.String, "event": pl.String})
    pii = pl.DataFrame([{"conversation_id": c["conversation_id"], **p}
                        for c in data for p in c["pii_spans"]], schema=PII_SPAN_SCHEMA)
    expected = pl.DataFrame([{"conversation_id": c["conversation_id"], **e}
                             for c in data for e in c["expected"]],
                            schema={"conversation_id": pl.String, "rule_id": pl.String,
                                    "turn_index": pl.Int32})
    return conv, turns, pii, expected


def _keys(frame: pl.DataFrame) -> set[tuple[str, str, int | None]]:
    return {(r[0], r[1], r[2]) for r in
            frame.select("conversation_id", "rule_id", "turn_index").unique().iter_rows()}


def per_kind_metrics(rulebook, hits: pl.DataFrame, expected: pl.DataFrame
                     ) -> dict[str, dict[str, float]]:
    """Precision/recall per rule kind (phrase and regex pooled as ``phrase/regex``).

    A prediction is (conversation, rule, turn), deduplicated; it is a true positive when the
    labels hold the same triple.
    """
    kind_of = {r.id: ("phrase/regex" if r.kind in ("phrase", "regex") else r.kind)
               for r in rulebook.active_rules}
    pred, gold = _keys(hits), _keys(expected)
    out: dict[str, dict[str, float]] = {}
    for kind in sorted(set(kind_of.values())):
        p = {k for k in pred if kind_of.get(k[1]) == kind}
        g = {k for k in gold if kind_of.get(k[1]) == kind}
        tp = len(p & g)
        out[kind] = {"tp": tp, "fp": len(p - g), "fn": len(g - p), "positives": len(g),
                     "precision": tp / len(p) if p else 1.0,
                     "recall": tp / len(g) if g else 1.0}
    return out


def errors(hits: pl.DataFrame, expected: pl.DataFrame) -> tuple[list, list]:
    """(false positives, false negatives) as sorted (conversation, rule, turn) triples."""
    pred, gold = _keys(hits), _keys(expected)
    key = lambda k: (k[0], k[1], -1 if k[2] is None else k[2])
    return sorted(pred - gold, key=key), sorted(gold - pred, key=key)


def semantic_pr_curve(rulebook, rule_id: str, conv: pl.DataFrame, turns: pl.DataFrame,
                      pii: pl.DataFrame, expected: pl.DataFrame, encoder,
                      thresholds: list[float] | None = None) -> pl.DataFrame:
    """Precision/recall of one semantic rule at each threshold, over every candidate turn.

    Candidates are the turns the rule looks at, minus turns its ``suppressed_by`` rules hit
    (exactly what :func:`evaluate_rulebook` would do). One row per threshold.
    """
    from tierlens.score.compliance import evaluate_rulebook, prepare_turns, semantic_scores

    rule = rulebook.rule(rule_id)
    rows, scores, offsets = semantic_scores([rule], prepare_turns(conv, turns), None, encoder)
    start, k, m = offsets[rule_id]
    sim = scores[:, start:start + k].max(axis=1)
    counter = scores[:, start + k:start + k + m].max(axis=1) if m else np.full(len(sim), -1.0)
    if rule.suppressed_by:
        others = {r.kind for r in rulebook.active_rules if r.id in rule.suppressed_by}
        hits, _ = evaluate_rulebook(rulebook, conv, turns, pii, kinds=others)
        cover = hits.filter(pl.col("rule_id").is_in(list(rule.suppressed_by))).select(
            "conversation_id", "turn_index").unique().with_columns(_c=pl.lit(True))
        keep = (rows.join(cover, on=["conversation_id", "turn_index"], how="left",
                          maintain_order="left")["_c"].is_null().to_numpy())
        rows, sim, counter = rows.filter(pl.Series(keep)), sim[keep], counter[keep]
    gold = expected.filter(pl.col("rule_id") == rule_id).select(
        "conversation_id", "turn_index").with_columns(y=pl.lit(True))
    y = (rows.join(gold, on=["conversation_id", "turn_index"], how="left",
                   maintain_order="left")["y"]
         .fill_null(False).to_numpy())
    out = []
    for t in thresholds or [round(0.30 + 0.025 * i, 3) for i in range(21)]:
        pred = (sim >= t) & (sim > counter)
        tp = int((pred & y).sum())
        fp = int((pred & ~y).sum())
        fn = int((~pred & y).sum())
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        out.append({"threshold": t, "tp": tp, "fp": fp, "fn": fn, "precision": round(p, 3),
                    "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0})
    return pl.DataFrame(out)


HOLDOUT_PATH = GOLDEN_PATH.parent / "semantic_holdout.json"
HOLDOUT_CONVERSATIONS = GOLDEN_PATH.parent / "holdout_conversations.json"


def semantic_holdout_metrics(rulebook, encoder, path: Path = HOLDOUT_PATH
                             ) -> dict[str, dict[str, float]]:
    """Precision/recall of each semantic rule on held-out agent turns (not used for tuning)."""
    from tierlens.score.compliance import eval_semantic, prepare_turns

    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for rule_id, items in data.items():
        if rule_id.startswith("_"):
            continue
        rule = rulebook.rule(rule_id)
        turns = pl.DataFrame({"conversation_id": [f"h{i}" for i in range(len(items))],
                              "turn_index": [0] * len(items), "speaker": ["agent"] * len(items),
                              "text": [i["text"] for i in items], "event": [None] * len(items)},
                             schema_overrides={"turn_index": pl.Int32, "event": pl.String})
        conv = turns.select("conversation_id", channel=pl.lit("chat"))
        hit = set(eval_semantic(rule, prepare_turns(conv, turns), None, encoder)
                  ["conversation_id"])
        y = [i["label"] for i in items]
        pred = [f"h{i}" in hit for i in range(len(items))]
        tp = sum(a and b for a, b in zip(pred, y))
        fp = sum(a and not b for a, b in zip(pred, y))
        fn = sum(b and not a for a, b in zip(pred, y))
        out[rule_id] = {"tp": tp, "fp": fp, "fn": fn,
                        "precision": tp / (tp + fp) if tp + fp else 1.0,
                        "recall": tp / (tp + fn) if tp + fn else 1.0}
    return out


if __name__ == "__main__":  # print the PR tables for docs/compliance.md
    import sys

    from tierlens.score.encoder import get_encoder
    from tierlens.score.rules import load_rulebook
    from tierlens.settings import get_settings

    book = load_rulebook(sys.argv[1] if len(sys.argv) > 1 else None)
    c, t, p, e = load_golden()
    enc = get_encoder(get_settings())
    for r in book.active_rules:
        if r.kind == "semantic":
            print(f"\n{r.id} (threshold in rulebook: {r.threshold}), encoder {enc.version}")
            with pl.Config(tbl_rows=50, tbl_formatting="MARKDOWN", tbl_hide_column_data_types=True,
                           tbl_hide_dataframe_shape=True):
                print(semantic_pr_curve(book, r.id, c, t, p, e, enc))
    print("\nheld-out:", semantic_holdout_metrics(book, enc))
