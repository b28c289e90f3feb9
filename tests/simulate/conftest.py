"""Shared fixtures: one simulated data set per test session (real simulator, no mocks)."""

from __future__ import annotations

import json

import pytest
from sim_helpers import read_jsonl_gz

from tierlens.simulate import simulate

N, MONTHS, SEED = 2000, 3, 11


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sim")
    result = simulate(N, MONTHS, SEED, out)
    convs = read_jsonl_gz(result.conversations_path)
    truth = read_jsonl_gz(result.ground_truth_path)
    kpis = json.loads(result.kpis_path.read_text())
    return result, convs, truth, kpis
