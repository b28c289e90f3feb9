"""Orchestration settings: schedules, scale-out and alert thresholds.

A serialisable pydantic model with defaults that work on a fresh machine. It is nested in
``tierlens.settings.Settings`` as ``orchestration`` (environment:
``TIERLENS_ORCHESTRATION__<FIELD>``); flows take it as the defaults of their parameters, and
``flows/deployments.py`` reads the schedules from it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class AlertThresholds(BaseModel):
    """When an alert fires (see :mod:`tierlens.orchestrate.alerts`)."""

    containment_drop_points: float = Field(
        5.0, gt=0, description="Durable containment (AI tier) falls by more than this many "
                               "percentage points month over month.")
    red_flag_ratio: float = Field(
        2.0, gt=1, description="Red-flag rate (all tiers) is at least this multiple of the "
                               "previous month's.")
    red_flag_min_conversations: int = Field(
        50, ge=1, description="Months with fewer conversations are not compared (noise).")
    quarantine_rate: float = Field(
        0.01, gt=0, lt=1, description="Quarantined / read in one run above this share.")


class OrchestrationSettings(BaseModel):
    """Schedules, scoring batch size, Dask address and alert thresholds."""

    timezone: str = Field("UTC", description="Time zone of the cron schedules.")
    ingest_cron: str = Field("*/15 * * * *", description="ingest_and_score schedule.")
    nightly_cron: str = Field("0 2 * * *", description="nightly_outcomes schedule.")
    monthly_cron: str = Field("0 6 1 * *", description="monthly_report schedule (the 1st).")
    score_batch_size: int = Field(5_000, ge=1,
                                  description="Conversations per scoring task and transaction.")
    max_in_flight: int = Field(4, ge=1, description="Scoring batches read ahead and computed "
                                                     "at once (bounds the flow's memory).")
    dask_address: str | None = Field(None, description="Scheduler of an existing Dask "
                                                       "cluster, e.g. tcp://10.0.0.5:8786.")
    dask_workers: int = Field(0, ge=0, description="With no address: 0 runs scoring in the "
                                                   "flow process; n starts a LocalCluster of "
                                                   "n single-threaded workers.")
    task_retries: int = Field(3, ge=0, description="Retries of the I/O tasks.")
    retry_backoff_s: float = Field(2.0, gt=0, description="First retry delay; doubles.")
    notification_block: str | None = Field(
        None, description="Name of a Prefect notification block (e.g. a Slack webhook) that "
                          "alerts are also sent to; None: stored only.")
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
