"""The review store: human work that must never be lost, with a tamper-evident audit log.

Reviews, dispositions, label corrections and review-queue assignments are written by the
dashboard into their own SQLite file (``settings.review_store``, by default
``data_dir/reviews/reviews.sqlite``),
never into the DuckDB warehouse, so a running flow (which holds the warehouse's write lock)
can never block or lose them. WAL mode plus a busy timeout lets several dashboard processes
write at once; ``BEGIN IMMEDIATE`` serialises writers so the audit chain stays linear.

Every table is append-only (triggers RAISE on UPDATE and DELETE). Each write appends its
event row and one ``audit_log`` row in the same transaction. The audit row's
``hash = HMAC-SHA256(key, prev_hash + canonical_json(row))``, where the row is
``{seq, at, who, action, object, before, after}`` and the key lives outside the store
(:mod:`tierlens.reviews.audit`); :func:`verify_audit_log` recomputes the chain and checks
the event tables against it, so an edit made outside the app (triggers dropped, file
patched, chain recomputed without the key) is detected. Docs: docs/audit.md.

Tables (grain):
- ``reviews``: one row per human review event of a conversation;
- ``dispositions``: one row per disposition event of a compliance flag; the latest wins;
- ``label_corrections``: one row per correction of an auto label; the latest wins;
- ``assignments``: one row per assignment event of the review queue; the latest wins;
- ``audit_log``: one row per event above, hash-chained.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from tierlens.config.scorecard import load_scorecard
from tierlens.errors import StoreError, TierlensError
from tierlens.reviews import audit, checks
from tierlens.reviews.audit import (
    GENESIS,
    canonical,
    conversation_object,
    flag_object,
    label_object,
)
from tierlens.settings import Settings

DISPOSITIONS = ("confirmed", "dismissed", "escalated")
LABEL_TYPES = ("sentiment", "intent", "resolution", "escalation_reason")
ASSIGNMENT_STATUSES = ("open", "in_progress", "done")
BUSY_TIMEOUT_MS = 30_000


class ReviewError(TierlensError):
    """A review, disposition, correction or assignment is invalid (e.g. an empty note)."""


_SCHEMA = """
-- grain: one row per review event (a reviewer scoring one conversation)
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    criteria TEXT NOT NULL,          -- JSON {criterion: 1 | 0 | null (N/A)}
    total REAL,
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
-- grain: one row per disposition event of a flag (conversation, rule, turn); latest wins
CREATE TABLE IF NOT EXISTS dispositions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    turn_index INTEGER,
    disposition TEXT NOT NULL CHECK (disposition IN ('confirmed', 'dismissed', 'escalated')),
    note TEXT NOT NULL CHECK (length(trim(note)) > 0),
    who TEXT NOT NULL,
    at TEXT NOT NULL
);
-- grain: one row per correction of an auto label; latest per (conversation, turn, type) wins
CREATE TABLE IF NOT EXISTS label_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    turn_index INTEGER,
    label_type TEXT NOT NULL
        CHECK (label_type IN ('sentiment', 'intent', 'resolution', 'escalation_reason')),
    old_value TEXT,
    new_value TEXT NOT NULL,
    text TEXT,                       -- the (already redacted) turn or conversation text
    who TEXT NOT NULL,
    at TEXT NOT NULL
);
-- grain: one row per assignment event of the review queue; latest per conversation wins
CREATE TABLE IF NOT EXISTS assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    assignee TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done'))
);
-- grain: one row per audited event, hash-chained
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    before TEXT,
    after TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


def _append_only_triggers() -> str:
    out = []
    for table in ("reviews", "dispositions", "label_corrections", "assignments", "audit_log"):
        for op in ("UPDATE", "DELETE"):
            out.append(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} "
                       f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;")
    return "\n".join(out)


def default_path(settings: Settings) -> Path:
    """Where the review store lives: ``settings.review_store`` (default
    ``data_dir/reviews/reviews.sqlite``; next to a ``--db`` warehouse, see
    :meth:`tierlens.settings.Settings.for_warehouse`)."""
    return settings.review_store


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) the review store in WAL mode with a busy timeout."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")
        con.executescript(_SCHEMA + _append_only_triggers())
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path}: can't open the review store ({exc})") from exc
    return con


