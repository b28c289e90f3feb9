"""One typed settings object. Nothing else in tierlens reads ``os.environ``.

Every value has a default that works on a fresh clone. Override with environment
variables prefixed ``TIERLENS_`` (for example ``TIERLENS_WAREHOUSE=/data/tl.duckdb``)
or a ``.env`` file in the working directory. Nested values use ``__``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tierlens.orchestrate.config import OrchestrationSettings

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent


class HandleTimeSettings(BaseModel):
    """Handle time = active work time: the sum of the gaps between consecutive turns, each
    capped per channel (docs/metrics.md, "Handle time and elapsed time")."""

    gap_cap_seconds: dict[str, float] = Field(
        default_factory=lambda: {"chat": 300.0, "messaging": 300.0, "sms": 300.0,
                                 "social": 300.0, "voice": 600.0, "email": 600.0},
        description="Per channel, the most one gap between turns counts as work (longer "
                    "idle time is the customer's, not the agent's). In reply-only channels, "
                    "the work allowance of one bot or agent reply.")
    default_gap_cap_seconds: float = Field(300.0, ge=0,
                                           description="Cap for a channel not listed (or NULL).")
    reply_only_channels: tuple[str, ...] = Field(
        ("email",), description="Asynchronous channels where only bot and agent replies count "
                                "as work (each up to the channel's cap); the wait for the "
                                "customer's next message counts nothing.")

    def cap(self, channel: str | None) -> float:
        return self.gap_cap_seconds.get(channel or "", self.default_gap_cap_seconds)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERLENS_", env_file=".env", extra="ignore",
                                      env_nested_delimiter="__")

    # --- paths -------------------------------------------------------------------------
    data_dir: Path = Field(REPO_DIR / "data", description="Root of local data folders.")
    warehouse: Path = Field(REPO_DIR / "data" / "warehouse" / "tierlens.duckdb",
                            description="The DuckDB warehouse written by the pipeline (one writer).")
    serving_dir: Path = Field(REPO_DIR / "data" / "serving",
                              description="Read-only published snapshot the dashboard reads.")
    inbox: Path = Field(REPO_DIR / "data" / "inbox",
                        description="Folder the ingest flow watches for new files.")
    models_dir: Path = Field(REPO_DIR / "models", description="Trained heads and model cards.")
    cache_dir: Path = Field(REPO_DIR / "data" / "cache",
                            description="Embedding cache and exported runtimes (gitignored); "
                                        "machine-wide, shared by every warehouse.")
    reports_dir: Path = Field(REPO_DIR / "data" / "reports",
                              description="Monthly reports (HTML, PDF) of the monthly_report "
                                          "flow; next to a --db warehouse unless set.")
    review_store: Path | None = Field(  # never None once built: _default_review_store
        None, description="The review store (SQLite): reviews, dispositions, label corrections, "
                          "audit log. Default: data_dir/reviews/reviews.sqlite, or next to a "
                          "--db warehouse.")

    # --- ingest ------------------------------------------------------------------------
    batch_turns: int = Field(200_000, ge=1_000,
                             description="Turns per streamed ingest batch (bounds memory).")
    pseudonym_salt: str = Field("tierlens-demo-salt",
                                description="Salt for hashing customer ids into pseudonyms. "
                                            "Set a secret value in production.")
    max_turn_chars: int = Field(100_000, ge=100,
                                description="A longer turn is quarantined (turn_too_long).")
    huge_conversation_turns: int = Field(500, ge=10,
                                         description="Soft expectation: max turns per conversation.")

    # --- configuration files (None: the bundled file in tierlens/config/) -----------------
    rulebook_path: Path | None = Field(None, description="Compliance rulebook YAML.")
    scorecard_path: Path | None = Field(None, description="QA scorecard YAML.")
    routing_policy_path: Path | None = Field(None, description="Routing policy YAML.")

    # --- scoring -----------------------------------------------------------------------
    precision: Literal["int8", "fp32"] = Field("int8", description="Encoder precision.")
    encoder_adapter: Path | None = Field(
        REPO_DIR / "models" / "encoder" / "adapter.npz",
        description="LoRA delta (.npz from models/train_encoder.py) merged into the encoder "
                    "at load time (default: the shipped multi-task adapter, which the "
                    "shipped heads were trained on); empty: the frozen base encoder.")

    @field_validator("encoder_adapter", mode="before")
    @classmethod
    def _empty_adapter_is_none(cls, value):
        """``TIERLENS_ENCODER_ADAPTER=`` (empty) selects the frozen base encoder."""
        return None if value is None or str(value).strip() == "" else value
    bot_confidence_threshold: float = Field(0.9, ge=0, le=1,
                                            description="Below this a bot turn is low-confidence.")

    # --- metrics -----------------------------------------------------------------------
    repeat_window_days: int = Field(7, ge=1, description="Repeat-contact window, counted forward.")
    handoff_target_seconds: float = Field(30.0, gt=0, description="Seed target for handoff time.")
    cost_per_bot_minute: float = Field(0.10, ge=0, description="Cost of one bot minute.")
    cost_per_agent_minute: float = Field(1.00, ge=0, description="Cost of one agent minute.")
    handle_time: HandleTimeSettings = Field(
        default_factory=HandleTimeSettings,
        description="Per-channel gap caps of handle time (AHT and cost); nested, e.g. "
                    "TIERLENS_HANDLE_TIME__DEFAULT_GAP_CAP_SECONDS=240.")
    verification_half_width: float = Field(
        0.03, gt=0, lt=0.5, description="Verification sample: the 95% interval's half width "
        "to reach per month and tier (0.03 = ±3 points).")
    verification_error_rate: float = Field(
        0.10, gt=0, lt=1, description="Verification sample: the planning model error rate "
        "that sizes it.")

    # --- orchestration -------------------------------------------------------------------
    orchestration: OrchestrationSettings = Field(
        default_factory=OrchestrationSettings,
        description="Flow schedules, scoring batches, Dask cluster and alert thresholds; "
                    "nested, e.g. TIERLENS_ORCHESTRATION__DASK_ADDRESS=tcp://host:8786.")

    # --- dashboard -------------------------------------------------------------------------
    dashboard_port: int = Field(8501, description="Port for `tierlens dashboard`.")
    dashboard_host: str = Field("127.0.0.1",
                                description="Interface `tierlens dashboard` listens on; local "
                                            "only by default (expose it via a reverse proxy).")
    login_max_failures: int = Field(5, ge=1, description="Failed logins (per user and per "
                                                         "client) before a lockout.")
    login_lockout_seconds: int = Field(900, ge=1, description="How long a lockout lasts; "
                                                              "failures older than this expire.")
    dashboard_session_seconds: int = Field(
        8 * 3600, ge=60, description="How long a dashboard login lasts (reloads and new tabs "
        "included) before asking again; a logout ends it at once.")
    audit_key_file: Path = Field(Path.home() / ".config" / "tierlens" / "audit.key",
                                 description="HMAC key of the review store's audit chain; kept "
                                             "outside the data folder, created (0600) on first "
                                             "use.")
    users_file: Path = Field(REPO_DIR / "data" / "users.yaml",
                             description="Dashboard users (bcrypt hashes, roles). Demo users "
                                         "by default: replace in production.")

    @model_validator(mode="after")
    def _default_review_store(self) -> Settings:
        """Unset, the review store lives under ``data_dir``; it still counts as unset for
        :meth:`for_warehouse`, which moves it next to another warehouse."""
        if os.environ.get("TIERLENS_REVIEWS_PATH"):  # renamed: never silently lose reviews
            raise ValueError("TIERLENS_REVIEWS_PATH was renamed TIERLENS_REVIEW_STORE: set "
                             "that instead (same meaning)")
        if self.review_store is None:
            self.review_store = self.data_dir / "reviews" / "reviews.sqlite"
            self.model_fields_set.discard("review_store")
        return self

    def for_warehouse(self, db: Path | None) -> Settings:
        """These settings, for the warehouse ``db`` (the rule every ``--db`` follows).

        Without ``db``, or with the settings' own warehouse: unchanged. Otherwise what belongs
        to a warehouse lives next to it, in ``<folder>/<stem>.tierlens/`` (for
        ``tmp/x.duckdb``: ``tmp/x.tierlens/serving/``, ``tmp/x.tierlens/reviews.sqlite`` and
        ``tmp/x.tierlens/reports/``), unless ``serving_dir``, ``review_store`` or
        ``reports_dir`` was set explicitly, which then wins.
        """
        if db is None or Path(db).resolve() == Path(self.warehouse).resolve():
            return self
        db = Path(db)
        home = companion_dir(db)
        update: dict = {"warehouse": db}
        if "serving_dir" not in self.model_fields_set:
            update["serving_dir"] = home / "serving"
        if "review_store" not in self.model_fields_set:
            update["review_store"] = home / "reviews.sqlite"
        if "reports_dir" not in self.model_fields_set:
            update["reports_dir"] = home / "reports"
        return self.model_copy(update=update)


def companion_dir(warehouse: Path) -> Path:
    """The folder next to a ``--db`` warehouse that holds its snapshot, review store and
    reports."""
    warehouse = Path(warehouse)
    return warehouse.parent / f"{warehouse.stem}.tierlens"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
