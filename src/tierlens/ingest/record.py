"""The unit every reader yields: one conversation, or the reason it couldn't be read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierlens.errors import RecordError


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One conversation as read from a source, or the reason it couldn't be read."""

    source_file: str
    source_line: int  # 1-based line (JSONL), first data row (CSV/Parquet) or record index
    payload: dict[str, Any] | None
    error: RecordError | None = None
