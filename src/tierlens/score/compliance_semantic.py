"""Semantic compliance rules: turn embeddings compared with each rule's example sentences.

The embeddings are computed once by the shared encoder, or passed in (the scoring stage's
turn vectors); rules of one scope (speakers, channels, min_words) share one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tierlens.errors import ModelError
from tierlens.score.compliance_frames import CID, TI, Embeddings, empty_loc, rule_turns
from tierlens.score.rules import SemanticRule


def _encoder(encoder: Any) -> Any:
    """The caller's encoder: the library picks none itself (the settings say which)."""
    if encoder is None:
        raise ModelError("semantic rules need an encoder: pass "
                         "encoder=get_encoder(settings)")
    return encoder


_EXAMPLES: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}


def _encode_examples(enc: Any, texts: tuple[str, ...]) -> np.ndarray:
    """Example sentences' embeddings, memoised per encoder (rules reuse them on every batch)."""
    key = (id(enc), texts)
    if key not in _EXAMPLES:
        if len(_EXAMPLES) > 256:
            _EXAMPLES.clear()
        _EXAMPLES[key] = np.asarray(enc.encode(list(texts)), np.float32)
    return _EXAMPLES[key]


def semantic_rows(rule: SemanticRule, base: pl.DataFrame) -> pl.DataFrame:
    """The turns a semantic rule looks at (its speakers, channels, at least min_words words)."""
    return rule_turns(base, rule.speakers, rule.channels).filter(
        pl.col("text").str.count_matches(r"\S+") >= rule.min_words).select(CID, TI, "text")


def scope_key(rule: SemanticRule) -> tuple:
    """Rules with the same key look at the same turns (one scoring pass for all)."""
    return (rule.speakers, rule.channels, rule.min_words)


def semantic_scores(rules: list[SemanticRule], base: pl.DataFrame,
                    embeddings: Embeddings | None, encoder: Any = None
                    ) -> tuple[pl.DataFrame, np.ndarray, dict[str, tuple[int, int, int]]]:
    """Cosines of every candidate turn to every example of ``rules`` (which share one scope).

    Returns (rows, S, offsets): S[i, j] is the cosine of rows[i] to example column j, and
    ``offsets[rule_id] = (start, n_examples, n_counter_examples)``. With precomputed
    ``embeddings`` the product is taken over the given vectors once and only the small
    score rows are gathered (no copy of the 384-d vectors); turns missing from them are
    encoded.
    """
    rows = semantic_rows(rules[0], base)
    texts: list[str] = []
    offsets = {}
    for r in rules:
        offsets[r.id] = (len(texts), len(r.examples), len(r.counter_examples))
        texts += list(r.examples) + list(r.counter_examples)
    if rows.is_empty():  # nothing to score: don't load the encoder
        return rows, np.zeros((0, len(texts)), np.float32), offsets
    enc = _encoder(encoder)
    ex = _encode_examples(enc, tuple(texts))
    if embeddings is None:
        return rows, np.asarray(enc.encode(rows["text"].to_list()), np.float32) @ ex.T, offsets
    keys, arr = embeddings
    if keys.height != len(arr):
        raise ValueError(f"embeddings: {keys.height} keys but {len(arr)} vectors; the keys "
                         "frame must be row-aligned with the array")
    index = (keys.select(pl.col(CID).cast(pl.String), pl.col(TI).cast(pl.Int32))
             .with_row_index("_e").unique([CID, TI], keep="first"))
    pos = rows.select(CID, TI).join(index, on=[CID, TI], how="left", maintain_order="left")["_e"]
    all_scores = arr @ ex.T  # one pass over the given vectors, every example at once
    if pos.null_count() == 0:
        return rows, all_scores[pos.to_numpy()], offsets
    have = pos.is_not_null().to_numpy()
    out = np.zeros((rows.height, len(texts)), np.float32)
    out[have] = all_scores[pos.drop_nulls().to_numpy()]
    todo = np.flatnonzero(~have)
    missing = rows["text"].gather(todo).to_list()
    out[todo] = np.asarray(enc.encode(missing), np.float32) @ ex.T
    return rows, out, offsets


def eval_semantic(rule: SemanticRule, base: pl.DataFrame, embeddings: Embeddings | None,
                  encoder: Any = None,
                  scored: tuple[pl.DataFrame, np.ndarray, dict] | None = None) -> pl.DataFrame:
    """Hits of a semantic rule: cosine >= threshold and closer to examples than counters."""
    rows, scores, offsets = scored or semantic_scores([rule], base, embeddings, encoder)
    if rows.is_empty():
        return empty_loc()
    start, k, m = offsets[rule.id]
    sim = scores[:, start:start + k].max(axis=1)
    counter = (scores[:, start + k:start + k + m].max(axis=1) if m
               else np.full(rows.height, -1.0, np.float32))
    keep = (sim >= rule.threshold) & (sim > counter)
    hit = rows.filter(pl.Series(keep)).with_columns(sim=pl.Series(sim[keep]))
    return hit.select(CID, TI, pl.lit(0, pl.Int32).alias("span_start"),
                      pl.col("text").str.len_chars().cast(pl.Int32).alias("span_end"),
                      pl.col("text").alias("matched_text"),
                      pl.format("similarity {}", pl.col("sim").round(3)).alias("detail"))
