"""Labelled conversations for the resolution model (used by models/train_resolution.py only).

Each source becomes canonical turns frames (``tierlens.schema.TURN_SCHEMA`` columns) plus a
label per conversation (resolved / unresolved / abandoned) and a split:

- **SGD dev** (CC BY-SA 4.0): the goal is met or failed by the LAST ``NOTIFY_SUCCESS`` /
  ``NOTIFY_FAILURE`` system act (no notify act at all: a search-only dialogue that ends in the
  normal close, counted resolved). Cut variants: the same dialogue cut right after a SYSTEM turn
  that asks the user something (REQUEST, CONFIRM, OFFER, OFFER_INTENT) before any notify act,
  so the customer leaves while the bot waits: ``abandoned``. Split by dialogue id like the
  bot-outcome head (sha1 % 5 == 0 test, == 1 validation): a cut variant shares its dialogue's
  split, so no test dialogue is ever trained on in any form. End variants: the same dialogue
  without the bot's closing turn (the customer has the last word), same label.
- **USS** SGD part: the same notify-act rule on its system acts; MultiWOZ part: the last of
  ``Booking-Book`` / ``Train-OfferBooked`` (success) and ``*-NoBook`` / ``*-NoOffer`` (failure);
  dialogues with neither are left out (no evidence either way). Cut variants as above
  (``*-Request``/``*-Select``/``*-OfferBook`` questions for MultiWOZ). Split sha1(id) % 5.
- **simulator** (``tierlens.simulate``): planted resolution; split by conversation id.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import common
import polars as pl

from tierlens.schema import TURN_SCHEMA

SGD_QUESTION_ACTS = {"REQUEST", "CONFIRM", "OFFER", "OFFER_INTENT"}
SPLITS = {0: "test", 1: "val"}


def split_of(key: str) -> str:
    return SPLITS.get(common.sha_bucket(key, 5), "train")


def _rows(cid: str, turns: list[tuple[str, str]]) -> list[dict]:
    """(speaker, text) pairs -> TURN_SCHEMA rows without timestamps (the sources have none)."""
    return [{"conversation_id": cid, "turn_index": i, "speaker": spk, "text": text, "ts": None,
             "agent_id": "bot" if spk == "bot" else None, "bot_confidence": None,
             "event": None, "queue": None} for i, (spk, text) in enumerate(turns)]


def _with_cut(source: str, key: str, turns: list[tuple[str, str]], label: str,
              question_at: list[int]) -> list[dict]:
    """The full dialogue plus, for about half the dialogues, one cut variant ending at a
    bot question, and for about half, the dialogue without the bot's closing turn (the
    customer has the last word, as in many real transcripts; same label). Choices by hash."""
    split = split_of(key)
    out = [{"source": source, "conversation_id": f"{source}:{key}", "split": split,
            "label": label, "rows": _rows(f"{source}:{key}", turns)}]
    if (len(turns) > 2 and turns[-1][0] == "bot" and turns[-2][0] == "customer"
            and common.sha_bucket(key + "#end", 2) == 0):
        cid = f"{source}:{key}#end"
        out.append({"source": source, "conversation_id": cid, "split": split, "label": label,
                    "rows": _rows(cid, turns[:-1])})
    if question_at and common.sha_bucket(key + "#cut", 2) == 0:
        cut = question_at[common.sha_bucket(key + "#at", len(question_at))]
        cid = f"{source}:{key}#cut{cut}"
        out.append({"source": source, "conversation_id": cid, "split": split,
                    "label": "abandoned", "rows": _rows(cid, turns[:cut + 1])})
    return out


def _label_from_notify(outcomes: list[str]) -> str:
    return "unresolved" if outcomes and outcomes[-1] == "failure" else "resolved"


def sgd() -> list[dict]:
    out = []
    for d in common.sgd_dialogues():
        turns, outcomes, questions = [], [], []
        for t in d["turns"]:
            spk = "customer" if t["speaker"] == "USER" else "bot"
            acts = {a["act"] if isinstance(a, dict) else a for a in t["acts"]}
            if spk == "bot":
                if "NOTIFY_FAILURE" in acts:
                    outcomes.append("failure")
                elif "NOTIFY_SUCCESS" in acts:
                    outcomes.append("success")
                elif acts & SGD_QUESTION_ACTS and not outcomes:
                    questions.append(len(turns))
            turns.append((spk, t["utterance"]))
        out += _with_cut("sgd", d["dialogue_id"], turns, _label_from_notify(outcomes),
                         questions)
    return out


def _mwoz_outcome(act: str) -> str | None:
    if act in ("Booking-Book", "Train-OfferBooked"):
        return "success"
    if act.endswith(("-NoBook", "-NoOffer")):
        return "failure"
    return None


def uss() -> list[dict]:
    out = []
    for d in common.uss_dialogues():
        turns, outcomes, questions = [], [], []
        for role, text, act, _ in d["turns"]:
            spk = "customer" if role == "USER" else "bot"
            if spk == "bot":
                acts = {a.strip() for a in act.split(",") if a.strip()}
                if d["source"] == "SGD":
                    o = ("failure" if "NOTIFY_FAILURE" in acts else
                         "success" if "NOTIFY_SUCCESS" in acts else None)
                    asks = bool(acts & SGD_QUESTION_ACTS)
                else:
                    found = [x for x in map(_mwoz_outcome, acts) if x]
                    o = found[-1] if found else None
                    asks = any(a.endswith(("-Request", "-Select", "-OfferBook")) for a in acts)
                if o:
                    outcomes.append(o)
                elif asks and not outcomes:
                    questions.append(len(turns))
            turns.append((spk, text))
        if d["source"] == "MWOZ" and not outcomes:
            continue
        src = "uss_sgd" if d["source"] == "SGD" else "uss_mwoz"
        out += _with_cut(src, d["id"], turns, _label_from_notify(outcomes), questions)
    return out


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def simulated(folder: Path) -> list[dict]:
    """Conversations written by ``tierlens simulate`` with their planted resolution."""
    with gzip.open(folder / "ground_truth.jsonl.gz", "rt") as f:
        truth = {r["conversation_id"]: r["resolution"] for r in map(json.loads, f)}
    out = []
    with gzip.open(folder / "conversations.jsonl.gz", "rt") as f:
        for rec in map(json.loads, f):
            cid = rec["conversation_id"]
            rows = [{"conversation_id": cid, "turn_index": i, "speaker": t["speaker"],
                     "text": t.get("text") or "", "ts": _ts(t.get("ts")),
                     "agent_id": t.get("agent_id"), "bot_confidence": t.get("bot_confidence"),
                     "event": t.get("event"), "queue": t.get("queue")}
                    for i, t in enumerate(rec["turns"])]
            out.append({"source": "sim", "conversation_id": cid, "split": split_of(cid),
                        "label": truth[cid], "rows": rows})
    return out


def to_frames(convs: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(turns in TURN_SCHEMA, labels: conversation_id, source, split, label)."""
    turns = pl.DataFrame([r for c in convs for r in c["rows"]], schema=TURN_SCHEMA)
    labels = pl.DataFrame([{k: c[k] for k in ("conversation_id", "source", "split", "label")}
                           for c in convs])
    return turns, labels
