"""Out of scope as a decision: ``oos_score`` and the threshold that turns it into a yes/no.

A turn is ``out_of_scope`` when its ``oos_score`` is at or above the threshold shipped with
the model that produced the score, so the threshold is part of ``model_version`` (it lives
in a head's ``.json``, whose bytes are hashed into the head's version).

- Default taxonomy: the ``oos`` head is a classifier over the taxonomy's intents (``tax:*``),
  clinc150's 150 intents and ``oos``. Its metadata ``in_scope_labels`` lists the classes that
  are in scope for the taxonomy (``tax:*``, the clinc150 intents the taxonomy is built from,
  and conversational acts such as ``thank_you``); ``oos_score`` = 1 - their probability mass.
  So a request that lands on a clinc150 intent the taxonomy lacks ("what's the weather",
  "add a bag to my reservation" -> ``restaurant_reservation``) counts as out of scope; an
  older head without ``in_scope_labels`` scores p(``oos``) alone.
- A custom taxonomy (``tierlens train-intents``): ``oos_score`` = 1 - the calibrated top-class
  probability of its own head (max-softmax), with the threshold chosen on its held-out rows
  and stored in the head's ``out_of_scope`` metadata.

:func:`choose_threshold` is the one rule both use (models/train_oos.py and train_intents).
"""

from __future__ import annotations

import numpy as np

from tierlens.score.heads import Head

CUSTOM_TASK = "customer intent (user taxonomy)"  # train_intents' head metadata `task`
MAX_FLAGGED = 0.05  # at most this share of in-scope requests flagged
MIN_RECALL = 0.9  # at least this share of out-of-scope requests flagged


def _flag_rates(in_scope: dict[str, np.ndarray], oos: np.ndarray | None,
                t: float) -> tuple[float, float | None]:
    """(worst in-scope flagged share over the sources, OOS recall or None) at threshold t."""
    flagged = max(float((s >= t).mean()) for s in in_scope.values())
    recall = float((oos >= t).mean()) if oos is not None and len(oos) else None
    return flagged, recall


def choose_threshold(in_scope: dict[str, np.ndarray], oos: np.ndarray | None = None,
                     max_flagged: float = MAX_FLAGGED, min_recall: float = MIN_RECALL) -> dict:
    """The operating threshold (``score >= threshold`` is out of scope), from validation rows.

    ``in_scope``: scores of in-scope validation rows by source; the flagged share counted is
    the WORST source's. ``oos``: scores of out-of-scope validation rows (None: none known).
    Rule: the thresholds with recall >= ``min_recall`` and flagged <= ``max_flagged`` form a
    band; take its middle (by rank among the validation scores), so that neither target sits
    on its edge (an edge threshold flagged 5.2% of held-out in-scope rows on a 5% budget).
    If none meets both: the largest recall with flagged <= ``max_flagged``, and ``met`` is
    False with a note. Without OOS rows: the lowest threshold that flags at most
    ``max_flagged`` (recall unmeasured).
    """
    pooled = np.concatenate([*in_scope.values()] + ([oos] if oos is not None else []))
    cands = np.unique(np.concatenate([pooled, [np.nextafter(pooled.max(), np.inf)]]))
    rates = [(float(t), *_flag_rates(in_scope, oos, float(t))) for t in cands]
    ok = [r for r in rates if r[1] <= max_flagged]  # the highest candidate flags nothing
    has_oos = oos is not None and len(oos) > 0
    both = [r for r in ok if has_oos and r[2] >= min_recall]
    if both:
        t, flagged, recall = both[len(both) // 2]  # candidates are sorted by threshold
        met, note = True, f"recall >= {min_recall} and <= {max_flagged:.0%} in-scope flagged"
    elif has_oos:
        t, flagged, recall = max(ok, key=lambda r: (r[2], r[0]))
        met = False
        note = (f"recall >= {min_recall} is not reachable with <= {max_flagged:.0%} in-scope "
                f"flagged on validation: the largest recall at that budget ({recall:.3f})")
    else:
        t, flagged, recall = min(ok, key=lambda r: r[0])
        met = False
        note = (f"no out-of-scope validation rows: flags <= {max_flagged:.0%} of held-out "
                "in-scope rows; recall unmeasured")
    return {"threshold": t, "met": met, "rule": note,
            "validation": {"in_scope_flagged": flagged, "oos_recall": recall,
                           "n_in_scope": {k: len(v) for k, v in in_scope.items()},
                           "n_oos": len(oos) if oos is not None else 0,
                           "max_flagged": max_flagged, "min_recall": min_recall}}


def max_softmax_score(probs: np.ndarray) -> np.ndarray:
    """A custom taxonomy's ``oos_score``: 1 - the calibrated top-class probability."""
    return 1.0 - probs.max(axis=1)


def default_oos_score(head: Head, emb: np.ndarray) -> np.ndarray:
    """The ``oos`` head's score: 1 - the mass of ``in_scope_labels``, else p(``oos``)."""
    p = head.predict_proba(emb)
    labels = list(head.labels)
    inside = head.meta.get("in_scope_labels")
    if inside:
        idx = [labels.index(lab) for lab in inside if lab in labels]
        return np.clip(1.0 - p[:, idx].sum(axis=1), 0.0, 1.0)
    return p[:, labels.index("oos")]


def oos_decision(intent: Head, oos_head: Head, emb: np.ndarray,
                 intent_probs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(``oos_score``, ``out_of_scope`` or None) for the active taxonomy.

    A custom taxonomy with ``out_of_scope`` metadata decides by its own max-softmax and
    threshold; one trained before that existed gets the default score and no decision (None:
    retrain it with ``tierlens train-intents``); the default taxonomy uses the ``oos`` head.
    """
    own = intent.meta.get("out_of_scope")
    if own:
        p = intent.predict_proba(emb) if intent_probs is None else intent_probs
        score = max_softmax_score(p)
        return score, score >= float(own["threshold"])
    score = default_oos_score(oos_head, emb)
    if intent.meta.get("task") == CUSTOM_TASK:
        return score, None
    return score, score >= float(oos_head.meta["threshold"])

