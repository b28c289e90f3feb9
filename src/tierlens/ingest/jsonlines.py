"""The JSON Lines reader (``.jsonl``, ``.jsonl.gz``, ``.ndjson``): one conversation per line.

File-level checks are made once per file, from its first 64 KiB, so a wrongly encoded or
wrongly shaped file gives one clear reason instead of a quarantine row per line:

- a UTF-8 byte-order mark is skipped; UTF-16 with a byte-order mark is decoded;
- NUL bytes without a UTF-16 byte-order mark (UTF-16/32 without BOM, a binary file) reject
  the file;
- CR-only line endings (classic Mac) are read: lines split on CR;
- pretty-printed JSON (a first line that is ``{`` or ``[`` alone, or an unparseable ``[{...``) is read
  as one JSON document: an object, an array of objects, or objects one after another, up to
  ``MAX_DOCUMENT_BYTES``; a larger one is rejected;
- a file whose first ``LEADING_ERRORS`` lines are none of them a JSON object is rejected as
  not JSON Lines (nothing of it is stored, one file-level row says why).

Per line: a line longer than ``MAX_LINE_BYTES`` is quarantined without being held in memory
(so a small gzip that expands to gigabytes stays within memory); an object holding the same
key twice is quarantined as ``duplicate_key`` (which value was meant is ambiguous). The
duplicate check is cheap: the exact check (``json.loads`` with an ``object_pairs_hook``) runs
only on lines where the count of ``":`` differs from that of the parsed object re-serialised
by orjson (a dropped duplicate, an escaped quote before a colon in a text, or spaces before a
colon make them differ; about 5-8 us a line on simulated conversations).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tierlens.errors import InputError, RecordError
from tierlens.ingest.record import RawRecord

MAX_LINE_BYTES = 32 << 20
MAX_DOCUMENT_BYTES = 64 << 20
LEADING_ERRORS = 20
_HEAD_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _head(path: Path) -> bytes:
    try:
        with _open_binary(path) as fh:
            return fh.read(_HEAD_BYTES)
    except (EOFError, OSError, zlib.error):
        return b""  # the streaming read reports a corrupt stream, after any good lines


def layout(path: Path, head: bytes) -> str:
    """``utf16``, ``cr``, ``document`` or ``lines``; raises InputError for a binary-looking file."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if b"\x00" in head:
        raise InputError(f"{path}: holds NUL bytes (UTF-16 or UTF-32 without a byte-order mark, "
                         "or not a text file); re-export it as UTF-8 JSON Lines")
    body = head.removeprefix(_BOM)
    if b"\r" in body and b"\n" not in body:
        return "cr"
    first = body.lstrip().split(b"\n", 1)[0].strip()
    # a pretty-printer's first line: an opening brace or bracket alone, or an array's opening
    # (a JSON Lines file whose first record is broken stays JSON Lines)
    if first in (b"{", b"[") or first.startswith((b"[{", b"[ {")):
        try:
            orjson.loads(first)
        except orjson.JSONDecodeError:
            return "document"
    return "lines"


class _Recoded:
    """A text stream (UTF-16, or universal newlines) read back as UTF-8 lines."""

    def __init__(self, fh, encoding: str) -> None:
        errors = "surrogateescape" if encoding == "utf-8" else "strict"
        self.text = io.TextIOWrapper(fh, encoding=encoding, errors=errors, newline=None)

    def readline(self, size: int) -> bytes:
        return self.text.readline(size).encode("utf-8", "surrogateescape")


