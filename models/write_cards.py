"""Render models/cards/<head>.md from each head's JSON metadata (numbers never typed by hand).

The failure-mode notes below are written by people; every number comes from the JSON that
the training script wrote. Re-run after retraining a head.

Usage: .venv/bin/python models/write_cards.py
"""

from __future__ import annotations

import json

import common

CARDS = common.REPO / "models" / "cards"

FAILURE_MODES = {
    "intent": [
        ("Trained on single-utterance requests (banking77, clinc150, MultiDoGO, SGD, seeds): "
        "short replies such as 'yes' or 'ok' still get an intent, with low confidence. Use "
        "the conversation-level intent (from the customer's opening turns) for routing."),
        ("Generic intents backed only by handwritten seeds (password_reset, talk_to_human, "
        "complaint, vulnerable_customer, ...) have ~25-30 examples each and only a handful "
        "of test rows: their accuracy is measured on very few items."),
        ("Near-duplicate banking77 classes (e.g. top_up_failed vs pending_top_up, "
        "card_arrival vs card_delivery_estimate) account for most banking77 errors."),
        "Bot and agent turns get an intent too; it is meaningless there.",
    ],
    "oos": [
        ("In-scope mass is the taxonomy's classes plus the clinc150 intents it is built from: "
        "an in-scope request that reads like a clinc150 intent the taxonomy lacks (a hotel "
        "booking asked of an airline bot, a 'what's my credit score' asked of the bank) is "
        "flagged. If your bot handles such topics, add them to the taxonomy."),
        ("About 3-4% of in-scope banking77 and MultiDoGO test requests are flagged at the "
        "shipped threshold (5% is the budget); short or vague turns score higher."),
        ("Novel out-of-scope recall is measured on 57 clinc150 oos_val rows (general-knowledge "
        "questions); out-of-scope customer-service topics from other industries are not in it."),
        ("A custom taxonomy decides by max-softmax of its own head, which can be confidently "
        "wrong on unrelated text ('set an alarm for 7am' scored 0.000, in scope, against a "
        "parcel / bill / opening-hours taxonomy). Give `train-intents` some `out_of_scope` rows "
        "so the threshold is checked for recall."),
    ],
    "bot_outcome": [
        ("Learned from SGD's virtual-assistant phrasing (restaurants, travel, media, ...). "
        "Bots with very different wording (long, branded, multi-sentence) may be cued less "
        "reliably; failure has the fewest training examples."),
        ("A turn that both confirms success and asks 'anything else?' is labelled success "
        "(priority order failure > success > goodbye > request_more)."),
    ],
    "csat": [
        ("USS ratings cluster at 3 (neutral), so the head predicts a narrow range around 3; "
        "it ranks turns (Spearman) better than it predicts absolute scores."),
        ("The rating is of the system's previous response, but the head only sees the user's "
        "turn: satisfaction that is not expressed in words is invisible to it."),
        ("The conversation-level mean of turn predictions tracks the dialogue's overall "
        "rating only weakly (see conversation_test). Experimental, not a KPI (see below)."),
    ],
    "sentiment": [
        ("In-domain labels come from LLM annotation passes (see data/sentiment/AGREEMENT.md), "
        "not human raters; the agreement figure is an upper bound."),
        ("The labelled items come from intent datasets: strong anger, sarcasm and "
        "multi-sentence rants are rare in training; social-media complaints may be "
        "under-called."),
        ("Positive is the smallest class (thanks / praise); mixed turns follow guideline rule "
        "6 (the dominant feeling), which the head imitates only approximately."),
    ],
}


def fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def card(name: str) -> str:
    meta = json.loads((common.HEADS_DIR / f"{name}.json").read_text())
    size = sum((common.HEADS_DIR / f"{name}.{ext}").stat().st_size for ext in ("json", "npz"))
    lines = [f"# Model card: `{name}` head", "",
             f"- **Task**: {meta.get('task')}",
             (f"- **Encoder**: `{meta['encoder_version']}` (frozen; the head reads the shared "
             "384-d embedding)"),
             (f"- **Architecture**: {meta['n_layers']} layer(s), config `{meta.get('config')}`; "
             f"{meta['kind']}; files {size / 1024:.0f} KiB"),
             f"- **Labels**: {', '.join(meta['labels'][:12])}"
             + (f" ... ({len(meta['labels'])} in all)" if len(meta['labels']) > 12 else ""),
             (f"- **Calibration**: temperature scaling on the validation split, "
             f"T = {meta['temperature']:.3f}"),
             f"- **Data**: {meta.get('data')}",
             f"- **Split**: {meta.get('split')}",
             f"- **Training rows**: {meta.get('n_train')}", "", "## Held-out metrics", "",
             ("Numbers from the training run (test split never used for training or model "
             "choice); `models/evaluate.py` recomputes them from the shipped files."), ""]
    lines += ["| split | metric | value |", "|---|---|---|"]
    for split, m in meta["metrics"].items():
        if isinstance(m, dict):
            for k, v in m.items():
                if isinstance(v, dict):
                    for k2, v2 in v.items():
                        lines.append(f"| {split} | {k}.{k2} | {fmt(v2)} |")
                else:
                    lines.append(f"| {split} | {k} | {fmt(v)} |")
        else:
            lines.append(f"| {split} | value | {fmt(m)} |")
    if meta.get("label_info"):
        lines += ["", f"Labelled set: `{json.dumps(meta['label_info'])}`"]
    lines += ["", "## What was tried (chosen on validation)", "",
              "| candidate | validation | test (for the record) |", "|---|---|---|"]
    for t in meta.get("tried", []):
        val = {k: round(v, 4) for k, v in t.get("val", {}).items() if isinstance(v, float)}
        test = {k: round(v, 4) for k, v in t.items() if k.startswith("test")
                and isinstance(v, float)}
        test.update({k: round(v, 4) for k, v in t.get("test", {}).items()
                     if isinstance(v, float)})
        label = t.get("data", "")
        lines.append(f"| {label} `{t.get('config')}` | {val} | {test or '-'} |")
    if name == "intent":
        lines += ["", ("In this table the macro-F1 of each candidate was computed over all taxonomy "
                  "labels, including labels absent from the split (it understates); the metrics "
                  "above use the labels present.")]
    lines += ["", "## Known failure modes", ""] + [f"- {x}" for x in FAILURE_MODES[name]]
    text = "\n".join(lines) + "\n"
    if name == "csat" and (CARDS / "csat.md").exists():
        # keep the hand-written dialogue-level section (numbers: csat_conversation_eval.json)
        old = (CARDS / "csat.md").read_text(encoding="utf-8")
        if "\n## Dialogue level" in old:
            text += old[old.index("\n## Dialogue level"):]
    return text


def main() -> None:
    CARDS.mkdir(parents=True, exist_ok=True)
    for name in FAILURE_MODES:
        if (common.HEADS_DIR / f"{name}.json").exists():
            (CARDS / f"{name}.md").write_text(card(name), encoding="utf-8")
            print("wrote", CARDS / f"{name}.md")


if __name__ == "__main__":
    main()
