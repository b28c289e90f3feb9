"""Ingest orchestration: paths -> records -> frames -> validate -> redact -> store.

Used by ``tierlens ingest``, ``tierlens run`` and the Prefect flows alike.

Guarantees (tested in tests/ingest/):

- **Incremental**: a file whose content hash was ingested before is skipped unread.
- **Idempotent**: a conversation re-delivered unchanged writes nothing; changed, it is
  merged with what is stored (a superset replaces, a new part is appended:
  :mod:`tierlens.ingest.merge`), so a conversation split across files is the same in
  either file order. A crash mid-file leaves the file un-recorded, and the re-run
  rewrites the same rows: quarantine and DQ rows of the file are replaced
  (delete-then-insert on the file's hash), conversations compare by content hash. A run
  killed before it finished is marked ``failed`` by the next one (``mark_stale_runs``).
- **Nothing lost**: every record read is stored, updated, unchanged, or quarantined
  (``read = stored + updated + unchanged + quarantined`` per run), and a file that can't
  be read at all gets a quarantine row of its own.
- **Streaming**: records are processed in batches of ``settings.batch_turns`` turns.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from tierlens.errors import InputError, RecordError
from tierlens.ingest.normalize import Batch, normalize, quarantine_rows
from tierlens.ingest.readers import RawRecord, detect_format, reader_for
from tierlens.ingest.redact import redact_frame, redact_series, redact_text
from tierlens.schema import NO_INGEST_MARKER, IngestCounts
from tierlens.settings import Settings, get_settings
from tierlens.store import writes
from tierlens.store.db import transaction

SKIP_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")
_LIVE_RUNS: set[str] = set()  # ingest runs in progress in this process (see mark_stale_runs)


@dataclass
class IngestReport(IngestCounts):
    run_id: str = ""
    turns_stored: int = 0
    # (path, reason) of every file that was not ingested: unreadable, empty, or every record
    # quarantined. What the CLI reports, one line each, before exiting non-zero.
    problems: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        d = asdict(self)
        d.pop("run_id")
        d.pop("problems")
        return d


def path_problem(path: Path) -> str | None:
    """Why ``path`` can't be ingested as a file or a folder, or None if it can.

    Says what the path is: missing, a broken link, a symbolic link loop, a FIFO, a socket or
    a device (never opened: reading a FIFO would block the run).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"broken symbolic link (its target {os.readlink(path)} does not exist)"
        return "no such file or directory"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (following the links never reaches a file)"
        return f"can't read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
    return f"{kind}, not a regular file; not read"


