"""Train a user's own intent taxonomy from a CSV of examples (``tierlens train-intents FILE``).

The CSV needs the columns ``text`` and ``intent`` (one example per row). It is validated
first; any problem raises :class:`tierlens.errors.InputError` naming the file and the fix.
A text labelled with more than one intent keeps its most frequent label (with a warning in
the report). 20% of the rows of every intent (by text hash) are held out and scored; the head
is then written as ``<name>.npz`` + ``<name>.json`` into ``out_dir``. The CLI stores it in the
warehouse and makes it the active taxonomy there (:mod:`tierlens.store.intents`); in Python it
can be selected in :func:`tierlens.score.turns.score_turns` with ``intent_head=<the .json>``.

Out of scope: rows labelled ``out_of_scope`` are not an intent; they are requests the
taxonomy does not cover, used only to choose and check the head's out-of-scope threshold
(never trained on). The head's ``oos_score`` is 1 - its calibrated top-class probability; the
threshold (:func:`tierlens.score.oos.choose_threshold`) is chosen on the held-out rows (and the
``out_of_scope`` rows, if any) and stored in the head's ``out_of_scope`` metadata.

The encoder is frozen, so training takes seconds to minutes on a CPU: the cost is encoding
the examples once (cached), plus a small softmax-regression / MLP fit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl

from tierlens.errors import InputError
from tierlens.score.encoder import Encoder
from tierlens.score.heads import clear_cache, save_head
from tierlens.score.oos import CUSTOM_TASK, choose_threshold, max_softmax_score

MIN_EXAMPLES = 5
OOS_LABEL = "out_of_scope"  # reserved: examples of requests the taxonomy does not cover
DEFAULT_NAME = "intent_custom"


def read_examples(csv_path: Path, warnings: list[str] | None = None) -> pl.DataFrame:
    """Read and validate the examples CSV; one row per distinct text with its intent.

    A text labelled with more than one intent keeps its most frequent label (ties: the
    label seen first in the file); one line saying so is appended to ``warnings``.
    """
    path = Path(csv_path)
    if not path.exists():
        raise InputError(f"{path}: file not found; pass a CSV with columns text,intent")
    try:
        df = pl.read_csv(path, infer_schema_length=0)  # every column as text
    except Exception as exc:  # polars raises several error types for malformed files
        raise InputError(f"{path}: not a readable CSV ({exc}); save it as UTF-8 CSV "
                         "with a header row text,intent") from exc
    missing = [c for c in ("text", "intent") if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; the header must "
                         f"contain text,intent (found: {', '.join(df.columns) or 'none'})")
    df = (df.select(pl.col("text").str.strip_chars(), pl.col("intent").str.strip_chars())
          .filter(pl.col("text").is_not_null() & (pl.col("text") != "")
                  & pl.col("intent").is_not_null() & (pl.col("intent") != "")))
    if df.height == 0:
        raise InputError(f"{path}: no rows with both a text and an intent")
    df, note = majority_labels(df)
    if note and warnings is not None:
        warnings.append(f"{path}: {note}")
    counts = df.filter(pl.col("intent") != OOS_LABEL).group_by("intent").len().sort("len")
    if counts.height < 2:
        raise InputError(f"{path}: needs at least 2 intents, found {counts.height}")
    small = counts.filter(pl.col("len") < MIN_EXAMPLES)
    if small.height:
        names = ", ".join(f"{r['intent']} ({r['len']})" for r in small.head(5).to_dicts())
        raise InputError(f"{path}: every intent needs at least {MIN_EXAMPLES} examples; "
                         f"too few for {small.height} intent(s): {names}")
    return df


def majority_labels(rows: pl.DataFrame) -> tuple[pl.DataFrame, str | None]:
    """One row per distinct text (first-seen order) with its most frequent intent (ties:
    the intent seen first). Returns (examples, a note on the texts that had several labels,
    or None). Pure."""
    votes = (rows.with_row_index("_pos")
             .group_by("text", "intent", maintain_order=True)
             .agg(pl.len().alias("_n"), pl.col("_pos").min().alias("_first")))
    labels = votes.group_by("text", maintain_order=True).agg(pl.col("intent").n_unique()
                                                             .alias("_k"))
    winners = (votes.sort(["text", "_n", "_first"], descending=[False, True, False])
               .unique("text", keep="first").sort("_first"))
    clash = labels.filter(pl.col("_k") > 1)
    note = None
    if clash.height:
        text = clash.get_column("text")[0]
        options = votes.filter(pl.col("text") == text)
        kept = winners.filter(pl.col("text") == text).get_column("intent")[0]
        note = (f"{clash.height} text(s) are labelled with more than one intent; each keeps "
                f"its most frequent label, e.g. {text!r}: "
                + ", ".join(f"{r['intent']} x{r['_n']}" for r in options.to_dicts())
                + f" -> {kept}")
    return winners.select("text", "intent"), note


def _holdout(texts: list[str], labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Test mask: ~20% of each intent by text hash, at least 1 per intent, never all."""
    h = np.array([int(hashlib.sha1(t.encode()).hexdigest(), 16) % 1000 for t in texts])
    test = np.zeros(len(texts), bool)
    for c in range(n_classes):
        idx = np.flatnonzero(labels == c)
        k = max(1, round(0.2 * len(idx)))
        test[idx[np.argsort(h[idx], kind="stable")[:k]]] = True
    return test


