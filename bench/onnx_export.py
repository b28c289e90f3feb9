"""How long the first run's int8 ONNX export of the encoder takes (README: "The first run
also exports the int8 encoder to ONNX").

Each repetition runs in a fresh process with an empty runtime folder, as a first run does:
it exports and loads the int8 graph, then loads it again from the folder (what every later
run pays). Prints wall-clock and CPU seconds, and the load average (the machine is shared).

    .venv/bin/python bench/onnx_export.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, os, resource, sys, tempfile, time
from pathlib import Path
from tierlens.score.encoder import load_int8_session, model_dir

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

with tempfile.TemporaryDirectory() as d:
    c0, t0 = cpu(), time.perf_counter()
    load_int8_session(model_dir(), Path(d), 1)
    c1, t1 = cpu(), time.perf_counter()
    load_int8_session(model_dir(), Path(d), 1)
    t2 = time.perf_counter()
print(json.dumps({"export_wall": t1 - t0, "export_cpu": c1 - c0, "cached_wall": t2 - t1,
                  "load": os.getloadavg()[0]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print("| run | export + load, wall s | export + load, CPU s | cached load, wall s | "
          "load average |")
    print("|---|---|---|---|---|")
    for i in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                             check=True, env={**os.environ, "TQDM_DISABLE": "1"})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {i + 1} | {r['export_wall']:.1f} | {r['export_cpu']:.1f} | "
              f"{r['cached_wall']:.2f} | {r['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
