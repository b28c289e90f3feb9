"""Verify the metrics against the simulator's planted truth (tierlens.simulate).

A test and bench helper, not part of the library (it runs the ingest normaliser, so it sits
above both ingest and metrics). Used by ``tests/metrics/test_metrics_truth.py`` (as
``bench.truthcheck``), ``bench/metrics.py`` and ``bench/trust.py`` (as ``truthcheck``, the
script's own folder):

1. :func:`records_to_frames`: input-contract records -> canonical frames, through the real
   ingest normaliser (no warehouse, no redaction: the simulator's text is already safe);
2. :func:`truth_scores`: the *true* intent and resolution per conversation (the stand-in for
   the model heads), as a ``conversation_scores`` frame;
3. :func:`compare_kpis`: our ``kpi_monthly`` against ``ground_truth_kpis.json``, one row per
   (month, tier, kpi) with both values, numerators, denominators and whether they match;
4. :func:`compare_rows`: per-conversation fields against the truth rows (diagnostics).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from tierlens.schema import CONVERSATION_SCHEMA, TURN_SCHEMA

# truth KPI name -> (our KPI name, which of our fields the truth's "value" is)
KPI_MAP: dict[str, tuple[str, str]] = {
    "conversations": ("conversations", "value"),
    "escalation_rate": ("escalation_rate", "value"),
    "containment_raw": ("containment_raw", "value"),
    "containment_durable": ("containment_durable", "value"),
    "repeat_contact_strict": ("repeat_contact_strict", "value"),
    "repeat_contact_loose": ("repeat_contact_loose", "value"),
    "fcr": ("fcr", "value"),
    "handoff_seconds_median": ("handoff_seconds_median", "value"),
    "handoff_seconds_p90": ("handoff_seconds_p90", "value"),
    "handoff_under_30s_share": ("handoff_share_under_target", "value"),
    "repeated_after_handoff_rate": ("repeated_after_handoff_rate", "value"),
    "routing_accuracy": ("routing_accuracy", "value"),
    "trapped_count": ("trapped_rate", "numerator"),
    "should_have_escalated_count": ("should_have_escalated_rate", "numerator"),
    "needless_escalation_count": ("needless_escalation_rate", "numerator"),
    "csat_avg": ("csat_surveyed", "value"),
    "aht_seconds_avg": ("aht_seconds", "value"),
    "elapsed_seconds_avg": ("elapsed_seconds", "value"),
}
# KPIs whose inputs are structural (transcript + true intent/resolution): must match exactly.
STRUCTURAL = frozenset(KPI_MAP) - {"repeated_after_handoff_rate"}

# per-conversation truth field -> our outcome column
ROW_MAP = {
    "bot_entered": "bot_entered", "escalated": "escalated", "tier_path": "tier_path",
    "handoff_seconds": "handoff_seconds", "trapped": "trapped",
    "escalation_reason": "escalation_reason", "repeated_after_handoff": "repeated_after_handoff",
    "repeat_strict": "repeat_strict", "repeat_loose": "repeat_loose",
    "contained_raw": "contained_raw", "contained_durable": "contained_durable", "fcr": "fcr",
    "should_have_escalated": "should_have_escalated",
    "needless_escalation": "needless_escalation", "aht_seconds": "aht_seconds",
    "bot_seconds": "bot_seconds", "human_seconds": "human_seconds", "n_handoffs": "n_handoffs",
    "elapsed_seconds": "elapsed_seconds",
}


_NO_FUTURE_LIMIT = datetime(9999, 12, 30, tzinfo=UTC)


def records_to_frames(records: Iterable[dict[str, Any]], salt: str = "truthcheck"
                      ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(conversations, turns) in the canonical schemas, customer ids kept as given."""
    from tierlens.ingest import normalize as norm
    from tierlens.ingest.record import RawRecord

    recs = list(records)
    raw = [RawRecord("records", i + 1, r) for i, r in enumerate(recs)]
    # Simulated data is checked against its own planted truth, whatever the clock says: no
    # "more than a day after ingest" limit (a six-month simulation may end after today).
    batch = norm.normalize(raw, salt=salt, now=_NO_FUTURE_LIMIT)
    if batch.rejected:
        first = batch.rejected[0]
        raise ValueError(f"{len(batch.rejected)} records rejected by the normaliser, e.g. "
                         f"line {first[0].source_line}: {first[1]}")
    ids = pl.DataFrame({"_rec": range(len(recs)),
                        "_cid": [r.get("customer_id") for r in recs]},
                       schema={"_rec": pl.Int64, "_cid": pl.String})
    conv = (batch.conversations.join(ids, on="_rec", how="left")
            .with_columns(customer_id=pl.col("_cid")))
    return conv.select(list(CONVERSATION_SCHEMA)), batch.turns.select(list(TURN_SCHEMA))