def expand_paths(paths: Iterable[Path]) -> Iterator[tuple[Path, str | None]]:
    """Files to ingest, in a stable order; (path, problem) for ones that can't be read.

    In a folder, dot-files, dot-folders, partial downloads (``SKIP_SUFFIXES``) and folders
    holding a ``NO_INGEST_MARKER`` file (the simulator's ``truth/``) are left out; a file
    named explicitly is always read.
    """
    for path in paths:
        path = Path(path)
        problem = path_problem(path)
        if problem is None and path.is_dir():
            found: list[Path] = []
            unreadable: list[Path] = []
            for root, dirs, files in os.walk(
                    path, onerror=lambda e, bad=unreadable: bad.append(Path(e.filename))):
                if NO_INGEST_MARKER in files:
                    dirs.clear()
                    continue
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in files)
            for d in unreadable:
                yield d, "directory can't be read (permissions?)"
            for f in sorted(found):
                if f.name.startswith(".") or f.name.endswith(SKIP_SUFFIXES):
                    continue
                yield f, path_problem(f)
        else:
            yield path, problem


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def batches(records: Iterator[RawRecord], max_turns: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    turns = 0
    for rec in records:
        batch.append(rec)
        t = rec.payload.get("turns") if rec.payload else None
        turns += len(t) if isinstance(t, list) else 1
        if turns >= max_turns:
            yield batch
            batch, turns = [], 0
    if batch:
        yield batch


class _FileIngest:
    """State for one file: within-file duplicate detection across its batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str,
                 path: Path, fhash: str) -> None:
        self.con, self.settings, self.run_id = con, settings, run_id
        self.path, self.fhash = path, fhash
        self.seen: dict[str, int] = {}  # conversation_id -> line of first accepted record
        self.batch_index = 0

    def process(self, records: list[RawRecord], report: IngestReport) -> int:
        from tierlens.validate import validate_batch

        batch: Batch = normalize(records, self.settings.pseudonym_salt)
        q: list[tuple] = [(r.source_file, r.source_line, _cid(r.payload), e.field, e.reason,
                           e.message, r.payload if r.payload is not None else None)
                          for r, e in batch.rejected]
        result = validate_batch(batch.conversations, batch.turns,
                                max_turn_chars=self.settings.max_turn_chars,
                                huge_conversation_turns=self.settings.huge_conversation_turns)
        bad = result.failed_recs
        conv = batch.conversations
        rec_line = dict(zip(conv["_rec"].to_list(), conv["source_line"].to_list(), strict=True))
        for f in result.failures:
            q.append((str(self.path), rec_line[f.rec], _cid(batch.payloads.get(f.rec)), f.field,
                      f.reason, f.message, batch.payloads.get(f.rec)))
        # duplicate ids within one file: the first valid record wins, later ones are quarantined
        for rec, cid, line in conv.filter(~pl.col("_rec").is_in(list(bad))) \
                .select("_rec", "conversation_id", "source_line").iter_rows():
            if cid in self.seen:
                bad.add(rec)
                q.append((str(self.path), line, cid, "conversation_id", "duplicate_id",
                          (f"conversation_id {cid!r} appears again in this file (first at line "
                          f"{self.seen[cid]}); ids must be unique within a file"),
                          batch.payloads.get(rec)))
            else:
                self.seen[cid] = line
        good_conv = conv.filter(~pl.col("_rec").is_in(list(bad)))
        good_turns = batch.turns.filter(~pl.col("_rec").is_in(list(bad)))
        red_turns, spans = redact_frame(good_turns.drop("_rec"))
        good_conv = good_conv.with_columns(metadata=redact_series(good_conv["metadata"]))
        quarantine = quarantine_rows(q, lambda text: redact_text(text)[0])
        dq = pl.DataFrame(result.dq_rows, schema={
            "suite": pl.String, "expectation": pl.String, "column_name": pl.String,
            "success": pl.Boolean, "element_count": pl.Int64, "unexpected_count": pl.Int64,
            "details": pl.String}).with_columns(
            run_id=pl.lit(self.run_id), file_hash=pl.lit(self.fhash),
            batch_index=pl.lit(self.batch_index, pl.Int32), source_file=pl.lit(str(self.path)))
        self.batch_index += 1
        counts = writes.write_conversations(self.con, good_conv.drop("_rec"), red_turns, spans)
        with transaction(self.con):
            writes.write_quarantine(self.con, self.run_id, self.fhash, quarantine)
            writes.append(self.con, "dq_results", dq)
        n_quarantined = len(batch.rejected) + len(bad)  # records, however many rows each
        report.read += batch.n_records
        report.stored += counts.stored
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        report.quarantined += n_quarantined
        report.turns_stored += counts.turns
        return n_quarantined


def _cid(payload: object) -> str | None:
    if isinstance(payload, dict):
        cid = payload.get("conversation_id")
        return None if cid is None else str(cid)[:256]
    return None


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: Iterable[Path | str],
                 settings: Settings | None = None, run_id: str | None = None) -> IngestReport:
    """Ingest files and folders into the warehouse; returns the reconciled counts."""
    settings = settings or get_settings()
    run_id = run_id or f"ing-{uuid.uuid4().hex[:12]}"
    paths = [Path(p) for p in paths]
    report = IngestReport(run_id=run_id)
    writes.mark_stale_runs(con, _LIVE_RUNS)
    writes.start_run(con, run_id, [str(p) for p in paths])
    _LIVE_RUNS.add(run_id)
    try:
        for path, problem in expand_paths(paths):
            report.files_seen += 1
            if problem is None:
                try:
                    fhash = file_hash(path)
                except OSError as exc:
                    problem = f"can't read ({exc.strerror or exc})"
            if problem is not None:
                _file_failure(con, run_id, path, None, "unreadable_file", problem, report)
                continue
            if con.execute("SELECT 1 FROM ingested_files WHERE content_hash = ?",
                           [fhash]).fetchone():
                report.files_skipped += 1
                continue
            _ingest_file(con, settings, run_id, path, fhash, report)
    except BaseException as exc:
        writes.finish_run(con, run_id, "failed", f"{type(exc).__name__}: {exc}"[:500],
                          **report.counts())
        raise
    finally:
        _LIVE_RUNS.discard(run_id)
    writes.finish_run(con, run_id, "succeeded", None, **report.counts())
    return report


def _file_failure(con, run_id: str, path: Path, fhash: str | None, reason: str, message: str,
                  report: IngestReport) -> None:
    report.files_failed += 1
    report.problems.append((str(path), message))
    row = quarantine_rows([(str(path), None, None, None, reason, f"{path}: {message}", None)],
                          lambda t: t)
    with transaction(con):  # one file-level row per file, however often it is re-read
        if fhash:
            con.execute("DELETE FROM quarantine WHERE file_hash = ? AND source_line IS NULL",
                        [fhash])
        else:  # couldn't be hashed: the path is the only key
            con.execute("DELETE FROM quarantine WHERE file_hash IS NULL AND source_file = ? "
                        "AND source_line IS NULL", [str(path)])
        writes.write_quarantine(con, run_id, fhash, row)


def _ingest_file(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, path: Path,
                 fhash: str, report: IngestReport) -> None:
    # A previous run may have crashed inside this file: replace what it left.
    with transaction(con):
        con.execute("DELETE FROM quarantine WHERE file_hash = ?", [fhash])
        con.execute("DELETE FROM dq_results WHERE file_hash = ?", [fhash])
    try:
        fmt = detect_format(path)
        records = reader_for(fmt)(path)
        state = _FileIngest(con, settings, run_id, path, fhash)
        n_records = n_quarantined = 0
        for recs in batches(records, settings.batch_turns):
            n_records += len(recs)
            n_quarantined += state.process(recs, report)
    except InputError as exc:
        _file_failure(con, run_id, path, fhash, "unreadable_file", str(exc).removeprefix(
            f"{path}: "), report)
        return
    except RecordError as exc:  # defensive: readers should yield these, not raise them
        _file_failure(con, run_id, path, fhash, exc.reason, exc.message, report)
        return
    if n_records == 0:  # said, then recorded like any file: the same bytes are skipped later
        _file_failure(con, run_id, path, fhash, "empty_file", "the file holds no records "
                      "(empty, or blank lines only); nothing was ingested", report)
    elif n_quarantined == n_records:  # read, but nothing in it was accepted
        why = (f"all {n_records} record(s) quarantined; nothing was ingested (see the "
               "quarantine table for each reason)")
        report.problems.append((str(path), why))
    con.execute("INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [fhash, str(path), path.stat().st_size, fmt, run_id, n_records, n_quarantined])
