"""truth.py on hand-made rows: the window edges, pending/unknown handling and percentiles."""

from __future__ import annotations

import numpy as np
import pytest

from tierlens.simulate.truth import kpi_report, link_repeats, monthly_kpis, percentile

DAY = 86_400
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z


def row(cid: str, cust: str | None, day: float, intent: str = "a", **kw) -> dict:
    base = {"conversation_id": cid, "customer_id": cust, "started_epoch": int(T0 + day * DAY),
            "month": "2026-06", "true_intent": intent, "bot_entered": True, "escalated": False,
            "tier_path": "bot_only", "resolution": "resolved", "handoff_seconds": None,
            "repeated_after_handoff": None, "first_queue": "bot", "expected_queue": "bot",
            "trapped": False, "should_have_escalated": False, "needless_escalation": False,
            "csat": None, "aht_seconds": 60, "elapsed_seconds": 60, "escalation_reason": None}
    base.update(kw)
    return base


def test_window_is_inclusive_at_seven_days_and_pending_after_as_of():
    rows = [row("c1", "x", 0), row("c2", "x", 7), row("c3", "x", 14.5, "b"),
            row("c4", None, 1), row("c5", "y", 20)]
    as_of = link_repeats(rows, 7)
    assert as_of == rows[-1]["started_epoch"]
    r1, r2, r3, r4, _ = rows
    assert (r1["repeat_strict"], r1["repeat_loose"]) == (True, True)  # exactly 7 days later
    assert (r2["repeat_strict"], r2["repeat_loose"]) == (False, False)  # 7.5 days later
    assert r2["is_repeat_of"] == "c1" and r2["same_intent_as_previous"] is True
    assert r3["is_repeat_of"] is None
    assert r3["repeat_strict"] is None and not r3["repeat_window_closed"]  # pending
    assert r4["repeat_strict"] is None and r4["repeat_window_closed"]  # unknown customer
    assert r1["contained_durable"] is False and r2["contained_durable"] is True
    assert r3["contained_durable"] is None and r3["fcr"] is None


def test_monthly_kpis_count_pending_separately():
    rows = [row("c1", "x", 0), row("c2", "x", 3, "b"), row("c3", "z", 25)]
    link_repeats(rows, 7)
    k = {(r["tier"], r["kpi"]): r for r in monthly_kpis(rows)}
    strict, loose = k[("all", "repeat_contact_strict")], k[("all", "repeat_contact_loose")]
    assert (strict["numerator"], strict["denominator"], strict["pending"]) == (0, 2, 1)
    assert (loose["numerator"], loose["denominator"]) == (1, 2)
    dur = k[("ai", "containment_durable")]
    assert (dur["numerator"], dur["denominator"], dur["pending"]) == (2, 3, 1)
    assert k[("human", "escalation_rate")]["value"] is None
    assert k[("human", "conversations")]["value"] == 0


def test_escalation_and_handoff_kpis():
    rows = [row("c1", "x", 0, escalated=True, tier_path="bot_then_human", handoff_seconds=10,
                repeated_after_handoff=True, escalation_reason="policy"),
            row("c2", "y", 1, escalated=True, tier_path="bot_then_human", handoff_seconds=45,
                repeated_after_handoff=False, escalation_reason="policy"),
            row("c3", "z", 2),
            row("c4", "w", 3, bot_entered=False, tier_path="human_only", first_queue="cards")]
    rep = kpi_report(rows, 7)
    k = {(r["tier"], r["kpi"]): r for r in rep["rows"]}
    assert k[("all", "escalation_rate")]["value"] == pytest.approx(2 / 3)
    assert k[("all", "escalation_reason_share_policy")]["numerator"] == 2
    assert k[("all", "handoff_seconds_median")]["value"] == 27.5
    assert k[("all", "handoff_under_30s_share")]["numerator"] == 1
    assert k[("all", "repeated_after_handoff_rate")]["value"] == 0.5
    assert k[("all", "routing_accuracy")]["value"] == 0.75
    assert k[("human", "conversations")]["value"] == 1
    assert rep["as_of"] == "2026-06-04T00:00:00Z"


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99, 100])
def test_percentile_matches_numpy_linear(q):
    vals = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 89]
    assert percentile(vals, q) == pytest.approx(float(np.percentile(vals, q)))
