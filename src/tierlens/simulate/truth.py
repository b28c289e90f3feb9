"""Planted KPIs, computed from the ground truth with PRODUCT.md's definitions (pure functions).

Input grain: one truth row (dict) per conversation, as written to ground_truth.jsonl.gz.

Definitions used here (the pipeline must reproduce these numbers on the simulated data):
- Cohort: the UTC month (YYYY-MM) of ``started_at``.
- Tier: ``ai`` = bot-entered conversations (the first responder is the bot); ``human`` =
  conversations whose first responder is a human agent (tier_path human_only); ``all`` = every
  conversation. The tiers partition the conversations that got any response.
- Repeat window: a later conversation of the same customer_id (ordered by started_at, then
  conversation_id) starting at most ``window_days`` after this one's started_at. The window is
  closed when started_at + window <= ``as_of`` (default: the latest started_at in the data).
  repeat_strict (same true intent) and repeat_loose (any intent) are null while the window is
  open (pending) or when customer_id is missing (unknown).
- contained_raw = bot_entered and not escalated.
- contained_durable = contained_raw and resolved (hence not abandoned) and repeat_strict is
  False; null when that depends on a pending/unknown repeat. Both containments are divided
  by bot-entered (PRODUCT.md); ``pending`` counts the nulls.
- fcr = resolved and repeat_strict is False; null when pending/unknown; divided by the
  conversations where it is decided.
- Handoff seconds: over escalated conversations with a known value; median and p90 use linear
  interpolation between order statistics (numpy's default); "under 30 s" is strictly < 30.
- Routing accuracy: first_queue == expected_queue, over all conversations (all have a known
  intent and queue here).
- AHT (``aht_seconds_avg``): handle time, the active work time of tierlens.metrics.handle
  (capped gaps per channel, replies only in email), over all conversations;
  ``elapsed_seconds_avg``: first turn to last.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

DAY = 86_400
TIERS = ("ai", "human", "all")
REASONS = ("customer_request", "low_confidence", "negative_sentiment", "policy", "bot_failure",
           "unknown")


def link_repeats(rows: list[dict[str, Any]], window_days: int = 7,
                 as_of_epoch: int | None = None) -> int:
    """Add repeat-contact and outcome fields to truth rows in place; return as_of_epoch.

    Adds: is_repeat_of, same_intent_as_previous, repeat_window_closed, repeat_strict,
    repeat_loose, contained_raw, contained_durable, fcr. ``rows`` must be sorted by
    (started_epoch, conversation_id).
    """
    w = window_days * DAY
    as_of = as_of_epoch if as_of_epoch is not None else max(r["started_epoch"] for r in rows)
    by_customer: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["customer_id"] is not None:
            by_customer[r["customer_id"]].append(i)
    for r in rows:
        r["is_repeat_of"] = None
        r["same_intent_as_previous"] = None
        r["repeat_window_closed"] = r["started_epoch"] + w <= as_of
        r["repeat_strict"] = r["repeat_loose"] = None
    for idx in by_customer.values():
        for k, i in enumerate(idx):
            r = rows[i]
            if k > 0:
                p = rows[idx[k - 1]]
                if r["started_epoch"] - p["started_epoch"] <= w:
                    r["is_repeat_of"] = p["conversation_id"]
                    r["same_intent_as_previous"] = p["true_intent"] == r["true_intent"]
            if not r["repeat_window_closed"]:
                continue
            strict = loose = False
            for j in idx[k + 1:]:
                if rows[j]["started_epoch"] - r["started_epoch"] > w:
                    break
                loose = True
                strict = strict or rows[j]["true_intent"] == r["true_intent"]
            r["repeat_strict"], r["repeat_loose"] = strict, loose
    for r in rows:
        r["contained_raw"] = r["bot_entered"] and not r["escalated"]
        good = r["resolution"] == "resolved"
        rs = r["repeat_strict"]
        if not (r["contained_raw"] and good):
            r["contained_durable"] = False
        else:
            r["contained_durable"] = None if rs is None else not rs
        r["fcr"] = False if not good else (None if rs is None else not rs)
    return as_of


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default method), q in [0, 100]."""
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _kpis_for(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(kpi: str, value: float | None, num: float | None, den: int | None,
            **extra: Any) -> None:
        out.append({"kpi": kpi, "value": value, "numerator": num, "denominator": den, **extra})

    n = len(rows)
    bot = [r for r in rows if r["bot_entered"]]
    esc = [r for r in bot if r["escalated"]]
    add("conversations", n, n, None)
    add("escalation_rate", _ratio(len(esc), len(bot)), len(esc), len(bot))
    for reason in REASONS:
        k = sum(1 for r in esc if r["escalation_reason"] == reason)
        add(f"escalation_reason_share_{reason}", _ratio(k, len(esc)), k, len(esc))
    raw = sum(1 for r in bot if r["contained_raw"])
    add("containment_raw", _ratio(raw, len(bot)), raw, len(bot))
    dur = sum(1 for r in bot if r["contained_durable"] is True)
    add("containment_durable", _ratio(dur, len(bot)), dur, len(bot),
        pending=sum(1 for r in bot if r["contained_durable"] is None))
    known = [r for r in rows if r["customer_id"] is not None]
    closed = [r for r in known if r["repeat_window_closed"]]
    for kind in ("strict", "loose"):
        num = sum(1 for r in closed if r[f"repeat_{kind}"])
        add(f"repeat_contact_{kind}", _ratio(num, len(closed)), num, len(closed),
            pending=len(known) - len(closed), unknown=n - len(known))
    decided = [r for r in rows if r["fcr"] is not None]
    f = sum(1 for r in decided if r["fcr"])
    add("fcr", _ratio(f, len(decided)), f, len(decided), pending=n - len(decided))
    hs = [r["handoff_seconds"] for r in esc if r["handoff_seconds"] is not None]
    add("handoff_seconds_median", percentile(hs, 50) if hs else None, None, len(hs))
    add("handoff_seconds_p90", percentile(hs, 90) if hs else None, None, len(hs))
    under = sum(1 for h in hs if h < 30)
    add("handoff_under_30s_share", _ratio(under, len(hs)), under, len(hs))
    rep = sum(1 for r in esc if r["repeated_after_handoff"])
    add("repeated_after_handoff_rate", _ratio(rep, len(esc)), rep, len(esc))
    ok = sum(1 for r in rows if r["first_queue"] == r["expected_queue"])
    add("routing_accuracy", _ratio(ok, n), ok, n)
    trapped = sum(1 for r in rows if r["trapped"])
    add("trapped_count", trapped, trapped, None)
    she = sum(1 for r in rows if r["should_have_escalated"])
    add("should_have_escalated_count", she, she, None)
    nee = sum(1 for r in rows if r["needless_escalation"])
    add("needless_escalation_count", nee, nee, None)
    cs = [r["csat"] for r in rows if r["csat"] is not None]
    add("csat_avg", _ratio(sum(cs), len(cs)), sum(cs), len(cs))
    aht = [r["aht_seconds"] for r in rows]
    add("aht_seconds_avg", _ratio(sum(aht), len(aht)), sum(aht), len(aht))
    el = [r["elapsed_seconds"] for r in rows]
    add("elapsed_seconds_avg", _ratio(sum(el), len(el)), sum(el), len(el))
    return out


def _tier_of(r: dict[str, Any]) -> str | None:
    if r["bot_entered"]:
        return "ai"
    return "human" if r["tier_path"] == "human_only" else None


def monthly_kpis(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per (month, tier, kpi): month, tier, kpi, value, numerator, denominator[, ...].

    ``rows`` must already carry the fields added by ``link_repeats``.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["month"], "all")].append(r)
        t = _tier_of(r)
        if t is not None:
            groups[(r["month"], t)].append(r)
    out = []
    for month in sorted({m for m, _ in groups}):
        for tier in TIERS:
            for k in _kpis_for(groups.get((month, tier), [])):
                out.append({"month": month, "tier": tier, **k})
    return out


def kpi_report(rows: list[dict[str, Any]], window_days: int = 7,
               as_of_epoch: int | None = None) -> dict[str, Any]:
    """Link repeats (in place) and return the ground_truth_kpis.json document."""
    import datetime as dt

    as_of = link_repeats(rows, window_days, as_of_epoch)
    return {
        "as_of": dt.datetime.fromtimestamp(as_of, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_days": window_days,
        "tiers": {"ai": "bot-entered", "human": "first responder is a human agent",
                  "all": "every conversation"},
        "rows": monthly_kpis(rows),
    }
