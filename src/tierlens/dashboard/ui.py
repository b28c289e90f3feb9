"""Small Streamlit helpers shared by the pages: cached queries, drill-down tables, highlighting.

:func:`q` runs a query function of :mod:`tierlens.dashboard.queries` (passed by reference:
``ui.q(routing_q.misroute_matrix)``) on a fresh read-only snapshot connection, cached with a
TTL and keyed on the snapshot's mtime, so a newly published snapshot is picked up at once. A table the pipeline hasn't computed yet becomes an info
box ("not computed yet - run `tierlens score`") and ``None``, never a crash; a query that
fails for any other reason becomes a one-line error (its details, SQL and paths included,
go to the server log only).
"""

from __future__ import annotations

import html
import importlib
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from tierlens.dashboard import context, queries
from tierlens.dashboard.queries.base import connect as connect_snapshot
from tierlens.errors import StoreError
from tierlens.export import csv_safe
from tierlens.reviews import audit
from tierlens.reviews import store as reviews
from tierlens.settings import Settings

CACHE_TTL_S = 900  # the key has the snapshot's mtime: a new publish invalidates at once
LOG = logging.getLogger("tierlens.dashboard")


def settings() -> Settings:
    """This run's settings, installed by the app (dashboards/streamlit_app.py)."""
    return context.settings()


def snapshot() -> Path:
    return queries.snapshot(settings())


def review_store() -> Path:
    """The review store's path, after checking it can be read: if it can't (a corrupt file),
    the page shows one line and stops here, never a traceback with the server's paths."""
    path = reviews.default_path(settings())
    try:
        audit.check_readable(path)
    except StoreError as exc:
        LOG.error("%s", exc)
        st.error("The review store can't be read, so reviews and dispositions are unavailable. "
                 "An admin can check it with `tierlens audit verify`.")
        st.stop()
    return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


_QUERY_PACKAGE = queries.__name__ + "."


def _resolve(module: str, name: str) -> Callable[..., Any]:
    if not module.startswith(_QUERY_PACKAGE):
        raise ValueError(f"{module}.{name} is not a dashboard query")
    return getattr(importlib.import_module(module), name)


@st.cache_resource(max_entries=2, show_spinner=False)
def _database(snap: str, mtime: float) -> duckdb.DuckDBPyConnection:
    """One read-only DuckDB instance per published snapshot (its mtime is in the key, so a new
    publish opens the new file). Each query takes a cursor of it: no file open per query, and
    DuckDB's buffer cache stays warm across queries and sessions. A replaced snapshot's
    instance keeps reading the file it opened until it is dropped from this cache."""
    return connect_snapshot(Path(snap))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=512, show_spinner=False)
def _cached(module: str, name: str, snap: str, mtime: float, args: tuple, kwargs: tuple) -> Any:
    con = _database(snap, mtime).cursor()  # a cursor per query: safe across session threads
    try:
        return _resolve(module, name)(con, *args, **dict(kwargs))
    finally:
        con.close()


