"""Ingest: which paths are read, how they are batched, and what a run reports.

The ingest stage (:mod:`tierlens.stages.ingest`: paths -> records -> frames -> validate ->
redact -> store) is built on these; the pipeline runs it for ``tierlens ingest``,
``tierlens run`` and the Prefect flows alike.

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
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tierlens.ingest.readers import RawRecord
from tierlens.schema import NO_INGEST_MARKER, IngestCounts

SKIP_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")


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
