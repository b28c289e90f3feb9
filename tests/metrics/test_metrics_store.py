"""derive_outcomes / kpis_for_month against a real DuckDB warehouse (ingested golden cases)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from tierlens.errors import InputError, StoreError
from tierlens.stages.derive import derive_outcomes, kpis_for_month

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "metrics"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A warehouse holding the golden cases, written by the store's own idempotent writer
    (the GX-validated ingest path is tested in tests/ingest; here it would only add start-up
    time)."""
    from bench.truthcheck import records_to_frames
    from tierlens.schema import PII_SPAN_SCHEMA, empty
    from tierlens.store.db import connect
    from tierlens.store.writes import write_conversations

    root = tmp_path_factory.mktemp("wh")
    records = [json.loads(x) for x in (GOLDEN / "cases.jsonl").read_text().splitlines()]
    conv, turns = records_to_frames(records)
    c = connect(root / "t.duckdb")
    write_conversations(c, conv, turns, empty(PII_SPAN_SCHEMA))
    exp = json.loads((GOLDEN / "expected.json").read_text())
    rows = [(cid, "mv-test", i, r) for cid, (i, r) in exp["scores"].items()]
    c.executemany("INSERT INTO model_conversation_scores (conversation_id, model_version, "
                  "intent, resolution) VALUES (?, ?, ?, ?)", rows)
    c.close()
    return root / "t.duckdb", exp


@pytest.fixture
def wh(template, tmp_path):
    from tierlens.store.db import connect

    path = tmp_path / "copy.duckdb"
    shutil.copy(template[0], path)
    c = connect(path)
    yield c
    c.close()


@pytest.fixture
def loaded(template):
    return template[1]


def test_derive_outcomes_writes_versioned_rows(wh, settings, loaded):
    as_of = datetime.fromisoformat(loaded["as_of"])
    res = derive_outcomes(wh, "mv-test", settings, as_of=as_of)
    assert res["conversations"] == 11 and res["months"] == 2
    n = wh.execute("SELECT count(*) FROM outcomes WHERE model_version = 'mv-test'").fetchone()
    assert n[0] == 11
    row = wh.execute("SELECT escalated, escalation_reason, handoff_seconds, n_handoffs, "
                      "repeated_after_handoff FROM outcomes "
                      "WHERE conversation_id = 'g-two-handoffs'").fetchone()
    assert row == (True, "policy", 90.0, 2, True)
    rep = wh.execute("SELECT repeat_strict, repeat_loose FROM outcomes "
                      "WHERE conversation_id = 'g-rep-1'").fetchone()
    assert rep == (True, True)
    k = kpis_for_month(wh, "2026-06", "mv-test")
    esc = k.filter((pl.col("tier") == "all") & (pl.col("kpi") == "escalation_rate")).row(0,
                                                                                       named=True)
    assert (esc["value"], esc["numerator"], esc["denominator"]) == (0.25, 2.0, 8)
    assert set(k["tier"]) == {"ai", "human", "all"}
    crit = wh.execute("SELECT count(*) FROM qa_criteria_scores").fetchone()[0]
    assert crit == 11 * 7


def test_derive_outcomes_is_idempotent(wh, settings, loaded):
    as_of = datetime.fromisoformat(loaded["as_of"])
    derive_outcomes(wh, "mv-test", settings, as_of=as_of)
    first = wh.execute("SELECT * EXCLUDE (derived_at) FROM outcomes ORDER BY 1").fetchall()
    kpi1 = wh.execute("SELECT * EXCLUDE (derived_at) FROM kpi_monthly_all ORDER BY 1, 2, 3"
                       ).fetchall()
    derive_outcomes(wh, "mv-test", settings, as_of=as_of)
    assert wh.execute("SELECT * EXCLUDE (derived_at) FROM outcomes ORDER BY 1").fetchall() == first
    assert wh.execute("SELECT * EXCLUDE (derived_at) FROM kpi_monthly_all ORDER BY 1, 2, 3"
                       ).fetchall() == kpi1


def test_versions_are_kept_apart(wh, settings, loaded):
    as_of = datetime.fromisoformat(loaded["as_of"])
    derive_outcomes(wh, "mv-test", settings, as_of=as_of)
    derive_outcomes(wh, "mv-other", settings, as_of=as_of)  # no model scores: intent unknown
    k_other = kpis_for_month(wh, "2026-06", "mv-other")
    ra = k_other.filter((pl.col("tier") == "all") & (pl.col("kpi") == "routing_accuracy"))
    assert ra["denominator"][0] == 0 and ra["value"][0] is None  # unknown intent: left out
    k_test = kpis_for_month(wh, "2026-06", "mv-test")
    assert k_test.filter((pl.col("tier") == "all") & (pl.col("kpi") == "routing_accuracy")
                         )["value"][0] == pytest.approx(0.8)


def test_kpis_for_month_errors(wh, settings, loaded):
    with pytest.raises(InputError, match="YYYY-MM"):
        kpis_for_month(wh, "June")
    derive_outcomes(wh, "mv-test", settings, as_of=datetime.fromisoformat(loaded["as_of"]))
    with pytest.raises(StoreError, match="no KPIs for 2025-01"):
        kpis_for_month(wh, "2025-01", "mv-test")


def test_derive_outcomes_on_empty_warehouse(con, settings):
    with pytest.raises(StoreError, match="no conversations"):
        derive_outcomes(con, "mv-test", settings)


def test_qa_agreement_reads_human_reviews_without_touching_auto_scores(wh, settings, loaded):
    from tierlens.stages.derive import qa_agreement

    derive_outcomes(wh, "mv-test", settings, as_of=datetime.fromisoformat(loaded["as_of"]))
    auto = dict(wh.execute("SELECT conversation_id, score FROM qa_criteria_scores "
                           "WHERE criterion = 'greeting'").fetchall())
    # the reviewer agrees on two conversations and disagrees on one
    flip = {"g-two-handoffs": auto["g-two-handoffs"], "g-transfer": auto["g-transfer"],
            "g-trapped": 1 - auto["g-trapped"]}
    for seq, (cid, score) in enumerate(flip.items()):
        wh.execute("INSERT INTO reviews VALUES (?, ?, 'qa-anna', ?, NULL, NULL, now())",
                   [seq, cid, json.dumps({"greeting": score, "empathy": None})])
    g = qa_agreement(wh, "mv-test").filter(pl.col("criterion") == "greeting").row(0, named=True)
    assert g["n"] == 3 and g["percent_agreement"] == pytest.approx(200 / 3)
    after = dict(wh.execute("SELECT conversation_id, score FROM qa_criteria_scores "
                            "WHERE criterion = 'greeting'").fetchall())
    assert after == auto  # the human score never overwrites the auto score


def test_elapsed_seconds_is_stored_and_appended_to_the_view(wh, settings, loaded):
    derive_outcomes(wh, "mv-test", settings, as_of=datetime.fromisoformat(loaded["as_of"]))
    aht, elapsed = wh.execute("SELECT aht_seconds, elapsed_seconds FROM outcomes "
                              "WHERE conversation_id = 'g-human-only'").fetchone()
    assert elapsed is not None and aht is not None and aht <= elapsed
    cols = [r[0] for r in wh.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = "
        "'conversation_scores' ORDER BY ordinal_position").fetchall()]
    # the view is a public contract: the new column comes last, after every earlier one
    assert cols[-3:] == ["cost", "n_hits", "elapsed_seconds"]