def q(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the query ``fn(con, *args)`` of a ``tierlens.dashboard.queries.<page>`` module
    (cached by its module and name); on NotComputed show an info box and return None."""
    snap = snapshot()
    fn_name = f"{fn.__module__}.{fn.__name__}"
    try:
        return _cached(fn.__module__, fn.__name__, str(snap), _mtime(snap), args,
                       tuple(sorted(kwargs.items())))
    except queries.NotComputed as exc:
        st.info(f"Not computed yet: {exc}")
        return None
    except (duckdb.Error, pl.exceptions.PolarsError):
        LOG.exception("query %s%r failed", fn_name, args)
        st.error("This view couldn't be loaded: its query failed. The details are in the "
                 "server log.")
        return None


def warn(problems: list[str]) -> None:
    """Show each dropped link value (see :mod:`tierlens.dashboard.params`) as one warning."""
    for line in problems:
        st.warning(line)


def failed(exc: Exception) -> None:
    """The last resort for an error a page didn't handle: one line, no traceback, no paths."""
    LOG.error("page failed", exc_info=exc)
    if isinstance(exc, StoreError):
        st.error("A data store can't be read right now. An admin can find the details in the "
                 "server log and check the review store with `tierlens audit verify`.")
    else:
        st.error("This page hit an unexpected error. The details are in the server log.")


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV export; cells a spreadsheet would run as a formula are escaped (tierlens.export)."""
    return csv_safe(frame).write_csv().encode("utf-8")


def to_parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def drill_table(frame: pl.DataFrame | None, name: str, label: str = "Rows behind this chart",
                parquet: bool = False, expanded: bool = False) -> None:
    """The rows behind a chart, with CSV (and Parquet) export."""
    if frame is None:
        return
    with st.expander(f"{label} ({frame.height} rows)", expanded=expanded):
        st.dataframe(frame, width="stretch", hide_index=True)
        cols = st.columns(2)
        cols[0].download_button("Export CSV", to_csv(frame), file_name=f"{name}.csv",
                                mime="text/csv", key=f"csv-{name}")
        if parquet:
            cols[1].download_button("Export Parquet", to_parquet(frame),
                                    file_name=f"{name}.parquet",
                                    mime="application/octet-stream", key=f"pq-{name}")


def drill_on_demand(label: str, name: str, fn: Callable[..., Any], *args: Any,
                    parquet: bool = False) -> None:
    """A toggle that runs the query ``fn`` only when asked (big drill-downs), then the rows
    with export, so a page doesn't pay for drill-downs nobody opened."""
    if st.toggle(label, key=f"drill-{name}"):
        drill_table(q(fn, *args), name, label=label, parquet=parquet, expanded=True)


_PLACEHOLDER = re.compile(r"\[[A-Z]+\]")


def evidence_span(flag: dict[str, Any], title: str) -> tuple[int, int, str, str | None]:
    """A compliance hit as a :func:`highlight` span. A hit whose matched text is a PII
    placeholder (a card the redaction missed, found by the Luhn scan, is stored as
    ``[CARD]``) shows the placeholder, never the raw characters at its span."""
    matched = flag.get("matched_text")
    shown = matched if matched and _PLACEHOLDER.fullmatch(matched) else None
    return int(flag["span_start"]), int(flag["span_end"]), title, shown


def highlight(text: str, spans: list[tuple]) -> str:
    """HTML of ``text`` with each ``(start, end, title[, shown])`` span wrapped in ``<mark>``
    (escaped); with ``shown``, the mark holds ``shown`` instead of the span's characters.

    Overlapping or out-of-range spans are clipped; the text itself is always escaped.
    """
    out, pos = [], 0
    for start, end, title, shown in sorted(
            (max(0, sp[0]), min(len(text), sp[1]), sp[2], sp[3] if len(sp) > 3 else None)
            for sp in spans if sp[0] is not None and sp[1] is not None):
        if end <= pos or start >= end:
            continue
        start = max(start, pos)
        out.append(html.escape(text[pos:start]))
        inner = text[start:end] if shown is None else shown
        out.append(f'<mark title="{html.escape(title)}">{html.escape(inner)}</mark>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "unknown"
    if pct:
        return f"{100 * float(value):.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _state(path: Path) -> tuple[int, int, int]:
    """What changes when a file is written: its size, mtime and ctime (a tool can set the
    mtime back, not the ctime)."""
    try:
        st_ = path.stat()
    except FileNotFoundError:
        return 0, 0, 0
    return st_.st_size, st_.st_mtime_ns, st_.st_ctime_ns


@st.cache_data(ttl=CACHE_TTL_S, max_entries=16, show_spinner=False)
def _verify(path: str, state: tuple, wal: tuple, key_file: str, key_state: tuple
            ) -> audit.Verdict:
    return audit.verify(Path(path), key=audit.load_key(key_file))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def report_file(kind: str, month: str, table: pl.DataFrame) -> bytes:
    """The monthly report (``html`` or ``pdf``, :mod:`tierlens.dashboard.report`) of the KPI
    table shown, built once per table instead of on every rerun of the page."""
    from tierlens.dashboard import report

    if kind == "pdf":
        return report.monthly_pdf(month, table)
    return report.monthly_html(month, table).encode("utf-8")


def audit_verdict(store: Path) -> audit.Verdict:
    """The audit chain's check (:func:`tierlens.dashboard.audit.verify`), rerun only when the
    review store changed: keyed on the store file's and its write-ahead log's size, mtime and
    ctime (and the key's), so a rerun of the page (a widget change) costs a stat, not a full
    chain walk; rechecked at least every 15 minutes anyway."""
    key_file = Path(settings().audit_key_file).expanduser()
    return _verify(str(store), _state(store), _state(store.with_name(store.name + "-wal")),
                   str(key_file), _state(key_file))
