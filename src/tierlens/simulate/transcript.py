"""A transcript being written: turns on a moving clock, and what was planted in them.

:class:`Transcript` appends turns (customer, bot, agent, system events) with realistic gaps
per channel and speaker, and records the planted sentiment labels, compliance breaches and
PII that the truth files report. :mod:`tierlens.simulate.render` decides what is said.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tierlens.simulate.rng import Draw

_DAYS: dict[int, str] = {}


def fmt_ts(epoch: int) -> str:
    """ISO-8601 UTC with Z, e.g. 2026-06-01T09:14:03Z (day strings cached)."""
    day, sec = divmod(epoch, 86400)
    d = _DAYS.get(day)
    if d is None:
        d = _DAYS[day] = dt.datetime.fromtimestamp(day * 86400, dt.UTC).strftime("%Y-%m-%d")
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{d}T{h:02d}:{m:02d}:{s:02d}Z"


class Transcript:
    """Accumulates turns with a moving clock (epoch seconds)."""

    def __init__(self, draw: Draw, start: int, channel: str) -> None:
        self.d, self.t, self.channel = draw, start, channel
        self.turns: list[dict[str, Any]] = []
        self.epochs: list[int] = []
        self.labels: list[str] = []  # planted sentiment of each customer turn, in order
        self.breaches: list[dict[str, Any]] = []
        self.pii: list[dict[str, Any]] = []
        self.request_idx: int | None = None
        self.facts: list[str] = []  # details the customer gave the bot
        self.agent: str = ""  # the agent currently speaking

    def _wait(self, speaker: str, text: str) -> int:
        """Seconds before a turn: reaction time plus time to type or say the text."""
        d, ch = self.d, self.channel
        if not self.turns:
            return 0
        if speaker == "system":
            return d.randint(0, 2)
        n = len(text)
        if ch == "voice":  # ~15 characters a second of speech, short pauses
            return d.randint(1, 3) + n // 15
        if speaker == "bot":
            return d.randint(1, 3)
        if ch == "email":
            return int(d.lognormal_seconds(3 * 3600, 0.8))
        if speaker == "customer":
            med = 45 if ch == "messaging" else 8
            return max(2, min(int(d.lognormal_seconds(med, 0.7)) + n // 4, 900))
        return max(3, min(int(d.lognormal_seconds(30, 0.6)) + n // 8, 900))

    def add(self, speaker: str, text: str, wait: int | None = None, **extra: Any) -> int:
        self.t += self._wait(speaker, text) if wait is None else wait
        turn: dict[str, Any] = {"speaker": speaker, "text": text, "ts": fmt_ts(self.t)}
        turn.update(extra)
        self.turns.append(turn)
        self.epochs.append(self.t)
        return len(self.turns) - 1

    def customer(self, text: str, label: str = "neutral", wait: int | None = None) -> int:
        self.labels.append(label)
        return self.add("customer", text, wait)

    def bot(self, text: str, version: str, conf: float) -> int:
        return self.add("bot", text, agent_id=version, bot_confidence=round(conf, 3))

    def event(self, kind: str, queue: str | None = None, wait: int | None = None) -> int:
        extra = {"event": kind} if queue is None else {"event": kind, "queue": queue}
        return self.add("system", "", wait, **extra)

    def breach(self, kind: str, idx: int) -> None:
        self.breaches.append({"kind": kind, "turn_index": idx})
