"""The simulated mix is roughly as planned and every planted phenomenon occurs."""

from __future__ import annotations

from collections import Counter


def test_tier_path_mix_is_about_55_30_15(sim):
    _, _, truth, _ = sim
    share = {k: v / len(truth) for k, v in Counter(t["tier_path"] for t in truth).items()}
    assert 0.48 <= share["bot_only"] <= 0.62
    assert 0.24 <= share["bot_then_human"] <= 0.36
    assert 0.10 <= share["human_only"] <= 0.20


def test_every_escalation_reason_misroute_and_outcome_occurs(sim):
    _, _, truth, _ = sim
    reasons = Counter(t["escalation_reason"] for t in truth if t["escalated"])
    assert set(reasons) == {"customer_request", "low_confidence", "negative_sentiment", "policy",
                            "bot_failure", "unknown"}
    assert Counter(t["misroute_kind"] for t in truth).keys() >= {
        "tier2_to_bot", "tier1_to_human", "wrong_human_queue"}
    assert any(t["transfers"] for t in truth)
    assert Counter(t["resolution"] for t in truth).keys() == {"resolved", "unresolved",
                                                              "abandoned"}
    assert any(t["n_handoffs"] == 2 for t in truth)
    assert any(t["should_have_escalated"] for t in truth)
    hs = [t["handoff_seconds"] for t in truth if t["handoff_seconds"] is not None]
    under = sum(h < 30 for h in hs) / len(hs)
    assert 0.6 < under < 0.9 and max(hs) > 120
    cues = Counter(t["vulnerable_cue"] for t in truth if t["vulnerable"])
    assert {"bereavement", "financial_hardship"} <= set(cues)
    assert {t["bot_version"] for t in truth} == {"bot-v3", "bot-v4", None}


def test_repeat_contact_rates_are_plausible(sim):
    _, _, truth, _ = sim
    closed = [t for t in truth if t["repeat_strict"] is not None]
    strict = sum(t["repeat_strict"] for t in closed) / len(closed)
    loose = sum(t["repeat_loose"] for t in closed) / len(closed)
    assert 0.03 < strict < 0.15 and strict < loose < 0.3
