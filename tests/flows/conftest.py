"""Fixtures for the flow tests.

One Prefect test server per session (``prefect_test_harness``: slow to start); flow
subprocesses talk to it too, through ``PREFECT_API_URL``. The simulated data is small and
made once per session. Scoring needs the trained heads under models/heads/.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from tests.flows.flow_helpers import make_inbox

N_CONVERSATIONS = 400
SMALL_FILE = 60


@pytest.fixture(scope="session")
def prefect_api():
    """A real Prefect API for the session; yields its URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=300):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory):
    from tierlens.simulate import simulate

    out = tmp_path_factory.mktemp("sim")
    simulate(N_CONVERSATIONS, 2, 11, out)
    return out


@pytest.fixture(scope="session")
def inbox(sim_dir, tmp_path_factory):
    """(inbox folder, records per file): a small file, a big file and a broken one."""
    folder = tmp_path_factory.mktemp("inbox")
    return folder, make_inbox(sim_dir, folder, SMALL_FILE)


@pytest.fixture
def flow_settings(tmp_path):
    """Flow parameters pointing at a fresh warehouse and serving folder."""
    return {"warehouse": str(tmp_path / "wh.duckdb"), "serving_dir": str(tmp_path / "serving")}


SCORE_BATCH = 50  # small batches, so a run has many scoring transactions to be killed in


@pytest.fixture(scope="session")
def reference_run(prefect_api, inbox, tmp_path_factory):
    """One clean, uninterrupted ``ingest_and_score`` run in a subprocess:
    (warehouse path, its result, the flow parameters minus the paths)."""
    from tests.flows.flow_helpers import flow_env, run_flow

    folder, _ = inbox
    out = tmp_path_factory.mktemp("reference")
    params = {"inbox": str(folder), "score_batch_size": SCORE_BATCH}
    result, _ = run_flow("ingest_and_score", {**params, "warehouse": str(out / "wh.duckdb"),
                                              "serving_dir": str(out / "serving")},
                         flow_env(prefect_api))
    return out / "wh.duckdb", result, params
