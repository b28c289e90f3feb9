"""The flows' one place that reads the settings (environment and ``.env``): the scheduler
(flows.deployments) and every flow run get them here, then pass them along explicitly.
Imports no Prefect, so the scheduler can read its settings before Prefect is configured."""

from __future__ import annotations

from typing import Any

from flows.params import WarehouseParams
from tierlens.settings import Settings, get_settings


def process_settings() -> Settings:
    """The settings of this process (the scheduler's folder, default orchestration)."""
    return get_settings()


def resolve_settings(params: WarehouseParams, **extra: Any) -> Settings:
    """The process settings for the parameters' warehouse (serving dir and review store
    derived next to it unless set; see Settings.for_warehouse), with the paths and the
    orchestration values the parameters override. The flows' one call of get_settings, with :func:`process_settings`."""
    base = get_settings().for_warehouse(params.warehouse)
    update = {k: v for k, v in {"serving_dir": params.serving_dir, **extra}.items()
              if v is not None}
    orch = {k: getattr(params, k) for k in ("score_batch_size", "max_in_flight",
                                            "notification_block", "alerts")
            if getattr(params, k, None) is not None}
    if orch:
        update["orchestration"] = base.orchestration.model_copy(update=orch)
    return base.model_copy(update=update)
