"""The warehouse comparison used by the flow, crash and Dask tests: exact on labels, counts and
versions; tolerant only on float columns, and only to last-bit noise."""

from __future__ import annotations

import duckdb
import pytest

from tests.flows import flow_helpers


def _db(path, rows):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (id INTEGER, label VARCHAR, score DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    con.close()
    return path


@pytest.fixture
def compare_t(monkeypatch):
    monkeypatch.setattr(flow_helpers, "COMPARED", {"t": ()})


BASE = [(1, "neg", 0.25), (2, "pos", 0.9), (3, "neu", None)]


def test_equal_and_last_bit_noise_pass(tmp_path, compare_t):
    a = _db(tmp_path / "a.duckdb", BASE)
    noisy = [(1, "neg", 0.25 + 3.6e-7), (2, "pos", 0.9 - 1e-9), (3, "neu", None)]
    assert flow_helpers.differences(a, _db(tmp_path / "b.duckdb", noisy)) == {}
    assert flow_helpers.differences(a, _db(tmp_path / "c.duckdb", BASE[::-1])) == {}


@pytest.mark.parametrize("other", [
    [(1, "pos", 0.25), (2, "pos", 0.9), (3, "neu", None)],    # a label differs
    [(1, "neg", 0.26), (2, "pos", 0.9), (3, "neu", None)],    # a real score difference
    [(1, "neg", 0.25), (2, "pos", 0.9), (3, "neu", 0.1)],     # NULL vs a value
    [(1, "neg", 0.25), (2, "pos", 0.9)],                       # a row lost
    BASE + [(1, "neg", 0.25)],                                  # a row doubled
])
def test_real_differences_are_reported(tmp_path, compare_t, other):
    a = _db(tmp_path / "a.duckdb", BASE)
    assert "t" in flow_helpers.differences(a, _db(tmp_path / "b.duckdb", other))
