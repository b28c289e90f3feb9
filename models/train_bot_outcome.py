"""Train the bot-turn outcome head from SGD dev SYSTEM turns.

Labels from the system acts, by priority: NOTIFY_FAILURE -> failure, NOTIFY_SUCCESS -> success,
GOODBYE -> goodbye, REQ_MORE -> request_more, anything else -> other.
Split by dialogue id: sha1(dialogue_id) % 5 == 0 test, == 1 validation (model choice and
temperature), the rest train.

Usage: .venv/bin/python models/train_bot_outcome.py
"""

from __future__ import annotations

import json

import common
import numpy as np

LABELS = ["success", "failure", "request_more", "goodbye", "other"]


def label_of(acts: list) -> str:
    names = {a["act"] if isinstance(a, dict) else a for a in acts}
    for act, lab in (("NOTIFY_FAILURE", "failure"), ("NOTIFY_SUCCESS", "success"),
                     ("GOODBYE", "goodbye"), ("REQ_MORE", "request_more")):
        if act in names:
            return lab
    return "other"


def dataset() -> dict[str, tuple[list[str], np.ndarray]]:
    parts: dict[str, tuple[list[str], list[int]]] = {"train": ([], []), "val": ([], []),
                                                     "test": ([], [])}
    for d in common.sgd_dialogues():
        b = common.sha_bucket(d["dialogue_id"], 5)
        part = "test" if b == 0 else "val" if b == 1 else "train"
        for t in d["turns"]:
            if t["speaker"] == "SYSTEM":
                parts[part][0].append(t["utterance"])
                parts[part][1].append(LABELS.index(label_of(t["acts"])))
    return {k: (v[0], np.array(v[1])) for k, v in parts.items()}


def main() -> None:
    data = dataset()
    x = {k: common.embed(v[0]) for k, v in data.items()}
    y = {k: v[1] for k, v in data.items()}
    print({k: np.bincount(v, minlength=len(LABELS)).tolist() for k, v in y.items()})
    res = common.fit_classifier(x["train"], y["train"], x["val"], y["val"], x["test"],
                                y["test"], len(LABELS),
                                [{"hidden": 0, "epochs": 40, "lr": 5e-3},
                                 {"hidden": 256, "epochs": 40, "lr": 2e-3}],
                                select="macro_f1")
    print(json.dumps({k: res[k] for k in ("config", "temperature", "val", "test",
                                          "test_uncal")}, indent=1))
    meta = {"task": "bot-turn outcome cue", "data": "SGD dev SYSTEM turns (acts)",
            "split": "by dialogue id: sha1 % 5 == 0 test, == 1 validation, rest train",
            "n_train": len(data["train"][0]), "config": res["config"],
            "metrics": {"test": res["test"], "test_uncalibrated": res["test_uncal"],
                        "val": res["val"]}, "tried": res["tried"]}
    path = common.save_head("bot_outcome", res["layers"], LABELS, res["temperature"], meta)
    print("wrote", path)


if __name__ == "__main__":
    main()
