"""The trust layer end to end: `tierlens reviews import` (CLI, review store, audit log), the
next derive re-computes the KPIs with the reviewed labels, and kpi_monthly carries them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest

from tests.metrics.test_metrics_store import loaded, template, wh  # noqa: F401 (fixtures)
from tierlens.reviews import store as reviews
from tierlens.settings import Settings

REPO_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def tierlens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tierlens.cli", *args], capture_output=True, check=False,
                          text=True, env=REPO_ENV, timeout=120)


def _csv(path, body: str):
    path.write_text("conversation_id,label_type,label,reviewer,turn_index\n" + body)
    return path


@pytest.mark.parametrize("body, why", [
    ("g-abandoned-bot,resolution,fixed,ann,\n", "line 2: resolution label 'fixed'"),
    ("g-abandoned-bot,resolution,resolved,ann,\ng-rep-1,mood,happy,ann,\n",
     "line 3: label_type 'mood'"),
    ("g-rep-1,sentiment,negative,ann,\n", "line 2: a sentiment label needs the turn_index"),
    ("g-rep-1,resolution,resolved,,\n", "line 2: reviewer is empty"),
    ("g-rep-1,resolution,resolved,ann,x\n", "line 2: turn_index must be a whole number"),
])
def test_bad_rows_name_their_line_and_import_nothing(tmp_path, body, why):
    store = tmp_path / "reviews.sqlite"
    res = tierlens("reviews", "import", str(_csv(tmp_path / "r.csv", body)),
                   "--store", str(store), "--db", str(tmp_path / "none.duckdb"))
    assert res.returncode == 1
    err = res.stderr.strip()
    assert why in err and "nothing was imported" in err and len(err.splitlines()) == 1
    assert not store.exists() or reviews.label_corrections(store).is_empty()


def test_missing_columns_and_unknown_conversations(tmp_path, template):  # noqa: F811
    (tmp_path / "cols.csv").write_text("conversation_id,label\nx,resolved\n")
    res = tierlens("reviews", "import", str(tmp_path / "cols.csv"), "--store",
                   str(tmp_path / "s.sqlite"))
    assert res.returncode == 1 and "missing column(s) label_type, reviewer" in res.stderr
    res = tierlens("reviews", "import",
                   str(_csv(tmp_path / "r.csv", "no-such-id,resolution,resolved,ann,\n")),
                   "--store", str(tmp_path / "s.sqlite"), "--db", str(template[0]))
    assert res.returncode == 1 and "line 2: conversation_id is not in the warehouse" in res.stderr


def test_import_then_derive_corrects_the_kpis(tmp_path, wh, settings, loaded):  # noqa: F811
    settings = settings.model_copy(update={"data_dir": tmp_path,
                                      "review_store": tmp_path / "reviews.sqlite"})
    store = reviews.default_path(settings)     # where the next derive reads reviews from
    as_of = datetime.fromisoformat(loaded["as_of"])

    from tierlens.stages.derive import derive_outcomes

    derive_outcomes(wh, "mv-test", settings, as_of=as_of)
    before = dict(wh.execute(
        "SELECT kpi, n_reviewed FROM kpi_monthly_all WHERE month = '2026-06' AND tier = 'all' "
        "AND kpi IN ('abandonment_rate', 'escalation_rate')").fetchall())
    assert before == {"abandonment_rate": 0, "escalation_rate": None}

    # the model says g-abandoned-bot was abandoned; the reviewer says resolved
    csv_path = _csv(tmp_path / "r.csv", "g-abandoned-bot,resolution,resolved,ann,\n")
    res = tierlens("reviews", "import", str(csv_path), "--store", str(store))
    assert res.returncode == 0, res.stderr
    assert "imported 1 label(s) (resolution 1)" in res.stdout
    assert reviews.verify_audit_log(store, Settings())[0]
    assert reviews.audit_log(store)["action"].to_list() == ["label_correction"]

    wh.execute("UPDATE current_versions SET version = 'mv-test' WHERE component = 'model'")
    derive_outcomes(wh, "mv-test", settings)  # reads the review store's labels, then derives
    # derive reads the store itself: only publish mirrors it and anchors the chain, once a run
    assert wh.execute("SELECT count(*) FROM audit_anchors").fetchone() == (0,)
    month = wh.execute("SELECT strftime(started_at AT TIME ZONE 'UTC', '%Y-%m') FROM "
                       "core_conversations WHERE conversation_id = 'g-abandoned-bot'"
                       ).fetchone()[0]
    row = wh.execute("SELECT value, value_corrected, ci_low, ci_high, n_reviewed "
                     "FROM kpi_monthly_all WHERE month = ? AND tier = 'all' "
                     "AND kpi = 'abandonment_rate'", [month]).fetchone()
    value, corrected, lo, hi, n = row
    assert n == 1 and value > 0
    assert corrected < value                      # one abandonment fewer, scaled to the month
    assert lo <= corrected <= hi
    esc = wh.execute("SELECT value, value_corrected, ci_low, ci_high, n_reviewed FROM "
                     "kpi_monthly_all WHERE month = ? AND tier = 'all' "
                     "AND kpi = 'escalation_rate'", [month]).fetchone()
    assert esc[0] == esc[1] == esc[2] == esc[3] and esc[4] is None
    sample = wh.execute("SELECT count(*), bool_or(reviewed) FROM verification_sample "
                        "WHERE conversation_id = 'g-abandoned-bot'").fetchone()
    assert sample == (1, True)    # tiny groups: every conversation is in the sample


def test_reviews_of_other_warehouses_conversations_are_ignored(tmp_path, wh, settings,  # noqa: F811
                                                               loaded):  # noqa: F811
    settings = settings.model_copy(update={"data_dir": tmp_path,
                                      "review_store": tmp_path / "reviews.sqlite"})
    store = reviews.default_path(settings)
    store.parent.mkdir(parents=True, exist_ok=True)
    reviews.record_label_correction(store, "not-in-this-warehouse", None, "resolution", None,
                                    "resolved", "ann", settings=settings)
    from tierlens.stages.derive import derive_outcomes

    derive_outcomes(wh, "mv-test", settings, as_of=datetime.fromisoformat(loaded["as_of"]))
    n = wh.execute("SELECT max(n_reviewed) FROM kpi_monthly_all").fetchone()[0]
    assert n == 0
