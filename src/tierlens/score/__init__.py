"""Scoring: one encoder pass per turn, small heads on the shared embedding, conversation outputs.

- :mod:`tierlens.score.encoder`: ``get_encoder(settings)`` -> ``Encoder.encode(texts)``
  (all-MiniLM-L6-v2, dedup + on-disk cache + length bucketing; int8 ONNX by default);
- :mod:`tierlens.score.heads`: ``load_head(name, heads_dir)`` -> ``Head`` (numpy,
  temperature-scaled); the served folder is ``default_heads_dir(settings)``;
- :mod:`tierlens.score.turns`: ``score_turns(turns, encoder, heads_dir)`` (one row per scored
  turn) and ``encode_turns(turns, encoder)`` (embeddings for compliance's semantic rules);
- :mod:`tierlens.score.conversation`: ``score_conversations(turns, turn_scores, heads_dir)``;
- :mod:`tierlens.score.train_intents`: ``train_intents(csv_path, out_dir, encoder=...)`` for a
  user's taxonomy.

Nothing here reads the settings: the caller passes them (or the paths they name) in.
Imports are lazy so that ``import tierlens.score`` stays cheap (no torch).
"""
