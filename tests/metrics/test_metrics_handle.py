"""Handle time is active work time (capped gaps per channel, replies only in email); elapsed
time is kept apart; cost derives from handle time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from metrics_frames import frames_from_records

from tierlens.metrics.derive import derive
from tierlens.settings import HandleTimeSettings, Settings

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)


def _record(cid: str, channel: str, turns: list[tuple[float, str, str | None]]) -> dict:
    """turns: (seconds after T0, speaker, event)."""
    out = []
    for secs, speaker, event in turns:
        t = {"speaker": speaker, "text": "" if speaker == "system" else f"{speaker} says hi",
             "ts": (T0 + timedelta(seconds=secs)).isoformat().replace("+00:00", "Z")}
        if event:
            t["event"] = event
        if speaker == "bot":
            t["bot_confidence"] = 0.95
        out.append(t)
    return {"conversation_id": cid, "channel": channel, "customer_id": f"cust-{cid}",
            "started_at": out[0]["ts"], "queue": "bot" if turns[1][1] == "bot" else "billing",
            "turns": out}


DAY, HOUR = 86_400, 3_600
CASES = [
    # chat: the customer went away for two hours; that gap counts 300 s (the chat cap)
    _record("chat-idle", "chat", [(0, "customer", None), (5, "bot", None),
                                  (5 + 2 * HOUR, "customer", None), (10 + 2 * HOUR, "bot", None)]),
    # email: replies a day apart; each agent reply counts its 600 s allowance, the customer's
    # days to answer count nothing
    _record("email-thread", "email", [(0, "customer", None), (DAY, "agent", None),
                                      (3 * DAY, "customer", None), (3 * DAY + 3 * HOUR, "agent",
                                                                    None)]),
    # bot then human over chat, all gaps under the cap: handle time = the elapsed spans
    _record("chat-escalated", "chat", [(0, "customer", None), (4, "bot", None),
                                       (10, "system", "handoff"), (40, "agent", None),
                                       (100, "customer", None), (130, "agent", None)]),
    # voice: a 15-minute hold counts 600 s
    _record("voice-hold", "voice", [(0, "customer", None), (20, "agent", None),
                                    (20 + 900, "agent", None)]),
]
WANT = {  # aht, bot, human, elapsed
    "chat-idle": (310.0, 310.0, None, 7210.0),
    "email-thread": (1200.0, None, 600.0, 3 * DAY + 3 * HOUR),
    "chat-escalated": (130.0, 10.0, 90.0, 130.0),
    "voice-hold": (620.0, None, 600.0, 920.0),
}


@pytest.fixture(scope="module")
def outcomes():
    conv, turns = frames_from_records(CASES)
    return derive(conv, turns, settings=Settings()).outcomes


@pytest.mark.parametrize("cid", sorted(WANT))
def test_handle_and_elapsed_seconds(outcomes, cid):
    row = outcomes.filter(pl.col("conversation_id") == cid).to_dicts()[0]
    got = (row["aht_seconds"], row["bot_seconds"], row["human_seconds"], row["elapsed_seconds"])
    assert got == WANT[cid]


def test_cost_derives_from_handle_time_not_elapsed(outcomes):
    s = Settings()
    row = outcomes.filter(pl.col("conversation_id") == "email-thread").to_dicts()[0]
    assert row["cost"] == pytest.approx(600 / 60 * s.cost_per_agent_minute)  # not 3 days' pay
    row = outcomes.filter(pl.col("conversation_id") == "chat-escalated").to_dicts()[0]
    assert row["cost"] == pytest.approx(10 / 60 * s.cost_per_bot_minute
                                        + 90 / 60 * s.cost_per_agent_minute)


def test_elapsed_is_a_kpi_of_its_own(outcomes):
    conv, turns = frames_from_records(CASES)
    k = derive(conv, turns, settings=Settings()).kpis.filter(
        (pl.col("tier") == "all") & pl.col("kpi").is_in(["aht_seconds", "elapsed_seconds"]))
    got = {r["kpi"]: r["numerator"] for r in k.to_dicts()}
    assert got == {"aht_seconds": sum(w[0] for w in WANT.values()),
                   "elapsed_seconds": sum(w[3] for w in WANT.values())}


def test_caps_come_from_the_settings():
    conv, turns = frames_from_records(CASES[:1])
    h = HandleTimeSettings(gap_cap_seconds={"chat": 60.0})
    out = derive(conv, turns, settings=Settings(handle_time=h)).outcomes
    assert out["aht_seconds"].item() == 70.0
    h = HandleTimeSettings(gap_cap_seconds={}, default_gap_cap_seconds=1_000.0)
    out = derive(conv, turns, settings=Settings(handle_time=h)).outcomes
    assert out["aht_seconds"].item() == 1_010.0


def test_no_timestamps_gives_null_handle_time():
    rec = _record("no-ts", "chat", [(0, "customer", None), (5, "bot", None)])
    for t in rec["turns"]:
        del t["ts"]
    conv, turns = frames_from_records([rec])
    row = derive(conv, turns, settings=Settings()).outcomes.to_dicts()[0]
    assert (row["aht_seconds"], row["bot_seconds"], row["elapsed_seconds"]) == (None, None, None)
