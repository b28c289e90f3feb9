"""The trust layer: model-based KPIs corrected by a human-reviewed sample, with intervals.

A KPI such as durable containment is computed from model labels (resolution, intent) on every
conversation. Reviewers label a sample of conversations (the dashboard's review form or
``tierlens reviews import``). On those conversations we know the KPI's contribution twice:
with the model's labels and with the human's. The corrected KPI is the model's figure plus
the mean model error measured on the reviewed sample (a difference estimator, as in
prediction-powered inference, Angelopoulos et al. 2023):

    N = sum over the month's conversations of the model's numerator contribution n_i
        + |G| * mean over reviewed conversations of (n_i(human) - n_i(model))
    D = the same for the denominator contribution d_i
    value_corrected = N / D        (for a count KPI: N)

It is unbiased when the reviewed conversations are a random sample of the group (month and
tier), whatever the model's error structure (no assumption of equal errors per class, unlike
Rogan-Gladen), and it reduces to the model's figure when the model agrees with every review.
The 95% interval uses the delta method on N / D with the sample (co)variances of the errors
and the finite-population correction (1 - r / |G|). When every review agrees with the model
the sample variance is 0, which would claim certainty: the variance of each binary error is
floored at that of one disagreement among r + 1 reviews. See docs/metrics.md.

Grain of the output: the KPI frame's (one row per month, tier and kpi), with four columns
appended: ``value_corrected, ci_low, ci_high, n_reviewed``.
- structural KPIs (no model enters them): value_corrected = value, the interval is the value
  itself (an exact count over every conversation), n_reviewed NULL;
- model-based KPIs with at least one reviewed conversation in the group: as above;
- model-based KPIs without reviews (or that labels cannot verify, e.g. predicted CSAT):
  value_corrected, ci_low, ci_high NULL and n_reviewed 0: "unverified".
"""

from __future__ import annotations

import math

import polars as pl

from tierlens.metrics.kpis import Kpi, contributions, kpi_catalogue, with_cohort

TRUST_COLUMNS = {"value_corrected": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                 "n_reviewed": pl.Int64}
Z95 = 1.959964
LABEL_TYPES = ("resolution", "intent", "sentiment", "escalation_reason")


