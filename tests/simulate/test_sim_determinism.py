"""Same seed => byte-identical files; a different seed => different data."""

from __future__ import annotations

import os
import subprocess
import sys

from tierlens.simulate import DEMO, simulate

FILES = ("conversations.jsonl.gz", "truth/ground_truth.jsonl.gz", "truth/ground_truth_kpis.json")


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    a = simulate(400, 2, 5, tmp_path / "a")
    b = simulate(400, 2, 5, tmp_path / "b")
    c = simulate(400, 2, 6, tmp_path / "c")
    for name in FILES:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
        assert (a.out_dir / name).read_bytes() != (c.out_dir / name).read_bytes(), name


def test_output_does_not_depend_on_the_hash_seed(tmp_path):
    a = simulate(400, 1, 9, tmp_path / "a")
    code = ("from pathlib import Path; from tierlens.simulate import simulate; "
            f"simulate(400, 1, 9, Path({str(tmp_path / 'b')!r}))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    for name in FILES:
        assert (a.out_dir / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_demo_defaults_are_declared():
    assert DEMO == {"conversations": 3000, "months": 4, "seed": 7}
