"""The publish stage: mirror the review store into the warehouse (its reviews, label
corrections and audit anchor), then swap in a fresh read-only serving snapshot for the
dashboard (:func:`tierlens.store.publish.write_snapshot`)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tierlens.reviews.sync import mirror_reviews
from tierlens.store.publish import write_snapshot


def publish(con: duckdb.DuckDBPyConnection, serving_dir: Path, reviews_path: Path) -> Path:
    """Mirror the review store ``reviews_path``, then publish the snapshot under
    ``serving_dir``. Returns the snapshot's path."""
    mirror_reviews(con, reviews_path)
    return write_snapshot(con, serving_dir)
