"""Scale-out: the same flow with its scoring mapped onto a Dask LocalCluster of 2 worker
processes gives a warehouse identical to the sequential run's. Slow (starts a cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows.flow_helpers import differences, table_sizes

pytestmark = pytest.mark.slow


@pytest.fixture
def same_ingest_batches(monkeypatch):
    """The reference run (a subprocess) ingests in batches of 1,000 turns; so does this one."""
    from tierlens.settings import get_settings

    monkeypatch.setenv("TIERLENS_BATCH_TURNS", "1000")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("TIERLENS_BATCH_TURNS")
    get_settings.cache_clear()


def test_dask_local_cluster_matches_sequential(prefect_api, inbox, reference_run, tmp_path,
                                               same_ingest_batches):
    from flows.ingest_and_score import ingest_and_score
    from flows.params import IngestAndScoreParams
    from flows.scale import scaled
    from tierlens.orchestrate.config import OrchestrationSettings

    ref_db, ref, base = reference_run
    on_dask = scaled(ingest_and_score, OrchestrationSettings(dask_workers=2))
    assert type(on_dask.task_runner).__name__ == "DaskTaskRunner"
    db = tmp_path / "wh.duckdb"
    result = on_dask(IngestAndScoreParams(inbox=Path(base["inbox"]),
                                          score_batch_size=base["score_batch_size"],
                                          warehouse=db, serving_dir=tmp_path / "serving"))
    assert result["scored"] == ref["scored"] and result["flagged"] == ref["flagged"]
    assert differences(ref_db, db) == {}, table_sizes(db)
