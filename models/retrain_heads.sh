#!/usr/bin/env bash
# Retrain every head on the served encoder (the LoRA adapter named by TIERLENS_ENCODER_ADAPTER,
# by default models/encoder/adapter.npz), then re-evaluate, re-render the cards and re-sample
# the golden test files. Run from the repository root after models/train_encoder.py.
# About 15 minutes on an idle 2-core machine (encoding the ~100k training texts: 3-4 of them).
set -euo pipefail
cd "$(dirname "$0")/.."
export TIERLENS_ENCODER_ADAPTER="${TIERLENS_ENCODER_ADAPTER-models/encoder/adapter.npz}"
PY=.venv/bin/python
for step in prepare_embeddings train_bot_outcome train_csat train_oos train_intent \
            train_sentiment train_resolution train_csat_conversation compare_precision; do
  echo "== $step ($(date -u +%H:%M:%S))"
  $PY models/$step.py
done
$PY models/evaluate.py --json
$PY models/write_cards.py
$PY models/make_golden.py
$PY models/make_resolution_golden.py
