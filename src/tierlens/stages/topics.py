"""The topics stage: read requests and outcomes, discover or assign topics (pure), write.

- :func:`refresh_topics` reads each conversation's request (its first substantive customer
  turn, redacted text) and the request's embedding (the encoder's cache: the scoring stage
  already computed it, so no second encoder pass), then either refits the topics (no topics
  yet, or ``refit``: the nightly flow) or assigns every request to the current ones (``score``,
  ``run`` and the 15-minute flow). It rewrites ``topic_centroids``,
  ``conversation_topic_assignments`` and ``topic_monthly`` in one transaction.
- Topic ids are stable: a refit matches new clusters to the previous centroids
  (:func:`tierlens.topics.discover.match_topics`); unmatched clusters get new ids.
Table grains: store/sql/topics.sql. Metrics per month: :mod:`tierlens.topics.monthly`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from tierlens.settings import Settings
from tierlens.store import topics as repo
from tierlens.store.outcomes import outcomes_of
from tierlens.topics.discover import (
    assign,
    ctfidf_keywords,
    fit_centroids,
    label_of,
    match_topics,
)
from tierlens.topics.monthly import topic_monthly
from tierlens.topics.requests import first_requests


def read_requests(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return first_requests(repo.customer_turns(con))


CENTROID_SCHEMA = {"topic_id": pl.Int64, "label": pl.String, "keywords": pl.List(pl.String),
                   "centroid": pl.List(pl.Float32), "n_requests": pl.Int64,
                   "active": pl.Boolean, "created_at": pl.Datetime("us", "UTC"),
                   "refit_at": pl.Datetime("us", "UTC")}


def read_centroids(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return repo.centroids(con).cast(CENTROID_SCHEMA)  # type: ignore[arg-type]


def _refit(emb: np.ndarray, prev: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """A new fit, with ids (and creation times) carried over from the previous centroids
    where they match; previous topics left unmatched stay, retired (``active`` false)."""
    fit = fit_centroids(emb)
    old = np.asarray(prev["centroid"].to_list(), np.float32) if prev.height else None
    match = match_topics(old, fit.centroids)
    next_id = int(prev["topic_id"].max()) + 1 if prev.height else 1
    ids, created = [], []
    for m in match:
        if m is None:
            ids.append(next_id)
            created.append(now)
            next_id += 1
        else:
            ids.append(int(prev["topic_id"][m]))
            created.append(prev["created_at"][m])
    new = pl.DataFrame({"topic_id": ids, "label": None, "keywords": None,
                        "centroid": [c.tolist() for c in fit.centroids], "n_requests": None,
                        "active": True, "created_at": created, "refit_at": now},
                       schema=CENTROID_SCHEMA)
    retired = prev.filter(~pl.col("topic_id").is_in(ids)).with_columns(active=pl.lit(False))
    return pl.concat([new, retired]).sort("topic_id")


def refresh_topics(con: duckdb.DuckDBPyConnection, settings: Settings, model_version: str,
                   refit: bool = False, encoder: Any = None) -> dict[str, Any]:
    """Discover (or assign) topics and rewrite the topic tables. Returns counts.
    ``encoder``: the run's encoder (None: the process encoder of ``settings.precision``)."""
    t0 = time.perf_counter()
    req = read_requests(con)
    if req.is_empty():
        return {"requests": 0, "topics": 0, "refit": False, "seconds": 0.0}
    if encoder is None:
        from tierlens.score.encoder import get_encoder

        encoder = get_encoder(settings)
    texts = req["text"].to_list()
    emb = encoder.encode(texts)
    prev = read_centroids(con)
    now = datetime.now(UTC)
    refit = refit or prev.filter(pl.col("active")).is_empty()
    cents = _refit(emb, prev, now) if refit else prev
    active = cents.filter(pl.col("active"))
    idx, dist = assign(emb, np.asarray(active["centroid"].to_list(), np.float32))
    ids = active["topic_id"].to_numpy()
    keywords = ctfidf_keywords(texts, idx, len(active))
    fresh = active.select("topic_id").with_columns(
        keywords=pl.Series(keywords, dtype=pl.List(pl.String)),
        label=pl.Series([label_of(k) for k in keywords], dtype=pl.String),
        n_requests=pl.Series(np.bincount(idx, minlength=len(active)).astype(np.int64)))
    cents = cents.update(fresh, on="topic_id")
    assigned = req.select("conversation_id", "turn_index").with_columns(
        topic_id=pl.Series(ids[idx].astype(np.int64)), distance=pl.Series(dist))
    monthly = topic_monthly(assigned, outcomes_of(con, model_version), cents)
    repo.replace_topics(con, cents.select(list(CENTROID_SCHEMA)), assigned, monthly)
    return {"requests": req.height, "topics": len(active), "refit": refit,
            "months": monthly["month"].n_unique() if monthly.height else 0,
            "seconds": round(time.perf_counter() - t0, 2)}
