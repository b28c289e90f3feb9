"""Scale-out: run a flow's mapped scoring on Dask through ``prefect-dask``.

The same flow code runs everywhere: :func:`scaled` only swaps its task runner. Mapped
scoring tasks (pure: turn frames in, score frames out) go to the Dask workers; the flow
process stays the single DuckDB writer.
"""

from __future__ import annotations

from typing import Any

from prefect import Flow

from tierlens.orchestrate.config import OrchestrationSettings


def dask_runner(address: str | None = None, n_workers: int = 2) -> Any:
    """A DaskTaskRunner for an existing scheduler (``address``) or a LocalCluster of
    ``n_workers`` single-threaded worker processes."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


def scaled(flow: Flow, orch: OrchestrationSettings) -> Flow:
    """``flow`` on Dask when the settings name a cluster (or local workers), else as is."""
    if orch.dask_address or orch.dask_workers > 0:
        return flow.with_options(task_runner=dask_runner(orch.dask_address,
                                                         max(orch.dask_workers, 1)))
    return flow
