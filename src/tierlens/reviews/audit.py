"""The review store's audit chain: keyed (HMAC), anchored, and checked against the event tables.

Each audit row's ``hash = HMAC-SHA256(key, prev_hash + canonical_json(row))`` over
``{seq, at, who, action, object, before, after}``. The key lives outside the store, in the
file ``settings.audit_key_file`` (created on first use with mode 0600), so someone who can
edit the SQLite file but can't read the key can't recompute a valid chain after an edit.

:func:`verify` checks, on one consistent copy of the store (SQLite backup API):

1. the chain: seq 1, 2, 3..., each ``prev_hash`` the previous ``hash``, each HMAC right;
2. the event tables against the log: the n-th ``dispositions`` row is the n-th
   ``disposition`` event (same object, who, when and payload), and the same for
   ``reviews``, ``label_corrections`` and ``assignments``; an extra, missing or changed
   row fails;
3. the anchors (chain head and row count written to the warehouse at every publish): each
   anchored seq must still exist with the anchored hash, so deleting the newest rows
   (truncation) or rewriting history before the last publish fails.

See docs/audit.md for what this does and does not protect against.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierlens.errors import ConfigError, StoreError

GENESIS = "0" * 64
_FIELDS = ("seq", "at", "who", "action", "object", "before", "after")


# --- the key ---------------------------------------------------------------------------------

def load_key(path: Path | str) -> bytes:
    """The HMAC key from ``path`` (``settings.audit_key_file``), created on first use.

    A new key is 32 random bytes, hex, written to a temporary file with mode 0600 and linked
    into place, so two processes creating it at once end up with the same key.
    """
    path = Path(path).expanduser()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            try:
                os.link(tmp, path)  # fails if another process won the race: keep theirs
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: can't read or create the audit key ({exc})") from exc
    if len(key) < 32:
        raise ConfigError(f"{path}: the audit key is too short (need at least 32 characters)")
    return key.encode("ascii")


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept. The one serialiser behind every
    audit hash and stored before/after: changing a byte here breaks every existing chain."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(key: bytes, prev_hash: str, row: dict[str, Any]) -> str:
    """HMAC-SHA256(key, prev_hash + canonical JSON of {seq, at, who, action, object, before, after})."""
    body = canonical({k: row[k] for k in _FIELDS})
    return hmac.new(key, (prev_hash + body).encode("utf-8"), hashlib.sha256).hexdigest()


# --- object names, shared by the writers and the checks ----------------------------------

def _turn(turn_index: int | None) -> str:
    return "-" if turn_index is None else str(turn_index)


def conversation_object(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def flag_object(conversation_id: str, rule_id: str, turn_index: int | None) -> str:
    return f"flag:{conversation_id}/{rule_id}/{_turn(turn_index)}"


def label_object(conversation_id: str, turn_index: int | None, label_type: str) -> str:
    return f"label:{conversation_id}/{_turn(turn_index)}/{label_type}"


def text_digest(text: str | None) -> str | None:
    """sha256 of a correction's text, kept in the log so the training text can't be swapped."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- a consistent copy -----------------------------------------------------------------------

def snapshot(path: Path | str) -> sqlite3.Connection:
    """One consistent in-memory copy of the store (SQLite online backup, in one step).

    Readers of the live file see each statement's own state, so two queries can straddle a
    write; everything that compares tables reads this copy instead.
    """
    path = Path(path)
    mem = sqlite3.connect(":memory:")
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: can't open the review store ({exc})") from exc
    try:
        src.backup(mem, pages=-1)
        mem.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        mem.close()
        raise StoreError(f"{path}: not a readable review store ({exc}); restore it from a "
                         "backup") from exc
    finally:
        src.close()
    return mem


def check_readable(path: Path | str) -> None:
    """Raise StoreError (one line naming the file) when the store exists but isn't a
    readable SQLite database; a store not created yet is fine."""
    path = Path(path)
    if not path.exists():
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: not a readable review store ({exc}); restore it from a "
                         "backup") from exc


# --- verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    """A chain head written elsewhere at publish time: ``rows`` rows, ending in ``head_hash``."""

    rows: int
    head_seq: int
    head_hash: str
    where: str = "warehouse"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int = 0
    seq: int | None = None  # the first bad audit seq, when one can be named
    reason: str = ""
    anchors_checked: int = 0


def head(con: sqlite3.Connection) -> tuple[int, int, str]:
    """(row count, last seq, last hash) of the audit log; (0, 0, GENESIS) when empty."""
    n, = con.execute("SELECT count(*) FROM audit_log").fetchone()
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (n, last[0], last[1]) if last else (0, 0, GENESIS)


def _chain(con: sqlite3.Connection, key: bytes) -> Verdict | None:
    cur = con.execute("SELECT seq, at, who, action, object, before, after, prev_hash, hash "
                      "FROM audit_log ORDER BY seq")
    prev, expected = GENESIS, 1
    for seq, at, who, action, obj, before, after, prev_hash, h in cur:
        row = dict(zip(_FIELDS, (seq, at, who, action, obj, before, after), strict=True))
        if seq != expected:
            return Verdict(False, seq=expected, reason=f"audit row seq {expected} is missing")
        if prev_hash != prev:
            return Verdict(False, seq=seq, reason=f"seq {seq} doesn't link to seq {seq - 1}")
        if not hmac.compare_digest(row_hash(key, prev, row), h):
            return Verdict(False, seq=seq, reason=f"seq {seq}'s hash doesn't match its content "
                           "(edited, or the store was written with another audit key)")
        prev, expected = h, seq + 1
    return None


