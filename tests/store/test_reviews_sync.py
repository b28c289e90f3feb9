"""The review store (SQLite) is mirrored into the warehouse on publish; the audit CLI verifies it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import duckdb

from tierlens.dashboard import reviews
from tierlens.store.publish import publish


def test_dispositions_reach_compliance_flags_and_the_snapshot(con, settings, tmp_path):
    con.execute("INSERT INTO current_versions VALUES ('rulebook', 'rb1', now())")
    con.execute("INSERT INTO compliance_hits (conversation_id, turn_index, rule_id, rule_version, "
                "rulebook_version, kind, severity, span_start, span_end, matched_text) VALUES "
                "('c1', 2, 'no_guarantee', '1', 'rb1', 'phrase', 'major', 0, 11, 'I guarantee')")
    store = tmp_path / "reviews.sqlite"
    reviews.record_disposition(store, "c1", "no_guarantee", 2, "dismissed", "first look", "ann")
    reviews.record_disposition(store, "c1", "no_guarantee", 2, "confirmed", "on replay", "bob")
    snap = publish(con, settings.serving_dir, reviews_path=store)
    row = con.execute("SELECT disposition, disposition_note, disposed_by FROM compliance_flags"
                      ).fetchone()
    assert row == ("confirmed", "on replay", "bob")  # the latest disposition wins
    assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 2
    served = duckdb.connect(str(snap), read_only=True)
    assert served.execute("SELECT disposition FROM compliance_flags").fetchone()[0] == "confirmed"
    assert served.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 2
    served.close()


def test_audit_verify_cli_detects_tampering(tmp_path):
    store = tmp_path / "reviews.sqlite"
    reviews.record_disposition(store, "c1", "r1", 0, "escalated", "needs legal", "ann")
    reviews.record_disposition(store, "c2", "r1", 1, "dismissed", "false alarm", "ann")
    cmd = [sys.executable, "-m", "tierlens.cli", "audit", "verify", "--store", str(store)]
    ok = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "intact" in ok.stdout
    db = sqlite3.connect(store)
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")  # an attacker with file access
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("UPDATE audit_log SET who = 'mallory' WHERE seq = 1")
    db.commit()
    db.close()
    bad = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "seq 1" in bad.stderr and "Traceback" not in bad.stderr
