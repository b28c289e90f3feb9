"""Changed re-deliveries as frames: what is stored merged with what arrived (pure; the
rules are :mod:`tierlens.ingest.merge`'s). The ingest stage hands this to
:func:`tierlens.store.writes.write_conversations`, which reads the stored rows."""

from __future__ import annotations

import polars as pl

from tierlens.ingest.merge import Delivery, merge, same_content
from tierlens.ingest.normalize import with_content_hash, with_tier_path
from tierlens.schema import CONVERSATION_SCHEMA, PII_SPAN_SCHEMA, TURN_SCHEMA

MERGED_FIELDS = tuple(k for k in CONVERSATION_SCHEMA
                      if k not in ("n_turns", "tier_path", "content_hash"))


def rows_by_id(frame: pl.DataFrame) -> dict[str, list[dict]]:
    """Rows of ``frame`` (as dicts) grouped by conversation_id, in order."""
    out: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row["conversation_id"], []).append(row)
    return out


def merged_frames(stored: dict[str, dict[str, list[dict]]], conversations: pl.DataFrame,
                  turns: pl.DataFrame, pii_spans: pl.DataFrame, ids: pl.Series
                  ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Changed re-deliveries of ``ids`` merged with the ``stored`` rows (``conv``, ``turns``,
    ``spans``: conversation_id -> rows); only those that change something.

    Returns (conversations, turns, pii_spans) frames in the canonical schemas.
    """
    out: list[Delivery] = []
    if ids.len():
        sel = pl.col("conversation_id").is_in(ids.implode())
        new = {"conv": rows_by_id(conversations.filter(sel)),
               "turns": rows_by_id(turns.filter(sel).sort("conversation_id", "turn_index")),
               "spans": rows_by_id(pii_spans.filter(sel))}
        for cid in ids.to_list():
            before = Delivery(stored["conv"][cid][0], stored["turns"].get(cid, []),
                              stored["spans"].get(cid, []))
            after = merge(before, Delivery(new["conv"][cid][0], new["turns"].get(cid, []),
                                           new["spans"].get(cid, [])), MERGED_FIELDS)
            if not same_content(after, before, MERGED_FIELDS, tuple(TURN_SCHEMA)):
                out.append(after)
    conv = pl.DataFrame([{**d.conv, "n_turns": len(d.turns), "_rec": n}
                         for n, d in enumerate(out)],
                        schema={k: v for k, v in CONVERSATION_SCHEMA.items()
                                if k not in ("tier_path", "content_hash")} | {"_rec": pl.Int64})
    trn = pl.DataFrame([{**{k: t.get(k) for k in TURN_SCHEMA}, "_rec": n}
                        for n, d in enumerate(out) for t in d.turns],
                       schema={**TURN_SCHEMA, "_rec": pl.Int64})
    spans = pl.DataFrame([s for d in out for s in d.spans], schema=PII_SPAN_SCHEMA)
    conv = with_content_hash(with_tier_path(conv, trn), trn).select(list(CONVERSATION_SCHEMA))
    return conv, trn.select(list(TURN_SCHEMA)), spans