def _lines(reader) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; ``None`` for a line over ``MAX_LINE_BYTES`` (skipped
    in 1 MiB reads, never held whole)."""
    lineno = 0
    readline = reader.readline
    while raw := readline(MAX_LINE_BYTES + 1):
        lineno += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield lineno, None
            continue
        yield lineno, raw


class _Duplicate(Exception):
    pass


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        raise _Duplicate(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return d


def duplicate_key(raw: bytes | str) -> str | None:
    """The first key found twice in one object of ``raw`` (valid JSON), else None."""
    try:
        json.loads(raw, object_pairs_hook=_strict_pairs)
    except _Duplicate as dup:
        return str(dup.args[0])
    except (ValueError, RecursionError):
        return None  # orjson parsed it; nothing more to learn here
    return None


def _duplicate_error(key: str) -> RecordError:
    name = key if len(key) <= 64 and key.isprintable() else "(a long or unprintable key)"
    return RecordError("duplicate_key", f"key {name!r} appears twice in one object, so which "
                       "value was meant is ambiguous; send each key once", name)


def _parse_line(src: str, lineno: int, raw: bytes) -> RawRecord:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            return RawRecord(src, lineno, None, RecordError(
                "invalid_utf8", f"line is not valid UTF-8 (byte {uexc.start}); "
                "re-export the file as UTF-8"))
        return RawRecord(src, lineno, None, RecordError(
            "invalid_json", f"unparseable JSON at column {exc.colno}: {exc.msg}"))
    if type(obj) is not dict:
        return RawRecord(src, lineno, None, RecordError(
            "not_an_object", f"expected a JSON object per line, got {type(obj).__name__}"))
    # orjson keeps the last of duplicate keys, so re-serialised the object has fewer `":`
    if raw.count(b'":') != orjson.dumps(obj).count(b'":'):
        key = duplicate_key(raw)
        if key is not None:
            return RawRecord(src, lineno, None, _duplicate_error(key))
    return RawRecord(src, lineno, obj)


def read_jsonl(path: Path) -> Iterator[RawRecord]:
    """One conversation per line. Blank lines are skipped (not records)."""
    kind = layout(path, _head(path))
    if kind == "document":
        yield from _read_document(path)
        return
    src = str(path)
    lineno = 0
    pending: list[RawRecord] = []  # errors before the first good line (see LEADING_ERRORS)
    good = False
    try:
        with _open_binary(path) as fh:
            reader = _Recoded(fh, "utf-16" if kind == "utf16" else "utf-8") \
                if kind in ("utf16", "cr") else fh
            for lineno, raw in _lines(reader):
                if raw is None:
                    rec = RawRecord(src, lineno, None, RecordError(
                        "line_too_long", f"line is longer than {MAX_LINE_BYTES >> 20} MiB; "
                        "a conversation per line is expected"))
                else:
                    if lineno == 1 and raw.startswith(_BOM):
                        raw = raw[3:]
                    if not raw.strip():
                        continue
                    rec = _parse_line(src, lineno, raw)
                if good:
                    yield rec
                elif rec.error is None:
                    good = True
                    yield from pending
                    pending = []
                    yield rec
                else:
                    pending.append(rec)
                    if len(pending) >= LEADING_ERRORS:
                        raise InputError(
                            f"{path}: not JSON Lines: none of the first {LEADING_ERRORS} lines "
                            f"is a JSON object (the first: {pending[0].error.reason}); "  # type: ignore[union-attr]
                            "expected one conversation object per line, UTF-8")
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError, UnicodeError) as exc:
        # A truncated/corrupt stream: everything before it has been yielded already.
        yield from pending
        pending = []
        what = "not valid UTF-16" if isinstance(exc, UnicodeError) else "truncated or corrupt"
        yield RawRecord(src, lineno + 1, None, RecordError(
            "truncated_file", f"file is {what} after line {lineno}; records before it were "
            "read, re-send the complete file for the rest"))
    yield from pending


_WS = re.compile(r"\s*")


class _Constant(ValueError):
    pass


def _reject_constant(name: str) -> None:
    raise _Constant(name)


def _read_document(path: Path) -> Iterator[RawRecord]:
    """A pretty-printed file: one JSON document (object, array of objects, or a sequence)."""
    src = str(path)
    with _open_binary(path) as fh:
        data = fh.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{path}: a multi-line JSON document larger than "
                         f"{MAX_DOCUMENT_BYTES >> 20} MiB; convert it to JSON Lines "
                         "(one conversation per line)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: multi-line JSON that is not valid UTF-8 (byte {exc.start}); "
                         "re-export it as UTF-8") from exc
    decoder = json.JSONDecoder(object_pairs_hook=_strict_pairs, parse_constant=_reject_constant)
    pos, n_values = _skip(text, 0), 0
    in_array = text.startswith("[", pos)
    if in_array:
        pos = _skip(text, pos + 1)
    while pos < len(text) and not (in_array and text.startswith("]", pos)):
        line = text.count("\n", 0, pos) + 1
        try:
            value, end = decoder.raw_decode(text, pos)
        except (_Duplicate, _Constant, ValueError, RecursionError) as exc:
            problem = {_Duplicate: "a key appears twice in one object",
                       _Constant: "NaN or Infinity, which JSON doesn't allow",
                       RecursionError: "nested too deeply"}.get(type(exc), "unparseable JSON")
            if n_values == 0:
                raise InputError(f"{path}: neither JSON Lines nor a JSON document: {problem} "
                                 f"in the value starting at line {line}") from exc
            reason = "duplicate_key" if isinstance(exc, _Duplicate) else "invalid_json"
            yield RawRecord(src, line, None, RecordError(
                reason, f"multi-line JSON: {problem} in the value starting at line "
                f"{line}; the rest of the file was not read"))
            return
        n_values += 1
        if isinstance(value, dict):
            yield RawRecord(src, line, value)
        else:
            yield RawRecord(src, line, None, RecordError(
                "not_an_object", f"expected a JSON object, got {type(value).__name__}"))
        pos = _skip(text, end)
        if in_array and text.startswith(",", pos):
            pos = _skip(text, pos + 1)


def _skip(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]