def truth_scores(truth_rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The true intent and resolution. Grain: one row per conversation."""
    return pl.DataFrame(
        {"conversation_id": [r["conversation_id"] for r in truth_rows],
         "intent": [r["true_intent"] for r in truth_rows],
         "resolution": [r["resolution"] for r in truth_rows]},
        schema={"conversation_id": pl.String, "intent": pl.String, "resolution": pl.String})


def compare_kpis(ours: pl.DataFrame, truth_kpi_rows: list[dict[str, Any]],
                 tol: float = 1e-9) -> pl.DataFrame:
    """One row per truth (month, tier, kpi): ours vs truth and ``match``.

    A row matches when the values agree (both NULL, or within ``tol``) and, where the truth
    gives them, the numerator and denominator agree too. For the ``*_count`` truth KPIs our
    numerator is compared (our rate's numerator is the same count).
    """
    t = pl.DataFrame(
        [{"month": r["month"], "tier": r["tier"], "truth_kpi": r["kpi"],
          "kpi": KPI_MAP[r["kpi"]][0], "field": KPI_MAP[r["kpi"]][1],
          "t_value": None if r["value"] is None else float(r["value"]),
          "t_num": None if r.get("numerator") is None else float(r["numerator"]),
          "t_den": r.get("denominator")} for r in truth_kpi_rows if r["kpi"] in KPI_MAP],
        schema={"month": pl.String, "tier": pl.String, "truth_kpi": pl.String,
                "kpi": pl.String, "field": pl.String, "t_value": pl.Float64,
                "t_num": pl.Float64, "t_den": pl.Int64})
    j = t.join(ours.select("month", "tier", "kpi", "value", "numerator", "denominator"),
               on=["month", "tier", "kpi"], how="left")
    ov = pl.when(pl.col("field") == "numerator").then(pl.col("numerator")).otherwise(
        pl.col("value"))
    is_count = pl.col("field") == "numerator"

    def same(a: pl.Expr, b: pl.Expr) -> pl.Expr:
        return (a.is_null() & b.is_null()) | ((a - b).abs() <= tol).fill_null(False)

    return j.with_columns(our_value=ov).with_columns(
        match=same(pl.col("our_value"), pl.col("t_value"))
        & (is_count | pl.col("t_num").is_null() | same(pl.col("numerator"), pl.col("t_num")))
        & (is_count | pl.col("t_den").is_null()
           | (pl.col("denominator") == pl.col("t_den")).fill_null(False)),
        structural=pl.col("truth_kpi").is_in(list(STRUCTURAL)),
    ).select("month", "tier", "truth_kpi", "kpi", "t_value", "our_value", "t_num", "numerator",
             "t_den", "denominator", "structural", "match")


def compare_rows(outcomes: pl.DataFrame, truth_rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Per-field agreement with the truth rows. Grain: one row per compared field."""
    t = pl.DataFrame([{k: r.get(k) for k in ("conversation_id", *ROW_MAP)} for r in truth_rows],
                     infer_schema_length=None)
    j = t.join(outcomes.select("conversation_id", *set(ROW_MAP.values())),
               on="conversation_id", suffix="__ours")
    rows = []
    for field, ours in ROW_MAP.items():  # one iteration per field, not per conversation
        a = j.get_column(field)
        b = j.get_column(ours + "__ours" if ours == field else ours)
        if a.dtype.is_numeric() and b.dtype.is_numeric():
            a, b = a.cast(pl.Float64), b.cast(pl.Float64)
        elif a.dtype != b.dtype:
            a, b = a.cast(pl.String), b.cast(pl.String)
        eq = (a.is_null() & b.is_null()) | (a == b).fill_null(False)
        if field in ("contained_raw", "contained_durable"):  # ours: NULL unless bot-entered
            eq = eq | ~j.get_column("bot_entered")
        rows.append({"field": field, "n": j.height, "mismatches": int((~eq).sum())})
    return pl.DataFrame(rows)
