"""Scoring: one encoder pass per turn, small heads on the shared embedding, conversation outputs.

- :mod:`tierlens.score.encoder`: ``get_encoder(precision)`` -> ``Encoder.encode(texts)``
  (all-MiniLM-L6-v2, dedup + on-disk cache + length bucketing; int8 ONNX by default);
- :mod:`tierlens.score.heads`: ``load_head(name)`` -> ``Head`` (numpy, temperature-scaled);
- :mod:`tierlens.score.turns`: ``score_turns(turns)`` (one row per scored turn) and
  ``encode_turns(turns)`` (embeddings for compliance's semantic rules);
- :mod:`tierlens.score.conversation`: ``score_conversations(turns, turn_scores)``;
- :mod:`tierlens.score.train_intents`: ``train_intents(csv_path, out_dir)`` for a user's taxonomy.

Imports are lazy so that ``import tierlens.score`` stays cheap (no torch).
"""
