"""Turn a planned ``Scenario`` into a transcript (input-contract dict) and its planted truth.

Customer text comes from the real utterance bank; bot and agent text from ``texts.py``; the
turns and their clock are kept by :class:`tierlens.simulate.transcript.Transcript`.
Truth fields that PRODUCT.md defines from the transcript (bot_entered, escalated, tier_path,
handoff_seconds, n_handoffs, trapped) are computed from the rendered turns, so the truth and
the transcript can't disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierlens.config import RoutingPolicy
from tierlens.settings import HandleTimeSettings
from tierlens.simulate import pii as P
from tierlens.simulate import texts as T
from tierlens.simulate.bank import QUEUE_DOMAIN, Bank, cue_type
from tierlens.simulate.record import build_records
from tierlens.simulate.rng import Draw
from tierlens.simulate.scenario import ACCOUNT_CHANGE_INTENTS, ID_CHECK_QUEUES, Scenario
from tierlens.simulate.transcript import Transcript

AGENT_NAMES = ("Sam", "Priya", "Tom", "Aisha", "Luca", "Grace", "Omar", "Mei", "Dan", "Sofia",
               "Kwame", "Hannah", "Raj", "Elena", "Ben", "Fatima", "Jack", "Nora", "Leo", "Zara")
N_AGENTS = 20
RISKY_AGENT = "agent-07"  # more guarantee promises and rude remarks
NO_ID_AGENT = "agent-13"  # skips identity checks more often
BRANDS = {"finance": "acme-bank", "airline": "skyline-air", "insurance": "shieldsure",
          "media": "streamwave", "software": "streamwave", "fastfood": "acme-bank"}


def agents_by_queue(human_queues: tuple[str, ...]) -> dict[str, list[str]]:
    """Deterministic assignment of ~20 agents to human queues (each agent covers 3)."""
    out: dict[str, list[str]] = {q: [] for q in human_queues}
    for i in range(N_AGENTS):
        for k in range(3):
            out[human_queues[(i * 3 + k) % len(human_queues)]].append(f"agent-{i + 1:02d}")
    return out


@dataclass(slots=True)
class Context:
    bank: Bank
    policy: RoutingPolicy
    agents: dict[str, list[str]]
    other_topics: tuple[str, ...]
    handle: HandleTimeSettings


def _hi(d: Draw) -> float:
    return d.uniform(0.9, 0.995)


def _detail(c: Transcript, sc: Scenario, ctx: Context, q: str) -> str:
    """A customer's answer to the bot's request for details (a 'fact' they may repeat)."""
    d = c.d
    if q == "orders":
        if "ORDER" in sc.pii:
            sc.pii.remove("ORDER")
            num = P.order_number(d)
            c.pii.append({"type": "ORDER_NOT_CARD", "turn_index": len(c.turns)})
            return f"The order number is {num}"
        return f"It's order {P.short_order_ref(d)}"
    if q == "accounts":  # every e-mail and account number said is recorded in the truth
        if "EMAIL" in sc.pii:
            sc.pii.remove("EMAIL")
        c.pii.append({"type": "EMAIL", "turn_index": len(c.turns)})
        return f"It's {P.email(d)}"
    if q == "billing":
        c.pii.append({"type": "ACCOUNT", "turn_index": len(c.turns)})
        return f"The account number is {d.randint(10000000, 99999999)}"
    simple = {
        "cards": lambda: f"The last four digits are {d.randint(1000, 9999)}",
        "payments": lambda: f"It was £{d.randint(5, 400)}.{d.randint(10, 99)} on the "
                            f"{d.randint(1, 28)}th",
        "transfers": lambda: f"£{d.randint(20, 2000)} on {d.choice(('Monday', 'Tuesday', 'Friday'))}",
        "travel": lambda: "The booking reference is " + "".join(
            d.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(6)),
        "insurance": lambda: f"Policy number PX-{d.randint(100000, 999999)}",
        "bookings": lambda: d.choice(("Tuesday at 10am", "any time on Friday", "Monday morning")),
        "tech_support": lambda: d.choice(("An iPhone 14", "a Samsung Galaxy", "my laptop, Chrome")),
    }
    if q in simple:
        return simple[q]()
    return d.choice(ctx.bank.opener_pool(sc.intent.name))


def _plant_pii(c: Transcript, sc: Scenario, who: str = "customer") -> None:
    d = c.d
    for kind in list(sc.pii):
        value = {"EMAIL": P.email, "PHONE": P.phone, "CARD": P.card_number, "ORDER": P.order_number,
                 "SSN": P.ssn, "IBAN": P.iban}[kind](d)
        idx = c.customer(T.PII_LINES[kind].format(value=value))
        c.pii.append({"type": "ORDER_NOT_CARD" if kind == "ORDER" else kind, "turn_index": idx})
        breach = {"CARD": "pii_exposure_card", "SSN": "pii_exposure_ssn",
                  "IBAN": "pii_exposure_account"}.get(kind)
        if breach:
            c.breach(breach, idx)
        if kind == "CARD" and who == "agent" and d.chance(0.15):
            c.breach("pii_exposure_card",
                     c.add("agent", T.AGENT_READBACK_CARD.format(card=value), agent_id=c.agent))
    sc.pii.clear()


def render(draw: Draw, sc: Scenario, ctx: Context, conv_id: str, customer_id: str | None,
           start: int, opener_prefix: bool) -> tuple[dict, dict]:
    """Render one conversation; returns (input-contract record, planted truth record)."""
    d, bank = draw, ctx.bank
    it = sc.intent
    c = Transcript(d, start, sc.channel)
    opener = d.choice(bank.opener_pool(it.name))
    if it.name == "vulnerable_customer":
        sc.vulnerable = cue_type(opener)
    if sc.is_followup and opener_prefix and it.name != "talk_to_human":
        opener = d.choice(T.CUSTOMER_REPEAT_PREFIX) + opener
    opener_label = "negative" if (it.tier == 2 or opener_prefix) else "neutral"
    voice = sc.channel == "voice"
    notice_missing = "missing_recording_notice" in sc.breaches
    brand = BRANDS.get(_domain(it.queue), "acme-bank")
    state = {"first_responder_done": False, "vuln_idx": None, "opener": opener}

    def notice(kind: str) -> str:
        if voice and not state["first_responder_done"]:
            state["first_responder_done"] = True
            if notice_missing:
                c.breach("missing_recording_notice", len(c.turns))
                return ""
            return T.BOT_RECORDING_NOTICE if kind == "bot" else T.AGENT_RECORDING_NOTICE
        state["first_responder_done"] = True
        return ""

    if sc.path == "human_only":
        _human_only(c, sc, ctx, opener, opener_label, notice, state)
    else:
        _bot_part(c, sc, ctx, opener, opener_label, notice, state, brand)
    if c.turns[-1].get("event") != "end" and d.chance(0.6):
        c.event("end", wait=d.randint(2, 10))
    return build_records(c, sc, ctx.policy, conv_id, customer_id, brand, state, ctx.handle)


def _domain(queue: str) -> str:
    return QUEUE_DOMAIN.get(queue, "finance")


def _bot_part(c: Transcript, sc: Scenario, ctx: Context, opener: str, opener_label: str,
              notice: Any, state: dict, brand: str) -> None:
    d, bank, it, v = c.d, ctx.bank, sc.intent, sc.bot_version or "bot-v3"
    q = sc.human_queue or it.queue
    topic = T.TOPIC.get(it.queue, "your question")
    if sc.bot_greets_first:
        c.bot(notice("bot") + d.choice(T.BOT_GREETING).format(brand=brand), v, _hi(d))
    opener_idx = c.customer(opener, opener_label)
    if "pii_exposure_password_request" in sc.breaches and it.name != "talk_to_human":
        c.breach("pii_exposure_password_request", c.bot(notice("bot") + T.BOT_PASSWORD_ASK, v, _hi(d)))
        c.customer("I'd rather not share that.", "neutral")
    is_request_opener = it.name == "talk_to_human"
    if is_request_opener:
        c.request_idx = opener_idx

    def ask_detail() -> None:
        ask = T.BOT_ASK_DETAIL.get(q, "Can you tell me a bit more about what happened?")
        c.bot(notice("bot") + d.choice(T.BOT_ACK).format(topic=topic) + " " + ask, v, _hi(d))
        fact = _detail(c, sc, ctx, q)
        c.facts.append(fact)
        c.customer(fact)

    def answer(conf: float | None = None) -> int:
        pool = T.BOT_ANSWER_BY_INTENT.get(it.name) or T.BOT_ANSWER.get(q, T.BOT_ANSWER["general"])
        return c.bot(notice("bot") + d.choice(pool), v, conf if conf is not None else _hi(d))

    def request_human() -> None:
        idx = c.customer(d.choice(bank.opener_pool("talk_to_human")))
        if c.request_idx is None:
            c.request_idx = idx

    def deflect_loop(n: int) -> None:
        for k in range(n):
            c.bot(notice("bot") + d.choice(T.BOT_DEFLECT), v, _hi(d))
            if k < n - 1 or sc.path == "bot_then_human":
                if d.chance(0.5):
                    request_human()
                else:
                    c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")

    reason = sc.reason if sc.path == "bot_then_human" else None
    announce_conf = _hi(d)
    if sc.path == "bot_only":
        if sc.trapped:
            if not is_request_opener:
                if d.chance(0.5):
                    ask_detail()
                request_human()
            deflect_loop(d.randint(2, 3))
            c.event("end", wait=d.randint(300, 900))
        else:
            low = d.chance(0.04)
            if d.chance(0.6) and not is_request_opener:
                ask_detail()
            answer(d.uniform(0.8, 0.9) if low else None)
            if sc.pii:
                _plant_pii(c, sc)
            if sc.vulnerable_mid:
                state["vuln_idx"] = c.customer(d.choice(T.VULNERABLE_CUES[sc.vulnerable]),
                                               "negative")
                answer()
            _bot_close(c, sc, ctx, v)
        return
    # ------------------------------------------------------------- bot_then_human
    if reason == "customer_request":
        if not is_request_opener:
            if d.chance(0.6):
                ask_detail()
            request_human()
        if sc.trapped:
            deflect_loop(2)
    elif reason == "low_confidence":
        other = d.choice(ctx.other_topics)
        c.bot(notice("bot") + d.choice(T.BOT_LOW_CONFIDENCE).format(other=other), v,
              d.uniform(0.3, 0.86))
        if d.chance(0.5):
            c.customer(d.choice(bank.followup_pool(q, "reject")))
        else:
            c.customer(d.choice(bank.opener_pool(it.name)))
        if d.chance(0.5):
            c.bot(d.choice(T.BOT_LOW_CONFIDENCE).format(other=d.choice(ctx.other_topics)), v,
                  d.uniform(0.3, 0.86))
            c.customer(d.choice(bank.followup_pool(q, "reject")))
        announce_conf = d.uniform(0.3, 0.86)
    elif reason == "negative_sentiment":
        if sc.repeat_after == "entities" or d.chance(0.4):
            ask_detail()
        answer()
        if sc.vulnerable_mid:
            state["vuln_idx"] = c.customer(d.choice(T.VULNERABLE_CUES[sc.vulnerable]), "negative")
        else:
            c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")
            answer()
            c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")
    elif reason == "policy":
        if sc.repeat_after == "entities" or d.chance(0.4):
            ask_detail()
    elif reason == "bot_failure":
        c.bot(notice("bot") + T.BOT_FAILURE, v, _hi(d))
        c.customer(d.choice(bank.opener_pool(it.name)))
        c.bot(T.BOT_FAILURE, v, _hi(d))
        if d.chance(0.5):
            c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")
    else:  # unknown: no visible trigger, an agent just joins
        ask_detail()
    if sc.pii:
        _plant_pii(c, sc)
    if sc.repeat_after == "entities" and not c.facts:
        sc.repeat_after = "sentence"
    hq = sc.first_human_queue or q
    label = T.QUEUE_LABEL.get(hq, hq)
    if reason == "policy":
        c.bot(notice("bot") + T.BOT_POLICY_HANDOFF.format(queue_label=label), v, announce_conf)
    elif reason != "unknown":
        c.bot(notice("bot") + d.choice(T.BOT_HANDOFF).format(queue_label=label), v, announce_conf)
    trigger = c.t
    if not sc.no_event:
        c.event("handoff", hq, wait=1)
        trigger = c.t
        if sc.double_handoff:
            c.t += d.randint(60, 150)
            c.bot(T.BOT_STILL_WAITING, v, _hi(d))
            c.event("handoff", hq, wait=1)
        if sc.abandon_in_wait:
            if d.chance(0.5):
                c.customer("hello?", "neutral", wait=d.randint(60, 200))
            c.event("end", wait=d.randint(180, 600))
            return
    delay = d.lognormal_seconds(13, 0.7) if d.chance(0.85) else d.lognormal_seconds(75, 0.8)
    c.t = max(c.t + 2, trigger + max(3, int(delay)))
    _human_part(c, sc, ctx, hq, bot_entered=True, wait0=0, notice=notice, state=state)


def _bot_close(c: Transcript, sc: Scenario, ctx: Context, v: str) -> None:
    d, bank, q = c.d, ctx.bank, sc.intent.queue
    if sc.outcome == "resolved":
        c.customer(d.choice(bank.followup_pool(q, "thanks")), "positive")
        c.bot(d.choice(bank.bot["REQ_MORE"]), v, _hi(d))
        c.customer(d.choice(bank.followup_pool(q, "reject")))
        c.bot(d.choice(bank.bot["GOODBYE"]), v, _hi(d))
    elif sc.outcome == "unresolved":
        c.bot(T.BOT_UNRESOLVED, v, _hi(d))
        if d.chance(0.6):
            c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")
        else:
            c.customer(d.choice(bank.followup_pool(q, "closing")), "positive")
        c.bot(d.choice(bank.bot["GOODBYE"]), v, _hi(d))
    else:  # abandoned: the customer stops responding
        c.event("end", wait=d.randint(300, 900))


def _pick_agent(d: Draw, sc: Scenario, ctx: Context, queue: str) -> str:
    if sc.breaches & {"guaranteed_outcome_promise", "agent_abusive_language"} and d.chance(0.4):
        return RISKY_AGENT
    if "no_identity_verification_before_account_change" in sc.breaches and d.chance(0.4):
        return NO_ID_AGENT
    return d.choice(ctx.agents[queue])


def _human_only(c: Transcript, sc: Scenario, ctx: Context, opener: str, opener_label: str,
                notice: Any, state: dict) -> None:
    d = c.d
    q = sc.first_human_queue or sc.intent.queue
    if sc.channel == "voice":
        agent = _pick_agent(d, sc, ctx, q)
        c.agent = agent
        name = AGENT_NAMES[int(agent[-2:]) - 1]
        c.add("agent", notice("agent") + d.choice(T.AGENT_GREETING).format(
            name=name, queue_label=T.QUEUE_LABEL.get(q, q)), agent_id=agent)
        idx = c.customer(opener, opener_label)
        _human_part(c, sc, ctx, q, bot_entered=False, wait0=None, notice=notice, state=state,
                    greeted=agent, opener_idx=idx)
    else:
        idx = c.customer(opener, opener_label)
        _human_part(c, sc, ctx, q, bot_entered=False, wait0=None, notice=notice, state=state,
                    opener_idx=idx)


def _human_part(c: Transcript, sc: Scenario, ctx: Context, queue: str, bot_entered: bool,
                wait0: int | None, notice: Any, state: dict, greeted: str | None = None,
                opener_idx: int | None = None) -> None:
    d, bank, it = c.d, ctx.bank, sc.intent
    if it.name == "talk_to_human" and opener_idx is not None:
        c.request_idx = opener_idx
    right_q = sc.human_queue or it.queue
    topic = T.TOPIC.get(it.queue, "your question")

    def greet(q: str, first_wait: int | None) -> str:
        agent = _pick_agent(d, sc, ctx, q)
        c.agent = agent
        name = AGENT_NAMES[int(agent[-2:]) - 1]
        # a warm handoff (the agent has the bot context) unless the customer will repeat
        warm = bot_entered and sc.repeat_after is None
        tpl = d.choice(T.AGENT_GREETING_WARM if warm else T.AGENT_GREETING)
        c.add("agent", notice("agent") + tpl.format(name=name, queue_label=T.QUEUE_LABEL.get(q, q),
                                                    topic=topic), first_wait, agent_id=agent)
        return agent

    agent = greeted or greet(queue, wait0)
    if sc.repeat_after == "sentence":
        c.customer(state["opener"], c.labels[0] if c.labels else "neutral")
    elif sc.repeat_after == "entities":
        fact = c.facts[-1]
        c.customer(d.choice(T.CUSTOMER_REPEAT_AFTER_HANDOFF).format(
            fact=fact[0].lower() + fact[1:]))
    elif bot_entered:
        c.customer(d.choice(bank.followup_pool(right_q, "confirm")))
    if queue != right_q:  # misrouted to the wrong human queue: transfer
        c.add("agent", T.AGENT_TRANSFER.format(queue_label=T.QUEUE_LABEL.get(right_q, right_q)),
              agent_id=agent)
        c.event("transfer", right_q)
        c.t += int(d.lognormal_seconds(25, 0.7))
        agent = greet(right_q, 0)
        c.customer(d.choice(bank.followup_pool(right_q, "confirm")))

    def say(text: str) -> int:
        return c.add("agent", text, agent_id=agent)

    if sc.vulnerable_mid and sc.path == "human_only":
        state["vuln_idx"] = c.customer(d.choice(T.VULNERABLE_CUES[sc.vulnerable]), "negative")
    if "agent_abusive_language" in sc.breaches:
        c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")
        c.breach("agent_abusive_language", say(d.choice(T.AGENT_ABUSIVE)))
    if sc.vulnerable:
        say(T.AGENT_EMPATHY_VULNERABLE.get(sc.vulnerable, T.AGENT_EMPATHY[0]))
    elif d.chance(0.7 if (it.tier == 2 or sc.reason == "negative_sentiment") else 0.25):
        say(d.choice(T.AGENT_EMPATHY))
    if "pii_exposure_password_request" in sc.breaches and sc.path == "human_only":
        c.breach("pii_exposure_password_request", say(T.AGENT_PASSWORD_ASK))
        c.customer("I'd rather not share that.")
    change = it.name in ACCOUNT_CHANGE_INTENTS
    if change or right_q in ID_CHECK_QUEUES:
        if "no_identity_verification_before_account_change" in sc.breaches:
            c.breach("no_identity_verification_before_account_change", say(T.AGENT_ACCOUNT_CHANGE))
        else:
            say(d.choice(T.AGENT_ID_CHECK))
            if sc.outcome == "abandoned":
                c.event("end", wait=d.randint(300, 900))
                return
            c.customer(T.CUSTOMER_ID_ANSWER.format(dob=P.date_of_birth(d), postcode=P.postcode(d)))
            say(T.AGENT_VERIFIED)
            if change and sc.outcome == "resolved":
                say(T.AGENT_ACCOUNT_CHANGE)
    if sc.pii:
        _plant_pii(c, sc, who="agent")
    if sc.channel == "voice" and sc.outcome != "abandoned" and d.chance(0.25):
        say("Let me check that for you, I'll put you on a short hold.")
        c.event("hold")
        c.t += d.randint(30, 240)
    if sc.outcome == "resolved":
        if "guaranteed_outcome_promise" in sc.breaches:
            c.breach("guaranteed_outcome_promise", say(d.choice(T.AGENT_GUARANTEE)))
        say(T.AGENT_SOLUTION.get(right_q, T.AGENT_SOLUTION["general"]))
        c.customer(d.choice(bank.followup_pool(right_q, "thanks")), "positive")
        say(T.AGENT_ANYTHING_ELSE)
        c.customer(d.choice(bank.followup_pool(right_q, "reject")))
        say(d.choice(T.AGENT_CLOSING))
    elif sc.outcome == "unresolved":
        if "guaranteed_outcome_promise" in sc.breaches:
            c.breach("guaranteed_outcome_promise", say(d.choice(T.AGENT_GUARANTEE)))
        say(T.AGENT_UNRESOLVED)
        c.customer(d.choice(T.CUSTOMER_FRUSTRATED), "negative")
        say(d.choice(T.AGENT_CLOSING[:2]))  # not "Glad I could help"
    else:
        say("Could you tell me a bit more about what happened?")
        c.event("end", wait=d.randint(300, 900))

