"""Contact-reason discovery: cluster customer requests into topics with readable labels.

Pure functions over embeddings (the turn embeddings the scoring stage already computed) and
texts; no I/O. The steps:

1. :func:`fit_centroids`: k-means (scikit-learn's MiniBatchKMeans, k-means++ seeding) on the
   L2-normalised request embeddings, with k chosen by the silhouette score (cosine) on a
   sample, over a grid of k. Fitted on at most ``fit_sample`` requests, so 1M requests cost
   the same as 50k.
2. :func:`assign`: every request to its nearest centroid (cosine), with its distance.
3. :func:`ctfidf_keywords`: class-based TF-IDF (as BERTopic's c-TF-IDF: term frequency per
   topic, weighted by log(1 + mean words per topic / term frequency across topics)), so a
   topic's label is its most distinctive terms, never "topic 7".
4. :func:`match_topics`: new centroids matched to the previous run's by cosine (Hungarian
   assignment, a similarity floor), so topic ids stay stable across runs; an unmatched
   cluster gets a new id and is flagged new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# English stop words plus the filler of customer requests ("hi", "please", "want to")
STOP_EXTRA = frozenset({"hi", "hello", "hey", "thanks", "thank", "thx", "please", "pls", "want",
    "wanted", "need", "like", "know", "help", "hoping", "able", "just", "yes", "yeah", "ok",
    "okay", "im", "ive", "id", "dont", "cant", "wont", "wanna", "gonna", "got", "get", "getting",
    "would", "could", "can", "will", "may", "might", "also", "really", "one", "good", "morning",
    "afternoon", "evening"})


@dataclass(frozen=True)
class Fit:
    centroids: np.ndarray        # (k, d), L2-normalised
    k: int
    silhouette: dict[int, float]  # k -> silhouette on the selection sample


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def fit_centroids(emb: np.ndarray, k_grid: tuple[int, ...] = (8, 12, 16, 24, 32, 48, 64),
                  seed: int = 0, fit_sample: int = 50_000, select_fit: int = 20_000,
                  select_sample: int = 5_000) -> Fit:
    """k-means with k chosen by the cosine silhouette over ``k_grid`` (ks above n/5 skipped).

    Selection is cheap: one k-means++ start per k on ``select_fit`` requests, scored on
    ``select_sample`` of them. Only the chosen k is then fitted properly (3 starts, up to
    ``fit_sample`` requests)."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import silhouette_score

    x = _normalise(emb)
    rng = np.random.default_rng(seed)
    if len(x) > fit_sample:
        x = x[rng.choice(len(x), fit_sample, replace=False)]
    xs = x[rng.choice(len(x), select_fit, replace=False)] if len(x) > select_fit else x
    grid = [k for k in k_grid if 2 <= k <= max(2, len(xs) // 5)] or [min(2, len(xs))]
    sel = rng.choice(len(xs), min(select_sample, len(xs)), replace=False)
    scores: dict[int, float] = {}
    for k in grid:
        km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=1, batch_size=4096,
                             max_iter=100).fit(xs)
        labels = km.predict(xs[sel])
        scores[k] = (float(silhouette_score(xs[sel], labels, metric="cosine"))
                     if len(set(labels.tolist())) > 1 else -1.0)
    k = max(scores, key=lambda g: (scores[g], -g))
    km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096,
                         max_iter=100).fit(x)
    cents = _normalise(km.cluster_centers_)
    return Fit(cents, len(cents), scores)


def assign(emb: np.ndarray, centroids: np.ndarray, chunk: int = 100_000
           ) -> tuple[np.ndarray, np.ndarray]:
    """(topic index, cosine distance to its centroid) per row, in chunks (bounded memory)."""
    x = _normalise(emb)
    idx = np.empty(len(x), dtype=np.int32)
    dist = np.empty(len(x), dtype=np.float32)
    for s in range(0, len(x), chunk):
        sim = x[s:s + chunk] @ centroids.T
        idx[s:s + chunk] = sim.argmax(axis=1)
        dist[s:s + chunk] = 1.0 - sim[np.arange(len(sim)), idx[s:s + chunk]]
    return idx, dist


def ctfidf_keywords(texts: list[str], topic: np.ndarray, n_topics: int, top: int = 5
                    ) -> list[list[str]]:
    """The ``top`` most distinctive terms (unigrams and bigrams) of each topic, by c-TF-IDF."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    stop = sorted(ENGLISH_STOP_WORDS | STOP_EXTRA)
    vec = CountVectorizer(stop_words=stop, ngram_range=(1, 2), min_df=2, max_features=50_000,
                          token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        counts = vec.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(n_topics)]
    terms = np.asarray(vec.get_feature_names_out())
    from scipy import sparse

    member = sparse.csr_matrix((np.ones(len(topic)), (topic, np.arange(len(topic)))),
                               shape=(n_topics, len(topic)))
    tf = np.asarray((member @ counts).todense(), dtype=np.float64)       # (topics, terms)
    words_per_topic = tf.sum(axis=1).mean() or 1.0
    idf = np.log(1.0 + words_per_topic / np.maximum(tf.sum(axis=0), 1.0))
    w = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1.0) * idf
    out = []
    for t in range(n_topics):
        order = np.argsort(-w[t])[: top * 3]
        picked: list[str] = []
        for j in order:
            term = str(terms[j])
            if w[t, j] <= 0:
                break
            # skip a unigram already inside a picked bigram and vice versa
            if any(term in p.split() or p in term.split() for p in picked):
                continue
            picked.append(term)
            if len(picked) == top:
                break
        if not picked:  # a small topic whose words occur once in the corpus: its most
            # frequent own words (min_df 1) still describe it better than no label
            picked = _frequent_terms([x for x, k in zip(texts, topic, strict=True) if k == t],
                                     stop, top)
        out.append(picked)
    return out


def _frequent_terms(texts: list[str], stop: list[str], top: int) -> list[str]:
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(stop_words=stop, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        counts = np.asarray(vec.fit_transform(texts).sum(axis=0)).ravel()
    except ValueError:  # nothing but stop words
        return []
    terms = vec.get_feature_names_out()
    return [str(terms[j]) for j in np.argsort(-counts, kind="stable")[:top]]


def label_of(keywords: list[str]) -> str:
    """A readable label from the distinctive terms: the top three, joined."""
    return " / ".join(keywords[:3]) if keywords else "(no distinctive words)"


def match_topics(old: np.ndarray | None, new: np.ndarray, min_similarity: float = 0.8
                 ) -> list[int | None]:
    """For each new centroid, the index of the previous run's centroid it continues (cosine
    >= ``min_similarity``, one-to-one by the Hungarian assignment), or None: a new topic."""
    if old is None or len(old) == 0:
        return [None] * len(new)
    from scipy.optimize import linear_sum_assignment

    sim = _normalise(new) @ _normalise(old).T
    rows, cols = linear_sum_assignment(-sim)
    out: list[int | None] = [None] * len(new)
    for r, c in zip(rows, cols, strict=True):
        if sim[r, c] >= min_similarity:
            out[r] = int(c)
    return out
