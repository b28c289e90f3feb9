"""Expectation suites for every ingest batch.

- The **hard** suite decides whether a record may be stored. A record (conversation)
  with any unexpected value goes to quarantine, one row per failing field.
- The **soft** suite measures data quality; results go to ``dq_results`` and nothing is
  rejected.

Suites are declared as data (:data:`HARD_CONVERSATION`, ...) so that docs and tests can
list them. Each hard expectation carries the quarantine ``reason`` code it produces.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl

from tierlens.errors import describe
from tierlens.schema import CHANNELS, EVENTS, SPEAKERS


@dataclass(frozen=True)
class Check:
    """One expectation: GX class name, column, kwargs, and the reason code if it is hard."""

    expectation: str
    column: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    message: str = ""


def hard_conversation() -> list[Check]:
    return [
        Check("ExpectColumnValuesToNotBeNull", "conversation_id", {}, "missing_field",
              "required field conversation_id is missing"),
        Check("ExpectColumnValueLengthsToBeBetween", "conversation_id",
              {"min_value": 1, "max_value": 256}, "bad_id",
              "conversation_id must be 1-256 characters"),
        Check("ExpectColumnValuesToNotBeNull", "started_at", {}, "missing_field",
              "required field started_at is missing"),
        Check("ExpectColumnValuesToBeBetween", "n_turns", {"min_value": 1}, "empty_conversation",
              "conversation has no turns"),
        Check("ExpectColumnValuesToBeBetween", "csat", {"min_value": 1, "max_value": 5},
              "out_of_range", "csat must be between 1 and 5"),
        Check("ExpectColumnValuesToBeBetween", "nps", {"min_value": 0, "max_value": 10},
              "out_of_range", "nps must be between 0 and 10"),
    ]


def hard_turn(max_turn_chars: int) -> list[Check]:
    return [
        Check("ExpectColumnValuesToNotBeNull", "speaker", {}, "missing_field",
              "turn has no speaker"),
        Check("ExpectColumnValuesToBeInSet", "speaker", {"value_set": list(SPEAKERS)},
              "unknown_speaker", f"speaker must be one of {', '.join(SPEAKERS)}"),
        Check("ExpectColumnValuesToNotBeNull", "text", {}, "missing_field",
              "turn has no text (use \"\" for system events)"),
        Check("ExpectColumnValuesToBeInSet", "event", {"value_set": list(EVENTS)},
              "unknown_event", f"event must be one of {', '.join(EVENTS)}"),
        Check("ExpectColumnValuesToBeBetween", "bot_confidence",
              {"min_value": 0.0, "max_value": 1.0}, "out_of_range",
              "bot_confidence must be between 0 and 1"),
        Check("ExpectColumnValuesToBeBetween", "text_chars", {"max_value": max_turn_chars},
              "turn_too_long", f"turn text longer than {max_turn_chars} characters "
              "(raise TIERLENS_MAX_TURN_CHARS if this is real)"),
    ]


def soft_conversation(huge: int) -> list[Check]:
    return [
        Check("ExpectColumnValuesToBeBetween", "n_turns", {"max_value": huge}),
        Check("ExpectColumnValuesToNotBeNull", "customer_id", {}),
        Check("ExpectColumnValuesToNotBeNull", "ended_at", {}),
        Check("ExpectColumnValuesToBeInSet", "channel", {"value_set": list(CHANNELS)}),
        Check("ExpectColumnValuesToBeInSet", "ended_after_start", {"value_set": [True]}),
    ]


def soft_turn() -> list[Check]:
    return [
        Check("ExpectColumnValuesToBeInSet", "ts_in_order", {"value_set": [True]}),
        Check("ExpectColumnValuesToNotBeNull", "ts", {}),
        Check("ExpectColumnValuesToBeInSet", "system_has_event", {"value_set": [True]}),
        Check("ExpectColumnValuesToBeInSet", "bot_has_confidence", {"value_set": [True]}),
    ]


@dataclass(frozen=True)
class HardFailure:
    rec: int  # the record's position in the batch (``_rec``)
    field: str
    reason: str
    message: str


@dataclass
class ValidationResult:
    failures: list[HardFailure]
    dq_rows: list[dict[str, Any]]  # one per expectation: suite, expectation, column, success...

    @property
    def failed_recs(self) -> set[int]:
        return {f.rec for f in self.failures}


@lru_cache(maxsize=1)
def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    # progress bars are cosmetic; older/newer GX may not have this config
    with contextlib.suppress(ImportError, AttributeError, TypeError, ValueError):
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("tierlens")
    return gx, ctx, source


_SUITES: dict[str, Any] = {}


def _suite_and_batch_def(name: str, checks: tuple[Check, ...]):
    key = f"{name}:{checks!r}"
    if key in _SUITES:
        return _SUITES[key]
    gx, ctx, source = _gx()
    name = f"{name}_{len(_SUITES)}"
    suite = gx.ExpectationSuite(name=name)
    for c in checks:
        suite.add_expectation(getattr(gx.expectations, c.expectation)(column=c.column, **c.kwargs))
    suite = ctx.suites.add(suite)
    asset = source.add_dataframe_asset(name)
    _SUITES[key] = (suite, asset.add_batch_definition_whole_dataframe(name))
    return _SUITES[key]


def _run(name: str, checks: list[Check], frame: pl.DataFrame, index_cols: list[str]):
    suite, batch_def = _suite_and_batch_def(name, tuple(checks))
    pdf = frame.to_pandas(use_pyarrow_extension_array=False)
    batch = batch_def.get_batch(batch_parameters={"dataframe": pdf})
    return batch.validate(suite, result_format={
        "result_format": "COMPLETE", "unexpected_index_column_names": index_cols,
        "return_unexpected_index_query": False, "partial_unexpected_count": 5})


def _dq_row(suite: str, check: Check, res) -> dict[str, Any]:
    r = res.result or {}
    # what the unexpected values look like, never the values: they may be PII
    sample = [describe(v) for v in (r.get("partial_unexpected_list") or [])[:5]]
    return {"suite": suite, "expectation": check.expectation, "column_name": check.column,
            "success": bool(res.success), "element_count": r.get("element_count"),
            "unexpected_count": r.get("unexpected_count"),
            "details": json.dumps({"sample": sample, **{k: str(v) for k, v in check.kwargs.items()}})}


def _find(checks: list[Check], res) -> Check:
    cfg = res.expectation_config
    for c in checks:
        if (c.column == cfg.kwargs.get("column") and cfg.type == _snake(c.expectation)
                and all(cfg.kwargs.get(k) == v for k, v in c.kwargs.items())):
            return c
    raise LookupError(f"unmatched expectation result {cfg.type}")


def _snake(name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")


def _project(frame: pl.DataFrame, checks: list[Check], index_cols: list[str]) -> pl.DataFrame:
    """Only the columns the checks read (GX copies and hashes every column it is given).

    A text column checked only for nulls is replaced by a stand-in with the same nulls
    (``""`` elsewhere), so long turn texts are neither copied to pandas nor hashed; the
    results (counts, unexpected values, indices) are the same. Small integer columns are
    widened to Int64: GX's range checks are vectorised for int64/float64 only and loop in
    Python over anything else.
    """
    cols = list(dict.fromkeys([*index_cols, *(c.column for c in checks)]))
    null_only = {c.column for c in checks if c.expectation == "ExpectColumnValuesToNotBeNull"} \
        - {c.column for c in checks if c.expectation != "ExpectColumnValuesToNotBeNull"}
    small_ints = (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32)
    exprs = []
    for c in cols:
        dtype = frame.schema[c]
        if c in null_only and dtype == pl.String:
            exprs.append(pl.when(pl.col(c).is_null()).then(pl.lit(None, pl.String))
                         .otherwise(pl.lit("")).alias(c))
        elif dtype in small_ints:
            exprs.append(pl.col(c).cast(pl.Int64))
        else:
            exprs.append(pl.col(c))
    return frame.select(exprs)


def validate_batch(conversations: pl.DataFrame, turns: pl.DataFrame, *, max_turn_chars: int,
                   huge_conversation_turns: int) -> ValidationResult:
    """Run the hard and soft suites on one batch (frames carry the ``_rec`` column).

    The hard and soft checks of one frame run as one GX validation (GX's fixed cost is per
    run); results are reported per suite, hard before soft, conversations before turns.
    """
    conv = conversations.with_columns(
        ended_after_start=pl.col("ended_at").is_null() | (pl.col("ended_at") >= pl.col("started_at")))
    tr = turns.with_columns(
        text_chars=pl.col("text").str.len_chars().fill_null(0),
        ts_in_order=(pl.col("ts") >= pl.col("ts").shift(1).over("_rec", order_by="turn_index"))
        .fill_null(True),
        system_has_event=(pl.col("speaker") != "system") | pl.col("event").is_not_null(),
        bot_has_confidence=(pl.col("speaker") != "bot") | pl.col("bot_confidence").is_not_null(),
    )
    failures: list[HardFailure] = []
    dq: dict[str, list[dict[str, Any]]] = {"hard_conversations": [], "hard_turns": [],
                                           "soft_conversations": [], "soft_turns": []}
    plan = [
        ("conversations", hard_conversation(), soft_conversation(huge_conversation_turns), conv,
         ["_rec"]),
        ("turns", hard_turn(max_turn_chars), soft_turn(), tr, ["_rec", "turn_index"]),
    ]
    for name, hard, soft, frame, index_cols in plan:
        if frame.height == 0:
            continue
        checks = hard + soft
        result = _run(name, checks, _project(frame, checks, index_cols), index_cols)
        unmatched = list(checks)
        for res in result.results:
            check = _find(unmatched, res)
            unmatched.remove(check)
            kind = "hard" if any(check is h for h in hard) else "soft"
            dq[f"{kind}_{name}"].append(_dq_row(kind, check, res))
            if kind != "hard" or res.success:
                continue
            for item in res.result.get("unexpected_index_list") or []:
                where = check.column if "turn_index" not in item else \
                    f"turns[{int(item['turn_index'])}].{check.column.replace('text_chars', 'text')}"
                value = item.get(check.column)
                shown = "" if value is None or value != value else f" (got {describe(value)})"  # noqa: PLR0124 (NaN)
                failures.append(HardFailure(int(item["_rec"]), where, check.reason,
                                            f"{where}: {check.message}{shown}"))
    return ValidationResult(failures, [row for rows in dq.values() for row in rows])
