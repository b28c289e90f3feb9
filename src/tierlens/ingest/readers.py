"""Readers: turn a file into a stream of :class:`RawRecord` (one per conversation).

Built-in formats:

- ``jsonl`` (also ``.jsonl.gz``, ``.ndjson``): one conversation per line (the input contract);
- ``csv`` / ``parquet``: one turn per row, conversation fields repeated on every row;
- adapters listed in :mod:`tierlens.ingest.registry` (Contact Lens JSON, Twitter threads),
  each chosen by its ``sniff`` function.

Every reader streams: memory is bounded by one batch (CSV/Parquet) or one line (JSONL),
except where a format needs the whole file (documented per adapter).

A reader never raises for a single bad record: it yields a ``RawRecord`` with ``error``
set, which the pipeline sends to quarantine. It raises :class:`InputError` only when the
whole file is unusable (for example a truncated gzip stream *after* the good lines have
been yielded: then the error is yielded as a record too, so nothing before it is lost).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from tierlens.errors import InputError, RecordError
from tierlens.ingest.jsonlines import read_jsonl
from tierlens.ingest.record import RawRecord
from tierlens.ingest.registry import Reader, adapter_reader, sniffed_format

__all__ = ["RawRecord", "Reader", "detect_format", "read_csv", "read_jsonl", "read_parquet",
           "reader_for"]

HEAD_BYTES = 64 * 1024
CSV_BATCH_ROWS = 100_000

# Columns of the one-turn-per-row layout. Conversation-level columns are repeated per row.
CONVERSATION_COLUMNS = ("conversation_id", "channel", "customer_id", "started_at", "ended_at",
                        "queue", "language", "csat", "nps", "metadata")
TURN_COLUMNS = ("speaker", "text", "ts", "agent_id", "bot_confidence", "event", "turn_queue")
REQUIRED_ROW_COLUMNS = ("conversation_id", "started_at", "speaker", "text")


def _rows_to_conversations(src: str, frames: Iterator[pl.DataFrame], *,
                           text_file: bool = False) -> Iterator[RawRecord]:
    """Group one-turn-per-row batches into conversations, streaming.

    Rows of one conversation must be contiguous (every export we know writes them so).
    A conversation is flushed when the id changes, so memory holds one conversation at a
    time. If an id comes back later in the file, that fragment is a second record with
    the same id, which the pipeline quarantines as ``duplicate_id`` with both row numbers.
    A row repeated verbatim within its conversation is one turn, stored once. In a text file
    (CSV, read lossily) a cell holding U+FFFD was invalid UTF-8: its conversation is
    quarantined as ``invalid_utf8``, as a JSONL line would be.
    """
    current: dict[str, Any] | None = None
    current_key: object = object()
    error: RecordError | None = None
    seen_rows: set[tuple] = set()
    first_row = 0
    row_offset = 0
    header = 2 if text_file else 1  # CSV row numbers count the header line
    for df in frames:
        missing = [c for c in REQUIRED_ROW_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(f"{src}: missing required column(s) {', '.join(missing)}; "
                             f"a one-turn-per-row file needs {', '.join(REQUIRED_ROW_COLUMNS)}")
        lossy = _lossy_rows(df) if text_file else {}
        for i, row in enumerate(df.iter_rows(named=True)):
            key = row.get("conversation_id")
            if current is None or key != current_key:
                if current is not None:
                    yield RawRecord(src, first_row, current, error)
                current = {c: row.get(c) for c in CONVERSATION_COLUMNS if c in row}
                current["turns"] = []
                current_key, first_row, error = key, row_offset + i + header, None
                seen_rows.clear()
            if i in lossy and error is None:
                error = RecordError("invalid_utf8", f"column {lossy[i]} (row "
                                    f"{row_offset + i + header}) is not valid UTF-8; re-export "
                                    "the file as UTF-8", lossy[i])
            values = tuple(row.values())
            if values in seen_rows:
                continue  # the same row twice: one turn
            seen_rows.add(values)
            turn = {c: row.get(c) for c in TURN_COLUMNS if c in row}
            if "turn_queue" in turn:
                turn["queue"] = turn.pop("turn_queue")
            current["turns"].append(turn)
        row_offset += df.height
    if current is not None:
        yield RawRecord(src, first_row, current, error)


def _lossy_rows(df: pl.DataFrame) -> dict[int, str]:
    """Row index -> first column holding U+FFFD (what a lossy read makes of invalid UTF-8)."""
    cols = [c for c, t in df.schema.items() if t == pl.String]
    if not cols:
        return {}
    hits = df.select(pl.col(c).str.contains("\ufffd", literal=True).fill_null(False)
                     for c in cols)
    rows = hits.select(pl.any_horizontal(pl.all()).arg_true()).to_series().to_list()
    return {r: next(c for c in cols if hits[c][r]) for r in rows}


def _check_text_head(path: Path) -> None:
    """Reject, once per file, encodings and line endings the CSV reader would misread."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: UTF-16 CSV is not read; re-export it as UTF-8")
    if b"\x00" in head:
        raise InputError(f"{path}: holds NUL bytes (UTF-16/32 without a byte-order mark, or "
                         "not a text file); re-export it as UTF-8 CSV")
    if b"\r" in head and b"\n" not in head:
        raise InputError(f"{path}: CR-only line endings are not read; re-export the CSV with "
                         "LF or CRLF line endings")