def latest_labels(corrections: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The latest human label per conversation and label type (conversation level: no
    ``turn_index``) and per customer turn (``sentiment`` with a ``turn_index``).

    Input columns: conversation_id, turn_index (nullable), label_type, new_value, and an
    ordering column ``id``. Returns (conversation labels: conversation_id, label_type, label;
    turn labels: conversation_id, turn_index, label)."""
    c = corrections.sort("id")
    conv = (c.filter(pl.col("turn_index").is_null())
            .group_by("conversation_id", "label_type").agg(label=pl.col("new_value").last()))
    turn = (c.filter(pl.col("turn_index").is_not_null() & (pl.col("label_type") == "sentiment"))
            .group_by("conversation_id", "turn_index").agg(label=pl.col("new_value").last())
            .with_columns(pl.col("turn_index").cast(pl.Int32)))
    return conv, turn


def apply_labels(conversation_scores: pl.DataFrame, turn_scores: pl.DataFrame | None,
                 conv_labels: pl.DataFrame, turn_labels: pl.DataFrame
                 ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The model's scores with every human label put in place of the model's."""
    cs = conversation_scores
    for col in ("resolution", "intent"):
        if col not in cs.columns:
            continue
        lab = conv_labels.filter(pl.col("label_type") == col).select(
            "conversation_id", pl.col("label").alias("_h"))
        cs = (cs.join(lab, on="conversation_id", how="left")
              .with_columns(pl.coalesce("_h", col).alias(col)).drop("_h"))
    ts = turn_scores
    if ts is not None and "sentiment_label" in ts.columns and not turn_labels.is_empty():
        ts = (ts.join(turn_labels.rename({"label": "_h"}), on=["conversation_id", "turn_index"],
                      how="left")
              .with_columns(pl.coalesce("_h", "sentiment_label").alias("sentiment_label"))
              .drop("_h"))
    return cs, ts


def _floor(var: float, r: int) -> float:
    """Floor a binary error's sample variance at that of one disagreement in r + 1."""
    p = 1.0 / (r + 1)
    return max(var, p * (1 - p))


def correct(size: int, n_model: float, d_model: float,
            errors: list[tuple[float, float]], *, count: bool = False,
            binary_num: bool = True, binary_den: bool = True, z: float = Z95
            ) -> tuple[float | None, float | None, float | None]:
    """(value_corrected, ci_low, ci_high) for one group.

    ``size`` conversations; ``n_model``/``d_model`` the model's numerator and denominator
    totals over them; ``errors`` one (numerator error, denominator error) per reviewed
    conversation (human contribution minus model contribution). ``count``: the KPI is the
    numerator itself. ``binary_*``: that contribution is a 0/1 flag (its variance is floored).
    """
    r = len(errors)
    if r == 0 or size == 0:
        return None, None, None
    en = [e[0] for e in errors]
    ed = [e[1] for e in errors]
    mn, md = sum(en) / r, sum(ed) / r
    if r > 1:
        vn = sum((x - mn) ** 2 for x in en) / (r - 1)
        vd = sum((x - md) ** 2 for x in ed) / (r - 1)
        cnd = sum((x - mn) * (y - md) for x, y in zip(en, ed, strict=True)) / (r - 1)
    else:
        vn = vd = cnd = 0.0
    if binary_num:
        vn = _floor(vn, r)
    if binary_den and not count:
        vd = _floor(vd, r)
    fpc = max(0.0, 1.0 - r / size)
    a = n_model / size + mn          # corrected mean numerator per conversation
    b = d_model / size + md          # corrected mean denominator per conversation
    var_a, var_b, cov = vn * fpc / r, vd * fpc / r, cnd * fpc / r
    if count:
        est, se = size * a, size * math.sqrt(max(var_a, 0.0))
    else:
        if b <= 0:
            return None, None, None
        est = a / b
        se = math.sqrt(max(var_a - 2 * est * cov + est * est * var_b, 0.0)) / b
    return est, est - z * se, est + z * se


def _frame(outcomes: pl.DataFrame, kpis: list[Kpi]) -> pl.DataFrame:
    cols = []
    for k in kpis:
        n, d = contributions(k)
        cols += [n.cast(pl.Float64).alias(f"{k.name}__n"), d.cast(pl.Float64).alias(f"{k.name}__d")]
    return with_cohort(outcomes).select("month", "tier", "conversation_id", *cols).collect()


def trust_columns(kpis: pl.DataFrame, model_outcomes: pl.DataFrame,
                  human_outcomes: pl.DataFrame, reviewed: pl.DataFrame,
                  handoff_target_seconds: float = 30.0) -> pl.DataFrame:
    """Append ``value_corrected, ci_low, ci_high, n_reviewed`` to the KPI frame.

    ``model_outcomes``: outcomes derived from the model's labels (every conversation);
    ``human_outcomes``: outcomes derived with the human labels in place (at least the
    reviewed conversations); ``reviewed``: conversation_id, label_type of every conversation
    a human labelled. A conversation counts as reviewed for a KPI when it has a human label of
    the type the KPI rests on (:attr:`Kpi.rests_on`)."""
    cat = [k for k in kpi_catalogue(handoff_target_seconds) if k.rests_on]
    correctable = [k for k in cat if k.kind in ("rate", "rate_over", "ratio", "count")
                   and k.rests_on in LABEL_TYPES]
    rows: list[dict] = []
    if correctable:
        m = _frame(model_outcomes, correctable)
        h = _frame(human_outcomes, correctable)
        sizes = m.group_by("month", "tier").agg(pl.len().alias("_size"),
                                                *[pl.col(f"{k.name}__{x}").sum()
                                                  for k in correctable for x in "nd"])
        for k in correctable:
            ids = reviewed.filter(pl.col("label_type") == k.rests_on).select(
                "conversation_id").unique()
            pair = (m.select("month", "tier", "conversation_id", f"{k.name}__n", f"{k.name}__d")
                    .join(ids, on="conversation_id", how="semi")
                    .join(h.select("month", "tier", "conversation_id",
                                   pl.col(f"{k.name}__n").alias("_hn"),
                                   pl.col(f"{k.name}__d").alias("_hd")),
                          on=["month", "tier", "conversation_id"], how="inner")
                    .with_columns(_en=pl.col("_hn") - pl.col(f"{k.name}__n"),
                                  _ed=pl.col("_hd") - pl.col(f"{k.name}__d"))
                    .group_by("month", "tier")
                    .agg(pl.col("_en"), pl.col("_ed")))
            errs = {(r["month"], r["tier"]): list(zip(r["_en"], r["_ed"], strict=True))
                    for r in pair.iter_rows(named=True)}
            for g in sizes.iter_rows(named=True):
                e = errs.get((g["month"], g["tier"]), [])
                est, lo, hi = correct(g["_size"], g[f"{k.name}__n"], g[f"{k.name}__d"],
                                      e, count=k.kind == "count",
                                      binary_num=k.kind != "ratio")
                rows.append({"month": g["month"], "tier": g["tier"], "kpi": k.name,
                             "value_corrected": est, "ci_low": lo, "ci_high": hi,
                             "n_reviewed": len(e)})
    corr = pl.DataFrame(rows, schema={"month": pl.String, "tier": pl.String, "kpi": pl.String,
                                      **TRUST_COLUMNS})
    model_based = {k.name for k in cat}
    out = kpis.join(corr, on=["month", "tier", "kpi"], how="left")
    structural = ~pl.col("kpi").is_in(list(model_based))
    return out.with_columns(
        value_corrected=pl.when(structural).then(pl.col("value"))
        .otherwise(pl.col("value_corrected")),
        ci_low=pl.when(structural).then(pl.col("value")).otherwise(pl.col("ci_low")),
        ci_high=pl.when(structural).then(pl.col("value")).otherwise(pl.col("ci_high")),
        n_reviewed=pl.when(structural).then(None)
        .otherwise(pl.col("n_reviewed").fill_null(0)).cast(pl.Int64),
    )


def required_reviews(population: int, half_width: float = 0.03, error_rate: float = 0.10,
                     z: float = Z95) -> int:
    """Reviews needed in one group for a ±``half_width`` 95% interval on a rate KPI.

    The interval's half width is about z * sqrt(var(error) / r * (1 - r / N)); a binary
    error with rate ``error_rate`` (the planning value, or the observed disagreement rate once
    reviews exist) has variance at most error_rate * (1 - error_rate) on the numerator.
    Solves for r with the finite-population correction."""
    if population <= 0:
        return 0
    v = max(error_rate * (1 - error_rate), 1e-6)
    n0 = (z * z * v) / (half_width * half_width)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def verification_status(n_reviewed: int | None, ci_low: float | None, ci_high: float | None,
                        kind: str = "rate", unit: str = "") -> str:
    """How far to trust a KPI row: ``structural`` (no model enters it), ``unverified`` (no
    review of the label it rests on), or ``verified by N reviews, ±x`` (half the 95% interval:
    in points for rates, in the KPI's own unit otherwise)."""
    if n_reviewed is None:
        return "structural"
    if not n_reviewed or ci_low is None or ci_high is None:
        return "unverified"
    half = (ci_high - ci_low) / 2
    if kind in ("rate", "rate_over"):
        return f"verified by {n_reviewed} reviews, ±{100 * half:.1f} pts"
    return f"verified by {n_reviewed} reviews, ±{half:,.2f}{' ' + unit if unit else ''}"


def with_verification(kpis: pl.DataFrame) -> pl.DataFrame:
    """Append a ``verification`` text column (see :func:`verification_status`) to a frame
    with ``kpi, n_reviewed, ci_low, ci_high``; other columns are kept as they are."""
    cat = {k.name: k for k in kpi_catalogue()}
    text = [verification_status(r["n_reviewed"], r["ci_low"], r["ci_high"],
                                cat[r["kpi"]].kind if r["kpi"] in cat else "rate",
                                cat[r["kpi"]].unit if r["kpi"] in cat else "")
            if r["kpi"] in cat else "structural"
            for r in kpis.select("kpi", "n_reviewed", "ci_low", "ci_high").iter_rows(named=True)]
    return kpis.with_columns(verification=pl.Series(text, dtype=pl.String))


def sample_rank(conversation_id: str, salt: str = "tierlens-verification") -> int:
    """A stable pseudo-random rank: the same conversation always gets the same place in the
    verification sample, independent of anything the model says about it."""
    import hashlib

    return int.from_bytes(hashlib.sha1(f"{salt}:{conversation_id}".encode()).digest()[:8], "big")


def verification_sample(outcomes: pl.DataFrame, reviewed: pl.DataFrame,
                        half_width: float = 0.03, error_rate: float = 0.10) -> pl.DataFrame:
    """The stratified random sample to review, per month and tier (``ai``, ``human``), sized by
    :func:`required_reviews` for a ±``half_width`` interval.

    Every conversation of the group is in the population, red-flagged or not (the red-flag
    queue is a separate, deliberately biased queue; this sample must stay random to correct
    KPIs). Grain: one row per sampled conversation: month, tier, conversation_id,
    sample_rank (1 = first to review), population, needed, reviewed."""
    lf = outcomes.lazy().filter(pl.col("tier").is_not_null()).select(
        "conversation_id", "tier",
        month=pl.col("started_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m"))
    frame = lf.collect().with_columns(
        _h=pl.col("conversation_id").map_elements(sample_rank, return_dtype=pl.UInt64))
    sizes = frame.group_by("month", "tier").len("population").with_columns(
        needed=pl.col("population").map_elements(
            lambda n: required_reviews(n, half_width, error_rate), return_dtype=pl.Int64))
    done = reviewed.select("conversation_id").unique().with_columns(reviewed=pl.lit(True))
    return (frame.with_columns(sample_rank=pl.col("_h").rank("ordinal")
                               .over("month", "tier").cast(pl.Int64))
            .join(sizes, on=["month", "tier"])
            .filter(pl.col("sample_rank") <= pl.col("needed"))
            .join(done, on="conversation_id", how="left")
            .with_columns(pl.col("reviewed").fill_null(False))
            .select("month", "tier", "conversation_id", "sample_rank", "population", "needed",
                    "reviewed")
            .sort("month", "tier", "sample_rank"))
