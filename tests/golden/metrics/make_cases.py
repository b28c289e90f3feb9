"""Writes cases.jsonl (input contract) for the hand-computed golden metrics cases.

The expected values in expected.json were computed by hand from the timelines below (see the
comments there); this script only lays the records out so the timestamps are easy to read.
Run: python tests/golden/metrics/make_cases.py
"""
import json
from pathlib import Path


def t(speaker, text, ts, **kw):
    return {"speaker": speaker, "text": text, "ts": ts, **kw}


D = "2026-06-"
cases = [
    {"conversation_id": "g-open-window", "customer_id": "k-open", "queue": "bot",
     "started_at": "2026-07-05T10:00:00Z", "ended_at": "2026-07-05T10:01:00Z", "turns": [
         t("customer", "when will my card arrive", "2026-07-05T10:00:00Z"),
         t("bot", "Hi! Cards arrive in 3-5 working days.", "2026-07-05T10:00:04Z",
           agent_id="bot-v3", bot_confidence=0.97),
         t("customer", "great thanks", "2026-07-05T10:01:00Z")]},
    {"conversation_id": "g-no-customer", "queue": "bot",
     "started_at": D + "10T09:00:00Z", "turns": [
         t("customer", "has my card been sent", D + "10T09:00:00Z"),
         t("bot", "Hello, yes it was posted yesterday.", D + "10T09:00:02Z", bot_confidence=0.96),
         t("customer", "thanks", D + "10T09:00:30Z")]},
    {"conversation_id": "g-human-only", "customer_id": "k-h", "queue": "complaints",
     "started_at": D + "11T09:00:00Z", "csat": 2, "nps": 3, "turns": [
         t("customer", "I want to complain about your service", D + "11T09:00:00Z"),
         t("agent", "Hello, I'm sorry to hear that. What happened?", D + "11T09:00:30Z",
           agent_id="agent-1"),
         t("customer", "nobody called me back", D + "11T09:01:00Z"),
         t("agent", "I've raised it with the team. Anything else?", D + "11T09:03:00Z",
           agent_id="agent-1")]},
    {"conversation_id": "g-abandoned-bot", "customer_id": "k-ab", "queue": "bot",
     "started_at": D + "12T09:00:00Z", "turns": [
         t("customer", "where is my new card", D + "12T09:00:00Z"),
         t("bot", "Hi, can you tell me the last four digits?", D + "12T09:00:05Z",
           bot_confidence=0.93)]},
    {"conversation_id": "g-two-handoffs", "customer_id": "k-2h", "queue": "bot",
     "started_at": D + "13T09:00:00Z", "turns": [
         t("customer", "I want to dispute a charge of 120 on order AB-5521", D + "13T09:00:00Z"),
         t("bot", "I can help with that.", D + "13T09:00:03Z", bot_confidence=0.95),
         t("system", "", D + "13T09:00:10Z", event="handoff", queue="disputes"),
         t("bot", "All our agents are busy, please stay with me.", D + "13T09:01:00Z",
           bot_confidence=0.95),
         t("system", "", D + "13T09:01:30Z", event="handoff", queue="disputes"),
         t("agent", "Hi, I'm Ana from disputes.", D + "13T09:01:40Z", agent_id="agent-2"),
         t("customer", "It's about order AB-5521", D + "13T09:02:00Z"),
         t("agent", "I've raised the dispute. Anything else?", D + "13T09:03:00Z",
           agent_id="agent-2")]},
    {"conversation_id": "g-transfer", "customer_id": "k-tr", "queue": "billing",
     "started_at": D + "14T09:00:00Z", "turns": [
         t("customer", "There's a charge I don't recognise", D + "14T09:00:00Z"),
         t("agent", "Hello, billing here.", D + "14T09:00:20Z", agent_id="agent-3"),
         t("system", "", D + "14T09:01:00Z", event="transfer", queue="disputes"),
         t("agent", "Hi, disputes team, I can help.", D + "14T09:01:30Z", agent_id="agent-4"),
         t("customer", "thanks", D + "14T09:02:00Z")]},
    {"conversation_id": "g-month-boundary", "customer_id": "k-mb", "queue": "bot",
     "started_at": D + "30T23:58:00Z", "ended_at": "2026-07-01T00:05:00Z", "turns": [
         t("customer", "my card hasn't arrived", D + "30T23:58:00Z"),
         t("bot", "It should arrive in 3-5 days.", D + "30T23:58:05Z", bot_confidence=0.95),
         t("customer", "I want to speak to a human", D + "30T23:59:00Z"),
         t("bot", "Connecting you to an agent.", D + "30T23:59:05Z", bot_confidence=0.95),
         t("agent", "Hi, this is Jo from cards.", "2026-07-01T00:00:10Z", agent_id="agent-5"),
         t("customer", "ok", "2026-07-01T00:01:00Z")]},
    {"conversation_id": "g-trapped", "customer_id": "k-tp", "queue": "bot",
     "started_at": D + "15T09:00:00Z", "turns": [
         t("customer", "my card still isn't here", D + "15T09:00:00Z"),
         t("bot", "Cards take 3-5 days.", D + "15T09:00:02Z", bot_confidence=0.95),
         t("customer", "let me talk to a real person", D + "15T09:00:30Z"),
         t("bot", "I can help you here.", D + "15T09:00:32Z", bot_confidence=0.95),
         t("customer", "human please", D + "15T09:01:00Z"),
         t("bot", "Is there anything else about your card?", D + "15T09:01:02Z",
           bot_confidence=0.95),
         t("customer", "agent!", D + "15T09:01:30Z"),
         t("bot", "Cards usually arrive within a week.", D + "15T09:01:32Z",
           bot_confidence=0.95)]},
]
for i, (day, intent) in enumerate([("20", "card_arrival"), ("25", "card_arrival"),
                                   ("26", "change_pin")], start=1):
    cases.append({"conversation_id": f"g-rep-{i}", "customer_id": "k-rep", "queue": "bot",
                  "started_at": f"{D}{day}T09:00:00Z", "turns": [
                      t("customer", f"question about {intent}", f"{D}{day}T09:00:00Z"),
                      t("bot", "Hello! Here is how.", f"{D}{day}T09:00:10Z", bot_confidence=0.99),
                      t("customer", "thank you", f"{D}{day}T09:01:10Z")]})

out = Path(__file__).with_name("cases.jsonl")
out.write_text("".join(json.dumps(c) + "\n" for c in cases))
print(f"wrote {len(cases)} cases to {out}")
