"""Shared by the CLI tests: run a command in-process, and a small conversations file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import conversation, write_jsonl

FIXTURES = Path(__file__).parent / "fixtures"
INTENTS_CSV = FIXTURES / "clinc_style_intents.csv"

# (conversation id, start, what the customer says); months 2026-09 .. 2026-11
CUSTOMER_SAYS = [
    ("w-1", "2026-09-03T10:00:00Z", "will it rain this weekend in boston"),
    ("r-1", "2026-09-12T11:00:00Z", "please reserve a table for two at a thai place tonight"),
    ("a-1", "2026-10-05T09:00:00Z", "set an alarm for 6:30 tomorrow morning"),
    ("c-1", "2026-10-20T15:00:00Z", "how do i bake a lemon cake"),
    ("w-2", "2026-11-02T08:00:00Z", "what's the forecast for tomorrow, will it be cold"),
]
EXPECTED_INTENT = {"w-1": "weather", "r-1": "restaurant_reservation", "a-1": "alarm",
                   "c-1": "recipe", "w-2": "weather"}


def record(cid: str, started: str, says: str) -> dict:
    """A bot-then-human conversation whose first customer turn is ``says``."""
    ts = started
    return conversation(cid, started_at=started, ended_at=started.replace(":00Z", ":59Z"),
                        turns=[
                            {"speaker": "customer", "text": says, "ts": ts},
                            {"speaker": "bot", "text": "I can help with that.", "ts": ts,
                             "agent_id": "bot-v3", "bot_confidence": 0.55},
                            {"speaker": "customer", "text": "I want to talk to a person",
                             "ts": ts},
                            {"speaker": "system", "event": "handoff", "text": "", "ts": ts},
                            {"speaker": "agent", "text": "Hi, Sam here, I will sort it out.",
                             "ts": ts, "agent_id": "agent-17"},
                        ])


def conversations_file(path: Path, which: list[tuple[str, str, str]] | None = None) -> Path:
    return write_jsonl(path, [record(*c) for c in (which or CUSTOMER_SAYS)])


@pytest.fixture
def cli():
    """``cli(*args)``: run ``tierlens ARGS`` in-process; asserts exit 0, returns the result."""
    from typer.testing import CliRunner

    from tierlens.cli import app

    def run(*args: str, ok: bool = True):
        result = CliRunner().invoke(app, [str(a) for a in args])
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    return run
