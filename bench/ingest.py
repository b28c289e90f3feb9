"""Ingest throughput and peak memory on ~1M simulated turns.

    .venv/bin/python bench/ingest.py [--conversations 110000]

Prints a table: turns/s and peak RSS for each stage, every stage in its own fresh
subprocess (so peak RSS is that stage's own), all on the same input in the same run:

- ``parse``: read + json-decode every line (the floor any ingest pays; the baseline);
- ``normalize``: + flatten into canonical frames;
- ``validate``: + the Great Expectations hard and soft suites;
- ``full``: parse, normalise, validate, redact and write to a fresh DuckDB (``tierlens ingest``);
- ``redact``: PII redaction alone (``redact_frame`` on every batch's turns, only that timed),
  the throughput the redactor itself has. With ``--baseline-src DIR`` (a ``src`` folder of
  another version, e.g. ``git archive <commit> src | tar -x -C /tmp/old``) it runs a second
  time on that version's code (``--baseline-stages redact,full`` for more stages), same
  input, same run: the before/after of a redactor change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE_CODE = r"""
import json, sys, time, resource
from pathlib import Path
stage, src, db = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
from tierlens.ingest.readers import read_jsonl
from tierlens.ingest.pipeline import batches
try:
    from tierlens.stages.ingest import ingest_paths
except ImportError:  # a --baseline-src from before the stages package
    from tierlens.ingest.pipeline import ingest_paths
from tierlens.settings import Settings
settings = Settings(warehouse=db)
t0 = time.perf_counter()
turns = 0
if stage == "redact":
    from tierlens.ingest.normalize import normalize
    from tierlens.ingest.redact import redact_frame
    seconds = 0.0
    for recs in batches(read_jsonl(src), settings.batch_turns):
        tr = normalize(recs, settings.pseudonym_salt).turns.drop("_rec")
        t1 = time.perf_counter()
        redact_frame(tr)
        seconds += time.perf_counter() - t1
        turns += tr.height
    t0 = time.perf_counter() - seconds
elif stage == "full":
    from tierlens.store.db import connect
    con = connect(db)
    t0 = time.perf_counter()
    rep = ingest_paths(con, [src], settings)
    turns = rep.turns_stored
    assert rep.reconciles()
else:
    from tierlens.ingest.normalize import normalize
    from tierlens.validate import validate_batch
    if stage == "validate":
        import great_expectations  # import cost is paid once per process, not per batch
        t0 = time.perf_counter()
    for recs in batches(read_jsonl(src), settings.batch_turns):
        if stage == "parse":
            turns += sum(len(r.payload["turns"]) for r in recs)
            continue
        b = normalize(recs, settings.pseudonym_salt)
        turns += b.turns.height
        if stage == "validate":
            validate_batch(b.conversations, b.turns, max_turn_chars=settings.max_turn_chars,
                           huge_conversation_turns=settings.huge_conversation_turns)
elapsed = time.perf_counter() - t0
print(json.dumps({"turns": turns, "seconds": elapsed,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=110_000)
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep simulated data here")
    ap.add_argument("--stages", default="parse,normalize,validate,full,redact")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="a src/ folder of another version: its --baseline-stages run too")
    ap.add_argument("--baseline-stages", default="redact")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="tl-bench-ingest-"))
    src = work / "conversations.jsonl.gz"
    if not src.exists():
        from tierlens.simulate import simulate

        t = time.perf_counter()
        simulate(n_conversations=args.conversations, months=6, seed=11, out_dir=work)
        print(f"simulated {args.conversations} conversations in {time.perf_counter() - t:.1f}s")
    rows = []
    runs = [(stage, None) for stage in args.stages.split(",")]
    if args.baseline_src is not None:
        runs += [(stage, args.baseline_src.resolve()) for stage in args.baseline_stages.split(",")]
    for stage, code_dir in runs:
        db = work / f"bench-{stage}.duckdb"
        db.unlink(missing_ok=True)
        env = dict(os.environ)
        if code_dir is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(code_dir), env.get("PYTHONPATH", "")])
        out = subprocess.run([sys.executable, "-c", STAGE_CODE, stage, str(src), str(db)],
                             capture_output=True, text=True, check=True, env=env)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label = stage if code_dir is None else f"{stage} (baseline)"
        rows.append((label, r["turns"], r["seconds"], r["turns"] / r["seconds"], r["rss_mb"]))
    base = rows[0][3]
    print(f"\n{'stage':<18} {'turns':>10} {'seconds':>8} {'turns/s':>10} {'vs parse':>9} "
          f"{'peak RSS MB':>12}")
    for stage, turns, secs, rate, rss in rows:
        print(f"{stage:<18} {turns:>10,} {secs:>8.1f} {rate:>10,.0f} {rate / base:>9.2f} "
              f"{rss:>12,.0f}")


if __name__ == "__main__":
    main()
