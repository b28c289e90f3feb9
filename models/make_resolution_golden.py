"""Write the committed held-out sample for the slow resolution test.

tests/golden/score/resolution_sgd_test_sample.jsonl: SGD dev dialogues of the TEST split
(sha1(dialogue_id) % 5 == 0; neither the resolution model nor the bot-outcome head was trained
on them), full dialogues and cut variants (the customer leaves after a bot question), up to
60 per label, picked by hash. SGD is CC BY-SA 4.0 (attribution in tests/golden/score/README.md);
USS annotations are not redistributable, so no USS dialogue is committed.

Usage: .venv/bin/python models/make_resolution_golden.py
"""

from __future__ import annotations

import json

import common
import resolution_data as rd

OUT = common.REPO / "tests" / "golden" / "score" / "resolution_sgd_test_sample.jsonl"
PER_LABEL = 60


def main() -> None:
    test = sorted((c for c in rd.sgd() if c["split"] == "test"),
                  key=lambda c: common.sha_bucket(c["conversation_id"] + "#golden", 10**9))
    picked: dict[str, list] = {}
    for c in test:
        if len(picked.setdefault(c["label"], [])) < PER_LABEL:
            picked[c["label"]].append(c)
    with open(OUT, "w", encoding="utf-8") as f:
        for lab in sorted(picked):
            for c in sorted(picked[lab], key=lambda c: c["conversation_id"]):
                f.write(json.dumps({"conversation_id": c["conversation_id"], "label": lab,
                                    "turns": [[r["speaker"], r["text"]] for r in c["rows"]]})
                        + "\n")
    print(OUT, {k: len(v) for k, v in picked.items()})


if __name__ == "__main__":
    main()
