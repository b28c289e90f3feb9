"""CSV exports neutralise formula-like cells (CSV injection), in every export path."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from typer.testing import CliRunner

from tierlens.export import FORMULA_PREFIXES, csv_safe, safe_cell
from tierlens.settings import Settings

ATTACKS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]


def _cells(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), cell


@pytest.mark.parametrize("value", ATTACKS)
def test_formula_cells_get_a_leading_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert csv_safe(pl.DataFrame({"v": [value]}))["v"].to_list() == ["'" + value]


def test_plain_text_numbers_and_nulls_are_untouched() -> None:
    frame = pl.DataFrame({"queue": ["billing", "a-b", None], "delta": [-1.5, 2.0, None],
                          "n": [-3, 0, 4]})
    out = csv_safe(frame)
    assert out["queue"].to_list() == ["billing", "a-b", None]
    assert out["delta"].to_list() == [-1.5, 2.0, None] and out["n"].to_list() == [-3, 0, 4]


def test_nested_and_categorical_columns_are_escaped_too() -> None:
    frame = pl.DataFrame({"tags": [["=x", "ok"]], "meta": [{"a": "=1"}]}).with_columns(
        q=pl.Series(["@agent"], dtype=pl.Categorical))
    row = csv_safe(frame).row(0, named=True)
    assert row["tags"] == "'=x; ok" and row["q"] == "'@agent"
    assert not row["meta"].startswith(FORMULA_PREFIXES)


def test_dashboard_csv_export_escapes_red_flag_queue_notes_and_leaderboards() -> None:
    from tierlens.dashboard.ui import to_csv

    frame = pl.DataFrame({"first_queue": ATTACKS, "note": ATTACKS, "agent_id": ATTACKS,
                          "qa_score": [-1.0] * len(ATTACKS)})
    rows = _cells(to_csv(frame))
    _assert_no_formula([row[:3] for row in rows[1:]])
    assert rows[1][0] == "'" + ATTACKS[0]
    assert rows[1][3] == "-1.0"  # a number stays a number


def test_kpi_csv_is_escaped() -> None:
    from tierlens.metrics.catalogue import render_kpis

    frame = pl.DataFrame({"month": ["2026-10"], "tier": ["=evil"], "kpi": ["@x"],
                          "value": [-0.5]})
    rows = _cells(render_kpis(frame, "csv"))
    assert rows[1] == ["2026-10", "'=evil", "'@x", "-0.5"]


def test_cli_export_corrections_is_escaped(tmp_path, monkeypatch) -> None:
    from tierlens.cli import app
    from tierlens.reviews import store as reviews
    from tierlens.settings import get_settings

    monkeypatch.setenv("TIERLENS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        reviews.record_label_correction(reviews.default_path(Settings()), "c-1", 0, "sentiment", None,
                                        "negative", "qa", text="=1+1 is wrong on my bill", settings=Settings())
        out = tmp_path / "c.csv"
        result = CliRunner().invoke(app, ["export-corrections", "sentiment", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert _cells(out.read_text(encoding="utf-8")) == [
            ["text", "label"], ["'=1+1 is wrong on my bill", "negative"]]
    finally:
        get_settings.cache_clear()