def read_csv(path: Path) -> Iterator[RawRecord]:
    src = str(path)
    if path.stat().st_size == 0:
        return  # an empty file holds no records
    _check_text_head(path)
    try:
        reader = pl.read_csv_batched(path, infer_schema_length=0, batch_size=CSV_BATCH_ROWS,
                                     encoding="utf8-lossy")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        raise InputError(f"{src}: can't read as CSV ({exc})") from exc

    def frames() -> Iterator[pl.DataFrame]:
        try:
            while batches := reader.next_batches(1):
                for df in batches:
                    twice = sorted({c.split("_duplicated_")[0] for c in df.columns
                                    if "_duplicated_" in c} & set(df.columns))
                    if twice:
                        raise InputError(f"{src}: column {twice[0]!r} appears twice in the "
                                         "header, so which value was meant is ambiguous")
                    yield df
        except pl.exceptions.NoDataError:
            return
        except pl.exceptions.ComputeError as exc:
            raise InputError(f"{src}: malformed CSV ({str(exc).splitlines()[0]})") from exc

    yield from _rows_to_conversations(src, frames(), text_file=True)


def read_parquet(path: Path) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    src = str(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise InputError(f"{src}: can't read as Parquet ({exc})") from exc

    def frames() -> Iterator[pl.DataFrame]:
        for batch in pf.iter_batches(batch_size=CSV_BATCH_ROWS):
            yield pl.from_arrow(batch)  # type: ignore[misc]

    yield from _rows_to_conversations(src, frames())


BUILTIN: dict[str, Reader] = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def detect_format(path: Path) -> str:
    """Pick a reader by adapter sniffing first, then by file extension."""
    name = path.name.lower()
    try:
        with (gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")) as fh:
            head = fh.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        if name.endswith(".gz"):
            return "jsonl"  # let the streaming reader report the corruption per line
        raise InputError(f"{path}: can't read ({exc.strerror or exc})") from exc
    sniffed = sniffed_format(path, head)
    if sniffed is not None:
        return sniffed
    for suffix, fmt in ((".jsonl", "jsonl"), (".jsonl.gz", "jsonl"), (".ndjson", "jsonl"),
                        (".ndjson.gz", "jsonl"), (".csv", "csv"), (".parquet", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise InputError(f"{path}: unknown format; expected .jsonl[.gz], .csv, .parquet or a "
                     "format an adapter recognises (see docs/adapters.md)")


def reader_for(fmt: str) -> Reader:
    if fmt in BUILTIN:
        return BUILTIN[fmt]
    adapter = adapter_reader(fmt)
    if adapter is not None:
        return adapter
    raise InputError(f"no reader for format {fmt!r}")
