"""Plan one simulated conversation: what happens in it, before any text is chosen.

A ``Scenario`` fixes the route, the escalation and its reason, the outcome, planted
compliance breaches, vulnerability and survey answers. ``render.py`` turns it into turns.
The mix targets (shares of all conversations) are roughly: bot_only 55%, bot_then_human 30%,
human_only 15%; see ``MIX`` for the knobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tierlens.config import Intent, RoutingPolicy
from tierlens.simulate.rng import Draw, Weighted

MIX = {
    "tier2_share": 0.20,  # share of contacts with a Tier-2 intent
    "tier2_direct_to_human": 0.55,  # Tier-2 routed straight to its human queue (correct)
    "tier2_bot_escalates": 0.75,  # Tier-2 that lands in the bot: policy escalation, else left
    "tier1_direct_to_human": 0.06,  # Tier-1 sent straight to a human (misroute)
    "tier1_escalation": {"bot-v3": 0.34, "bot-v4": 0.27},
    "wrong_human_queue": 0.12,  # first human queue is wrong -> a transfer follows
    "trapped_given_request": 0.15,
    "trapped_abandon_bot_only": 0.02,
    "no_event_given_request": 0.08,
    "double_handoff": 0.05,
    "abandon_in_wait": 0.02,
    "repeat_after_handoff": 0.35,
    "vulnerable_mid": 0.025,
    "vulnerable_escalated": 0.75,
    "survey": 0.22,
    "nps": 0.10,
    "anonymous": 0.06,
}
REASONS = {
    "bot-v3": Weighted(["customer_request", "low_confidence", "negative_sentiment", "bot_failure",
                        "unknown"], [0.32, 0.25, 0.20, 0.20, 0.03]),
    "bot-v4": Weighted(["customer_request", "low_confidence", "negative_sentiment", "bot_failure",
                        "unknown"], [0.40, 0.15, 0.25, 0.17, 0.03]),
}
OUTCOME = {
    "bot_only": Weighted(["resolved", "unresolved", "abandoned"], [0.74, 0.13, 0.13]),
    "left_with_bot": Weighted(["resolved", "unresolved", "abandoned"], [0.5, 0.3, 0.2]),
    "escalated": Weighted(["resolved", "unresolved", "abandoned"], [0.82, 0.12, 0.06]),
    "human_only": Weighted(["resolved", "unresolved", "abandoned"], [0.80, 0.15, 0.05]),
}
BOT_CHANNELS = Weighted(["chat", "voice", "messaging"], [0.66, 0.26, 0.08])
HUMAN_CHANNELS = Weighted(["chat", "voice", "email"], [0.45, 0.40, 0.15])
VULN_CUES = Weighted(["bereavement", "illness", "financial_hardship", "self_harm",
                      "accessibility"], [0.3, 0.2, 0.35, 0.08, 0.07])
ACCOUNT_CHANGE_INTENTS = frozenset({
    "update_account_details", "edit_personal_details", "change_pin", "terminate_account",
    "cancel_service", "password_reset", "passcode_forgotten"})
ID_CHECK_QUEUES = frozenset({"fraud", "disputes", "accounts", "retention", "billing"})


@dataclass(slots=True)
class Scenario:
    """Everything planned for one conversation (no text yet)."""

    intent: Intent
    channel: str
    bot_version: str | None
    path: str  # bot_only | bot_then_human | human_only
    first_queue: str
    expected_queue: str
    human_queue: str | None = None  # the correct human queue for this intent
    first_human_queue: str | None = None  # where the first handoff/route actually went
    reason: str | None = None
    trapped: bool = False
    no_event: bool = False
    double_handoff: bool = False
    abandon_in_wait: bool = False
    repeat_after: str | None = None  # sentence | entities
    outcome: str = "resolved"
    vulnerable: str | None = None  # cue type
    vulnerable_mid: bool = False  # cue appears after the opener (intent is not vulnerable)
    breaches: set[str] = field(default_factory=set)  # planned breach kinds
    pii: list[str] = field(default_factory=list)  # planned PII types
    survey: bool = False
    nps: bool = False
    bot_greets_first: bool = False
    is_followup: bool = False


def _pick_other_human_queue(draw: Draw, policy: RoutingPolicy, right: str) -> str:
    options = [q for q in policy.human_queues() if q not in (right, "general")]
    return draw.choice(options)


def plan(draw: Draw, intent: Intent, policy: RoutingPolicy, bot_version: str,
         is_followup: bool = False) -> Scenario:
    """Draw the scenario of one conversation for a given intent."""
    expected = policy.expected_queue(intent.name) or policy.default_queue
    human_q = policy.handoff_queue(intent.name)
    bot = policy.bot_queue
    if intent.tier == 2:
        to_human = draw.chance(MIX["tier2_direct_to_human"])
    else:
        to_human = draw.chance(MIX["tier1_direct_to_human"])
    if to_human:
        channel = HUMAN_CHANNELS.pick(draw)
        first = human_q
        if draw.chance(MIX["wrong_human_queue"]):
            first = _pick_other_human_queue(draw, policy, human_q)
        sc = Scenario(intent, channel, None, "human_only", first, expected, human_q, first)
        sc.outcome = OUTCOME["human_only"].pick(draw)
    else:
        channel = BOT_CHANNELS.pick(draw)
        sc = Scenario(intent, channel, bot_version, "bot_only", bot, expected, human_q)
        sc.bot_greets_first = channel != "voice" and draw.chance(0.3)
        if intent.tier == 2:
            escalate = draw.chance(MIX["tier2_bot_escalates"])
            sc.reason = "policy" if escalate else None
        elif intent.name == "talk_to_human":
            escalate = draw.chance(0.85)
            sc.reason = "customer_request" if escalate else None
            # not handed off = asked for a human and never got one
            sc.trapped = draw.chance(MIX["trapped_given_request"]) if escalate else True
        else:
            escalate = draw.chance(MIX["tier1_escalation"][bot_version])
            sc.reason = REASONS[bot_version].pick(draw) if escalate else None
            if escalate and sc.reason == "customer_request":
                sc.trapped = draw.chance(MIX["trapped_given_request"])
            if not escalate and draw.chance(MIX["trapped_abandon_bot_only"]):
                sc.trapped = True  # asked for a human, never got one
            if draw.chance(MIX["vulnerable_mid"]) and sc.reason in (None, "negative_sentiment"):
                sc.vulnerable = VULN_CUES.pick(draw)
                sc.vulnerable_mid = True
                escalate = draw.chance(MIX["vulnerable_escalated"])
                sc.reason = "negative_sentiment" if escalate else None
                sc.trapped = False
        if escalate:
            sc.path = "bot_then_human"
            sc.first_human_queue = human_q
            if draw.chance(MIX["wrong_human_queue"] * 0.8):
                sc.first_human_queue = _pick_other_human_queue(draw, policy, human_q)
            sc.no_event = sc.reason == "unknown" or (
                sc.reason == "customer_request" and not sc.trapped
                and draw.chance(MIX["no_event_given_request"]))
            sc.double_handoff = not sc.no_event and draw.chance(MIX["double_handoff"])
            sc.abandon_in_wait = not sc.no_event and draw.chance(MIX["abandon_in_wait"])
            sc.outcome = "abandoned" if sc.abandon_in_wait else OUTCOME["escalated"].pick(draw)
            if not sc.abandon_in_wait and draw.chance(MIX["repeat_after_handoff"]):
                sc.repeat_after = "sentence" if draw.chance(0.5) else "entities"
        else:
            kind = "left_with_bot" if intent.tier == 2 else "bot_only"
            sc.outcome = "abandoned" if sc.trapped else OUTCOME[kind].pick(draw)
    if intent.name == "vulnerable_customer":
        sc.vulnerable = "from_opener"  # resolved from the opener text in render
    elif sc.path == "human_only" and draw.chance(0.02):
        sc.vulnerable = VULN_CUES.pick(draw)
        sc.vulnerable_mid = True
    _plan_breaches(draw, sc)
    sc.is_followup = is_followup
    abandoned = sc.outcome == "abandoned"
    sc.survey = draw.chance(0.05 if abandoned else MIX["survey"])
    sc.nps = draw.chance(MIX["nps"])
    return sc


def _plan_breaches(draw: Draw, sc: Scenario) -> None:
    human = sc.path != "bot_only" and not sc.abandon_in_wait
    if sc.channel == "voice" and draw.chance(0.15):
        sc.breaches.add("missing_recording_notice")
    if human and sc.intent.name in ACCOUNT_CHANGE_INTENTS and sc.outcome == "resolved" \
            and draw.chance(0.12):
        sc.breaches.add("no_identity_verification_before_account_change")
    if human and draw.chance(0.03):
        sc.breaches.add("guaranteed_outcome_promise")
    if human and draw.chance(0.007):
        sc.breaches.add("agent_abusive_language")
    if draw.chance(0.012):
        sc.breaches.add("pii_exposure_password_request")
    if draw.chance(0.14):
        kinds = Weighted(["EMAIL", "PHONE", "CARD", "ORDER", "SSN", "IBAN"],
                         [0.28, 0.22, 0.18, 0.17, 0.07, 0.08])
        sc.pii.append(kinds.pick(draw))
        if draw.chance(0.2):
            sc.pii.append(kinds.pick(draw))
