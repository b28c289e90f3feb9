"""QA scorecard: configuration (YAML, validated) apart from calculation (pure polars).

- :func:`load_scorecard` (from :mod:`tierlens.config.scorecard`) reads
  ``config/scorecard.yaml`` (or a given file) into a :class:`Scorecard`; errors are
  :class:`tierlens.errors.ConfigError` naming the file, the criterion and the fix.
- :func:`criteria_scores`: one row per (conversation, criterion): ``applicable``, ``score``
  (1 / 0 / NULL when N/A), ``weight``.
- :func:`qa_scores`: one row per conversation: ``qa_score`` in [0, 100] (NULL when no criterion
  applies), ``qa_critical`` (a critical hit zeroed it).
- :func:`agreement`: AI-vs-human agreement per criterion (percent agreement, Cohen's kappa).
The auto score is stored in ``qa_criteria_scores``/``outcomes``; human review scores live in
the review store (mirrored into ``reviews``) and are only ever compared, never merged.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import cohen_kappa_score

from tierlens.config.scorecard import CRITERIA, Scorecard, load_scorecard  # noqa: F401  (re-exported)

SPEAKERS = ("customer", "bot", "agent")


def _regex_flags(turns: pl.DataFrame, items: list[tuple[str, tuple[str, ...], str, str]]
                 ) -> pl.LazyFrame:
    """One row per conversation; one column per item ``(name, speakers, where, pattern)``:
    whether the pattern matched those speakers' first / last / any turn (NULL when those
    speakers have no turn). Each distinct text is matched once (bots and agents repeat
    themselves), and one group-by serves every item."""
    speakers = sorted({sp for _, sps, _, _ in items for sp in sps})
    sub = (turns.lazy().select("conversation_id", "turn_index", "speaker", "text")
           .filter(pl.col("speaker").is_in(speakers))
           .with_columns(pl.col("text").fill_null("")))
    texts = sub.select("text").unique().with_columns(
        [pl.col("text").str.contains("(?i)" + pat).alias(f"_m{i}")
         for i, (_, _, _, pat) in enumerate(items)])
    sub = sub.join(texts, on="text", how="left").with_columns(
        k=pl.col("conversation_id").cast(pl.Categorical).to_physical())
    aggs = [pl.col("conversation_id").first()]
    for i, (name, sps, where, _) in enumerate(items):
        is_s = pl.col("speaker").is_in(list(sps))
        m = pl.col(f"_m{i}").filter(is_s)
        pos = pl.col("turn_index").filter(is_s)
        val = (m.get(pos.arg_min()) if where == "first"
               else m.get(pos.arg_max()) if where == "last" else m.any())
        aggs.append(pl.when(is_s.any()).then(val).alias(name))
    return sub.group_by("k").agg(aggs).drop("k")


def criteria_scores(frame: pl.DataFrame, turns: pl.DataFrame, hits: pl.DataFrame | None,
                    card: Scorecard, turn_signals: pl.DataFrame | None = None) -> pl.DataFrame:
    """Auto score per criterion. Grain: one row per (conversation, criterion).

    ``frame``: one row per conversation with ``conversation_id, resolution`` (and optional
    ``sentiment_start``). ``hits``: compliance hits (``conversation_id, severity``).
    """
    items: list[tuple[str, tuple[str, ...], str, str]] = []
    for c in card.criteria:
        if c.check.kind == "regex":
            items.append((f"{c.name}__met", c.check.speakers, c.check.where,
                          c.check.pattern or ""))
        if c.applies_if is not None and c.applies_if.kind == "regex":
            items.append((f"{c.name}__ap", c.applies_if.speakers, "any",
                          c.applies_if.pattern or ""))
    base = frame.lazy().select("conversation_id", "resolution",
                               pl.col("sentiment_start") if "sentiment_start" in frame.columns
                               else pl.lit(None, pl.Float64).alias("sentiment_start"))
    if items:
        base = base.join(_regex_flags(turns, items), on="conversation_id", how="left")
    neg = pl.LazyFrame(schema={"conversation_id": pl.String, "neg": pl.Boolean})
    if turn_signals is not None and "sentiment_label" in turn_signals.columns:
        tl = turns.lazy().select("conversation_id", "turn_index", "speaker")
        neg = (turn_signals.lazy().select("conversation_id", "turn_index", "sentiment_label")
               .join(tl, on=["conversation_id", "turn_index"])
               .filter(pl.col("speaker") == "customer")
               .group_by("conversation_id")
               .agg(neg=(pl.col("sentiment_label") == "negative").any()))
    sev = pl.LazyFrame(schema={"conversation_id": pl.String, "severity": pl.String})
    if hits is not None and not hits.is_empty():
        sev = hits.lazy().select("conversation_id", "severity")
    bad_any = [c.check.fail_on for c in card.criteria if c.check.kind == "compliance"]
    for i, fail_on in enumerate(bad_any):
        bad = (sev.filter(pl.col("severity").is_in(list(fail_on)))
               .select("conversation_id").unique().with_columns(pl.lit(True).alias(f"_bad{i}")))
        base = base.join(bad, on="conversation_id", how="left")
    # evaluated once; every criterion below is a projection of it
    base = base.join(neg, on="conversation_id", how="left").collect().lazy()
    n_bad = 0
    parts = []
    for c in card.criteria:
        lf = base
        chk = c.check
        if chk.kind == "regex":
            met = pl.col(f"{c.name}__met")
            applicable = met.is_not_null()
        elif chk.kind == "resolution":
            applicable = pl.col("resolution").is_in(["resolved", "unresolved"])
            met = pl.col("resolution") == "resolved"
        else:
            applicable, met = pl.lit(True), pl.col(f"_bad{n_bad}").is_null()
            n_bad += 1
        a = c.applies_if
        if a is not None and a.kind == "regex":
            applicable = applicable & pl.col(f"{c.name}__ap").fill_null(False)
        elif a is not None and a.kind == "negative_sentiment":
            applicable = applicable & (pl.col("neg").fill_null(False)
                                       | (pl.col("sentiment_start") < 0).fill_null(False))
        elif a is not None and a.kind == "not_abandoned":
            applicable = applicable & (pl.col("resolution") != "abandoned").fill_null(True)
        parts.append(lf.select(
            "conversation_id", criterion=pl.lit(c.name), weight=pl.lit(c.weight),
            applicable=applicable.fill_null(False),
            score=pl.when(applicable.fill_null(False)).then(met.fill_null(False).cast(pl.Int8))))
    return pl.concat(parts).collect()


def qa_scores(crit: pl.DataFrame, hits: pl.DataFrame | None, card: Scorecard) -> pl.DataFrame:
    """qa_score per conversation. Grain: one row per conversation of ``crit``."""
    out = crit.group_by("conversation_id").agg(
        _num=(pl.col("weight") * pl.col("score").cast(pl.Float64)).sum(),
        _den=pl.col("weight").filter(pl.col("applicable")).sum(),
    )
    crit_ids = pl.DataFrame(schema={"conversation_id": pl.String})
    if hits is not None and not hits.is_empty():
        crit_ids = (hits.filter(pl.col("severity").is_in(list(card.zero_on_severity)))
                    .select("conversation_id").unique())
    return (
        out.join(crit_ids.with_columns(qa_critical=pl.lit(True)), on="conversation_id",
                 how="left")
        .with_columns(qa_critical=pl.col("qa_critical").fill_null(False))
        .select("conversation_id", "qa_critical",
                qa_score=pl.when(pl.col("qa_critical")).then(0.0)
                .when(pl.col("_den") > 0).then(100.0 * pl.col("_num") / pl.col("_den")))
    )


def agreement(auto: pl.DataFrame, human: pl.DataFrame) -> pl.DataFrame:
    """AI vs human reviewer agreement. Grain: one row per criterion.

    Both frames: ``conversation_id, criterion, score`` (1/0; NULL = N/A). Pairs where either
    side is N/A are left out. Columns: criterion, n, percent_agreement (0-100), cohen_kappa
    (NULL when undefined, e.g. fewer than 2 pairs or one class only on both sides).
    """
    pairs = (auto.select("conversation_id", "criterion", pl.col("score").alias("auto"))
             .join(human.select("conversation_id", "criterion", pl.col("score").alias("human")),
                   on=["conversation_id", "criterion"])
             .drop_nulls(["auto", "human"]))
    rows = []
    for crit, g in pairs.group_by("criterion"):  # one iteration per criterion, not per row
        a = g.get_column("auto").to_numpy()
        h = g.get_column("human").to_numpy()
        kappa = None
        if len(a) >= 2 and len(set(a.tolist()) | set(h.tolist())) > 1:
            k = float(cohen_kappa_score(a, h))
            kappa = None if np.isnan(k) else k
        rows.append({"criterion": crit[0], "n": len(a),
                     "percent_agreement": float(100.0 * np.mean(a == h)) if len(a) else None,
                     "cohen_kappa": kappa})
    return pl.DataFrame(rows, schema={"criterion": pl.String, "n": pl.Int64,
                                      "percent_agreement": pl.Float64,
                                      "cohen_kappa": pl.Float64}).sort("criterion")


# --- calibration: auto vs human, defined once (docs/metrics.md) -----------------------------

def latest_reviews(reviews: pl.DataFrame, order_by: str = "seq") -> pl.DataFrame:
    """Each reviewer's latest review of each conversation: the unit calibration compares with
    the auto score (a reviewer's second look replaces their first; two reviewers are two
    pairs). ``reviews``: review events with ``conversation_id, reviewer, criteria`` (JSON
    ``{criterion: 1 | 0 | null}``), ``total`` and the event order ``order_by`` (``seq`` in the
    warehouse mirror, ``id`` in the review store). Grain: one row per (conversation, reviewer).
    """
    return (reviews.sort(order_by)
            .group_by("conversation_id", "reviewer", maintain_order=True).last()
            .sort("conversation_id", "reviewer"))


def human_criteria_scores(latest: pl.DataFrame) -> pl.DataFrame:
    """:func:`latest_reviews` exploded to the shape :func:`agreement` takes. Grain: one row per
    (conversation, reviewer, criterion); columns ``conversation_id, reviewer, criterion,
    score`` (1/0, NULL = N/A)."""
    import json

    rows = [(r["conversation_id"], r["reviewer"], k, v) for r in latest.iter_rows(named=True)
            for k, v in json.loads(r["criteria"] or "{}").items()]
    return pl.DataFrame(rows, schema={"conversation_id": pl.String, "reviewer": pl.String,
                                      "criterion": pl.String, "score": pl.Int8}, orient="row")


def total_pairs(auto_totals: pl.DataFrame, latest: pl.DataFrame) -> pl.DataFrame:
    """Auto QA score next to each reviewer's latest total. Grain: one row per (conversation,
    reviewer); ``auto_totals``: ``conversation_id, qa_score``."""
    return (auto_totals.select("conversation_id", "qa_score")
            .join(latest.select("conversation_id", "reviewer", human_total="total"),
                  on="conversation_id")
            .with_columns(gap=(pl.col("qa_score") - pl.col("human_total")).abs())
            .sort("conversation_id", "reviewer"))
