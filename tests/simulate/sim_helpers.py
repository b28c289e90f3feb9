"""Helpers shared by the simulator tests (imported by module name; pytest puts this folder on
sys.path because tests/ has no __init__.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
