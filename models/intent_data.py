"""Rows of the default intent taxonomy (src/tierlens/config/intents.yaml) from shared data.

Each row is (text, intent, source). A row is TEST iff sha1(text) % 5 == 0 (for banking77 this
is exactly the project's held-out rule), VALIDATION iff sha1(text) % 10 == 1, TRAIN otherwise. Seeds follow
the same rule. A text claimed by two intents is dropped (ambiguous).
"""

from __future__ import annotations

from collections import defaultdict

import common

from tierlens.config import load_intents


def intent_rows() -> list[tuple[str, str, str]]:
    intents = load_intents()
    b77 = common.banking77()
    clinc = common.clinc150("train")
    mdg_cache: dict[str, list[dict[str, str]]] = {}
    sgd_user: list[tuple[str, list[str]]] | None = None
    rows: list[tuple[str, str, str]] = []
    for it in intents:
        for src in it.sources:
            if src.dataset == "banking77":
                cand = [t for t, c in b77 if c == src.label]
            elif src.dataset == "clinc150":
                cand = [t for t, c in clinc if c == src.label]
            elif src.dataset == "multidogo":
                if src.domain not in mdg_cache:
                    mdg_cache[src.domain] = (common.multidogo(src.domain, "train")
                                             + common.multidogo(src.domain, "dev"))
                cand = [r["utterance"] for r in mdg_cache[src.domain]
                        if (r.get("intent") or "").strip() == src.label]
            else:  # sgd USER turns with INFORM_INTENT and this active intent
                if sgd_user is None:
                    sgd_user = []
                    for d in common.sgd_dialogues():
                        for t in d["turns"]:
                            acts = {a["act"] if isinstance(a, dict) else a for a in t["acts"]}
                            if t["speaker"] == "USER" and "INFORM_INTENT" in acts:
                                sgd_user.append((t["utterance"], t.get("active_intents") or []))
                cand = [u for u, ai in sgd_user if src.intent in ai]
            rows += [(t.strip(), it.name, src.dataset) for t in cand
                     if t and t.strip() and src.matches(t)]
        rows += [(s.strip(), it.name, "seed") for s in it.seeds]
    owners: dict[str, set[str]] = defaultdict(set)
    for t, name, _ in rows:
        owners[t].add(name)
    seen: set[tuple[str, str]] = set()
    out = []
    for t, name, src in rows:
        if len(owners[t]) == 1 and (t, name) not in seen:
            seen.add((t, name))
            out.append((t, name, src))
    return out


def split_of(text: str) -> str:
    """test: sha1 % 5 == 0 (20%); validation: sha1 % 10 == 1 (10%); train: the other 70%."""
    if common.sha_bucket(text, 5) == 0:
        return "test"
    return "val" if common.sha_bucket(text, 10) == 1 else "train"
