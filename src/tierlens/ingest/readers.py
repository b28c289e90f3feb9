"""Readers: turn a file into a stream of :class:`RawRecord` (one per conversation).

Built-in formats:

- ``jsonl`` (also ``.jsonl.gz``, ``.ndjson``): one conversation per line (the input contract);
- ``csv`` / ``parquet``: one turn per row, conversation fields repeated on every row;
- adapters in :mod:`tierlens.ingest.adapters` (Contact Lens JSON, Twitter threads), each
  chosen by its ``sniff`` function.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from tierlens.errors import InputError, RecordError

HEAD_BYTES = 64 * 1024
CSV_BATCH_ROWS = 100_000

# Columns of the one-turn-per-row layout. Conversation-level columns are repeated per row.
CONVERSATION_COLUMNS = ("conversation_id", "channel", "customer_id", "started_at", "ended_at",
                        "queue", "language", "csat", "nps", "metadata")
TURN_COLUMNS = ("speaker", "text", "ts", "agent_id", "bot_confidence", "event", "turn_queue")
REQUIRED_ROW_COLUMNS = ("conversation_id", "started_at", "speaker", "text")


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One conversation as read from a source, or the reason it couldn't be read."""

    source_file: str
    source_line: int  # 1-based line (JSONL), first data row (CSV/Parquet) or record index
    payload: dict[str, Any] | None
    error: RecordError | None = None


Reader = Callable[[Path], Iterator[RawRecord]]


def _open_text_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        yield from enumerate(fh, start=1)


def read_jsonl(path: Path) -> Iterator[RawRecord]:
    """One conversation per line. Blank lines are skipped (not records)."""
    src = str(path)
    lineno = 0
    try:
        for lineno, raw in _open_text_lines(path):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # UTF-8 BOM
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as uexc:
                    yield RawRecord(src, lineno, None, RecordError(
                        "invalid_utf8", f"line is not valid UTF-8 (byte {uexc.start}); "
                        "re-export the file as UTF-8"))
                    continue
                yield RawRecord(src, lineno, None, RecordError(
                    "invalid_json", f"unparseable JSON at column {exc.colno}: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                yield RawRecord(src, lineno, None, RecordError(
                    "not_an_object", f"expected a JSON object per line, got {type(obj).__name__}"))
                continue
            yield RawRecord(src, lineno, obj)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        # A truncated/corrupt stream: everything before it has been yielded already.
        yield RawRecord(src, lineno + 1, None, RecordError(
            "truncated_file", f"file is truncated or corrupt after line {lineno} ({exc}); "
            "records before it were read, re-send the complete file for the rest"))


def _rows_to_conversations(src: str, frames: Iterator[pl.DataFrame]) -> Iterator[RawRecord]:
    """Group one-turn-per-row batches into conversations, streaming.

    Rows of one conversation must be contiguous (every export we know writes them so).
    A conversation is flushed when the id changes, so memory holds one conversation at a
    time. If an id comes back later in the file, that fragment is a second record with
    the same id, which the pipeline quarantines as ``duplicate_id`` with both row numbers.
    """
    current: dict[str, Any] | None = None
    current_key: object = object()
    first_row = 0
    row_offset = 0
    header = 2 if src.lower().endswith(".csv") else 1  # CSV row numbers count the header line
    for df in frames:
        missing = [c for c in REQUIRED_ROW_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(f"{src}: missing required column(s) {', '.join(missing)}; "
                             f"a one-turn-per-row file needs {', '.join(REQUIRED_ROW_COLUMNS)}")
        for i, row in enumerate(df.iter_rows(named=True)):
            key = row.get("conversation_id")
            if current is None or key != current_key:
                if current is not None:
                    yield RawRecord(src, first_row, current)
                current = {c: row.get(c) for c in CONVERSATION_COLUMNS if c in row}
                current["turns"] = []
                current_key, first_row = key, row_offset + i + header
            turn = {c: row.get(c) for c in TURN_COLUMNS if c in row}
            if "turn_queue" in turn:
                turn["queue"] = turn.pop("turn_queue")
            current["turns"].append(turn)
        row_offset += df.height
    if current is not None:
        yield RawRecord(src, first_row, current)


def read_csv(path: Path) -> Iterator[RawRecord]:
    src = str(path)
    if path.stat().st_size == 0:
        return  # an empty file holds no records
    try:
        reader = pl.read_csv_batched(path, infer_schema_length=0, batch_size=CSV_BATCH_ROWS,
                                     encoding="utf8-lossy")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        raise InputError(f"{src}: can't read as CSV ({exc})") from exc

    def frames() -> Iterator[pl.DataFrame]:
        try:
            while batches := reader.next_batches(1):
                yield from batches
        except pl.exceptions.NoDataError:
            return
        except pl.exceptions.ComputeError as exc:
            raise InputError(f"{src}: malformed CSV ({str(exc).splitlines()[0]})") from exc

    yield from _rows_to_conversations(src, frames())


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
    from tierlens.ingest.adapters import ADAPTERS

    name = path.name.lower()
    try:
        with (gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")) as fh:
            head = fh.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        if name.endswith(".gz"):
            return "jsonl"  # let the streaming reader report the corruption per line
        raise InputError(f"{path}: can't read ({exc.strerror or exc})") from exc
    for adapter in ADAPTERS:
        if adapter.sniff(path, head):
            return adapter.NAME
    for suffix, fmt in ((".jsonl", "jsonl"), (".jsonl.gz", "jsonl"), (".ndjson", "jsonl"),
                        (".ndjson.gz", "jsonl"), (".csv", "csv"), (".parquet", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise InputError(f"{path}: unknown format; expected .jsonl[.gz], .csv, .parquet or a "
                     "format an adapter recognises (see docs/adapters.md)")


def reader_for(fmt: str) -> Reader:
    from tierlens.ingest.adapters import ADAPTERS

    if fmt in BUILTIN:
        return BUILTIN[fmt]
    for adapter in ADAPTERS:
        if adapter.NAME == fmt:
            return adapter.read
    raise InputError(f"no reader for format {fmt!r}")
