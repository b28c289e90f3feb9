"""Monthly KPIs: one row per (month, tier, kpi) with value, numerator and denominator.

Input: the outcomes frame (one row per conversation, see :mod:`tierlens.metrics.derive`).
Cohort: the month (UTC, ``YYYY-MM``) in which the conversation started. Tier: the tier the
contact entered: ``ai`` (bot-entered, escalated or not), ``human`` (the first responder is a
human agent), ``all`` (every conversation, including those nobody answered).

KPI kinds (``value`` from ``numerator``/``denominator``):
- rate: numerator = count(flag true), denominator = count(flag not NULL), value = num/den;
- rate_over: numerator = count(flag true), denominator = count(a population flag true)
  (containment_durable: / bot-entered, PRODUCT.md);
- count: value = numerator = count(flag true), denominator = conversations in the group;
- mean: numerator = sum, denominator = count(not NULL), value = num/den;
- median / p90: value = the quantile (linear interpolation), denominator = count(not NULL),
  numerator = count(values <= value);
- ratio: numerator = sum of a column, denominator = a count, value = num/den (costs);
- nps: numerator = promoters (9-10) - detractors (0-6), denominator = surveyed,
  value = 100 * num / den.
A denominator of 0 gives value NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

KPI_SCHEMA = {"month": pl.String, "tier": pl.String, "kpi": pl.String, "value": pl.Float64,
              "numerator": pl.Float64, "denominator": pl.Int64}


@dataclass(frozen=True)
class Kpi:
    name: str
    kind: str  # rate | mean | median | p90 | ratio | nps | count
    expr: pl.Expr  # the flag / value per conversation (NULL = not in the denominator)
    den: pl.Expr | None = None  # ratio only: the denominator flag (counted where true)
    unit: str = ""
    # the model label this KPI rests on (a review of that label type verifies it); None for
    # structural KPIs, which no model touches (tierlens.metrics.trust)
    rests_on: str | None = None


def _on(cond: str, col: str | pl.Expr) -> pl.Expr:
    c = pl.col(col) if isinstance(col, str) else col
    return pl.when(pl.col(cond)).then(c)


def kpi_catalogue(handoff_target_seconds: float = 30.0) -> list[Kpi]:
    """Every monthly KPI, in report order."""
    c = pl.col
    return [
        Kpi("conversations", "count", c("conversation_id").is_not_null()),
        Kpi("bot_entered_rate", "rate", c("bot_entered")),
        Kpi("containment_raw", "rate", c("contained_raw")),
        Kpi("containment_durable", "rate_over", c("contained_durable"), den=c("bot_entered"),
            rests_on="resolution"),
        Kpi("containment_durable_pending", "count",
            c("bot_entered") & c("contained_durable").is_null(), rests_on="resolution"),
        Kpi("escalation_rate", "rate", _on("bot_entered", "escalated")),
        Kpi("handoff_seconds_median", "median", c("handoff_seconds"), unit="s"),
        Kpi("handoff_seconds_p90", "p90", c("handoff_seconds"), unit="s"),
        Kpi("handoff_share_under_target", "rate",
            c("handoff_seconds") < handoff_target_seconds),
        Kpi("repeated_after_handoff_rate", "rate", c("repeated_after_handoff")),
        Kpi("trapped_rate", "rate", _on("bot_entered", "trapped")),
        Kpi("repeat_contact_strict", "rate", c("repeat_strict"), rests_on="intent"),
        Kpi("repeat_contact_loose", "rate", c("repeat_loose")),
        Kpi("routing_accuracy", "rate", c("routed_correctly"), rests_on="intent"),
        Kpi("should_have_escalated_rate", "rate", c("should_have_escalated"), rests_on="intent"),
        Kpi("needless_escalation_rate", "rate", c("needless_escalation"), rests_on="intent"),
        Kpi("human_transfer_rate", "rate", _on("agent_spoke", "human_transfer")),
        Kpi("fcr", "rate", c("fcr"), rests_on="resolution"),
        Kpi("first_response_bot_seconds", "mean", c("first_response_bot_s"), unit="s"),
        Kpi("first_response_human_seconds", "mean", c("first_response_human_s"), unit="s"),
        Kpi("abandonment_rate", "rate", c("resolution") == "abandoned", rests_on="resolution"),
        Kpi("csat_surveyed", "mean", c("csat").cast(pl.Float64)),
        # no csat_predicted KPI: the predicted CSAT does not track surveyed satisfaction well
        # enough to report (models/cards/csat.md); it stays an experimental column
        Kpi("nps", "nps", c("nps").cast(pl.Float64)),
        Kpi("aht_seconds", "mean", c("aht_seconds"), unit="s"),
        Kpi("aht_bot_seconds", "mean", _on("bot_entered", "bot_seconds"), unit="s"),
        Kpi("aht_human_seconds", "mean", _on("agent_spoke", "human_seconds"), unit="s"),
        Kpi("elapsed_seconds", "mean", c("elapsed_seconds"), unit="s"),
        Kpi("red_flag_rate", "rate", c("red_flag"), rests_on="compliance_rules"),
        Kpi("qa_score", "mean", c("qa_score"), rests_on="scorecard"),
        Kpi("cost_per_contact", "ratio", c("cost"), den=c("cost").is_not_null(), unit="currency"),
        Kpi("cost_per_resolution", "ratio", c("cost"), den=c("resolution") == "resolved",
            unit="currency", rests_on="resolution"),
    ]


def _aggs(k: Kpi) -> list[pl.Expr]:
    v = k.expr
    n, d = f"{k.name}__num", f"{k.name}__den"
    if k.kind == "count":
        return [v.fill_null(False).cast(pl.Int64).sum().cast(pl.Float64).alias(n),
                pl.len().cast(pl.Int64).alias(d)]
    if k.kind == "rate_over":
        assert k.den is not None
        return [v.fill_null(False).cast(pl.Int64).sum().cast(pl.Float64).alias(n),
                k.den.fill_null(False).cast(pl.Int64).sum().alias(d)]
    if k.kind == "rate":
        return [v.cast(pl.Int64).sum().cast(pl.Float64).alias(n), v.count().cast(pl.Int64).alias(d)]
    if k.kind == "mean":
        return [v.sum().cast(pl.Float64).alias(n), v.count().cast(pl.Int64).alias(d)]
    if k.kind in ("median", "p90"):
        q = 0.5 if k.kind == "median" else 0.9
        return [v.quantile(q, interpolation="linear").alias(f"{k.name}__q"),
                v.count().cast(pl.Int64).alias(d)]
    if k.kind == "ratio":
        assert k.den is not None
        return [v.sum().cast(pl.Float64).alias(n), k.den.fill_null(False).sum().cast(pl.Int64)
                .alias(d)]
    if k.kind == "nps":
        return [((v >= 9).cast(pl.Int64).sum() - (v <= 6).cast(pl.Int64).sum())
                .cast(pl.Float64).alias(n), v.count().cast(pl.Int64).alias(d)]
    raise ValueError(f"unknown KPI kind {k.kind!r}")


def contributions(k: Kpi) -> tuple[pl.Expr, pl.Expr]:
    """Each conversation's contribution to the KPI's numerator and denominator, so that their
    sums over a group are the group's numerator and denominator (:func:`_aggs`). Defined for
    the additive kinds (count, rate, rate_over, ratio, mean, nps); quantiles are not sums."""
    v = k.expr
    if k.kind == "count":
        return v.fill_null(False).cast(pl.Int64), pl.lit(1, pl.Int64)
    if k.kind in ("rate_over", "ratio"):
        assert k.den is not None
        num = v.fill_null(False).cast(pl.Int64) if k.kind == "rate_over" else v.fill_null(0)
        return num, k.den.fill_null(False).cast(pl.Int64)
    if k.kind == "rate":
        return v.fill_null(False).cast(pl.Int64), v.is_not_null().cast(pl.Int64)
    if k.kind == "mean":
        return v.fill_null(0), v.is_not_null().cast(pl.Int64)
    if k.kind == "nps":
        return ((v >= 9).cast(pl.Int64) - (v <= 6).cast(pl.Int64)).fill_null(0), \
            v.is_not_null().cast(pl.Int64)
    raise ValueError(f"KPI {k.name!r} ({k.kind}) has no per-conversation contributions")


def with_cohort(outcomes: pl.DataFrame) -> pl.LazyFrame:
    """Each conversation twice: under its own tier and under ``all``. Adds ``month``."""
    lf = outcomes.lazy().with_columns(
        month=pl.col("started_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m"))
    return pl.concat([lf.filter(pl.col("tier").is_not_null()),
                      lf.with_columns(tier=pl.lit("all"))])


def kpi_monthly(outcomes: pl.DataFrame, handoff_target_seconds: float = 30.0) -> pl.DataFrame:
    """The monthly KPI table. Grain: one row per (month, tier, kpi). Schema: KPI_SCHEMA."""
    cat = kpi_catalogue(handoff_target_seconds)
    lf = with_cohort(outcomes)
    wide = lf.group_by("month", "tier").agg([e for k in cat for e in _aggs(k)]).collect()
    # quantile numerators: how many values are at or below the quantile (second pass)
    qk = [k for k in cat if k.kind in ("median", "p90")]
    if qk:
        counts = (lf.join(wide.lazy().select("month", "tier", *[f"{k.name}__q" for k in qk]),
                          on=["month", "tier"])
                  .group_by("month", "tier")
                  .agg([(k.expr <= pl.col(f"{k.name}__q")).cast(pl.Int64).sum()
                        .cast(pl.Float64).alias(f"{k.name}__num") for k in qk])
                  .collect())
        wide = wide.join(counts, on=["month", "tier"], how="left")
    frames = []
    for k in cat:
        num, den = pl.col(f"{k.name}__num"), pl.col(f"{k.name}__den")
        if k.kind in ("median", "p90"):
            value = pl.when(den > 0).then(pl.col(f"{k.name}__q"))
        elif k.kind == "nps":
            value = pl.when(den > 0).then(100.0 * num / den)
        elif k.kind == "count":
            value = num
        else:
            value = pl.when(den > 0).then(num / den)
        frames.append(wide.select("month", "tier", kpi=pl.lit(k.name), value=value,
                                  numerator=num, denominator=den))
    order = {k.name: i for i, k in enumerate(cat)}
    tier_order = {"ai": 0, "human": 1, "all": 2}
    return (pl.concat(frames).cast(KPI_SCHEMA)  # type: ignore[arg-type]
            .with_columns(_k=pl.col("kpi").replace_strict(order, return_dtype=pl.Int32),
                          _t=pl.col("tier").replace_strict(tier_order, return_dtype=pl.Int32))
            .sort("month", "_t", "_k").drop("_k", "_t"))


def kpi_error(truth: pl.DataFrame, predicted: pl.DataFrame) -> pl.DataFrame:
    """Error of KPIs computed from model predictions against the same KPIs from the truth.

    Both frames: KPI_SCHEMA. Grain: one row per (month, tier, kpi) present in either.
    Columns: value_truth, value_pred, abs_error, rel_error (abs_error / |value_truth|).
    """
    keys = ["month", "tier", "kpi"]
    return (
        truth.select(*keys, value_truth="value")
        .join(predicted.select(*keys, value_pred="value"), on=keys, how="full", coalesce=True)
        .with_columns(abs_error=(pl.col("value_pred") - pl.col("value_truth")).abs())
        .with_columns(rel_error=pl.when(pl.col("value_truth").abs() > 0)
                      .then(pl.col("abs_error") / pl.col("value_truth").abs()))
        .sort(keys)
    )
