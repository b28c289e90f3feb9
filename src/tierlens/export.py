"""Spreadsheet-safe CSV: neutralise cells a spreadsheet would run as a formula.

A CSV cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
evaluated as a formula by Excel, LibreOffice and Google Sheets when the file is opened
("CSV injection"). Transcript-derived text reaches every export (queue names, disposition
notes, agent ids, customer words), so every CSV writer in tierlens passes its frame through
:func:`csv_safe` first: such a cell gets a leading apostrophe (``'=1+1``), the OWASP
recommendation, which spreadsheets show as text. Only text cells change; numbers (a
negative KPI delta) stay numbers.
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = "^[" + re.escape("".join(FORMULA_PREFIXES)) + "]"


def safe_cell(value: str) -> str:
    """One text cell, escaped if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with nested columns flattened to text and formula-like text cells escaped."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Array):
            col, dtype = col.arr.to_list(), pl.List(dtype.inner)
        if isinstance(dtype, pl.List):
            col, dtype = col.cast(pl.List(pl.String)).list.join("; "), pl.String
        elif isinstance(dtype, pl.Struct):
            col, dtype = col.struct.json_encode(), pl.String
        if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
            text = col.cast(pl.String)
            col = pl.when(text.str.contains(_FORMULA_START)).then(pl.lit("'") + text) \
                .otherwise(text)
        exprs.append(col.alias(name))
    return frame.select(exprs)


def write_csv_safe(frame: pl.DataFrame, file=None) -> str | None:
    """``frame.write_csv(file)`` after :func:`csv_safe`."""
    return csv_safe(frame).write_csv(file)
