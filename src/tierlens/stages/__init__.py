"""The pipeline's stages, one module each: ingest, model_scores, compliance, derive, topics,
publish. Each reads through the store's repositories, calls a pure function of its domain
package (tierlens.ingest, tierlens.score, tierlens.metrics, tierlens.topics) and writes
through the store. :mod:`tierlens.pipeline` composes them."""
