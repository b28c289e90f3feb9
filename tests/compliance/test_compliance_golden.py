"""The labelled golden set: every rule kind reaches recall >= 0.9 at precision >= 0.9.

Every golden conversation is labelled for every rule of the default rulebook, so a hit that is
not in the labels counts as a false positive. See docs/compliance.md for the results table.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from compliance_golden import GOLDEN_PATH, errors, per_kind_metrics, semantic_pr_curve

from tierlens.score.compliance import evaluate_rulebook

KIND_PREFIX = {"phrase/regex": ("g-regex", "g-abuse"), "semantic": ("g-sem",),
               "required": ("g-req",), "ordering": ("o-",), "pii_exposure": ("p-",),
               "trapped_customer": ("t-",), "vulnerable_customer": ("v-",)}


def _assert_quality(metrics: dict, kinds) -> None:
    for kind in kinds:
        m = metrics[kind]
        assert m["recall"] >= 0.9 and m["precision"] >= 0.9, (kind, m, metrics.get("errors"))


def test_golden_set_shape():
    data = json.loads(GOLDEN_PATH.read_text())
    assert len(data) >= 150
    ids = [c["conversation_id"] for c in data]
    assert len(set(ids)) == len(ids)
    for kind, prefixes in KIND_PREFIX.items():
        convs = [c for c in data if c["conversation_id"].startswith(prefixes)]
        pos = [c for c in convs if c["expected"]]
        neg = [c for c in convs if not c["expected"]]
        assert len(pos) >= 5 and len(neg) >= 5, (kind, len(pos), len(neg))
    for c in data:  # placeholders and pii_spans agree
        for p in c["pii_spans"]:
            text = c["turns"][p["turn_index"]]["text"]
            assert text[p["span_start"]:p["span_end"]] == f"[{p['pii_type']}]"


def test_non_semantic_kinds_on_golden_set(no_semantic, golden):
    conv, turns, pii, expected = golden
    hits, scores = evaluate_rulebook(no_semantic, conv, turns, pii)
    ids = {r.id for r in no_semantic.rules}
    expected = expected.filter(pl.col("rule_id").is_in(list(ids)))
    metrics = per_kind_metrics(no_semantic, hits, expected)
    fp, fn = errors(hits, expected)
    metrics["errors"] = {"false_positives": fp, "false_negatives": fn}
    _assert_quality(metrics, [k for k in KIND_PREFIX if k != "semantic"])
    assert scores.height == conv.height
    # every text-located hit points at its words (the Luhn scan stores [CARD], not digits)
    text = {(c, t): x for c, t, x in turns.select("conversation_id", "turn_index", "text")
            .iter_rows()}
    for h in hits.filter(pl.col("span_start").is_not_null()).iter_rows(named=True):
        words = text[(h["conversation_id"], h["turn_index"])][h["span_start"]:h["span_end"]]
        assert words == h["matched_text"] or h["matched_text"] == "[CARD]", h


@pytest.mark.slow
def test_every_kind_with_the_real_encoder(rulebook, golden, encoder):
    conv, turns, pii, expected = golden
    hits, _ = evaluate_rulebook(rulebook, conv, turns, pii, encoder=encoder)
    metrics = per_kind_metrics(rulebook, hits, expected)
    fp, fn = errors(hits, expected)
    metrics["errors"] = {"false_positives": fp, "false_negatives": fn}
    _assert_quality(metrics, KIND_PREFIX)
    assert metrics["semantic"]["positives"] >= 10


@pytest.mark.slow
def test_semantic_thresholds_sit_on_the_pr_curve(rulebook, golden, encoder):
    """Each rulebook threshold, +-0.005, is at the best F1 of the golden-set PR curve (P, R >= 0.85)."""
    conv, turns, pii, expected = golden
    grid = [round(0.30 + 0.025 * i, 3) for i in range(21)]
    for rule in (r for r in rulebook.active_rules if r.kind == "semantic"):
        near = [rule.threshold - 0.005, rule.threshold, rule.threshold + 0.005]
        curve = semantic_pr_curve(rulebook, rule.id, conv, turns, pii, expected, encoder,
                                  thresholds=grid + near)
        best = curve["f1"].max()
        at = curve.filter(pl.col("threshold").is_in(near))
        assert (at["f1"] >= best - 1e-9).all(), (rule.id, best, at.to_dicts())
        assert (at["precision"] >= 0.85).all() and (at["recall"] >= 0.85).all(), (
            rule.id, at.to_dicts())


@pytest.mark.slow
def test_precomputed_embeddings_give_the_same_hits(rulebook, golden, encoder):
    conv, turns, pii, _ = golden
    keys = turns.select("conversation_id", "turn_index")
    plain, _ = evaluate_rulebook(rulebook, conv, turns, pii, encoder=encoder)  # warms examples
    vecs = encoder.encode(turns["text"].to_list())
    with_emb, _ = evaluate_rulebook(rulebook, conv, turns, pii, (keys, vecs), encoder=encoder)
    assert with_emb.equals(plain)
    assert (plain["kind"] == "semantic").sum() > 0
    # the given vectors are the ones used: flipped vectors match no example
    flipped, _ = evaluate_rulebook(rulebook, conv, turns, pii, (keys, -vecs), encoder=encoder)
    assert (flipped["kind"] == "semantic").sum() == 0
    assert flipped.filter(pl.col("kind") != "semantic").equals(
        plain.filter(pl.col("kind") != "semantic"))
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-3)


def test_held_out_conversations_pooled(no_semantic):
    """Conversations written after the rules were frozen (never tuned on): pooled over the
    non-semantic kinds, recall and precision stay >= 0.9 (per kind the counts are tiny; the
    one known miss is an indirect self-harm cue, see docs/compliance.md)."""
    from compliance_golden import HOLDOUT_CONVERSATIONS, load_golden

    conv, turns, pii, expected = load_golden(HOLDOUT_CONVERSATIONS)
    hits, _ = evaluate_rulebook(no_semantic, conv, turns, pii)
    ids = {r.id for r in no_semantic.rules}
    fp, fn = errors(hits, expected.filter(pl.col("rule_id").is_in(list(ids))))
    n_gold = expected.filter(pl.col("rule_id").is_in(list(ids))).height
    tp = n_gold - len(fn)
    assert tp / n_gold >= 0.9 and tp / (tp + len(fp)) >= 0.9, (fp, fn)


@pytest.mark.slow
def test_embeddings_must_be_row_aligned_and_duplicates_are_harmless(rulebook, golden, encoder):
    conv, turns, pii, _ = golden
    keys = turns.select("conversation_id", "turn_index")
    vecs = encoder.encode(turns["text"].to_list())
    with pytest.raises(ValueError, match="row-aligned"):
        evaluate_rulebook(rulebook, conv, turns, pii, (keys, vecs[:-1]), encoder=encoder)
    plain, _ = evaluate_rulebook(rulebook, conv, turns, pii, (keys, vecs), encoder=encoder)
    dup_keys = pl.concat([keys, keys.head(50)])
    dup_vecs = np.concatenate([vecs, vecs[:50]])
    dup, _ = evaluate_rulebook(rulebook, conv, turns, pii, (dup_keys, dup_vecs), encoder=encoder)
    assert dup.equals(plain)
