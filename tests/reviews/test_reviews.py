"""The review store: append-only, hash-chained, never blocked by a warehouse writer."""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import time
from pathlib import Path

import polars as pl
import pytest

from tierlens.errors import StoreError
from tierlens.reviews import store as reviews
from tierlens.reviews.store import ReviewError, verify_audit_log
from tierlens.settings import Settings


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "reviews" / "reviews.sqlite"


def _fill(store: Path) -> None:
    reviews.record_review(store, "c-1", "qa", {"greeting": 1, "empathy": None}, 100.0, "good", settings=Settings())
    reviews.record_disposition(store, "c-1", "pii_card", 3, "confirmed", "card read aloud", "comp", settings=Settings())
    reviews.record_label_correction(store, "c-1", 2, "sentiment", "positive", "negative", "qa",
                                    text="this is useless", settings=Settings())
    reviews.record_assignment(store, "c-2", "qa", "admin", settings=Settings())
    reviews.record_disposition(store, "c-1", "pii_card", 3, "escalated", "DPO asked", "comp", settings=Settings())


def test_every_write_appends_one_chained_audit_row(store):
    _fill(store)
    log = reviews.audit_log(store).sort("seq")
    assert log["seq"].to_list() == [1, 2, 3, 4, 5]
    assert log["action"].to_list() == ["review", "disposition", "label_correction", "assignment",
                                       "disposition"]
    assert log["prev_hash"][0] == reviews.GENESIS
    assert log["prev_hash"].to_list()[1:] == log["hash"].to_list()[:-1]
    last = log.row(4, named=True)
    assert json.loads(last["before"]) == {"disposition": "confirmed", "note": "card read aloud",
                                          "who": "comp"}
    assert json.loads(last["after"]) == {"disposition": "escalated", "note": "DPO asked"}
    assert verify_audit_log(store, Settings()) == (True, None)
    cur = reviews.latest_dispositions(store)
    assert cur.height == 1 and cur["disposition"][0] == "escalated"


@pytest.mark.parametrize("note", ["", "   ", None])
def test_disposition_requires_a_note(store, note):
    with pytest.raises(ReviewError, match="note"):
        reviews.record_disposition(store, "c-1", "r", 1, "confirmed", note, "comp", settings=Settings())  # type: ignore[arg-type]
    assert reviews.audit_log(store).height == 0


def test_invalid_values_are_rejected(store):
    with pytest.raises(ReviewError):
        reviews.record_disposition(store, "c-1", "r", 1, "ignored", "x", "comp", settings=Settings())
    with pytest.raises(ReviewError):
        reviews.record_label_correction(store, "c-1", 1, "colour", None, "red", "qa", settings=Settings())
    with pytest.raises(ReviewError):
        reviews.record_review(store, "c-1", "qa", {"greeting": 5}, None, settings=Settings())
    assert reviews.audit_log(store).height == 0


@pytest.mark.parametrize("table", ["audit_log", "reviews", "dispositions", "label_corrections",
                                   "assignments"])
