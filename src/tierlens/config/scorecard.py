"""The QA scorecard's configuration: ``config/scorecard.yaml`` (or a given file), validated.

:func:`load_scorecard` reads it into a :class:`Scorecard`; errors are
:class:`tierlens.errors.ConfigError` naming the file, the criterion and the fix. The
calculation lives in :mod:`tierlens.metrics.scorecard`; the review store checks reviews
against the same criteria.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tierlens.config import CONFIG_DIR
from tierlens.errors import ConfigError

SCORECARD_PATH = CONFIG_DIR / "scorecard.yaml"
CRITERIA = ("greeting", "identity_verification", "empathy", "solution_offered", "resolution",
            "closing", "compliance")


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["regex", "resolution", "compliance"]
    speakers: tuple[Literal["customer", "bot", "agent"], ...] = ("bot", "agent")
    where: Literal["first", "last", "any"] = "any"
    pattern: str | None = None
    fail_on: tuple[Literal["critical", "major", "minor"], ...] = ("critical", "major")

    @model_validator(mode="after")
    def _pattern(self) -> Check:
        if self.kind == "regex":
            if not self.pattern:
                raise ValueError("a regex check needs `pattern`")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regex: {exc}") from exc
        return self


class AppliesIf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["regex", "negative_sentiment", "not_abandoned"]
    speakers: tuple[Literal["customer", "bot", "agent"], ...] = ("customer",)
    pattern: str | None = None

    @model_validator(mode="after")
    def _pattern(self) -> AppliesIf:
        if self.kind == "regex" and not self.pattern:
            raise ValueError("a regex applies_if needs `pattern`")
        return self


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float = Field(gt=0)
    description: str = ""
    check: Check
    applies_if: AppliesIf | None = None


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    zero_on_severity: tuple[Literal["critical", "major", "minor"], ...] = ("critical",)
    criteria: tuple[Criterion, ...]


def load_scorecard(path: Path | str | None = None) -> Scorecard:
    """Load and validate a scorecard YAML (default: the bundled one)."""
    path = Path(path) if path is not None else SCORECARD_PATH
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: can't read the scorecard ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}; fix the marked line") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("criteria"), dict):
        raise ConfigError(f"{path}: needs `version` and a `criteria:` mapping")
    crits = []
    for name, spec in doc["criteria"].items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: criterion {name!r} must be a mapping with weight and check")
        try:
            crits.append(Criterion(name=str(name), **spec))
        except (ValidationError, TypeError) as exc:
            raise ConfigError(f"{path}: criterion {name!r}: {exc}. Fix: give `weight` (> 0) and "
                              "`check` ({kind: regex|resolution|compliance, ...})") from exc
    missing = [c for c in CRITERIA if c not in {x.name for x in crits}]
    if missing:
        raise ConfigError(f"{path}: missing criteria {missing}; every scorecard has "
                          f"{', '.join(CRITERIA)}")
    try:
        return Scorecard(version=str(doc.get("version", "")),
                         zero_on_severity=tuple(doc.get("zero_on_severity", ("critical",))),
                         criteria=tuple(crits))
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
