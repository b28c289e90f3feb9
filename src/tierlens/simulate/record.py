"""Build the two output records of one rendered conversation.

- the input-contract record (PRODUCT.md "Input contract"), and
- the per-conversation planted truth. Fields that PRODUCT.md defines from the transcript are
  computed here from the rendered turns, with the same rules the pipeline must apply:
  * bot_entered: the first non-customer, non-system turn is a bot turn;
  * escalated: bot-entered and (an agent speaks later, or there is a handoff event);
  * tier_path: bot_only / bot_then_human / human_only from the speakers;
  * escalation trigger: the first handoff event, else the first customer turn asking for a
    human; handoff_seconds = first agent turn after the trigger - trigger (whole seconds);
  * trapped: the customer asked for a human and 2 or more bot turns followed before the first
    handoff event or agent turn (or the end);
  * handle time (aht/bot/human seconds): each turn after the first earns the gap since the
    previous turn, capped per channel; in reply-only channels (email) only bot and agent
    turns earn it (:func:`handle_credits`; tierlens.metrics.handle states the definition);
    elapsed_seconds: first turn to last.
Cross-conversation fields (repeat contact, durable containment, FCR) are added later by
``truth.link_repeats``.
"""

from __future__ import annotations

from typing import Any

from tierlens.config import RoutingPolicy
from tierlens.settings import HandleTimeSettings
from tierlens.simulate.scenario import Scenario

CSAT_RESOLVED = (1, 2, 3, 4, 5), (0.03, 0.05, 0.12, 0.35, 0.45)
CSAT_UNRESOLVED = (1, 2, 3, 4, 5), (0.40, 0.30, 0.20, 0.07, 0.03)


def _pick(draw: Any, table: tuple[tuple[int, ...], tuple[float, ...]]) -> int:
    u, acc = draw.u(), 0.0
    for value, w in zip(*table, strict=True):
        acc += w
        if u < acc:
            return value
    return table[0][-1]


def handle_credits(epochs: list[int], speakers: list[str], channel: str,
                   handle: HandleTimeSettings) -> list[float]:
    """Work credit of each turn: the capped gap since the previous turn (0 for the first;
    0 for customer and system turns in a reply-only channel)."""
    cap = handle.cap(channel)
    cap = int(cap) if float(cap).is_integer() else cap
    reply_only = channel in handle.reply_only_channels
    credits: list[float] = [0]
    for i in range(1, len(epochs)):
        if reply_only and speakers[i] not in ("bot", "agent"):
            credits.append(0)
        else:
            credits.append(min(max(epochs[i] - epochs[i - 1], 0), cap))
    return credits


