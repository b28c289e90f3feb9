"""Demo-data simulator: realistic hybrid (bot + human) contact-center transcripts with planted truth.

``simulate(n_conversations, months, seed, out_dir)`` writes conversations.jsonl.gz (the input
contract) and, in ``truth/`` (a folder ingest skips), ground_truth.jsonl.gz (one planted-truth
row per conversation) and ground_truth_kpis.json (monthly KPIs computed from the truth with
PRODUCT.md's definitions); ``truth_files(out_dir)`` gives their paths.
Customer text comes from the committed utterance bank of real public-dataset utterances.
"""

from tierlens.simulate.run import SimulationResult, simulate, truth_files

DEMO = {"conversations": 3000, "months": 4, "seed": 7}
"""Bundled demo defaults: ``tierlens simulate`` with no options writes this data set."""

__all__ = ["DEMO", "SimulationResult", "simulate", "truth_files"]
