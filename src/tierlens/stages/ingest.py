"""The ingest stage: paths -> records (readers) -> frames (normalize) -> validate ->
redact -> store, file by file, in batches of ``settings.batch_turns`` turns.

Guarantees (tested in tests/ingest/):

- **Incremental**: a file whose content hash was ingested before is skipped unread.
- **Idempotent**: a conversation re-delivered unchanged writes nothing; changed, it is
  merged with what is stored (:mod:`tierlens.ingest.merge`). A crash mid-file leaves the
  file un-recorded, and the re-run rewrites the same rows. A run killed before it finished
  is marked ``failed`` by the next one (``mark_stale_runs``).
- **Nothing lost**: every record read is stored, updated, unchanged, or quarantined
  (``read = stored + updated + unchanged + quarantined`` per run), and a file that can't
  be read at all gets a quarantine row of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from tierlens.errors import InputError, RecordError
from tierlens.ingest.normalize import Batch, normalize, quarantine_rows
from tierlens.ingest.pipeline import IngestReport, batches, expand_paths, file_hash
from tierlens.ingest.readers import RawRecord, detect_format, reader_for
from tierlens.ingest.redact import redact_frame, redact_series, redact_text
from tierlens.ingest.redelivery import merged_frames
from tierlens.settings import Settings
from tierlens.store import writes

_LIVE_RUNS: set[str] = set()  # ingest runs in progress in this process (see mark_stale_runs)


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
        counts = writes.write_conversations(self.con, good_conv.drop("_rec"), red_turns, spans,
                                            merge=merged_frames)
        writes.write_batch_checks(self.con, self.run_id, self.fhash, quarantine, dq)
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
                 settings: Settings, run_id: str | None = None) -> IngestReport:
    """Ingest files and folders into the warehouse; returns the reconciled counts."""
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
            if writes.file_seen(con, fhash):
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
    writes.replace_file_failure(con, run_id, str(path), fhash, row)


def _ingest_file(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, path: Path,
                 fhash: str, report: IngestReport) -> None:
    writes.clear_file_rows(con, fhash)  # a previous run may have crashed inside this file
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
    writes.record_file(con, fhash, str(path), path.stat().st_size, fmt, run_id, n_records,
                       n_quarantined)
