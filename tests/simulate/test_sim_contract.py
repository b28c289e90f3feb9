"""Every simulated line conforms to the PRODUCT.md input contract."""

from __future__ import annotations

import datetime as dt
import re

from tierlens.config import load_routing_policy
from tierlens.schema import CHANNELS, EVENTS, SPEAKERS

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CONV_KEYS = {"conversation_id", "channel", "customer_id", "started_at", "ended_at", "queue",
             "language", "csat", "metadata", "turns"}
TURN_KEYS = {"speaker", "text", "ts", "agent_id", "bot_confidence", "event", "queue"}


def _t(s: str) -> dt.datetime:
    assert TS.match(s), s
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def test_every_record_follows_the_input_contract(sim):
    result, convs, _, _ = sim
    queues = set(load_routing_policy().queues)
    ids = [c["conversation_id"] for c in convs]
    assert len(ids) == result.n_conversations == len(set(ids))
    for c in convs:
        assert set(c) <= CONV_KEYS
        assert {"conversation_id", "started_at", "turns"} <= set(c)
        assert c["channel"] in CHANNELS and c["language"] == "en" and c["queue"] in queues
        assert isinstance(c["metadata"]["brand"], str)
        assert c.get("csat") is None or c["csat"] in (1, 2, 3, 4, 5)
        nps = c["metadata"].get("nps")
        assert nps is None or 0 <= nps <= 10
        turns = c["turns"]
        assert turns and c["started_at"] == turns[0]["ts"] and c["ended_at"] == turns[-1]["ts"]
        assert result.start <= _t(c["started_at"]).date() < result.end
        prev = None
        for t in turns:
            assert set(t) <= TURN_KEYS and t["speaker"] in SPEAKERS
            assert isinstance(t["text"], str)
            ts = _t(t["ts"])
            assert prev is None or ts >= prev
            prev = ts
            if t["speaker"] == "system":
                assert t["event"] in EVENTS and t["text"] == ""
                if t["event"] == "transfer":
                    assert t["queue"] in queues and t["queue"] != "bot"
            else:
                assert "event" not in t and t["text"].strip()
            if t["speaker"] == "bot":
                assert t["agent_id"] in ("bot-v3", "bot-v4")
                assert 0.0 <= t["bot_confidence"] <= 1.0
            elif t["speaker"] == "agent":
                assert re.fullmatch(r"agent-\d\d", t["agent_id"])
                assert "bot_confidence" not in t
            else:
                assert "agent_id" not in t


def test_optional_fields_are_sometimes_absent(sim):
    _, convs, _, _ = sim
    n = len(convs)
    no_customer = sum("customer_id" not in c for c in convs)
    surveyed = sum("csat" in c for c in convs)
    assert 0.02 * n < no_customer < 0.12 * n
    assert 0.15 * n <= surveyed <= 0.25 * n
    agents = {t["agent_id"] for c in convs for t in c["turns"] if t["speaker"] == "agent"}
    assert 15 <= len(agents) <= 20
    assert {c["channel"] for c in convs} >= {"chat", "voice", "email", "messaging"}
    events = {t.get("event") for c in convs for t in c["turns"]}
    assert events == {None, "handoff", "transfer", "hold", "end"}
