"""The audit trail can't be silently rewritten: keyed chain, event tables, anchors (docs/audit.md).

Each attack is what someone with write access to the store file (but not the key file) can do.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from test_reviews import _fill

from tierlens.reviews import audit
from tierlens.reviews import store as reviews
from tierlens.settings import Settings
from tierlens.stages.publish import publish


@pytest.fixture
def store(tmp_path) -> Path:
    """Five events: a review, a disposition, a label correction, an assignment, a disposition."""
    path = tmp_path / "reviews" / "reviews.sqlite"
    _fill(path)
    return path


def _sql(store: Path, *statements: str) -> None:
    """Drop every trigger (the append-only guard), then run the attacker's statements."""
    con = sqlite3.connect(store)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    for sql in statements:
        con.execute(sql)
    con.commit()
    con.close()


def _rechain(store: Path, hash_fn) -> None:
    """Recompute every prev_hash/hash with ``hash_fn(prev, row)``, as a forger would."""
    con = sqlite3.connect(store)
    rows = con.execute("SELECT seq, at, who, action, object, before, after FROM audit_log "
                       "ORDER BY seq").fetchall()
    prev = audit.GENESIS
    for r in rows:
        row = dict(zip(("seq", "at", "who", "action", "object", "before", "after"), r,
                       strict=True))
        h = hash_fn(prev, row)
        con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, r[0]))
        prev = h
    con.commit()
    con.close()


def _sha256(prev: str, row: dict) -> str:
    body = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + body).encode()).hexdigest()


def _cli(store: Path, db: Path | None = None) -> subprocess.CompletedProcess:
    """`tierlens audit verify` with warehouse and snapshot in the test's folder (never the
    checkout's own data/, whose anchors belong to another store)."""
    cmd = [sys.executable, "-m", "tierlens.cli", "audit", "verify", "--store", str(store),
           "--db", str(db or store.parent / "no-warehouse.duckdb")]
    env = {**os.environ, "TIERLENS_SERVING_DIR": str(store.parent / "no-serving")}
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, env=env)


def test_a_clean_store_verifies(store):
    verdict = audit.verify(store, KEY())
    assert verdict.ok and verdict.rows == 5 and verdict.reason == ""
    assert reviews.verify_audit_log(store, Settings()) == (True, None)
    ok = _cli(store)
    assert ok.returncode == 0 and "intact (5 row(s)); event tables match" in ok.stdout


def test_the_key_file_is_created_once_with_owner_only_permissions(tmp_path):
    path = tmp_path / "cfg" / "audit.key"
    key = audit.load_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(key) == 64 and audit.load_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temp file left


def test_edit_and_recompute_the_chain_without_the_key_fails(store):
    """Attack 1: change a disposition and its audit row, then recompute the whole chain."""
    _sql(store, "UPDATE dispositions SET disposition = 'dismissed', note = 'ok' WHERE id = 2",
         """UPDATE audit_log SET after = '{"disposition":"dismissed","note":"ok"}' WHERE seq = 5""")
    _rechain(store, _sha256)  # the old, unkeyed formula
    assert reviews.verify_audit_log(store, Settings()) == (False, 1)
    _rechain(store, lambda prev, row: audit.row_hash(b"a guessed key" * 4, prev, row))
    verdict = audit.verify(store, KEY())
    assert not verdict.ok and verdict.seq == 1 and "another audit key" in verdict.reason
    bad = _cli(store)
    assert bad.returncode == 1 and "seq 1" in bad.stderr and "Traceback" not in bad.stderr


def test_rewrite_with_the_key_is_caught_by_the_publish_anchor(store, con, settings):
    """Even a forger holding the key can't rewrite history already anchored at a publish."""
    publish(con, settings.serving_dir, reviews_path=store)
    _sql(store, "UPDATE dispositions SET note = 'nothing to see' WHERE id = 1",
         """UPDATE audit_log SET after = '{"disposition":"confirmed","note":"nothing to see"}'
            WHERE seq = 2""")
    _rechain(store, lambda prev, row: audit.row_hash(KEY(), prev, row))
    assert audit.verify(store, KEY()).ok  # chain and tables agree: only the anchor knows
    found = [audit.Anchor(*r) for r in con.execute(
        "SELECT rows, head_seq, head_hash FROM audit_anchors").fetchall()]
    verdict = audit.verify(store, KEY(), anchors=found)
    assert not verdict.ok and "history was rewritten" in verdict.reason


def test_deleting_the_last_rows_fails_against_the_anchor(store, con, settings):
    """Attack 2: truncation. The remaining chain is valid, but the publish anchored 5 rows."""
    publish(con, settings.serving_dir, reviews_path=store)
    assert con.execute("SELECT rows, head_seq FROM audit_anchors").fetchall() == [(5, 5)]
    con.close()  # release the warehouse so the CLI can read its anchors
    _sql(store, "DELETE FROM audit_log WHERE seq >= 4", "DELETE FROM assignments",
         "DELETE FROM dispositions WHERE id = 2")
    assert audit.verify(store, KEY()).ok  # without an anchor a truncated chain looks whole
    bad = _cli(store, db=settings.warehouse)
    assert bad.returncode == 1 and "rows were deleted" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("attack", [
    "UPDATE dispositions SET disposition = 'dismissed' WHERE id = 2",
    "DELETE FROM dispositions WHERE id = 2",
    ("INSERT INTO dispositions (conversation_id, rule_id, turn_index, disposition, note, who, at) "
    "VALUES ('c-9', 'r', 1, 'dismissed', 'x', 'comp', '2026-01-01')"),
    "UPDATE reviews SET total = 0 WHERE id = 1",
    "UPDATE label_corrections SET text = 'poisoned training text' WHERE id = 1",
    "UPDATE assignments SET assignee = 'mallory'",
])
def test_changing_an_event_table_after_dropping_its_trigger_fails(store, attack):
    """Attack 3: the audit log is untouched, the event table is edited."""
    _sql(store, attack)
    verdict = audit.verify(store, KEY())
    assert not verdict.ok and "audit" in verdict.reason
    bad = _cli(store)
    assert bad.returncode == 1 and "tampered" in bad.stderr and "Traceback" not in bad.stderr


def test_a_corrupt_store_gives_one_line_not_a_traceback(tmp_path):
    path = tmp_path / "reviews.sqlite"
    path.write_bytes(b"this is not a database" * 200)
    bad = _cli(path)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1 and str(path) in bad.stderr, bad.stderr


def KEY() -> bytes:
    return audit.load_key(Settings().audit_key_file)


def test_row_hash_bytes_are_pinned():
    """Existing chains must keep verifying: the canonical serialisation (shared by the stored
    before/after and the row hash) and the HMAC over it are pinned to a known value."""
    after = reviews.canonical({"b": [1, 2.5, "é"], "a": {"z": None, "y": True}})
    assert after == '{"a":{"y":true,"z":null},"b":[1,2.5,"é"]}'
    row = {"seq": 3, "at": "2026-01-02T03:04:05.000006+00:00", "who": "rév", "action": "label",
           "object": "flag:c1/r1/2", "before": None, "after": after}
    assert audit.row_hash(b"k" * 32, "0" * 64, row) == (
        "31341ec327e4c1e59446b0206d4ec2365dc38a27c975eedd034a49af4e2dbe7b")
