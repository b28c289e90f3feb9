"""Repeat contact: the same customer starts another conversation within the window (forward).

Pure polars. Input: one row per conversation with ``conversation_id, customer_id,
started_at, intent``. Output of :func:`repeat_contacts`: one row per input conversation.

- loose: a later conversation of the same customer starts at most ``window`` after this one
  (``next.started_at - started_at <= window``, inclusive). "Later" is the order
  (started_at, conversation_id): of two contacts in the same instant, the one with the larger
  id is the repeat of the other;
- strict: the same, restricted to conversations with the same intent;
- status ``pending``: the window is still open at ``as_of`` (``started_at + window > as_of``)
  -> both flags NULL, even if a repeat was already seen (so numerators stay inside
  denominators); ``unknown``: no customer id -> both NULL; strict is also NULL when the
  conversation's intent is unknown;
- ``as_of`` defaults to the latest ``started_at`` in the data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl


def default_as_of(conversations: pl.DataFrame) -> datetime | None:
    """The data's as-of time: the latest conversation start."""
    return conversations.get_column("started_at").max()  # type: ignore[return-value]


def _next_start(frame: pl.LazyFrame, by: list[str], name: str) -> pl.LazyFrame:
    """The start of the next conversation in the same ``by`` group, in (started_at, id) order."""
    same = pl.all_horizontal([pl.col(c).shift(-1) == pl.col(c) for c in by])
    return frame.sort(*by, "started_at", "conversation_id").with_columns(
        pl.when(same).then(pl.col("started_at").shift(-1)).alias(name))


def repeat_contacts(conversations: pl.DataFrame, window_days: int = 7,
                    as_of: datetime | None = None) -> pl.DataFrame:
    """Repeat-contact flags. Grain: one row per conversation.

    Columns: conversation_id, repeat_status (closed|pending|unknown), repeat_loose,
    repeat_strict (true/false, NULL while pending or unknown), next_contact_s,
    next_same_intent_s (seconds to the next contact / same-intent contact, any distance).
    """
    if as_of is None:
        as_of = default_as_of(conversations)
    window = timedelta(days=window_days)
    base = (conversations.lazy()
            .select("conversation_id", "customer_id", "started_at", "intent")
            .sort("started_at"))
    known = base.filter(pl.col("customer_id").is_not_null())
    loose = _next_start(known, ["customer_id"], "next_any")
    strict = _next_start(known.filter(pl.col("intent").is_not_null()),
                         ["customer_id", "intent"], "next_same")
    out = (
        base.join(loose.select("conversation_id", "next_any"), on="conversation_id", how="left")
        .join(strict.select("conversation_id", "next_same"), on="conversation_id", how="left")
        .with_columns(
            _gap_any=pl.col("next_any") - pl.col("started_at"),
            _gap_same=pl.col("next_same") - pl.col("started_at"),
            next_contact_s=(pl.col("next_any") - pl.col("started_at")).dt.total_microseconds()
            / 1e6,
            next_same_intent_s=(pl.col("next_same") - pl.col("started_at"))
            .dt.total_microseconds() / 1e6,
            repeat_status=pl.when(pl.col("customer_id").is_null()).then(pl.lit("unknown"))
            .when(pl.col("started_at") + window > pl.lit(as_of)).then(pl.lit("pending"))
            .otherwise(pl.lit("closed")),
        )
        .with_columns(
            repeat_loose=pl.when(pl.col("repeat_status") == "closed").then(
                (pl.col("_gap_any") <= pl.lit(window)).fill_null(False)),
            repeat_strict=pl.when((pl.col("repeat_status") == "closed")
                                  & pl.col("intent").is_not_null()).then(
                (pl.col("_gap_same") <= pl.lit(window)).fill_null(False)),
        )
        .select("conversation_id", "repeat_status", "repeat_loose", "repeat_strict",
                "next_contact_s", "next_same_intent_s")
    )
    return out.collect()
