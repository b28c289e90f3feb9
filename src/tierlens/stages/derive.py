"""The derive stage: read the core tables and one model_version's scores (plus the current
rulebook's compliance scores), derive outcomes and KPIs (pure,
:func:`tierlens.metrics.derive.derive`), and rewrite ``outcomes``, ``kpi_monthly_all``,
``qa_criteria_scores`` and ``misroute_matrix`` for that model_version, delete-then-insert in
one transaction (idempotent).

The semantic "customer repeated themselves after handoff" check gets the run's encoder, so
it compares meaning in production: the before/after customer turns are encoded through the
encoder's text-hash cache (the model-score stage already embedded them; the cache is keyed
by the encoder version, which is the first part of the model_version).

Also the reads of what it wrote: :func:`kpis_for_month` (``tierlens kpis``) and
:func:`qa_agreement` (the auto scorecard against human reviews).
Table grains: ``store/sql/outcomes.sql``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from tierlens.errors import InputError, StoreError
from tierlens.metrics.derive import OUTCOME_COLUMNS, derive
from tierlens.metrics.routing import policy_frame
from tierlens.metrics.scorecard import (
    agreement,
    human_criteria_scores,
    latest_reviews,
    load_scorecard,
)
from tierlens.metrics.trust import (
    apply_labels,
    latest_labels,
    trust_columns,
    verification_sample,
    with_verification,
)
from tierlens.settings import Settings
from tierlens.store import outcomes as repo
from tierlens.store.intents import routing_policy
from tierlens.store.scores import current_version

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def embedder_for(model_version: str, encoder: Any) -> Any:
    """``encoder.encode`` when ``encoder`` is the one ``model_version`` was scored with (its
    version is the model_version's first part), else None: embeddings of another encoder
    would compare meaning on a different scale, so the semantic check is left out."""
    if encoder is None or model_version.split("|", 1)[0] != encoder.version:
        return None
    return encoder.encode


def derive_outcomes(con: duckdb.DuckDBPyConnection, model_version: str, settings: Settings,
                    as_of: datetime | None = None, encoder: Any = None) -> dict[str, Any]:
    """Derive and store every outcome and KPI for ``model_version``. Returns counts.
    ``encoder``: the run's encoder, for the semantic restatement check (None: skipped)."""
    t0 = time.perf_counter()
    rulebook = current_version(con, "rulebook")
    frames = repo.read_inputs(con, model_version, rulebook)
    if frames["conversations"].is_empty():
        raise StoreError("no conversations in the warehouse; run `tierlens ingest` first")
    card = load_scorecard(settings.scorecard_path)
    policy = routing_policy(con, settings.routing_policy_path)
    derive_args = {"scorecard": card, "settings": settings, "policy": policy,
                   "embeddings": embedder_for(model_version, encoder)}
    d = derive(frames["conversations"], frames["turns"], frames["conversation_scores"],
               frames["turn_scores"] if not frames["turn_scores"].is_empty() else None,
               frames["compliance_scores"].drop("rulebook_version")
               if not frames["compliance_scores"].is_empty() else None,
               frames["compliance_hits"], as_of=as_of, **derive_args)
    human, reviewed = human_outcomes(frames, read_label_corrections(settings), derive_args, d)
    kpis_trust = trust_columns(d.kpis, d.outcomes, human, reviewed,
                               settings.handoff_target_seconds)
    sample = verification_sample(d.outcomes, reviewed, settings.verification_half_width,
                                 settings.verification_error_rate)
    meta = {"model_version": pl.lit(model_version), "derived_at": pl.lit(datetime.now(UTC)),
            "as_of": pl.lit(d.as_of, pl.Datetime("us", "UTC"))}
    applied = frames["compliance_scores"].select("conversation_id", "rulebook_version")
    outcomes = (d.outcomes.join(applied, on="conversation_id", how="left")
                .with_columns(pl.col("rulebook_version").fill_null(pl.lit(rulebook, pl.String)),
                              **meta))
    kpis = kpis_trust.with_columns(**meta)
    repo.replace_derived(con, model_version, {
        "outcomes": outcomes.select(*OUTCOME_COLUMNS, "model_version", "rulebook_version",
                                    "as_of", "derived_at"),
        "kpi_monthly_all": kpis,
        "qa_criteria_scores": d.qa_criteria.with_columns(
            model_version=pl.lit(model_version), scorecard_version=pl.lit(card.version)),
        "misroute_matrix": d.misroutes.with_columns(model_version=pl.lit(model_version)),
    }, {"verification_sample": sample, "routing_policy": policy_frame(policy)})
    return {"model_version": model_version, "rulebook_version": rulebook,
            "conversations": outcomes.height, "kpi_rows": kpis.height,
            "months": kpis.get_column("month").n_unique(), "as_of": d.as_of,
            "semantic_restatement": derive_args["embeddings"] is not None,
            "seconds": round(time.perf_counter() - t0, 3)}


def read_label_corrections(settings: Settings) -> pl.DataFrame:
    """Reviewers' label corrections (the settings' review store), in the shape
    :func:`tierlens.metrics.trust.latest_labels` reads."""
    from tierlens.reviews.sync import read_label_corrections as from_store

    return from_store(settings.review_store).select(
        pl.col("seq").alias("id"), "conversation_id", "turn_index", "label_type", "new_value")


def human_outcomes(frames: dict[str, pl.DataFrame], corrections: pl.DataFrame,
                   derive_args: dict[str, Any], model: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Outcomes re-derived with the reviewers' labels in place of the model's, for the
    reviewed conversations (and every conversation of their customers, since repeat contact
    reads a customer's history). Returns (outcomes, reviewed: conversation_id, label_type)."""
    conv_labels, turn_labels = latest_labels(corrections)
    conv = frames["conversations"]
    reviewed = (pl.concat([conv_labels.select("conversation_id", "label_type"),
                           turn_labels.select("conversation_id",
                                              label_type=pl.lit("sentiment"))]).unique()
                .join(conv.select("conversation_id"), on="conversation_id", how="semi"))
    if reviewed.is_empty():  # no reviews, or none of this warehouse's conversations
        return model.outcomes, reviewed
    ids = reviewed.select("conversation_id").unique()
    customers = conv.join(ids, on="conversation_id", how="semi").select("customer_id")
    keep = conv.filter(pl.col("conversation_id").is_in(ids["conversation_id"].implode())
                       | pl.col("customer_id").is_in(customers["customer_id"].drop_nulls()
                                                     .implode())).select("conversation_id")

    def sub(name: str) -> pl.DataFrame:
        return frames[name].join(keep, on="conversation_id", how="semi")

    cs, ts = apply_labels(sub("conversation_scores"), sub("turn_scores"), conv_labels,
                          turn_labels)
    comp = sub("compliance_scores")
    h = derive(sub("conversations"), sub("turns"), cs, ts if not ts.is_empty() else None,
               comp if not comp.is_empty() else None, sub("compliance_hits"),
               as_of=model.as_of, **derive_args)
    return h.outcomes, reviewed


def kpis_for_month(con: duckdb.DuckDBPyConnection, month: str,
                   model_version: str | None = None) -> pl.DataFrame:
    """One month's KPIs. Grain: one row per tier and kpi.

    Columns: month, tier, kpi, value, numerator, denominator, model_version, value_corrected,
    ci_low, ci_high, n_reviewed, verification (tierlens.metrics.trust). Uses the current
    model version unless one is given. Raises InputError for a malformed month and
    StoreError when nothing was derived for it.
    """
    if not _MONTH.match(month or ""):
        raise InputError(f"--month {month!r} is not a month; use YYYY-MM, e.g. 2026-10")
    version, df = repo.kpi_rows(con, month, model_version or current_version(con, "model"))
    if df.is_empty():
        raise StoreError(f"no KPIs for {month} (model version {version}); run `tierlens run` "
                         "or derive the outcomes first")
    from tierlens.metrics.kpis import kpi_catalogue

    order = {k.name: i for i, k in enumerate(kpi_catalogue())}
    tiers = {"ai": 0, "human": 1, "all": 2}
    df = with_verification(df)
    return (df.with_columns(_t=pl.col("tier").replace_strict(tiers, default=9),
                            _k=pl.col("kpi").replace_strict(order, default=999))
            .sort("_t", "_k").drop("_t", "_k"))


def human_review_scores(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each reviewer's latest review of each conversation, one row per criterion
    (:func:`tierlens.metrics.scorecard.latest_reviews`: calibration is defined there, once).
    Columns: conversation_id, reviewer, criterion, score."""
    empty = pl.DataFrame(schema={"conversation_id": pl.String, "reviewer": pl.String,
                                 "criterion": pl.String, "score": pl.Int8})
    rev = repo.review_events(con)
    if rev is None or rev.is_empty():
        return empty
    return human_criteria_scores(latest_reviews(rev, "seq"))


def qa_agreement(con: duckdb.DuckDBPyConnection, model_version: str | None = None
                 ) -> pl.DataFrame:
    """AI vs human agreement per criterion (percent agreement, Cohen's kappa); see
    :func:`tierlens.metrics.scorecard.agreement`. Neither score overwrites the other."""
    auto = repo.auto_criteria(con, model_version or current_version(con, "model"))
    return agreement(auto, human_review_scores(con))
