"""Unit tests of the metric building blocks on tiny hand-made frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score

from tierlens.errors import ConfigError
from tierlens.metrics.episodes import asks_for_human
from tierlens.metrics.kpis import kpi_error, kpi_monthly
from tierlens.metrics.repeat import repeat_contacts
from tierlens.metrics.scorecard import agreement, criteria_scores, load_scorecard, qa_scores

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
UTC_DT = pl.Datetime("us", "UTC")


def _convs(rows):
    return pl.DataFrame(rows, schema={"conversation_id": pl.String, "customer_id": pl.String,
                                      "started_at": UTC_DT, "intent": pl.String}, orient="row")


# ------------------------------------------------------------------ repeat contact
def test_repeat_window_end_is_inclusive_and_forward_only():
    w = timedelta(days=7)
    c = _convs([("a", "x", T0, "i"), ("b", "x", T0 + w, "i"),           # exactly 7 days later
                ("c", "y", T0, "i"), ("d", "y", T0 + w + timedelta(seconds=1), "i")])
    r = repeat_contacts(c, 7, as_of=T0 + timedelta(days=30))
    got = dict(zip(r["conversation_id"], r["repeat_strict"], strict=True))
    assert got == {"a": True, "b": False, "c": False, "d": False}  # forward: b is not a repeat


def test_repeat_pending_until_window_closes():
    c = _convs([("a", "x", T0, "i"), ("b", "x", T0 + timedelta(days=1), "i")])
    open_ = repeat_contacts(c, 7, as_of=T0 + timedelta(days=6))
    assert open_["repeat_status"].to_list() == ["pending", "pending"]
    assert open_["repeat_strict"].to_list() == [None, None]  # a repeat was seen, still pending
    closed = repeat_contacts(c, 7, as_of=T0 + timedelta(days=7))
    assert closed.filter(pl.col("conversation_id") == "a")["repeat_strict"].item() is True


def test_repeat_strict_needs_same_intent_and_known_intent():
    c = _convs([("a", "x", T0, "i1"), ("b", "x", T0 + timedelta(days=1), "i2"),
                ("c", "x", T0 + timedelta(days=2), "i1"), ("d", "x", T0 + timedelta(days=3),
                                                           None)])
    r = repeat_contacts(c, 7, as_of=T0 + timedelta(days=60)).sort("conversation_id")
    assert r["repeat_loose"].to_list() == [True, True, True, False]
    assert r["repeat_strict"].to_list() == [True, False, False, None]  # d: intent unknown


def test_repeat_same_instant_tie_breaks_on_id():
    c = _convs([("b", "x", T0, "i"), ("a", "x", T0, "i")])
    r = repeat_contacts(c, 7, as_of=T0 + timedelta(days=30)).sort("conversation_id")
    assert r["repeat_strict"].to_list() == [True, False]


def test_default_as_of_is_latest_start():
    c = _convs([("a", "x", T0, "i"), ("b", "z", T0 + timedelta(days=3), "i")])
    r = repeat_contacts(c, 7).sort("conversation_id")
    assert r["repeat_status"].to_list() == ["pending", "pending"]


# ------------------------------------------------------------------ human requests
@pytest.mark.parametrize("text,want", [
    ("I want to talk to a human", True), ("agent", True), ("Me again. operator", True),
    ("Put me through to an agent", True), ("I'd rather speak to a person about this", True),
    ("Do I need to speak to a representative to change my pin?", False),
    ("the manager promised to call me and never did", False),
    ("I made a transfer to someone", False), ("At what age can a person open an account?", False),
])
def test_asks_for_human(text, want):
    got = pl.DataFrame({"t": [text]}).select(asks_for_human(pl.col("t")))["t"].item()
    assert got is want


# ------------------------------------------------------------------ scorecard
def _turns(rows):
    return pl.DataFrame(rows, schema={"conversation_id": pl.String, "turn_index": pl.Int32,
                                      "speaker": pl.String, "text": pl.String}, orient="row")


def test_scorecard_na_dropped_and_critical_zeroes():
    card = load_scorecard()
    turns = _turns([
        ("a", 0, "customer", "hi"), ("a", 1, "agent", "Hello! I'll sort it now."),
        ("a", 2, "agent", "Thanks, have a great day"),
        ("b", 0, "customer", "hi"), ("b", 1, "agent", "Hello! I'll sort it now."),
        ("b", 2, "agent", "Thanks, have a great day")])
    frame = pl.DataFrame({"conversation_id": ["a", "b"], "resolution": ["resolved", "resolved"]})
    hits = pl.DataFrame({"conversation_id": ["b"], "severity": ["critical"]})
    crit = criteria_scores(frame, turns, hits, card)
    a = {r["criterion"]: r["score"] for r in crit.filter(pl.col("conversation_id") == "a").to_dicts()}
    # identity verification (no account talk) and empathy (no negative sentiment) are N/A
    assert a == {"greeting": 1, "identity_verification": None, "empathy": None,
                 "solution_offered": 1, "resolution": 1, "closing": 1, "compliance": 1}
    qa = dict(qa_scores(crit, hits, card).select("conversation_id", "qa_score").iter_rows())
    assert qa["a"] == pytest.approx(100.0)   # every applicable criterion met
    assert qa["b"] == 0.0                    # critical hit


def test_scorecard_weights():
    card = load_scorecard()
    turns = _turns([("a", 0, "customer", "my card"), ("a", 1, "bot", "ok")])
    frame = pl.DataFrame({"conversation_id": ["a"], "resolution": ["unresolved"]})
    crit = criteria_scores(frame, turns, None, card)
    w = {c.name: c.weight for c in card.criteria}
    applicable = crit.filter(pl.col("applicable"))
    met = applicable.filter(pl.col("score") == 1)
    want = 100 * sum(w[c] for c in met["criterion"]) / sum(w[c] for c in applicable["criterion"])
    assert qa_scores(crit, None, card)["qa_score"].item() == pytest.approx(want)
    assert set(met["criterion"]) == {"compliance"}  # no greeting, no solution, unresolved


def test_scorecard_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "card.yaml"
    bad.write_text("version: x\ncriteria:\n  greeting: {weight: 0, check: {kind: regex}}\n")
    with pytest.raises(ConfigError, match="card.yaml.*greeting"):
        load_scorecard(bad)


def test_agreement_matches_sklearn():
    auto = pl.DataFrame({"conversation_id": list("abcdef"), "criterion": ["greeting"] * 6,
                         "score": [1, 1, 0, 0, 1, None]})
    human = pl.DataFrame({"conversation_id": list("abcdef"), "criterion": ["greeting"] * 6,
                          "score": [1, 0, 0, 0, 1, 1]})
    g = agreement(auto, human).row(0, named=True)
    assert g["n"] == 5 and g["percent_agreement"] == pytest.approx(80.0)
    assert g["cohen_kappa"] == pytest.approx(cohen_kappa_score([1, 1, 0, 0, 1], [1, 0, 0, 0, 1]))


# ------------------------------------------------------------------ KPI table
def test_kpi_error_table():
    t = pl.DataFrame({"month": ["2026-06"], "tier": ["all"], "kpi": ["fcr"], "value": [0.5],
                      "numerator": [5.0], "denominator": [10]})
    p = t.with_columns(value=pl.lit(0.6))
    e = kpi_error(t, p).row(0, named=True)
    assert e["abs_error"] == pytest.approx(0.1) and e["rel_error"] == pytest.approx(0.2)


def test_month_cohort_uses_utc_start():
    # 01:30 on 1 July in Berlin is 23:30 on 30 June UTC: the cohort is June
    out = pl.DataFrame({"conversation_id": ["a"], "tier": ["ai"],
                        "started_at": [datetime(2026, 6, 30, 23, 30, tzinfo=UTC)]},
                       schema_overrides={"started_at": UTC_DT}).with_columns(
        pl.col("started_at").dt.convert_time_zone("Europe/Berlin"))
    for col in ("bot_entered", "escalated", "contained_raw", "contained_durable", "agent_spoke",
                "repeated_after_handoff", "trapped", "repeat_strict", "repeat_loose",
                "routed_correctly", "should_have_escalated", "needless_escalation",
                "human_transfer", "fcr", "red_flag"):
        out = out.with_columns(pl.lit(None, pl.Boolean).alias(col))
    for col in ("handoff_seconds", "first_response_bot_s", "first_response_human_s",
                "csat_predicted", "aht_seconds", "bot_seconds", "human_seconds", "qa_score",
                "cost", "elapsed_seconds"):
        out = out.with_columns(pl.lit(None, pl.Float64).alias(col))
    out = out.with_columns(resolution=pl.lit(None, pl.String), csat=pl.lit(None, pl.Int16),
                           nps=pl.lit(None, pl.Int16))
    k = kpi_monthly(out)
    assert set(k["month"]) == {"2026-06"}


def test_render_kpis_formats():
    import json

    from tierlens.metrics.catalogue import render_kpis

    k = pl.DataFrame({"month": ["2026-06"], "tier": ["all"], "kpi": ["fcr"], "value": [0.5],
                      "numerator": [5.0], "denominator": [10]})
    assert json.loads(render_kpis(k, "json")) == k.to_dicts()
    assert render_kpis(k, "csv").splitlines()[0] == "month,tier,kpi,value,numerator,denominator"
    table = render_kpis(k, "table")
    assert "fcr" in table and "First-contact resolution" in table and "50.0%" in table
    assert "0.5000" not in table  # the value is formatted from the catalogue, not raw
    with pytest.raises(ValueError, match="unknown format"):
        render_kpis(k, "xml")


def test_scorecard_customer_only_conversation_is_all_na():
    card = load_scorecard()
    turns = _turns([("a", 0, "customer", "hello, about my account")])
    frame = pl.DataFrame({"conversation_id": ["a"], "resolution": ["abandoned"]})
    crit = criteria_scores(frame, turns, None, card)
    assert set(crit.filter(pl.col("applicable"))["criterion"]) == {"compliance"}


def test_repeated_after_handoff_uses_optional_embeddings():
    from tierlens.metrics.episodes import episode_frame
    from tierlens.metrics.restate import repeated_after_handoff

    ts = [T0 + timedelta(seconds=10 * i) for i in range(5)]
    turns = pl.DataFrame({
        "conversation_id": ["a"] * 5, "turn_index": list(range(5)),
        "speaker": ["customer", "bot", "system", "agent", "customer"],
        "text": ["my parcel never came", "Sorry to hear that.", "", "Hi, Sam here.",
                 "the delivery did not arrive"],  # same meaning, no shared content word
        "ts": ts, "agent_id": [None] * 5, "bot_confidence": [None, 0.95, None, None, None],
        "event": [None, None, "handoff", None, None], "queue": [None] * 5},
        schema_overrides={"turn_index": pl.Int32, "ts": UTC_DT})
    ep = episode_frame(turns)

    def emb(after_vec):
        return pl.DataFrame({"conversation_id": ["a", "a"], "turn_index": [0, 4],
                             "embedding": [[1.0, 0.0, 0.0], after_vec]},
                            schema_overrides={"turn_index": pl.Int32})

    assert repeated_after_handoff(turns, ep)["repeated_after_handoff"].item() is False
    near = repeated_after_handoff(turns, ep, emb([0.95, 0.1, 0.0]))
    assert near["repeated_after_handoff"].item() is True
    far = repeated_after_handoff(turns, ep, emb([0.0, 1.0, 0.0]))
    assert far["repeated_after_handoff"].item() is False
