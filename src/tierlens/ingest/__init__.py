"""Ingest: read sources, normalise into the canonical frames, redact, hand to validation + store."""
