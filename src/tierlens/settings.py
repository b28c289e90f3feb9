"""One typed settings object. Nothing else in tierlens reads ``os.environ``.

Every value has a default that works on a fresh clone. Override with environment
variables prefixed ``TIERLENS_`` (for example ``TIERLENS_WAREHOUSE=/data/tl.duckdb``)
or a ``.env`` file in the working directory. Nested values use ``__``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tierlens.orchestrate.config import OrchestrationSettings

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent


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
                            description="Embedding cache and exported runtimes (gitignored).")

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
        None, description="LoRA delta (.npz from models/train_encoder.py) merged into the "
                          "encoder at load time; empty: the frozen base encoder.")

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

    # --- orchestration -------------------------------------------------------------------
    orchestration: OrchestrationSettings = Field(
        default_factory=OrchestrationSettings,
        description="Flow schedules, scoring batches, Dask cluster and alert thresholds; "
                    "nested, e.g. TIERLENS_ORCHESTRATION__DASK_ADDRESS=tcp://host:8786.")

    # --- dashboard -------------------------------------------------------------------------
    dashboard_port: int = Field(8501, description="Port for `tierlens dashboard`.")
    users_file: Path = Field(REPO_DIR / "data" / "users.yaml",
                             description="Dashboard users (bcrypt hashes, roles). Demo users "
                                         "by default: replace in production.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