def test_tables_are_append_only(store, table):
    _fill(store)
    con = reviews.connect(store)
    first = {"audit_log": "seq"}.get(table, "id")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(f"UPDATE {table} SET {first} = {first} WHERE {first} = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(f"DELETE FROM {table}")
    con.close()
    assert verify_audit_log(store, Settings()) == (True, None)


def _tamper(store: Path, sql: str) -> None:
    """What an attacker with file access does: drop the triggers, edit the rows."""
    con = sqlite3.connect(store)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("DROP TRIGGER audit_log_no_delete")
    con.execute(sql)
    con.commit()
    con.close()


def test_edited_row_is_detected(store):
    _fill(store)
    _tamper(store, """UPDATE audit_log SET after = '{"disposition":"dismissed","note":"ok"}'
                      WHERE seq = 2""")
    assert verify_audit_log(store, Settings()) == (False, 2)


def test_deleted_row_is_detected(store):
    _fill(store)
    _tamper(store, "DELETE FROM audit_log WHERE seq = 3")
    assert verify_audit_log(store, Settings()) == (False, 3)


def test_export_corrections_latest_wins(store):
    reviews.record_label_correction(store, "c-1", 2, "intent", "billing_inquiry",
                                    "request_refund", "qa", text="I want my money back", settings=Settings())
    reviews.record_label_correction(store, "c-1", 2, "intent", "request_refund",
                                    "dispute_charge", "qa2", text="I want my money back", settings=Settings())
    reviews.record_label_correction(store, "c-2", 0, "intent", None, "lost_or_stolen_card", "qa",
                                    text="lost my card", settings=Settings())
    reviews.record_label_correction(store, "c-3", 0, "sentiment", "neutral", "negative", "qa",
                                    text="meh", settings=Settings())
    out = reviews.export_corrections(store, "intent")
    assert out.to_dicts() == [{"text": "I want my money back", "label": "dispute_charge"},
                              {"text": "lost my card", "label": "lost_or_stolen_card"}]
    con = reviews.connect(store)
    assert reviews.export_corrections(con, "sentiment").to_dicts() == [
        {"text": "meh", "label": "negative"}]
    con.close()
    assert reviews.export_corrections(store.parent / "none.sqlite", "intent").height == 0


def test_human_criteria_uses_latest_review(store):
    reviews.record_review(store, "c-1", "qa", {"greeting": 1}, 100.0, settings=Settings())
    reviews.record_review(store, "c-1", "qa", {"greeting": 0, "empathy": None}, 0.0, settings=Settings())
    out = reviews.human_criteria(reviews.reviews(store)).sort("criterion")
    assert out.to_dicts() == [{"conversation_id": "c-1", "criterion": "empathy", "score": None},
                              {"conversation_id": "c-1", "criterion": "greeting", "score": 0}]


# --- concurrency: a flow holds the warehouse's write lock while reviews are saved ----------

def _warehouse_writer(warehouse: str, ready, stop) -> None:
    from tierlens.store.db import connect

    con = connect(warehouse)  # takes DuckDB's exclusive file lock, like a running flow
    con.execute("CREATE TABLE IF NOT EXISTS busy (i INTEGER)")
    ready.set()
    i = 0
    while not stop.is_set():
        con.execute("INSERT INTO busy VALUES (?)", [i])
        i += 1
    con.close()


def _reviewer(store: str, who: str, n: int) -> None:
    for i in range(n):
        if i % 2:
            reviews.record_review(store, f"c-{who}-{i}", who, {"greeting": 1}, 100.0, "ok", settings=Settings())
        else:
            reviews.record_disposition(store, f"c-{who}-{i}", "rule", i, "confirmed",
                                       f"note {i}", who, settings=Settings())


def test_reviews_saved_while_a_flow_holds_the_warehouse(tmp_path, store):
    ctx = mp.get_context("spawn")
    warehouse = tmp_path / "wh" / "tierlens.duckdb"
    ready, stop = ctx.Event(), ctx.Event()
    flow = ctx.Process(target=_warehouse_writer, args=(str(warehouse), ready, stop))
    flow.start()
    try:
        assert ready.wait(120), "warehouse writer did not start"
        from tierlens.store.db import connect

        with pytest.raises(StoreError, match="another process is writing"):
            connect(warehouse)  # the lock is really held
        n = 40
        procs = [ctx.Process(target=_reviewer, args=(str(store), who, n)) for who in ("qa", "comp")]
        t0 = time.monotonic()
        for p in procs:
            p.start()
        for p in procs:
            p.join(180)
        assert [p.exitcode for p in procs] == [0, 0]
        assert flow.is_alive(), "the flow kept writing the whole time"
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        flow.join(60)
    log = reviews.audit_log(store)
    assert log.height == 2 * n
    assert sorted(log["seq"].to_list()) == list(range(1, 2 * n + 1))
    assert reviews.reviews(store).height == n
    assert pl.concat([reviews.latest_dispositions(store)]).height == n
    assert verify_audit_log(store, Settings()) == (True, None)
    assert elapsed < 120


def test_the_audit_key_is_read_once_per_key_file_and_again_when_it_is_replaced(tmp_path,
                                                                                monkeypatch):
    from tierlens.reviews import audit

    key_file = tmp_path / "cfg" / "audit.key"
    settings = Settings(audit_key_file=key_file)
    old = audit.load_key(key_file)
    reads: list = []
    real = audit.load_key
    monkeypatch.setattr(audit, "load_key", lambda p: reads.append(p) or real(p))
    first = tmp_path / "first.sqlite"
    for cid in ("c-1", "c-2", "c-3"):
        reviews.record_assignment(first, cid, "qa", "admin", settings=settings)
    assert len(reads) == 1
    assert verify_audit_log(first, settings) == (True, None)  # signed with the file's key

    new = tmp_path / "cfg" / "new.key"  # a rotated key: another file moved into place
    new.write_text("b" * 64 + "\n")
    new.replace(key_file)
    second = tmp_path / "second.sqlite"
    reviews.record_assignment(second, "c-1", "qa", "admin", settings=settings)
    assert len(reads) == 2  # the replaced file is read once more (the check above: cached)
    assert real(key_file) != old and verify_audit_log(second, settings) == (True, None)
    assert verify_audit_log(first, settings)[0] is False  # the old chain needs the old key
