"""Read the committed utterance bank (data/bank/*.jsonl.gz) into text pools.

Grain of the files: one row per utterance (see data/bank/README.md). The pools are plain
tuples in file order (the files are sorted), so draws from them are deterministic.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tierlens.errors import ConfigError
from tierlens.settings import REPO_DIR

# which MultiDoGO follow-up domain fits an intent's queue
QUEUE_DOMAIN = {
    "cards": "finance", "payments": "finance", "transfers": "finance", "accounts": "finance",
    "fraud": "finance", "disputes": "finance", "retention": "media", "billing": "media",
    "orders": "fastfood", "tech_support": "software", "travel": "airline",
    "insurance": "insurance", "bookings": "sgd", "complaints": "media", "specialist": "finance",
    "general": "finance",
}
_CUES = (
    ("bereavement", re.compile(r"passed away|died|death|\blate\b|lost our|funeral", re.IGNORECASE)),
    ("self_harm", re.compile(r"point in|can't cope|giving up|end of my rope|can't take it", re.IGNORECASE)),
    ("illness", re.compile(r"cancer|hospital|illness|stroke|dementia|anxiety|chemo", re.IGNORECASE)),
    ("accessibility", re.compile(r"sighted|deaf|first language", re.IGNORECASE)),
    ("financial_hardship", re.compile(r"job|afford|pay|debt|redundant|benefits|money|hours|"
                                      r"heating|divorce", re.IGNORECASE)),
)


def cue_type(text: str) -> str:
    """The vulnerability cue type of a vulnerable-customer utterance."""
    for name, rx in _CUES:
        if rx.search(text):
            return name
    return "other"


@dataclass(frozen=True)
class Bank:
    """Text pools: openers by intent, follow-ups by (domain, kind), bot turns by act."""

    openers: dict[str, tuple[str, ...]]
    followups: dict[tuple[str, str], tuple[str, ...]]
    followups_any: dict[str, tuple[str, ...]]
    bot: dict[str, tuple[str, ...]]  # generic SGD system turns by act
    bot_by_service: dict[tuple[str, str], tuple[str, ...]]

    def opener_pool(self, intent: str) -> tuple[str, ...]:
        pool = self.openers.get(intent)
        if not pool:
            raise ConfigError(f"utterance bank has no openers for intent {intent!r}; rebuild it "
                              "with data/scripts/build_utterance_bank.py")
        return pool

    def followup_pool(self, queue: str, kind: str) -> tuple[str, ...]:
        pool = self.followups.get((QUEUE_DOMAIN.get(queue, "finance"), kind))
        return pool if pool and len(pool) >= 20 else self.followups_any[kind]


def bank_dir(data_dir: Path | None = None) -> Path:
    """``data_dir/bank`` (the settings' data_dir, passed in) when it holds a bank, else the
    repository's copy."""
    cand = Path(data_dir) / "bank" if data_dir is not None else None
    if cand is not None and (cand / "openers.jsonl.gz").exists():
        return cand
    return REPO_DIR / "data" / "bank"


def _rows(path: Path) -> list[dict]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
    except OSError as exc:
        raise ConfigError(f"{path}: can't read the utterance bank ({exc}); rebuild it with "
                          "data/scripts/build_utterance_bank.py") from exc


@lru_cache(maxsize=2)
def load_bank(directory: Path | None = None) -> Bank:
    """The utterance bank in ``directory`` (None: the repository's copy)."""
    d = directory or bank_dir()
    openers: dict[str, list[str]] = defaultdict(list)
    for r in _rows(d / "openers.jsonl.gz"):
        openers[r["intent"]].append(r["text"])
    fol: dict[tuple[str, str], list[str]] = defaultdict(list)
    fol_any: dict[str, list[str]] = defaultdict(list)
    for r in _rows(d / "followups.jsonl.gz"):
        fol[(r["domain"], r["kind"])].append(r["text"])
        fol_any[r["kind"]].append(r["text"])
    bot: dict[str, list[str]] = defaultdict(list)
    by_service: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in _rows(d / "bot.jsonl.gz"):
        if r["generic"] and len(r["text"]) <= 120:
            bot[r["act"]].append(r["text"])
        by_service[(r["service"], r["act"])].append(r["text"])
    return Bank(
        openers={k: tuple(v) for k, v in openers.items()},
        followups={k: tuple(v) for k, v in fol.items()},
        followups_any={k: tuple(v) for k, v in fol_any.items()},
        bot={k: tuple(v) for k, v in bot.items()},
        bot_by_service={k: tuple(v) for k, v in by_service.items()},
    )
