"""Warehouse edge of the outcome metrics: read, derive (pure, tierlens.metrics), write.

- :func:`derive_outcomes` reads the core tables and one model_version's scores (plus the
  current rulebook's compliance scores), runs :func:`tierlens.metrics.derive.derive` and
  rewrites ``outcomes``, ``kpi_monthly_all``, ``qa_criteria_scores`` and ``misroute_matrix``
  for that model_version, delete-then-insert in one transaction (idempotent).
- :func:`kpis_for_month` returns one month's KPIs (one row per tier and kpi) for
  ``tierlens kpis --month YYYY-MM``.
- :func:`qa_agreement` compares the auto scorecard (``qa_criteria_scores``) with the human
  reviews mirrored into ``reviews`` (criteria JSON), per criterion.
Table grains: see migrations/0003_outcomes.sql.
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
from tierlens.schema import CONVERSATION_SCHEMA, TURN_SCHEMA
from tierlens.settings import Settings, get_settings
from tierlens.store.db import sql_file, transaction
from tierlens.store.intents import routing_policy
from tierlens.store.writes import append

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
           ) -> pl.DataFrame:
    return con.execute(sql, params or []).pl()


def current_version(con: duckdb.DuckDBPyConnection, component: str) -> str | None:
    row = con.execute("SELECT version FROM current_versions WHERE component = ?",
                      [component]).fetchone()
    return row[0] if row else None


def _utc(df: pl.DataFrame, cols: tuple[str, ...]) -> pl.DataFrame:
    return df.with_columns([pl.col(c).dt.convert_time_zone("UTC") for c in cols
                            if c in df.columns and isinstance(df.schema[c], pl.Datetime)])


def read_inputs(con: duckdb.DuckDBPyConnection, model_version: str,
                rulebook_version: str | None) -> dict[str, pl.DataFrame]:
    """The frames :func:`derive` needs, read from the warehouse.

    Scores are each conversation's latest: those of the model and rulebook version last
    applied to it (``applied_versions``), else of ``model_version`` / ``rulebook_version``.
    """
    conv = _utc(_frame(con, f"SELECT {', '.join(CONVERSATION_SCHEMA)} FROM core_conversations"),
                ("started_at", "ended_at"))
    turns = _utc(_frame(con, f"SELECT {', '.join(TURN_SCHEMA)} FROM core_turns"), ("ts",))
    latest = sql_file("latest_scores.sql")
    cscores = _frame(con, latest.format(
        cols="s.conversation_id, s.intent, s.resolution, s.csat_predicted, s.sentiment_start",
        table="model_conversation_scores", version="model_version", component="model"),
        [model_version])
    tscores = _frame(con, latest.format(
        cols="s.conversation_id, s.turn_index, s.sentiment_label, s.bot_outcome",
        table="turn_scores", version="model_version", component="model"), [model_version])
    comp = _frame(con, latest.format(
        cols="s.conversation_id, s.risk_score, s.red_flag, s.rulebook_version",
        table="compliance_scores", version="rulebook_version", component="rulebook"),
        [rulebook_version])
    hits = _frame(con, latest.format(
        cols="s.conversation_id, s.severity", table="compliance_hits",
        version="rulebook_version", component="rulebook"), [rulebook_version])
    return {"conversations": conv, "turns": turns, "conversation_scores": cscores,
            "turn_scores": tscores, "compliance_scores": comp, "compliance_hits": hits}


def derive_outcomes(con: duckdb.DuckDBPyConnection, model_version: str,
                    settings: Settings | None = None, as_of: datetime | None = None
                    ) -> dict[str, Any]:
    """Derive and store every outcome and KPI for ``model_version``. Returns counts."""
    s = settings or get_settings()
    t0 = time.perf_counter()
    rulebook = current_version(con, "rulebook")
    frames = read_inputs(con, model_version, rulebook)
    if frames["conversations"].is_empty():
        raise StoreError("no conversations in the warehouse; run `tierlens ingest` first")
    card = load_scorecard(s.scorecard_path)
    policy = routing_policy(con, s.routing_policy_path)
    derive_args = {"scorecard": card, "settings": s, "policy": policy}
    d = derive(frames["conversations"], frames["turns"], frames["conversation_scores"],
               frames["turn_scores"] if not frames["turn_scores"].is_empty() else None,
               frames["compliance_scores"].drop("rulebook_version")
               if not frames["compliance_scores"].is_empty() else None,
               frames["compliance_hits"], as_of=as_of, **derive_args)
    human, reviewed = human_outcomes(frames, read_label_corrections(s), derive_args, d)
    kpis_trust = trust_columns(d.kpis, d.outcomes, human, reviewed, s.handoff_target_seconds)
    sample = verification_sample(d.outcomes, reviewed, s.verification_half_width,
                                 s.verification_error_rate)
    now = datetime.now(UTC)
    meta = {"model_version": pl.lit(model_version), "derived_at": pl.lit(now),
            "as_of": pl.lit(d.as_of, pl.Datetime("us", "UTC"))}
    applied = frames["compliance_scores"].select("conversation_id", "rulebook_version")
    outcomes = (d.outcomes.join(applied, on="conversation_id", how="left")
                .with_columns(pl.col("rulebook_version").fill_null(pl.lit(rulebook, pl.String)),
                              **meta))
    kpis = kpis_trust.with_columns(**meta)
    crit = d.qa_criteria.with_columns(model_version=pl.lit(model_version),
                                      scorecard_version=pl.lit(card.version))
    mis = d.misroutes.with_columns(model_version=pl.lit(model_version))
    with transaction(con):
        for table in ("outcomes", "kpi_monthly_all", "qa_criteria_scores", "misroute_matrix"):
            con.execute(f"DELETE FROM {table} WHERE model_version = ?",
                        [model_version])
        append(con, "outcomes", outcomes.select(*OUTCOME_COLUMNS, "model_version",
                                                 "rulebook_version", "as_of", "derived_at"))
        append(con, "kpi_monthly_all", kpis)
        append(con, "qa_criteria_scores", crit)
        append(con, "misroute_matrix", mis)
        con.execute("DELETE FROM verification_sample")
        append(con, "verification_sample", sample)
        con.execute("DELETE FROM routing_policy")  # the policy this derive used
        append(con, "routing_policy", policy_frame(policy))
    return {"model_version": model_version, "rulebook_version": rulebook,
            "conversations": outcomes.height, "kpi_rows": kpis.height,
            "months": kpis.get_column("month").n_unique(), "as_of": d.as_of,
            "seconds": round(time.perf_counter() - t0, 3)}


def read_label_corrections(settings: Settings) -> pl.DataFrame:
    """Reviewers' label corrections (the settings' review store), in the shape
    :func:`tierlens.metrics.trust.latest_labels` reads."""
    from tierlens.store.reviews_sync import read_label_corrections as from_store

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
    version = model_version or current_version(con, "model")
    if version is None:
        row = con.execute("SELECT max(model_version) FROM kpi_monthly_all").fetchone()
        version = row[0] if row else None
    df = _frame(con, """SELECT month, tier, kpi, value, numerator, denominator, model_version,
                               value_corrected, ci_low, ci_high, n_reviewed
                        FROM kpi_monthly_all WHERE month = ? AND model_version = ?""",
                [month, version])
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

    Reads the ``reviews`` mirror (``criteria`` is JSON ``{criterion: 1 | 0 | null}``).
    Columns: conversation_id, reviewer, criterion, score.
    """
    exists = con.execute("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_name = 'reviews'").fetchone()
    empty = pl.DataFrame(schema={"conversation_id": pl.String, "reviewer": pl.String,
                                 "criterion": pl.String, "score": pl.Int8})
    if not exists or not exists[0]:
        return empty
    rev = _frame(con, "SELECT seq, conversation_id, reviewer, criteria, total FROM reviews")
    return human_criteria_scores(latest_reviews(rev, "seq")) if not rev.is_empty() else empty


def qa_agreement(con: duckdb.DuckDBPyConnection, model_version: str | None = None
                 ) -> pl.DataFrame:
    """AI vs human agreement per criterion (percent agreement, Cohen's kappa); see
    :func:`tierlens.metrics.scorecard.agreement`. Neither score overwrites the other."""
    version = model_version or current_version(con, "model")
    auto = _frame(con, """SELECT conversation_id, criterion, score FROM qa_criteria_scores
                          WHERE model_version = ?""", [version])
    return agreement(auto, human_review_scores(con))