# action -> (table, SQL of its rows in id order; _expected turns each into its audit event)
_EVENTS: dict[str, tuple[str, str]] = {
    "review": ("reviews", ("SELECT conversation_id, reviewer, at, NULL, criteria, total, note, "
               "reviewer FROM reviews ORDER BY id")),
    "disposition": ("dispositions", ("SELECT conversation_id, rule_id, turn_index, who, at, "
                    "disposition, note FROM dispositions ORDER BY id")),
    "label_correction": ("label_corrections", ("SELECT conversation_id, turn_index, label_type, "
                         "who, at, old_value, new_value, text FROM label_corrections ORDER BY id")),
    "assignment": ("assignments", ("SELECT conversation_id, assigned_by, at, assignee, status "
                   "FROM assignments ORDER BY id")),
}


def _expected(action: str, r: tuple) -> tuple[str, str, str, Any, Any]:
    """(object, who, at, before or ..., after) that the audit row of table row ``r`` must hold;
    ``...`` means the before-value isn't derivable from the row alone (it's chained instead)."""
    if action == "review":
        cid, who, at, _, criteria, total, note, reviewer = r
        return (conversation_object(cid), who, at, ...,
                {"criteria": json.loads(criteria), "total": total, "note": note,
                 "reviewer": reviewer})
    if action == "disposition":
        cid, rule, turn, who, at, disposition, note = r
        return flag_object(cid, rule, turn), who, at, ..., {"disposition": disposition,
                                                            "note": note}
    if action == "label_correction":
        cid, turn, label_type, who, at, old, new, text = r
        return (label_object(cid, turn, label_type), who, at, {"value": old},
                {"value": new, "text_sha256": text_digest(text)})
    cid, who, at, assignee, status = r
    return conversation_object(cid), who, at, ..., {"assignee": assignee, "status": status}


def _tables(con: sqlite3.Connection) -> Verdict | None:
    for action, (table, sql) in _EVENTS.items():
        logged = con.execute("SELECT seq, object, who, at, before, after FROM audit_log "
                             "WHERE action = ? ORDER BY seq", (action,)).fetchall()
        rows = con.execute(sql).fetchall()
        if len(rows) != len(logged):
            return Verdict(False, reason=f"{table} has {len(rows)} row(s) but the audit log "
                           f"records {len(logged)} {action} event(s)")
        for n, (row, (seq, obj, who, at, before, after)) in enumerate(
                zip(rows, logged, strict=True), start=1):
            e_obj, e_who, e_at, e_before, e_after = _expected(action, row)
            same = (obj, who, at) == (e_obj, e_who, e_at) and _json(after) == e_after and (
                e_before is ... or _json(before) == e_before)
            if not same:
                return Verdict(False, seq=seq, reason=f"{table} row {n} differs from its audit "
                               f"event (seq {seq})")
    return None


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _anchors(con: sqlite3.Connection, anchors: Iterable[Anchor]) -> tuple[Verdict | None, int]:
    n_rows, _, _ = head(con)
    checked = 0
    for a in sorted(anchors, key=lambda a: a.head_seq):
        checked += 1
        if a.rows == 0:
            continue
        got = con.execute("SELECT hash FROM audit_log WHERE seq = ?", (a.head_seq,)).fetchone()
        if got is None or n_rows < a.rows:
            return Verdict(False, seq=a.head_seq, reason=f"the {a.where} anchored {a.rows} "
                           f"row(s) up to seq {a.head_seq}, the store has {n_rows}: rows were "
                           "deleted"), checked
        if got[0] != a.head_hash:
            return Verdict(False, seq=a.head_seq, reason=f"seq {a.head_seq} no longer has the "
                           f"hash anchored in the {a.where}: history was rewritten"), checked
    return None, checked


def verify(path: Path | str, key: bytes, anchors: Iterable[Anchor] = ()) -> Verdict:
    """Check the chain, the event tables and the anchors on one consistent copy of the store."""
    path = Path(path)
    if not path.exists():
        return Verdict(True)
    con = snapshot(path)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "audit_log" not in tables:
            return Verdict(True)
        missing = sorted({t for t, _ in _EVENTS.values()} - tables)
        if missing:
            return Verdict(False, reason=f"table(s) {', '.join(missing)} are missing")
        bad = _chain(con, key) or _tables(con)
        checked = 0
        if bad is None:
            bad, checked = _anchors(con, anchors)
        rows = head(con)[0]
    except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: can't read the audit log ({exc})") from exc
    finally:
        con.close()
    if bad is not None:
        return Verdict(False, rows=rows, seq=bad.seq, reason=bad.reason, anchors_checked=checked)
    return Verdict(True, rows=rows, anchors_checked=checked)
