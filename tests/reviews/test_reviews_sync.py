"""The review store (SQLite) is mirrored into the warehouse on publish; the audit CLI verifies it."""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import time

import duckdb

from tierlens.reviews import audit
from tierlens.reviews import store as reviews
from tierlens.reviews.sync import mirror_reviews
from tierlens.settings import Settings
from tierlens.stages.publish import publish


def test_dispositions_reach_compliance_flags_and_the_snapshot(con, settings, tmp_path):
    con.execute("INSERT INTO current_versions VALUES ('rulebook', 'rb1', now())")
    con.execute("INSERT INTO compliance_hits (conversation_id, turn_index, rule_id, rule_version, "
                "rulebook_version, kind, severity, span_start, span_end, matched_text) VALUES "
                "('c1', 2, 'no_guarantee', '1', 'rb1', 'phrase', 'major', 0, 11, 'I guarantee')")
    store = tmp_path / "reviews.sqlite"
    reviews.record_disposition(store, "c1", "no_guarantee", 2, "dismissed", "first look", "ann", settings=Settings())
    reviews.record_disposition(store, "c1", "no_guarantee", 2, "confirmed", "on replay", "bob", settings=Settings())
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
    reviews.record_disposition(store, "c1", "r1", 0, "escalated", "needs legal", "ann", settings=Settings())
    reviews.record_disposition(store, "c2", "r1", 1, "dismissed", "false alarm", "ann", settings=Settings())
    cmd = [sys.executable, "-m", "tierlens.cli", "audit", "verify", "--store", str(store),
           "--db", str(tmp_path / "no-warehouse.duckdb")]
    env = {**os.environ, "TIERLENS_SERVING_DIR": str(tmp_path / "no-serving")}
    ok = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, env=env)
    assert ok.returncode == 0 and "intact" in ok.stdout
    db = sqlite3.connect(store)
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")  # an attacker with file access
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("UPDATE audit_log SET who = 'mallory' WHERE seq = 1")
    db.commit()
    db.close()
    bad = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 1 and "seq 1" in bad.stderr and "Traceback" not in bad.stderr


def _writer(store: str, who: str, stop) -> None:
    i = 0
    while not stop.is_set():
        if i % 2:
            reviews.record_review(store, f"c-{who}-{i}", who, {"greeting": 1}, 100.0, "ok", settings=Settings())
        else:
            reviews.record_disposition(store, f"c-{who}-{i}", "rule", i, "confirmed", "n", who, settings=Settings())
        i += 1


def test_every_mirror_is_one_consistent_snapshot_during_writes(con, tmp_path):
    """Two reviewers write while the pipeline mirrors the store again and again: every copy
    has exactly one audit row per event row, a gapless chain and a matching anchor; and
    `verify` never raises a false alarm mid-write."""
    store = tmp_path / "reviews.sqlite"
    reviews.record_disposition(store, "c0", "rule", 0, "confirmed", "seed", "ann", settings=Settings())
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(store), who, stop)) for who in ("qa", "comp")]
    for p in procs:
        p.start()
    seen, bad = [], []
    try:
        deadline = time.monotonic() + 120
        while reviews.audit_log(store, limit=10).height < 10 and time.monotonic() < deadline:
            time.sleep(0.05)  # spawned writers can take seconds to start on a busy machine
        while len(seen) < 25 and time.monotonic() < deadline:
            mirror_reviews(con, store)
            n_log, max_seq = con.execute("SELECT count(*), max(seq) FROM audit_log").fetchone()
            n_events = con.execute("SELECT (SELECT count(*) FROM dispositions) + "
                                   "(SELECT count(*) FROM reviews)").fetchone()[0]
            anchor = con.execute("SELECT rows, head_seq, head_hash FROM audit_anchors "
                                 "ORDER BY anchored_at DESC LIMIT 1").fetchone()
            head_hash = con.execute("SELECT hash FROM audit_log WHERE seq = ?",
                                    [max_seq]).fetchone()[0]
            if (n_events, max_seq, anchor) != (n_log, n_log, (n_log, n_log, head_hash)):
                bad.append((n_log, max_seq, n_events, anchor[:2]))
            verdict = audit.verify(store, KEY())
            if not verdict.ok:
                bad.append(verdict.reason)
            seen.append(n_log)
    finally:
        stop.set()
        for p in procs:
            p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(set(seen)) > 5, f"the writers didn't overlap the copies: {seen}"
    assert not bad, f"{len(bad)} of {len(seen)} copies inconsistent: {bad[:3]}"


def test_the_run_ledger_keeps_a_second_copy_of_the_anchor(con, settings, tmp_path):
    from tierlens.orchestrate import ledger
    from tierlens.reviews.sync import anchors

    store = tmp_path / "reviews.sqlite"
    for i in range(3):
        reviews.record_disposition(store, f"c{i}", "r1", 0, "confirmed", "seen", "ann", settings=Settings())
    ledger.start_run(con, "run-1", "ingest_and_score", {})
    publish(con, settings.serving_dir, reviews_path=store)
    ledger.finish_run(con, "run-1", "succeeded", ledger.RunCounts())
    head_hash = reviews.audit_log(store, limit=1)["hash"][0]
    assert con.execute("SELECT audit_rows, audit_head_seq, audit_head_hash FROM flow_runs"
                       ).fetchall() == [(3, 3, head_hash)]
    con.execute("DELETE FROM audit_anchors")  # one copy gone: the ledger still has it
    con.close()
    found, where = anchors(settings.warehouse)
    assert where == f"warehouse {settings.warehouse}"
    assert [(a.rows, a.where) for a in found] == [(3, "warehouse's flow_runs")]
    db = sqlite3.connect(store)
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute("DROP TRIGGER dispositions_no_delete")
    db.execute("DELETE FROM audit_log WHERE seq = 3")
    db.execute("DELETE FROM dispositions WHERE id = 3")
    db.commit()
    db.close()
    verdict = audit.verify(store, KEY(), anchors=found)
    assert not verdict.ok and "rows were deleted" in verdict.reason


def KEY() -> bytes:
    return audit.load_key(Settings().audit_key_file)