def build_records(c: Any, sc: Scenario, policy: RoutingPolicy, conv_id: str,
                  customer_id: str | None, brand: str, state: dict,
                  handle: HandleTimeSettings) -> tuple[dict, dict]:
    d, turns, ep = c.d, c.turns, c.epochs
    speakers = [t["speaker"] for t in turns]
    responders = [i for i, s in enumerate(speakers) if s in ("bot", "agent")]
    first_resp = speakers[responders[0]] if responders else None
    bot_entered = first_resp == "bot"
    agent_idx = [i for i, s in enumerate(speakers) if s == "agent"]
    handoffs = [i for i, t in enumerate(turns) if t.get("event") == "handoff"]
    escalated = bot_entered and (bool(agent_idx) or bool(handoffs))
    if first_resp is None:
        tier_path = None
    elif bot_entered:
        tier_path = "bot_then_human" if agent_idx else "bot_only"
    else:
        tier_path = "human_only"

    req = c.request_idx
    trigger_idx = handoffs[0] if handoffs else (req if escalated else None)
    handoff_seconds = None
    if escalated and trigger_idx is not None:
        after = [i for i in agent_idx if i > trigger_idx]
        if after:
            handoff_seconds = ep[after[0]] - ep[trigger_idx]
    trapped = False
    if req is not None and bot_entered:
        stop = next((i for i in range(req + 1, len(turns))
                     if turns[i].get("event") == "handoff" or speakers[i] == "agent"), len(turns))
        trapped = sum(1 for i in range(req + 1, stop) if speakers[i] == "bot") >= 2
    transfers = []
    current = sc.first_human_queue
    for i, t in enumerate(turns):
        if t.get("event") == "transfer":
            transfers.append({"turn_index": i, "from_queue": current, "to_queue": t["queue"]})
            current = t["queue"]

    breaches = list(c.breaches)
    if trapped:
        breaches.append({"kind": "trapped_customer", "turn_index": req})
    vulnerable = sc.vulnerable is not None
    vuln_idx = state["vuln_idx"]
    if sc.intent.name == "vulnerable_customer":
        vuln_idx = speakers.index("customer")
    if vulnerable and bot_entered and not escalated:
        breaches.append({"kind": "vulnerable_not_escalated", "turn_index": vuln_idx})
    breaches.sort(key=lambda b: (b["turn_index"], b["kind"]))

    first_queue = sc.first_queue
    misrouted = first_queue != sc.expected_queue
    if not misrouted:
        misroute_kind = None
    elif sc.intent.tier == 2 and first_queue == policy.bot_queue:
        misroute_kind = "tier2_to_bot"
    elif sc.intent.tier == 1 and first_queue != policy.bot_queue:
        misroute_kind = "tier1_to_human"
    else:
        misroute_kind = "wrong_human_queue"
    human_spoke = bool(agent_idx)

    repeated = None
    if escalated:
        repeated = sc.repeat_after is not None and human_spoke
    labels = c.labels or ["neutral"]
    csat = nps = None
    if sc.survey:
        csat = _pick(d, CSAT_RESOLVED if sc.outcome == "resolved" else CSAT_UNRESOLVED)
        if trapped or repeated or (handoff_seconds or 0) > 120:
            csat = max(1, csat - 1)
    if sc.nps:
        nps = (d.randint(6, 10) if sc.outcome == "resolved" else d.randint(0, 6))
    start, end = ep[0], ep[-1]
    credits = handle_credits(ep, speakers, sc.channel, handle)
    bot_seconds = human_seconds = None
    if bot_entered:
        stop = trigger_idx if trigger_idx is not None else (
            agent_idx[0] if agent_idx else len(ep) - 1)
        bot_seconds = sum(credits[:stop + 1])
    if agent_idx:
        human_seconds = sum(credits[agent_idx[0] + 1:])

    metadata: dict[str, Any] = {"brand": brand}
    if bot_entered:
        metadata["bot_version"] = sc.bot_version
    if nps is not None:
        metadata["nps"] = nps
    conv: dict[str, Any] = {"conversation_id": conv_id, "channel": sc.channel}
    if customer_id is not None:
        conv["customer_id"] = customer_id
    conv.update({"started_at": turns[0]["ts"], "ended_at": turns[-1]["ts"], "queue": first_queue,
                 "language": "en"})
    if csat is not None:
        conv["csat"] = csat
    conv["metadata"] = metadata
    conv["turns"] = turns

    truth: dict[str, Any] = {
        "conversation_id": conv_id,
        "customer_id": customer_id,
        "started_at": turns[0]["ts"],
        "started_epoch": start,
        "month": turns[0]["ts"][:7],
        "channel": sc.channel,
        "brand": brand,
        "bot_version": sc.bot_version if bot_entered else None,
        "true_intent": sc.intent.name,
        "tier": sc.intent.tier,
        "tier_path": tier_path,
        "bot_entered": bot_entered,
        "escalated": escalated,
        "escalation_reason": sc.reason if escalated else None,
        "escalation_trigger_ts": turns[trigger_idx]["ts"] if trigger_idx is not None else None,
        "escalation_trigger_turn_index": trigger_idx,
        "human_request_turn_index": req,
        "handoff_seconds": handoff_seconds,
        "n_handoffs": len(handoffs),
        "transfers": transfers,
        "repeated_after_handoff": repeated,
        "repeated_after_handoff_kind": sc.repeat_after if repeated else None,
        "trapped": trapped,
        "first_queue": first_queue,
        "expected_queue": sc.expected_queue,
        "misrouted": misrouted,
        "misroute_kind": misroute_kind,
        "should_have_escalated": sc.intent.tier == 2 and bot_entered and not escalated,
        "needless_escalation": sc.intent.tier == 1 and human_spoke,
        "resolution": sc.outcome,
        "customer_sentiment_start": labels[0],
        "customer_sentiment_end": labels[-1],
        "csat": csat,
        "nps": nps,
        "vulnerable": vulnerable,
        "vulnerable_cue": sc.vulnerable,
        "vulnerable_turn_index": vuln_idx if vulnerable else None,
        "breaches": breaches,
        "pii": sorted(c.pii, key=lambda p: (p["turn_index"], p["type"])),
        "n_turns": len(turns),
        "aht_seconds": sum(credits),
        "bot_seconds": bot_seconds,
        "human_seconds": human_seconds,
        "elapsed_seconds": end - start,
        "agent_ids": sorted({t["agent_id"] for t in turns if t["speaker"] == "agent"}),
        "is_followup_planted": sc.is_followup,
    }
    return conv, truth
