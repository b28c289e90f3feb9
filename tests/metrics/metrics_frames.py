"""Test helper: input-contract records (dicts) -> canonical frames, through the real ingest
normaliser (``tierlens.ingest.normalize``), without the warehouse."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from tierlens.schema import CONVERSATION_SCHEMA, TURN_SCHEMA


def frames_from_records(records: Iterable[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(conversations, turns) in the canonical schemas. Customer ids are kept as given
    (salted pseudonyms would work the same; raw ids make the golden files readable)."""
    from tierlens.ingest import normalize as norm
    from tierlens.ingest.readers import RawRecord

    recs = [RawRecord("golden.jsonl", i + 1, r) for i, r in enumerate(records)]
    batch = norm.normalize(recs, salt="test")
    if batch.rejected:
        raise ValueError(f"records rejected by the normaliser: {batch.rejected}")
    by_rec = {i: r.get("customer_id") for i, r in enumerate(records)}
    conv = batch.conversations.with_columns(
        customer_id=pl.col("_rec").replace_strict(by_rec, return_dtype=pl.String, default=None))
    return conv.select(list(CONVERSATION_SCHEMA)), batch.turns.select(list(TURN_SCHEMA))
