"""Flow parameters as pydantic models (what a deployment stores and the Prefect UI edits).

Paths left as ``None`` come from :func:`tierlens.settings.get_settings` at run time, so one
deployment works on any machine. Defaults come from
:class:`tierlens.orchestrate.config.OrchestrationSettings`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from tierlens.orchestrate.config import AlertThresholds
from tierlens.settings import get_settings

_DEFAULTS = get_settings().orchestration


class WarehouseParams(BaseModel):
    """Where a flow reads and writes; ``None``: the settings' value."""

    warehouse: Path | None = Field(None, description="DuckDB warehouse (single writer).")
    serving_dir: Path | None = Field(None, description="Where the snapshot is published.")
    publish: bool = Field(True, description="Publish a serving snapshot at the end.")
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    notification_block: str | None = Field(_DEFAULTS.notification_block,
                                           description="Prefect notification block for alerts.")


class ScoringParams(WarehouseParams):
    score_batch_size: int = Field(_DEFAULTS.score_batch_size, ge=1,
                                  description="Conversations per scoring task/transaction.")
    max_in_flight: int = Field(_DEFAULTS.max_in_flight, ge=1,
                               description="Scoring batches computed at once.")


class IngestAndScoreParams(ScoringParams):
    inbox: Path | None = Field(None, description="Folder to ingest (default: settings.inbox).")


class NightlyParams(WarehouseParams):
    pass


class MonthlyReportParams(WarehouseParams):
    month: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                              description="YYYY-MM; default: the month before today (UTC).")
    reports_dir: Path | None = Field(None, description="Default: the settings' reports_dir "
                                                       "(next to a given warehouse).")


class RescoreParams(ScoringParams):
    since: date | None = Field(None, description="Only conversations started on/after this "
                                                 "date (UTC); None: all of history.")
    rules: Path | None = Field(None, description="Rulebook YAML to apply (default: the "
                                                 "warehouse's current rulebook).")
