"""Helpers for the flow tests: a simulated inbox, flow subprocesses, warehouse comparison."""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import db_rows

REPO = Path(__file__).resolve().parents[2]

# Tables compared between two warehouses, with the columns that legitimately differ between
# runs (run ids and wall-clock timestamps). Run ledgers (ingest_runs, flow_runs,
# compliance_runs) are not compared: they record runs, and a crashed run is one more run.
COMPARED: dict[str, tuple[str, ...]] = {
    "core_conversations": (), "core_turns": (), "pii_spans": (),
    "ingested_files": ("run_id",), "quarantine": ("run_id",), "dq_results": ("run_id",),
    "turn_scores": (), "model_conversation_scores": (), "compliance_hits": (),
    "compliance_scores": (), "compliance_rulebooks": ("registered_at",),
    "outcomes": ("derived_at",), "kpi_monthly_all": ("derived_at",),
    "qa_criteria_scores": (), "misroute_matrix": (), "current_versions": ("set_at",),
    "applied_versions": ("applied_at",), "routing_policy": (),
    "alerts": ("alert_id", "run_id", "raised_at", "subject", "message"),
}


def make_inbox(sim_dir: Path, inbox: Path, small: int) -> dict[str, int]:
    """Split the simulated conversations into ``a_small`` (``small`` records) and ``b_big``
    (the rest), plus ``c_broken`` (a file that can't be parsed). Returns records per file."""
    with gzip.open(sim_dir / "conversations.jsonl.gz", "rt") as fh:
        lines = fh.read().splitlines()
    inbox.mkdir(parents=True, exist_ok=True)
    with gzip.open(inbox / "a_small.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines[:small]) + "\n")
    with gzip.open(inbox / "b_big.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines[small:]) + "\n")
    (inbox / "c_broken.jsonl.gz").write_bytes(b"\x1f\x8b this is not gzip at all")
    return {"a_small": small, "b_big": len(lines) - small}


def flow_env(api_url: str | None) -> dict[str, str]:
    env = {**os.environ, "TIERLENS_BATCH_TURNS": "1000", "PYTHONUNBUFFERED": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "INFO",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def start_flow(module: str, params: dict, env: dict[str, str]) -> subprocess.Popen:
    """``python -m flows.<module> PARAMS`` in its own process group."""
    return subprocess.Popen([sys.executable, "-m", f"flows.{module}", json.dumps(params)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def run_flow(module: str, params: dict, env: dict[str, str], timeout: float = 900
             ) -> tuple[dict, str]:
    """Run a flow to the end; returns (its printed result, its output)."""
    proc = start_flow(module, params, env)
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"flow {module} exited {proc.returncode}:\n{out[-4000:]}")
    return json.loads(out.strip().splitlines()[-1]), out


def kill_after(module: str, params: dict, env: dict[str, str], pattern: str, delay: float,
               timeout: float = 900) -> str:
    """Start a flow, wait for a log line matching ``pattern``, wait ``delay`` seconds more,
    then SIGKILL its whole process group. Returns the output seen."""
    proc = start_flow(module, params, env)
    seen: list[str] = []
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if rx.search(line):
            time.sleep(delay)
            break
        if time.monotonic() > deadline:
            break
    else:
        proc.wait()
        raise AssertionError("flow ended before the kill point:\n" + "".join(seen)[-4000:])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    proc.stdout.close()
    return "".join(seen)


def count(db: Path, sql: str) -> int:
    return db_rows(db, sql)[0][0]


# Float columns are compared with a tolerance: model heads run float32 matrix products whose
# summation order depends on the batch shape and the BLAS thread count, so a worker process can
# differ in the last bits (seen: 3.6e-7). Bit-equality of scores is not a product promise (of
# embeddings it is: tests/score/test_score_encoder.py). Everything else must match exactly.
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL", "DECIMAL"}
REL_TOL, ABS_TOL = 1e-5, 1e-6


def _close(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Tables whose contents differ (as multisets, minus the excluded columns):
    table -> (rows only in a, rows only in b). Empty when the warehouses are equal.

    Non-float columns must match exactly. Rows are then paired in the order of all their
    columns, and each float must agree within ``REL_TOL``/``ABS_TOL``; a pair that doesn't
    counts once on each side."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    out = {}
    for table, skip in COMPARED.items():
        typed = [(r[0], r[1]) for r in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = 'a' AND table_name = ? ORDER BY ordinal_position",
            [table]).fetchall() if r[0] not in skip]
        exact = [c for c, t in typed if t.split("(")[0] not in FLOAT_TYPES]
        floats = [c for c, t in typed if t.split("(")[0] in FLOAT_TYPES]
        sel = ", ".join(f'"{c}"' for c in exact) or "1"
        only_a = con.execute(f"SELECT count(*) FROM (SELECT {sel} FROM a.{table} EXCEPT ALL "
                             f"SELECT {sel} FROM b.{table})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM (SELECT {sel} FROM b.{table} EXCEPT ALL "
                             f"SELECT {sel} FROM a.{table})").fetchone()[0]
        if not (only_a or only_b) and floats:
            cols = ", ".join(f'"{c}"' for c in exact + floats)
            order = ", ".join(f'"{c}" NULLS FIRST' for c in exact + floats)
            rows_a = con.execute(f"SELECT {cols} FROM a.{table} ORDER BY {order}").fetchall()
            rows_b = con.execute(f"SELECT {cols} FROM b.{table} ORDER BY {order}").fetchall()
            k = len(exact)
            bad = sum(1 for ra, rb in zip(rows_a, rows_b)
                      if ra[:k] != rb[:k] or not all(map(_close, ra[k:], rb[k:])))
            only_a = only_b = bad
        if only_a or only_b:
            out[table] = (only_a, only_b)
    con.close()
    return out


def table_sizes(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COMPARED}
    finally:
        con.close()
