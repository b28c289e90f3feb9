"""Shared fixtures. Tests run on real components: a real DuckDB in a tmp dir, real GX."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
# The audit chain's HMAC key: one per test session, never the user's own key file.
os.environ.setdefault("TIERLENS_AUDIT_KEY_FILE",
                      str(Path(tempfile.mkdtemp(prefix="tierlens-key-")) / "audit.key"))

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"


@pytest.fixture
def settings(tmp_path):
    from tierlens.settings import Settings

    return Settings(warehouse=tmp_path / "wh" / "t.duckdb", serving_dir=tmp_path / "serving",
                    inbox=tmp_path / "inbox", cache_dir=tmp_path / "cache", batch_turns=1_000)


@pytest.fixture
def con(settings):
    from tierlens.store.db import connect

    c = connect(settings.warehouse)
    yield c
    c.close()


def conversation(cid: str = "c-1", **over) -> dict:
    """A valid conversation in the input contract (PRODUCT.md)."""
    base = {
        "conversation_id": cid, "channel": "chat", "customer_id": "cust-77",
        "started_at": "2026-10-01T09:14:03Z", "ended_at": "2026-10-01T09:21:40Z",
        "queue": "bot", "language": "en", "csat": 4, "metadata": {"brand": "acme"},
        "turns": [
            {"speaker": "customer", "text": "I was charged twice", "ts": "2026-10-01T09:14:03Z"},
            {"speaker": "bot", "text": "I can help with billing.", "ts": "2026-10-01T09:14:05Z",
             "agent_id": "bot-v3", "bot_confidence": 0.62},
            {"speaker": "system", "event": "handoff", "text": "", "ts": "2026-10-01T09:14:10Z"},
            {"speaker": "agent", "text": "Hi, I'm Sam from billing...",
             "ts": "2026-10-01T09:14:30Z", "agent_id": "agent-17"},
        ],
    }
    base.update(over)
    return base


def write_jsonl(path: Path, records: list, gz: bool = False) -> Path:
    lines = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(lines)
    else:
        path.write_text(lines)
    return path


def db_rows(db: Path, sql: str) -> list[tuple]:
    """Every row of ``sql`` on the DuckDB file ``db``, opened read-only and closed again (so a
    CLI or flow process can open it next)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table_contents(con, tables=("core_conversations", "core_turns", "pii_spans", "quarantine",
                                "dq_results", "ingested_files")) -> dict:
    """Every row of the data tables, in a canonical order (run-id columns excluded)."""
    out = {}
    for t in tables:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [t]).fetchall() if r[0] != "run_id"]
        sel = ", ".join(cols)
        out[t] = con.execute(f"SELECT {sel} FROM {t} ORDER BY ALL").fetchall()
    return out