def _fit(x: np.ndarray, y: np.ndarray, n_classes: int, hidden: int, seed: int = 0
         ) -> list[tuple[np.ndarray, np.ndarray]]:
    import torch

    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only add contention
    layers: list[torch.nn.Module] = [torch.nn.Dropout(0.1)]
    if hidden:
        layers += [torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(0.2)]
    layers.append(torch.nn.Linear(hidden or x.shape[1], n_classes))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3 if hidden else 1e-2, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.from_numpy(np.sqrt(counts.mean() / np.maximum(counts, 1))))
    epochs = 60
    steps = max(1, (len(x) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=opt.param_groups[0]["lr"],
                                                total_steps=epochs * steps)
    g = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
            sched.step()
    net.eval()
    torch.set_num_threads(threads)
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in lins]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def _temperature(z: np.ndarray, y: np.ndarray) -> float:
    grid = np.exp(np.linspace(-2, 2, 81))
    nll = [-np.log(np.clip(_softmax(z / t)[np.arange(len(y)), y], 1e-12, None)).mean()
           for t in grid]
    return float(grid[int(np.argmin(nll))])


def out_of_scope_threshold(z_held: np.ndarray, z_oos: np.ndarray | None) -> dict:
    """The head's out-of-scope rule from calibrated logits of its held-out rows and of the
    ``out_of_scope`` rows (None: none given). The shipped head is refit on every row, so it is
    a little more confident on in-scope text than the held-out model these scores come from."""
    held = max_softmax_score(_softmax(z_held))
    out = max_softmax_score(_softmax(z_oos)) if z_oos is not None else None
    return {"score": "1 - calibrated top-class probability (max-softmax)",
            "chosen_on": "held-out ~20% per intent" + (" + the out_of_scope rows"
                                                       if out is not None else ""),
            **choose_threshold({"held_out": held}, out)}


def merge_corrections(df: pl.DataFrame, corrections: pl.DataFrame | None) -> tuple[
        pl.DataFrame, int, int]:
    """Reviewers' intent corrections (columns ``text, label``) folded into the examples.

    A corrected text takes the reviewer's label (it replaces the CSV's label for that text);
    corrections to an intent the CSV doesn't have are left out, since one example can't
    teach a new intent. Returns (examples, corrections used, corrections left out).
    """
    if corrections is None or corrections.height == 0:
        return df, 0, 0
    known = set(df.get_column("intent").to_list())
    corr = (corrections.select(pl.col("text").str.strip_chars(),
                               pl.col("label").str.strip_chars().alias("intent"))
            .unique(subset="text", keep="last", maintain_order=True))
    use = corr.filter(pl.col("intent").is_in(known))
    merged = pl.concat([df.filter(~pl.col("text").is_in(use.get_column("text"))), use])
    return merged, use.height, corr.height - use.height


def train_intents(csv_path: Path, out_dir: Path, name: str = DEFAULT_NAME, *,
                  encoder: Encoder, hidden: int = 0,
                  corrections: pl.DataFrame | None = None) -> dict:
    """Train an intent head from ``csv_path`` (columns text,intent) on the embeddings of
    ``encoder`` (the served one: the head must read the features it will be served);
    returns a report dict.

    Holds out ~20% of each intent, reports held-out ``accuracy`` and ``macro_f1``, then
    refits on all rows and writes ``<out_dir>/<name>.json|.npz``. The report's
    ``head_path`` is what ``score_turns`` takes as ``intent_head``. The temperature is fitted
    on the held-out part.
    """
    from sklearn.metrics import f1_score

    notes: list[str] = []
    df, n_used, n_left_out = merge_corrections(read_examples(Path(csv_path), notes),
                                               corrections)
    enc = encoder
    oos_texts = df.filter(pl.col("intent") == OOS_LABEL).get_column("text").to_list()
    df = df.filter(pl.col("intent") != OOS_LABEL)
    labels = sorted(df.get_column("intent").unique().to_list())
    li = {lab: i for i, lab in enumerate(labels)}
    texts = df.get_column("text").to_list()
    y = np.array([li[v] for v in df.get_column("intent").to_list()])
    x = enc.encode(texts)
    test = _holdout(texts, y, len(labels))
    layers = _fit(x[~test], y[~test], len(labels), hidden)

    def logits(ls: list, xx: np.ndarray) -> np.ndarray:
        h = xx
        for i, (w, b) in enumerate(ls):
            h = h @ w + b
            h = np.maximum(h, 0) if i < len(ls) - 1 else h
        return h

    z = logits(layers, x[test])
    pred = z.argmax(1)
    temp = _temperature(z, y[test])
    oos = out_of_scope_threshold(z / temp,
                                 logits(layers, enc.encode(oos_texts)) / temp if oos_texts else None)
    report = {"file": str(csv_path), "n_examples": len(texts), "n_intents": len(labels),
              "n_test": int(test.sum()), "accuracy": float((pred == y[test]).mean()),
              "macro_f1": float(f1_score(y[test], pred, average="macro",
                                         labels=list(range(len(labels))), zero_division=0)),
              "temperature": temp, "encoder_version": enc.version,
              "corrections_used": n_used, "corrections_left_out": n_left_out,
              "out_of_scope": oos, "warnings": notes}
    final = _fit(x, y, len(labels), hidden)  # refit on everything for the shipped head
    folder = Path(out_dir)  # never models/: the CLI keeps taxonomies in the warehouse
    meta = {"task": CUSTOM_TASK, "data": str(csv_path), "out_of_scope": oos,
            "split": "held-out ~20% per intent by text hash (reported), then refit on all",
            "metrics": {"test": {k: report[k] for k in ("accuracy", "macro_f1", "n_test")}},
            "config": {"hidden": hidden}}
    path = save_head(name, final, labels, temp, meta, folder, encoder_version=enc.version)
    clear_cache()  # a head of the same name may be loaded already: reload the new one
    report["head_path"] = str(path)
    return report
