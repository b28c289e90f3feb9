"""Choose the restatement cosine threshold (``tierlens.metrics.restate.SIMILARITY_THRESHOLD``)
for the served encoder.

The threshold flags a customer turn after handoff as a restatement of an earlier one when
their embeddings' cosine is at least the threshold. It belongs to the encoder: an adapted
encoder spreads unrelated requests differently from the frozen one. The rule: keep the
false-positive rate the frozen encoder had at its hand-set 0.85, measured on different-intent
pairs of banking77 held-out requests (real text, never trained on), and report how many
same-intent pairs each encoder catches there.

Prints the frozen reference and the served encoder's threshold; it edits nothing (the constant
and its comment in restate.py, and docs/metrics.md, are updated by hand).
Every pair of the ~2,000 held-out requests is used (about 2.1 million pairs), so the rate at
the frozen threshold rests on dozens of pairs rather than a handful.
Usage: .venv/bin/python models/fit_restate_threshold.py
"""

from __future__ import annotations

import common
import numpy as np

FROZEN_THRESHOLD = 0.85


def cosines(x: np.ndarray) -> np.ndarray:
    """Cosine of every unordered pair of rows (upper triangle, row-major)."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return (x @ x.T)[np.triu_indices(len(x), 1)]


def main() -> None:
    rows = [(t, c) for t, c in common.banking77() if common.banking77_is_test(t)]
    texts = [t for t, _ in rows]
    intent = np.array([c for _, c in rows])
    same = (intent[:, None] == intent[None, :])[np.triu_indices(len(rows), 1)]
    c_frozen = cosines(common.encoder(frozen=True).encode(texts))
    fp_rate = float((c_frozen[~same] >= FROZEN_THRESHOLD).mean())
    c_served = cosines(common.embed(texts))
    # the served threshold: the smallest one whose false-positive rate is at most the frozen's
    grid = np.round(np.arange(0.70, 0.951, 0.01), 2)
    fp = np.array([(c_served[~same] >= t).mean() for t in grid])
    chosen = float(grid[np.argmax(fp <= fp_rate)])
    print(f"{len(texts)} banking77 held-out requests, {len(same)} pairs "
          f"({int(same.sum())} same-intent)")
    print(f"frozen at {FROZEN_THRESHOLD}: false-positive rate {fp_rate:.1e}, same-intent pairs "
          f"caught {(c_frozen[same] >= FROZEN_THRESHOLD).mean():.3f}")
    print("| threshold | different-intent pairs above | same-intent pairs above |")
    print("|---|---|---|")
    for t, f in zip(grid, fp, strict=True):
        if 0.75 <= t <= 0.90:
            print(f"| {t:.2f} | {f:.1e} | {(c_served[same] >= t).mean():.3f} |")
    print(f"served encoder ({common.encoder().version}): threshold {chosen:.2f}, "
          f"false-positive rate {(c_served[~same] >= chosen).mean():.1e}, same-intent pairs "
          f"caught {(c_served[same] >= chosen).mean():.3f}")


if __name__ == "__main__":
    main()
