"""int8 vs fp32 encoder: embedding fidelity and head accuracy on the same splits.

For banking77 (held-out 20% rule) and the in-domain sentiment set (its test split), a
softmax-regression head and a 512-unit MLP are trained on each precision's embeddings
and scored on the same test rows. Also reports the cosine between int8 and fp32 embeddings.
Writes models/heads/precision.json.

Usage: .venv/bin/python models/compare_precision.py
"""

from __future__ import annotations

import json

import common
import numpy as np
import train_sentiment


def main() -> None:
    fp32 = common.encoder("fp32")
    b77 = common.banking77()
    sent, _ = train_sentiment.in_domain()
    tasks = {
        "banking77": ([t for t, _ in b77], [c for _, c in b77],
                      np.array([common.banking77_is_test(t) for t, _ in b77])),
        "sentiment_in_domain": ([r[0] for r in sent], [r[1] for r in sent],
                                np.array([train_sentiment.split_of(r[2]) == "test"
                                          for r in sent])),
    }
    out: dict = {"int8": common.encoder().version, "fp32": fp32.version}
    for name, (texts, labels, test) in tasks.items():
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels])
        emb = {"int8": common.embed(texts), "fp32": fp32.encode(texts)}
        cos = (emb["int8"] * emb["fp32"]).sum(1)
        res = {"cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
               "cosine_p01": float(np.quantile(cos, 0.01)), "n_test": int(test.sum())}
        for prec, x in emb.items():
            for hidden in (0, 512):
                layers = common.train_mlp(x[~test], y[~test], len(classes), hidden=hidden,
                                          epochs=30, lr=1e-2 if hidden == 0 else 2e-3,
                                          dropout=0.0 if hidden == 0 else 0.2, batch=256)
                pred = common.logits_of(layers, x[test]).argmax(1)
                res[f"{prec}_{'lr' if hidden == 0 else 'mlp512'}"] = {
                    "accuracy": float((pred == y[test]).mean()),
                    "macro_f1": common.macro_f1(y[test], pred, len(classes))}
        out[name] = res
        print(name, json.dumps(res, indent=1), flush=True)
    (common.HEADS_DIR / "precision.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