@contextmanager
def _store(path: Path | str) -> Iterator[sqlite3.Connection]:
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def _key(settings: Settings) -> bytes:
    """The audit chain's HMAC key (``settings.audit_key_file``), read once per key file and
    read again only when the file changes (a new or replaced key), so a write signs with
    what a fresh read would give. A missing file is created by :func:`audit.load_key`."""
    path = Path(settings.audit_key_file).expanduser()
    try:
        st = path.stat()
    except OSError:
        return audit.load_key(path)
    return _key_of(str(path), (st.st_ino, st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=8)
def _key_of(path: str, stamp: tuple[int, int, int]) -> bytes:
    """The key in ``path`` as it was at ``stamp`` (inode, mtime, size): one read per version."""
    return audit.load_key(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _audit(con: sqlite3.Connection, key: bytes, who: str, action: str, obj: str,
           before: Any, after: Any, at: str) -> int:
    """Append one chained audit row (``key``: the HMAC key of the settings' audit key file).
    Must run inside the caller's IMMEDIATE transaction."""
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = {"seq": seq, "at": at, "who": who, "action": action, "object": obj,
           "before": None if before is None else canonical(before),
           "after": None if after is None else canonical(after)}
    h = audit.row_hash(key, prev, row)
    con.execute("INSERT INTO audit_log (seq, at, who, action, object, before, after, prev_hash, "
                "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, who, action, obj, row["before"], row["after"], prev, h))
    return seq


@contextmanager
def _immediate(con: sqlite3.Connection) -> Iterator[None]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _one_of(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ReviewError(f"{what} must be one of {', '.join(choices)}")


def _valid(problem: str | None) -> None:
    if problem is not None:
        raise ReviewError(problem)


def _need(value: str | None, what: str) -> str:
    if value is None or not str(value).strip():
        raise ReviewError(f"{what} is required")
    return str(value).strip()


def record_review(path: Path | str, conversation_id: str, reviewer: str,
                  criteria: dict[str, int | None], total: float | None, note: str = "", *,
                  settings: Settings) -> int:
    """Save a human review (criterion -> 1/0/None for N/A) against the settings' scorecard.
    Returns the audit seq."""
    _need(conversation_id, "conversation_id")
    _need(reviewer, "reviewer")
    card = load_scorecard(settings.scorecard_path)
    _valid(checks.review_problem(criteria, total, tuple(c.name for c in card.criteria)))
    at = _now()
    with _store(path) as con, _immediate(con):
        prev = con.execute("SELECT criteria, total, note, reviewer FROM reviews "
                           "WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
                           (conversation_id,)).fetchone()
        con.execute("INSERT INTO reviews (conversation_id, reviewer, criteria, total, note, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation_id, reviewer, canonical(criteria), total, note or "", at))
        before = None if prev is None else {"criteria": json.loads(prev[0]), "total": prev[1],
                                            "note": prev[2], "reviewer": prev[3]}
        after = {"criteria": criteria, "total": total, "note": note or "", "reviewer": reviewer}
        return _audit(con, _key(settings), reviewer, "review",
                      conversation_object(conversation_id), before, after,
                      at)


def record_disposition(path: Path | str, conversation_id: str, rule_id: str,
                       turn_index: int | None, disposition: str, note: str, who: str, *,
                       settings: Settings) -> int:
    """Disposition a compliance flag. The note is required. Returns the audit seq."""
    _need(conversation_id, "conversation_id")
    _need(rule_id, "rule_id")
    note = _need(note, "a note")
    who = _need(who, "who")
    _one_of(disposition, DISPOSITIONS, "disposition")
    at = _now()
    obj = flag_object(conversation_id, rule_id, turn_index)
    with _store(path) as con, _immediate(con):
        prev = con.execute(
            "SELECT disposition, note, who FROM dispositions WHERE conversation_id = ? AND "
            "rule_id = ? AND turn_index IS ? ORDER BY id DESC LIMIT 1",
            (conversation_id, rule_id, turn_index)).fetchone()
        con.execute("INSERT INTO dispositions (conversation_id, rule_id, turn_index, disposition, "
                    "note, who, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (conversation_id, rule_id, turn_index, disposition, note, who, at))
        before = None if prev is None else {"disposition": prev[0], "note": prev[1], "who": prev[2]}
        return _audit(con, _key(settings), who, "disposition", obj, before,
                      {"disposition": disposition, "note": note}, at)


def record_label_correction(path: Path | str, conversation_id: str, turn_index: int | None,
                            label_type: str, old_value: str | None, new_value: str, who: str,
                            text: str | None = None, *, settings: Settings) -> int:
    """Correct an auto label; stored as a labelled example. Returns the audit seq.
    ``settings``: whose warehouse's own intent taxonomies count as known labels."""
    return record_label_corrections(path, [{
        "conversation_id": conversation_id, "turn_index": turn_index, "label_type": label_type,
        "old_value": old_value, "new_value": new_value, "who": who, "text": text}], settings)


def record_label_corrections(path: Path | str, rows: list[dict[str, Any]],
                             settings: Settings) -> int:
    """Save several label corrections (keys as :func:`record_label_correction`'s arguments)
    in ONE transaction, each with its audit row: all of them or none. Returns the last audit
    seq (0 for no rows)."""
    clean = []
    for r in rows:
        _need(r.get("conversation_id"), "conversation_id")
        _one_of(r.get("label_type"), LABEL_TYPES, "label_type")
        _valid(checks.label_problem(r["label_type"], r.get("new_value"), settings))
        clean.append({**r, "new_value": _need(r.get("new_value"), "new_value"),
                      "who": _need(r.get("who"), "who")})
    seq = 0
    at = _now()
    key = _key(settings)
    with _store(path) as con, _immediate(con):
        for r in clean:
            ti, text = r.get("turn_index"), r.get("text")
            obj = label_object(r["conversation_id"], ti, r["label_type"])
            con.execute("INSERT INTO label_corrections (conversation_id, turn_index, label_type, "
                        "old_value, new_value, text, who, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (r["conversation_id"], ti, r["label_type"], r.get("old_value"),
                         r["new_value"], text, r["who"], at))
            seq = _audit(con, key, r["who"], "label_correction", obj,
                         {"value": r.get("old_value")},
                         {"value": r["new_value"], "text_sha256": audit.text_digest(text)}, at)
    return seq


def record_assignment(path: Path | str, conversation_id: str, assignee: str, assigned_by: str,
                      status: str = "open", *, settings: Settings) -> int:
    """Assign a conversation for review, or move it on (in_progress, done). Returns audit seq."""
    _need(conversation_id, "conversation_id")
    assignee = _need(assignee, "assignee")
    assigned_by = _need(assigned_by, "assigned_by")
    _one_of(status, ASSIGNMENT_STATUSES, "status")
    at = _now()
    with _store(path) as con, _immediate(con):
        prev = con.execute("SELECT assignee, status FROM assignments WHERE conversation_id = ? "
                           "ORDER BY id DESC LIMIT 1", (conversation_id,)).fetchone()
        con.execute("INSERT INTO assignments (conversation_id, assignee, assigned_by, at, status) "
                    "VALUES (?, ?, ?, ?, ?)", (conversation_id, assignee, assigned_by, at, status))
        before = None if prev is None else {"assignee": prev[0], "status": prev[1]}
        return _audit(con, _key(settings), assigned_by, "assignment",
                      conversation_object(conversation_id), before,
                      {"assignee": assignee, "status": status}, at)


# --- reads -------------------------------------------------------------------------------

def _frame(path: Path | str, sql: str, params: tuple = ()) -> pl.DataFrame:
    with _store(path) as con:
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    return pl.DataFrame(rows, schema=cols, orient="row", infer_schema_length=None)


def reviews(path: Path | str) -> pl.DataFrame:
    """All review events. Grain: one row per review event."""
    return _frame(path, "SELECT * FROM reviews ORDER BY id")


def latest_dispositions(path: Path | str) -> pl.DataFrame:
    """Current disposition per flag. Grain: one row per (conversation_id, rule_id, turn_index)."""
    return _frame(path, """
        SELECT conversation_id, rule_id, turn_index, disposition, note, who, at FROM dispositions d
        WHERE id = (SELECT max(id) FROM dispositions d2 WHERE d2.conversation_id = d.conversation_id
                    AND d2.rule_id = d.rule_id AND d2.turn_index IS d.turn_index)""")


def latest_assignments(path: Path | str) -> pl.DataFrame:
    """Current assignment per conversation. Grain: one row per conversation_id."""
    return _frame(path, """
        SELECT conversation_id, assignee, assigned_by, status, at FROM assignments a
        WHERE id = (SELECT max(id) FROM assignments a2 WHERE a2.conversation_id = a.conversation_id)
        ORDER BY at""")


def label_corrections(path: Path | str) -> pl.DataFrame:
    """All correction events. Grain: one row per correction event."""
    return _frame(path, "SELECT * FROM label_corrections ORDER BY id")


def audit_log(path: Path | str, limit: int | None = None) -> pl.DataFrame:
    """The audit log, newest first. Grain: one row per audited event."""
    if limit is None:
        return _frame(path, "SELECT * FROM audit_log ORDER BY seq DESC")
    return _frame(path, "SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?", (int(limit),))


def export_corrections(path_or_conn: Path | str | sqlite3.Connection,
                       label_type: str) -> pl.DataFrame:
    """Labelled examples for training: columns ``text, label``.

    The latest correction per (conversation, turn, label type) wins; rows without text
    are left out. Grain: one row per corrected (conversation, turn).
    """
    _one_of(label_type, LABEL_TYPES, "label_type")
    sql = """SELECT text, new_value AS label FROM label_corrections c
             WHERE label_type = ? AND text IS NOT NULL AND length(text) > 0
               AND id = (SELECT max(id) FROM label_corrections c2
                         WHERE c2.conversation_id = c.conversation_id
                           AND c2.turn_index IS c.turn_index AND c2.label_type = c.label_type)
             ORDER BY id"""
    if isinstance(path_or_conn, sqlite3.Connection):
        rows = path_or_conn.execute(sql, (label_type,)).fetchall()
    else:
        if not Path(path_or_conn).exists():
            return pl.DataFrame(schema={"text": pl.String, "label": pl.String})
        with _store(path_or_conn) as con:
            rows = con.execute(sql, (label_type,)).fetchall()
    return pl.DataFrame(rows, schema={"text": pl.String, "label": pl.String}, orient="row")


def verify_audit_log(path: Path | str, settings: Settings) -> tuple[bool, int | None]:
    """Check the keyed chain and the event tables against it. Returns (ok, first bad seq).

    The seq is None when the damage can't be pinned on one audit row (e.g. an event row
    with no audit row). :func:`tierlens.reviews.audit.verify` gives the reason and also
    checks the warehouse's anchors.
    """
    verdict = audit.verify(path, _key(settings))
    return verdict.ok, verdict.seq


def human_criteria(review_events: pl.DataFrame) -> pl.DataFrame:
    """Latest review per conversation, exploded. Grain: one row per (conversation, criterion).

    Columns ``conversation_id, criterion, score`` (1/0, NULL = N/A) - the shape
    :func:`tierlens.metrics.scorecard.agreement` takes.
    """
    schema = {"conversation_id": pl.String, "criterion": pl.String, "score": pl.Int8}
    if review_events.is_empty():
        return pl.DataFrame(schema=schema)
    latest = review_events.sort("id").group_by("conversation_id").last()
    rows = [(r["conversation_id"], k, v) for r in latest.iter_rows(named=True)
            for k, v in json.loads(r["criteria"]).items()]
    return pl.DataFrame(rows, schema=schema, orient="row")
