"""Topic discovery's pure parts: clustering with model selection, stable ids, c-TF-IDF labels,
the request rule and the monthly metrics with the automation opportunity."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import normalized_mutual_info_score

from tierlens.topics.discover import assign, ctfidf_keywords, fit_centroids, match_topics
from tierlens.topics.monthly import topic_monthly
from tierlens.topics.requests import first_requests, is_substantive


def _blobs(k: int, per: int, d: int = 64, spread: float = 0.25, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    x = np.concatenate([c + spread * rng.normal(size=(per, d)) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(k), per), centres


def test_fit_picks_the_number_of_clusters_and_recovers_them():
    x, y, _ = _blobs(12, 60)
    fit = fit_centroids(x, k_grid=(4, 8, 12, 16, 24), seed=1)
    assert fit.k == 12
    topic, dist = assign(x, fit.centroids)
    assert normalized_mutual_info_score(y, topic) > 0.95
    assert (dist >= -1e-6).all() and (dist <= 2.0).all()


def test_ids_stay_stable_and_new_clusters_are_new():
    x, _, _ = _blobs(6, 50, seed=2)
    old = fit_centroids(x, k_grid=(6,), seed=0).centroids
    perm = np.array([3, 0, 5, 1, 4, 2])
    rng = np.random.default_rng(5)
    moved = old[perm] + 0.02 * rng.normal(size=old.shape)
    extra = rng.normal(size=(1, old.shape[1]))            # a cluster nobody saw before
    m = match_topics(old, np.concatenate([moved, extra]).astype(np.float32))
    assert m[:6] == perm.tolist() and m[6] is None
    assert match_topics(None, old) == [None] * 6


def test_ctfidf_labels_are_the_distinctive_words():
    texts = (["my card was charged twice for the same order"] * 5
             + ["i was charged twice on my card yesterday"] * 5
             + ["how do i add a bag to my flight reservation"] * 5
             + ["can you add a checked bag to my flight"] * 5)
    topic = np.array([0] * 10 + [1] * 10)
    kw = ctfidf_keywords(texts, topic, 2)
    assert "charged" in " ".join(kw[0]) and "bag" in " ".join(kw[1])
    assert not set(" ".join(kw[0]).split()) & {"my", "the", "i"}


def test_request_is_the_first_substantive_customer_turn():
    assert not is_substantive("hi there, good morning!")
    assert is_substantive("I was charged twice for my order")
    turns = pl.DataFrame({
        "conversation_id": ["a", "a", "a", "b", "b"], "turn_index": [0, 1, 2, 0, 1],
        "speaker": ["customer", "bot", "customer", "bot", "customer"],
        "text": ["hello", "Hi! How can I help?", "my parcel never arrived at all",
                 "Welcome", "thanks"]})
    req = first_requests(turns)
    assert req.rows() == [("a", 2, "my parcel never arrived at all")]


def test_vectorised_request_rule_matches_the_single_text_rule():
    texts = ["hi there, good morning!", "I was charged twice for my order", "Thanks!",
             "HELLO my parcel is late", "ok", "yes please cancel it", "no no no", "",
             "Hi, hi, hello: the app crashes on login", "bye thanks you are great"]
    turns = pl.DataFrame({"conversation_id": [f"c{i}" for i in range(len(texts))],
                          "turn_index": [0] * len(texts), "speaker": ["customer"] * len(texts),
                          "text": texts})
    picked = set(first_requests(turns)["text"].to_list())
    assert picked == {t for t in texts if is_substantive(t)}
    assert "I was charged twice for my order" in picked and "Thanks!" not in picked


def test_monthly_metrics_and_opportunity():
    assigned = pl.DataFrame({"conversation_id": [f"c{i}" for i in range(40)],
                             "topic_id": [1] * 20 + [2] * 20, "distance": [0.1] * 40})
    months = ["2026-09"] * 10 + ["2026-10"] * 10
    outcomes = pl.DataFrame({
        "conversation_id": [f"c{i}" for i in range(40)],
        "month": months * 2, "intent": ["refund"] * 20 + [None] * 20,
        "bot_entered": [True] * 40, "escalated": [False] * 20 + [True] * 20,
        # topic 1: the bot contains everything; topic 2: nothing
        "contained_durable": [True] * 20 + [False] * 20,
        "aht_seconds": [60.0] * 40, "cost": [1.0] * 20 + [5.0] * 20})
    cents = pl.DataFrame({"topic_id": [1, 2], "centroid": [[1.0, 0.0], [0.9, 0.1]],
                          "active": [True, True]})
    m = topic_monthly(assigned, outcomes, cents)
    oct2 = m.filter((pl.col("month") == "2026-10") & (pl.col("topic_id") == 2)).row(0, named=True)
    assert oct2["n_conversations"] == 10 and oct2["share"] == pytest.approx(0.5)
    assert oct2["escalation_rate"] == 1.0 and oct2["containment_durable"] == 0.0
    assert oct2["target_containment"] == 1.0          # its nearest comparable topic: topic 1
    assert oct2["opportunity"] == pytest.approx(10 * 1.0 * (5.0 - 1.0))
    assert oct2["change_vs_previous_month"] == 0.0 and oct2["status"] == "stable"
    oct1 = m.filter((pl.col("month") == "2026-10") & (pl.col("topic_id") == 1)).row(0, named=True)
    assert oct1["opportunity"] == 0.0 and oct1["matched_intent"] == "refund"
    assert oct1["intent_share"] == 1.0
    assert m.filter(pl.col("month") == "2026-10")["topic_id"].to_list()[0] == 2  # by opportunity


def test_a_topic_whose_words_occur_once_still_gets_keywords():
    texts = ["refund my order", "refund the order", "refund order now",
             "zebra crossing painted"]  # topic 1: every word occurs once in the corpus
    kws = ctfidf_keywords(texts, np.array([0, 0, 0, 1]), 2)
    assert "refund" in kws[0]
    assert kws[1] and set(kws[1]) <= {"zebra", "crossing", "painted"}
