"""Ingest on a real DuckDB with the real GX suites: counts, idempotency, updates, formats."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.conftest import conversation, table_contents, write_jsonl
from tierlens.stages.ingest import ingest_paths


def _counts(con):
    return con.execute("SELECT count(*) FROM core_conversations").fetchone()[0], \
        con.execute("SELECT count(*) FROM core_turns").fetchone()[0]


def test_contract_example_is_stored_redacted_and_pseudonymised(con, settings, tmp_path):
    rec = conversation(turns=[
        {"speaker": "customer", "text": "card 4111 1111 1111 1111, mail bob@example.com",
         "ts": "2026-10-01T09:14:03Z"},
        {"speaker": "bot", "text": "Thanks", "ts": "2026-10-01T09:14:05Z", "bot_confidence": 0.9}])
    report = ingest_paths(con, [write_jsonl(tmp_path / "a.jsonl", [rec])], settings)
    assert (report.read, report.stored, report.quarantined) == (1, 1, 0)
    text = con.execute("SELECT text FROM core_turns WHERE turn_index = 0").fetchone()[0]
    assert "4111" not in text and "bob@example.com" not in text
    assert "[CARD]" in text and "[EMAIL]" in text
    types = {r[0] for r in con.execute("SELECT pii_type FROM pii_spans").fetchall()}
    assert types == {"CARD", "EMAIL"}
    cust = con.execute("SELECT customer_id, tier_path FROM core_conversations").fetchone()
    assert cust[0].startswith("cus_") and "cust-77" not in cust[0]
    assert cust[1] == "bot_only"


def test_tier_paths(con, settings, tmp_path):
    c, b, a = ({"speaker": s, "text": "x"} for s in ("customer", "bot", "agent"))
    recs = [conversation("bo", turns=[c, b]), conversation("bh", turns=[c, b, a]),
            conversation("ho", turns=[c, a]), conversation("none", turns=[c])]
    ingest_paths(con, [write_jsonl(tmp_path / "p.jsonl", recs)], settings)
    got = dict(con.execute("SELECT conversation_id, tier_path FROM conversations").fetchall())
    assert got == {"bo": "bot_only", "bh": "bot_then_human", "ho": "human_only", "none": None}


def test_ingesting_twice_is_byte_for_byte_equivalent(con, settings, tmp_path):
    recs = [conversation(f"c-{i}") for i in range(30)] + ["{broken", {"turns": []}]
    path = write_jsonl(tmp_path / "in.jsonl", recs)
    first = ingest_paths(con, [path], settings)
    before = table_contents(con)
    second = ingest_paths(con, [path], settings)
    assert table_contents(con) == before
    assert second.files_skipped == 1 and second.read == 0
    # the same conversations in a different file: read again, all unchanged
    copy = write_jsonl(tmp_path / "copy.jsonl", recs[:30])
    third = ingest_paths(con, [copy], settings)
    assert (third.read, third.unchanged, third.stored, third.updated) == (30, 30, 0, 0)
    after = table_contents(con)
    assert after["core_conversations"] == before["core_conversations"]
    assert after["core_turns"] == before["core_turns"]
    assert first.reconciles() and second.reconciles() and third.reconciles()


def test_changed_redelivery_updates_not_duplicates(con, settings, tmp_path):
    ingest_paths(con, [write_jsonl(tmp_path / "v1.jsonl", [conversation("c-9")])], settings)
    # the same turns with a changed field: a superset, so it replaces
    report = ingest_paths(con, [write_jsonl(tmp_path / "v2.jsonl", [conversation("c-9", csat=2)])],
                          settings)
    assert (report.updated, report.stored) == (1, 0)
    assert _counts(con) == (1, 4)
    assert con.execute("SELECT csat FROM core_conversations").fetchone()[0] == 2
    # more turns, every stored one among them: replaces, in the delivery's order
    more = conversation("c-9", csat=3)
    more["turns"] = more["turns"] + [{"speaker": "customer", "text": "thanks",
                                      "ts": "2026-10-01T09:15:00Z"}]
    report = ingest_paths(con, [write_jsonl(tmp_path / "v3.jsonl", [more])], settings)
    assert (report.updated, report.stored) == (1, 0) and _counts(con) == (1, 5)
    assert con.execute("SELECT csat FROM core_conversations").fetchone()[0] == 3


def test_a_disjoint_part_is_appended_in_time_order(con, settings, tmp_path):
    ingest_paths(con, [write_jsonl(tmp_path / "v1.jsonl", [conversation("c-9")])], settings)
    later = conversation("c-9", csat=None, turns=[
        {"speaker": "customer", "text": "still broken", "ts": "2026-10-01T09:30:00Z"}],
        started_at="2026-10-01T09:30:00Z", ended_at="2026-10-01T09:31:00Z")
    report = ingest_paths(con, [write_jsonl(tmp_path / "v2.jsonl", [later])], settings)
    assert (report.updated, report.stored) == (1, 0)
    assert _counts(con) == (1, 5)
    row = con.execute("SELECT csat, started_at, ended_at, n_turns FROM core_conversations").fetchone()
    # csat kept from the stored part (the later one has none); the span covers both parts
    assert row[0] == 4 and row[3] == 5
    assert (row[1].isoformat(), row[2].isoformat()) == ("2026-10-01T09:14:03+00:00",
                                                        "2026-10-01T09:31:00+00:00")
    texts = [r[0] for r in con.execute("SELECT text FROM core_turns ORDER BY turn_index").fetchall()]
    assert texts[-1] == "still broken"
    # an earlier part arriving after it lands before it: the order is by time, not arrival
    earlier = conversation("c-9", turns=[
        {"speaker": "customer", "text": "hello?", "ts": "2026-10-01T09:00:00Z"}])
    ingest_paths(con, [write_jsonl(tmp_path / "v0.jsonl", [earlier])], settings)
    texts = [r[0] for r in con.execute("SELECT text FROM core_turns ORDER BY turn_index").fetchall()]
    assert texts[0] == "hello?" and len(texts) == 6


def test_ingest_runs_ledger_reconciles(con, settings, tmp_path):
    recs = [conversation("a"), conversation("b"), "not json", {"conversation_id": "x"}]
    report = ingest_paths(con, [write_jsonl(tmp_path / "r.jsonl", recs)], settings)
    row = con.execute("SELECT status, read, stored, updated, unchanged, quarantined "
                      "FROM ingest_runs WHERE run_id = ?", [report.run_id]).fetchone()
    assert row == ("succeeded", 4, 2, 0, 0, 2)
    assert row[1] == sum(row[2:])


def test_streaming_batches_give_the_same_result(settings, tmp_path):
    from tierlens.store.db import connect

    recs = [conversation(f"c-{i}") for i in range(200)]
    path = write_jsonl(tmp_path / "s.jsonl", recs)
    small = settings.model_copy(update={"batch_turns": 1_000, "warehouse": tmp_path / "a.duckdb"})
    big = settings.model_copy(update={"batch_turns": 100_000, "warehouse": tmp_path / "b.duckdb"})
    results = []
    for s in (small, big):
        c = connect(s.warehouse)
        ingest_paths(c, [path], s)
        results.append(table_contents(c, ("core_conversations", "core_turns", "pii_spans")))
        c.close()
    assert results[0] == results[1]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl.gz"])
def test_turn_per_row_and_gzip_formats_match_jsonl(settings, tmp_path, fmt):
    from tierlens.store.db import connect

    recs = [conversation(f"c-{i}", csat=None if i % 2 else 5) for i in range(5)]
    ref = connect(tmp_path / "ref.duckdb")
    ingest_paths(ref, [write_jsonl(tmp_path / "ref.jsonl", recs)], settings)
    rows = []
    for r in recs:
        for t in r["turns"]:
            rows.append({**{k: v for k, v in r.items() if k not in ("turns", "metadata")},
                         "metadata": json.dumps(r["metadata"]), **t})
    frame = pl.DataFrame(rows)
    if fmt == "csv":
        path = tmp_path / "turns.csv"
        frame.write_csv(path)
    elif fmt == "parquet":
        path = tmp_path / "turns.parquet"
        frame.write_parquet(path)
    else:
        path = write_jsonl(tmp_path / "conv.jsonl.gz", recs, gz=True)
    other = connect(tmp_path / f"{fmt}.duckdb")
    report = ingest_paths(other, [path], settings)
    assert report.stored == 5 and report.quarantined == 0
    q = "SELECT conversation_id, turn_index, speaker, text, ts, agent_id, bot_confidence, event " \
        "FROM core_turns ORDER BY ALL"
    assert other.execute(q).fetchall() == ref.execute(q).fetchall()
    q = "SELECT conversation_id, channel, customer_id, started_at, ended_at, first_queue, csat, " \
        "tier_path, n_turns FROM core_conversations ORDER BY ALL"
    assert other.execute(q).fetchall() == ref.execute(q).fetchall()


def test_a_simulated_folder_ingests_without_quarantine(con, settings, tmp_path):
    from tierlens.simulate import simulate

    sim = simulate(300, 1, 3, tmp_path / "sim")
    report = ingest_paths(con, [sim.out_dir], settings)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert (report.files_seen, report.quarantined, report.files_failed) == (1, 0, 0)
    assert report.stored == _counts(con)[0] == 300


def test_a_folder_with_the_marker_is_skipped_unless_named(con, settings, tmp_path):
    from tierlens.schema import NO_INGEST_MARKER

    write_jsonl(tmp_path / "in" / "a.jsonl", [conversation("a")])
    archive = write_jsonl(tmp_path / "in" / "archive" / "old.jsonl", [conversation("old")])
    (archive.parent / NO_INGEST_MARKER).write_text("")
    assert ingest_paths(con, [tmp_path / "in"], settings).files_seen == 1
    assert ingest_paths(con, [archive], settings).stored == 1  # a file named is always read
