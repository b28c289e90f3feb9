"""Build the committed utterance bank (data/bank/) from the public datasets in /work/shared/data.

This is the only tierlens code that reads /work/shared. It takes REAL utterances from the
permissively licensed sets only (banking77 CC BY 4.0, clinc150 CC BY 3.0, MultiDoGO
CDLA-Permissive-1.0, SGD dev CC BY-SA 4.0), plus the handwritten seeds of intents.yaml, and
writes three gzip JSONL files (one row per utterance):

- openers.jsonl.gz   {intent, text, source, label, domain}     first customer turn per intent
- followups.jsonl.gz {kind, domain, text, source, label}        later customer turns, by kind:
                      content, confirm, reject, thanks, closing, greeting
- bot.jsonl.gz       {act, acts, service, generic, text, source} SGD SYSTEM turns by outcome act
- manifest.json      counts, the hold-out rule and the taxonomy version

banking77 rows in the model helper's held-out 20% are excluded:
a row is held out iff int(sha1(text).hexdigest(), 16) % 5 == 0.

Usage: .venv/bin/python data/scripts/build_utterance_bank.py [--shared /work/shared/data]
Output is deterministic (sorted rows, fixed seed, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import random
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml

from tierlens.config import INTENTS_PATH, load_intents

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "data" / "bank"
MULTIDOGO_CAP = 300  # per (intent, source label), after dedup
FOLLOWUP_CAP = 400  # per (domain, kind)
BOT_CAP = 400  # per (service family, act)
SEED = 20261123

MULTIDOGO_DOMAINS = ("airline", "fastfood", "finance", "insurance", "media", "software")
FOLLOWUP_KINDS = {  # MultiDoGO label -> kind
    "contentonly": "content", "confirmation": "confirm", "rejection": "reject",
    "thankyou": "thanks", "closinggreeting": "closing", "openinggreeting": "greeting",
}
SGD_USER_KINDS = {"AFFIRM": "confirm", "NEGATE": "reject", "THANK_YOU": "thanks",
                  "GOODBYE": "closing"}
BOT_ACT_PRIORITY = ("NOTIFY_FAILURE", "NOTIFY_SUCCESS", "GOODBYE", "REQ_MORE", "CONFIRM",
                    "OFFER", "REQUEST")
DOMAIN_WORDS = re.compile(
    r"restaurant|flight|hotel|movie|bus|\bcar\b|ride|song|music|weather|event|house|apartment|"
    r"ticket|cab|therapist|dentist|doctor|stylist|salon|property|attraction|concert|alarm|"
    r"temperature|rain|wind|\d|\$", re.IGNORECASE)


def is_held_out(text: str) -> bool:
    """The model helper's banking77 hold-out rule (20% of rows)."""
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 5 == 0


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=8)
def _read_multidogo(shared: Path, domain: str) -> list[tuple[str, str, str]]:
    """(conversationId, utterance, intent) rows of one MultiDoGO domain, train then dev."""
    rows = []
    for split in ("train", "dev"):
        with gzip.open(shared / "intents" / "multidogo" / domain / f"{split}.tsv.gz", "rt",
                       encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            rows.extend((r[0], _norm(r[3]), r[5]) for r in reader if len(r) == 6)
    return rows


def _read_csv(path: Path, label_col: str) -> list[tuple[str, str]]:
    """(raw text, label) rows; the text is NOT normalised (the hold-out hash needs it raw)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["text"], r[label_col]) for r in csv.DictReader(fh)]


@lru_cache(maxsize=1)
def _read_sgd(shared: Path) -> list[dict]:
    with gzip.open(shared / "dialogues" / "sgd_dev" / "dialogues.jsonl.gz", "rt",
                   encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def build_openers(shared: Path, rng: random.Random) -> list[dict]:
    banking = [(t, lab) for t, lab in _read_csv(shared / "intents/banking77/train.csv", "category")]
    clinc = (_read_csv(shared / "intents/clinc150/train.csv", "intent")
             + _read_csv(shared / "intents/clinc150/val.csv", "intent"))
    mdg = {d: _read_multidogo(shared, d) for d in MULTIDOGO_DOMAINS}
    sgd = _read_sgd(shared)
    rows: list[dict] = []
    held_out = 0
    # conservative: also drop rows whose stripped or normalised text hashes into the hold-out
    # (the model helper hashes the stripped text), and
    # near-copies (same text after whitespace/case normalisation) of held-out rows
    held_norm = {_norm(t).lower() for t, _ in banking if is_held_out(t)}
    for intent in load_intents():
        seen: set[str] = set()
        for src in intent.sources:
            picked: list[dict] = []
            if src.dataset == "banking77":
                for text, lab in banking:
                    if lab != src.label:
                        continue
                    norm = _norm(text)
                    if (is_held_out(text) or is_held_out(text.strip()) or is_held_out(norm)
                            or norm.lower() in held_norm):
                        held_out += 1
                        continue
                    picked.append({"text": _norm(text), "label": lab, "domain": None})
            elif src.dataset == "clinc150":
                picked = [{"text": _norm(t), "label": lab, "domain": None} for t, lab in clinc
                          if lab == src.label]
            elif src.dataset == "multidogo":
                picked = [{"text": t, "label": lab, "domain": src.domain}
                          for _, t, lab in mdg[src.domain or ""] if lab == src.label]
            else:  # sgd
                for dlg in sgd:
                    for turn in dlg["turns"]:
                        if (turn["speaker"] == "USER" and "INFORM_INTENT" in turn["acts"]
                                and src.intent in (turn.get("active_intents") or [])):
                            picked.append({"text": _norm(turn["utterance"]), "label": src.intent,
                                               "domain": dlg["services"][0]})
            unique = []
            for p in picked:
                key = p["text"].lower()
                if p["text"] and src.matches(p["text"]) and key not in seen:
                    seen.add(key)
                    unique.append(p)
            if src.dataset == "multidogo" and len(unique) > MULTIDOGO_CAP:
                unique = rng.sample(unique, MULTIDOGO_CAP)
            rows.extend(dict(intent=intent.name, source=src.dataset, **p) for p in unique)
        for seed in intent.seeds:
            if seed.lower() not in seen:
                seen.add(seed.lower())
                rows.append({"intent": intent.name, "text": seed, "source": "tierlens_seed",
                                 "label": intent.name, "domain": None})
    print(f"openers: {len(rows)} rows; banking77 rows held out: {held_out}")
    return rows


def build_followups(shared: Path, rng: random.Random) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for domain in MULTIDOGO_DOMAINS:
        seen: set[str] = set()
        for _, text, lab in _read_multidogo(shared, domain):
            kind = FOLLOWUP_KINDS.get(lab)
            if kind and text and (kind, text.lower()) not in seen:
                seen.add((kind, text.lower()))
                groups[(domain, kind)].append({"kind": kind, "domain": domain, "text": text,
                                                   "source": "multidogo", "label": lab})
    seen_sgd: set[tuple[str, str]] = set()
    for dlg in _read_sgd(shared):
        for turn in dlg["turns"]:
            if turn["speaker"] != "USER" or len(turn["acts"]) != 1:
                continue
            kind = SGD_USER_KINDS.get(turn["acts"][0])
            text = _norm(turn["utterance"])
            if kind and (kind, text.lower()) not in seen_sgd:
                seen_sgd.add((kind, text.lower()))
                groups[("sgd", kind)].append({"kind": kind, "domain": "sgd", "text": text,
                                                  "source": "sgd", "label": turn["acts"][0]})
    rows = []
    for key in sorted(groups):
        g = groups[key]
        rows.extend(rng.sample(g, FOLLOWUP_CAP) if len(g) > FOLLOWUP_CAP else g)
    print(f"followups: {len(rows)} rows")
    return rows


def build_bot(shared: Path, rng: random.Random) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for dlg in _read_sgd(shared):
        family = dlg["services"][0].split("_")[0]
        for turn in dlg["turns"]:
            if turn["speaker"] != "SYSTEM":
                continue
            act = next((a for a in BOT_ACT_PRIORITY if a in turn["acts"]), None)
            text = _norm(turn["utterance"])
            if act is None or (act, text) in seen:
                continue
            seen.add((act, text))
            groups[(family, act)].append({
                "act": act, "acts": list(turn["acts"]), "service": family, "text": text, "source": "sgd",
                "generic": DOMAIN_WORDS.search(text) is None})
    rows = []
    for key in sorted(groups):
        g = groups[key]
        rows.extend(rng.sample(g, BOT_CAP) if len(g) > BOT_CAP else g)
    print(f"bot: {len(rows)} rows")
    return rows


def write_jsonl_gz(path: Path, rows: list[dict]) -> None:
    rows = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        for r in rows:
            gz.write((json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n").encode())
    path.write_bytes(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    parts = {"openers": build_openers(args.shared, rng),
             "followups": build_followups(args.shared, rng),
             "bot": build_bot(args.shared, rng)}
    for name, rows in parts.items():
        write_jsonl_gz(args.out / f"{name}.jsonl.gz", rows)
    taxonomy_version = yaml.safe_load(INTENTS_PATH.read_text())["version"]
    counts: dict[str, dict[str, int]] = {}
    for name, rows in parts.items():
        c: dict[str, int] = defaultdict(int)
        for r in rows:
            c[r["source"]] += 1
        counts[name] = dict(sorted(c.items()))
    manifest = {
        "taxonomy_version": taxonomy_version,
        "holdout_rule": "banking77 row excluded iff int(sha1(text).hexdigest(), 16) % 5 == 0",
        "rows": {k: len(v) for k, v in parts.items()},
        "rows_by_source": counts,
        "intents_covered": sorted({r["intent"] for r in parts["openers"]}),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
