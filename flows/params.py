"""Flow parameters as pydantic models (what a deployment stores and the Prefect UI edits).

Values left as ``None`` come from the settings at run time (paths, and the
:class:`tierlens.orchestrate.config.OrchestrationSettings` ones), so one deployment works on
any machine; nothing here reads the settings (flows/common.py resolves them per run).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from tierlens.orchestrate.config import AlertThresholds


class WarehouseParams(BaseModel):
    """Where a flow reads and writes; ``None``: the settings' value."""

    warehouse: Path | None = Field(None, description="DuckDB warehouse (single writer).")
    serving_dir: Path | None = Field(None, description="Where the snapshot is published.")
    publish: bool = Field(True, description="Publish a serving snapshot at the end.")
    alerts: AlertThresholds | None = Field(None, description="Alert thresholds; None: the "
                                                             "settings'.")
    notification_block: str | None = Field(None, description="Prefect notification block for "
                                                             "alerts; None: the settings'.")


class ScoringParams(WarehouseParams):
    score_batch_size: int | None = Field(None, ge=1, description="Conversations per scoring "
                                         "task/transaction; None: the settings'.")
    max_in_flight: int | None = Field(None, ge=1, description="Scoring batches computed at "
                                                              "once; None: the settings'.")


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
