"""Merge semantics for a conversation delivered more than once (pure; see docs/adapters.md).

A conversation can arrive split across files (one export per day, a chat cut at midnight), or
be re-delivered. When a delivery arrives for a conversation already stored, in this order:

1. **Turn identity.** Two turns are the same turn when they have the same timestamp, speaker,
   event and text (compared on the redacted text, by hash).
2. **A superset replaces.** If the delivery holds every stored turn (the same set, or more),
   it replaces the stored conversation: its turns, in its order, and its fields.
3. **Otherwise the new part is appended.** Its turns that aren't stored yet are added, and the
   union is put in time order (a turn without a timestamp stays after the turn before it in
   its own delivery). Conversation fields come from the *leading* part (the one whose last
   turn is latest; then the one with more turns; then by content hash), each missing field
   filled from the other part; ``started_at`` is the earliest, ``ended_at`` the latest.

Every choice depends only on the two parts, never on which arrived first, so two halves give
the same conversation in either order; and a part already contained in what is stored
changes nothing, so a re-delivery is idempotent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_MIN = datetime.min


@dataclass
class Delivery:
    """One conversation: its row, its turns (each a dict, in order) and its PII spans."""

    conv: dict[str, Any]
    turns: list[dict[str, Any]]
    spans: list[dict[str, Any]] = field(default_factory=list)


def turn_key(turn: dict[str, Any]) -> tuple:
    text = turn.get("text") or ""
    return (turn.get("ts"), turn.get("speaker"), turn.get("event"),
            hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())


def _last_ts(d: Delivery) -> datetime:
    return max((_naive(t["ts"]) for t in d.turns if t.get("ts") is not None), default=_MIN)


def _rank(d: Delivery) -> tuple:
    return (_last_ts(d), len(d.turns), d.conv.get("content_hash") or "")


def _filled_times(turns: list[dict[str, Any]]) -> list[datetime | None]:
    """Each turn's time, a turn without one taking its predecessor's (or else its successor's)."""
    out: list[datetime | None] = []
    last = None
    for t in turns:
        last = t.get("ts") or last
        out.append(last)
    first = next((x for x in out if x is not None), None)
    return [first if x is None else x for x in out]


def merge(stored: Delivery, incoming: Delivery, fields: tuple[str, ...]) -> Delivery:
    """The conversation after ``incoming`` arrives for ``stored`` (``fields``: the conversation
    fields to merge; derived ones such as n_turns and content_hash are recomputed by the caller).

    Turns in the result carry ``_old`` = (part, turn_index) so PII spans can follow them.
    """
    stored_keys = [turn_key(t) for t in stored.turns]
    incoming_keys = [turn_key(t) for t in incoming.turns]
    if set(incoming_keys) >= set(stored_keys):
        return _reindexed([(1, i) for i in range(len(incoming.turns))], incoming.conv,
                          {1: incoming})
    parts = {0: stored, 1: incoming}
    lead, other = (1, 0) if _rank(incoming) > _rank(stored) else (0, 1)
    lead_keys = set(stored_keys if lead == 0 else incoming_keys)
    other_keys = incoming_keys if lead == 0 else stored_keys
    order = [(lead, i) for i in range(len(parts[lead].turns))]
    new = [(other, i) for i, k in enumerate(other_keys) if k not in lead_keys]
    if new:
        times = {lead: _filled_times(parts[lead].turns), other: _filled_times(parts[other].turns)}
        order = sorted(order + new, key=lambda pi: (times[pi[0]][pi[1]] is None,
                                                     _naive(times[pi[0]][pi[1]])))
    conv = {}
    for name in fields:
        a, b = parts[lead].conv.get(name), parts[other].conv.get(name)
        if name == "started_at" and a is not None and b is not None:
            conv[name] = min(a, b)
        elif name == "ended_at" and a is not None and b is not None:
            conv[name] = max(a, b)
        else:
            conv[name] = a if a is not None else b
    return _reindexed(order, conv, parts)


def _naive(ts: datetime | None) -> datetime:
    return _MIN if ts is None else ts.replace(tzinfo=None)


def _reindexed(order: list[tuple[int, int]], conv: dict[str, Any],
               parts: dict[int, Delivery]) -> Delivery:
    position = {pi: n for n, pi in enumerate(order)}
    turns = [{**parts[p].turns[i], "turn_index": n} for n, (p, i) in enumerate(order)]
    spans = [{**s, "turn_index": position[(p, s["turn_index"])]}
             for p, part in parts.items() for s in part.spans
             if (p, s["turn_index"]) in position]
    spans.sort(key=lambda s: (s["turn_index"], s["span_start"]))
    return Delivery(conv, turns, spans)


def same_content(a: Delivery, b: Delivery, fields: tuple[str, ...],
                 turn_fields: tuple[str, ...]) -> bool:
    """Whether two deliveries hold the same fields and the same turns in the same order."""
    return (all(a.conv.get(f) == b.conv.get(f) for f in fields)
            and len(a.turns) == len(b.turns)
            and all(x.get(f) == y.get(f) for x, y in zip(a.turns, b.turns, strict=True)
                    for f in turn_fields))
