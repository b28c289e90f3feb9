"""The planted truth agrees with the transcripts and with PRODUCT.md's definitions."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

from tierlens.simulate.bank import load_bank
from tierlens.simulate.pii import luhn_ok

WEEK = 7 * 86_400


def _pairs(sim):
    _, convs, truth, _ = sim
    assert [c["conversation_id"] for c in convs] == [t["conversation_id"] for t in truth]
    return list(zip(convs, truth, strict=True))


def test_paths_escalation_and_handoff_follow_the_transcript(sim):
    for c, t in _pairs(sim):
        turns = c["turns"]
        sp = [x["speaker"] for x in turns]
        resp = [s for s in sp if s in ("bot", "agent")]
        assert t["bot_entered"] == (resp[0] == "bot")
        has_agent = "agent" in sp
        handoffs = [i for i, x in enumerate(turns) if x.get("event") == "handoff"]
        path = ("bot_then_human" if has_agent else "bot_only") if t["bot_entered"] else "human_only"
        assert t["tier_path"] == path
        assert t["escalated"] == (t["bot_entered"] and (has_agent or bool(handoffs)))
        assert t["n_handoffs"] == len(handoffs)
        assert (t["escalation_reason"] is not None) == t["escalated"]
        assert c["queue"] == t["first_queue"]
        assert t["misrouted"] == (t["first_queue"] != t["expected_queue"])
        if t["handoff_seconds"] is not None:
            trig = handoffs[0] if handoffs else t["human_request_turn_index"]
            assert t["escalation_trigger_turn_index"] == trig
            agent = next(i for i, s in enumerate(sp) if s == "agent" and i > trig)
            secs = _epoch(turns[agent]["ts"]) - _epoch(turns[trig]["ts"])
            assert t["handoff_seconds"] == secs >= 0
        if t["tier_path"] == "bot_only":
            assert c["metadata"]["bot_version"] == t["bot_version"]
        for tr in t["transfers"]:
            assert turns[tr["turn_index"]]["event"] == "transfer"
            assert turns[tr["turn_index"]]["queue"] == tr["to_queue"] != tr["from_queue"]


def _epoch(ts: str) -> int:
    import calendar
    import time
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def test_trapped_means_no_handoff_within_two_bot_turns_after_a_human_request(sim):
    requests = set(load_bank().opener_pool("talk_to_human"))
    n_trapped = 0
    for c, t in _pairs(sim):
        turns = c["turns"]
        asked = [i for i, x in enumerate(turns) if x["speaker"] == "customer"
                 and x["text"] in requests]
        req = t["human_request_turn_index"]
        assert req == (asked[0] if asked else None)
        if req is None:
            assert not t["trapped"]
            continue
        bots = 0
        for x in turns[req + 1:]:
            if x.get("event") == "handoff" or x["speaker"] == "agent":
                break
            bots += x["speaker"] == "bot"
        trapped = t["bot_entered"] and bots >= 2
        assert t["trapped"] == trapped
        # planted data avoids the ambiguous middle: either <= 1 bot turn or >= 3 / abandoned
        if t["trapped"]:
            n_trapped += 1
            assert {"kind": "trapped_customer", "turn_index": req} in t["breaches"]
    assert n_trapped > 10


def test_repeat_links_point_to_the_same_customer_within_seven_days(sim):
    _, _, truth, kpis = sim
    by_id = {t["conversation_id"]: t for t in truth}
    as_of = _epoch(kpis["as_of"])
    seen_same = seen_diff = 0
    for t in truth:
        if t["is_repeat_of"] is None:
            continue
        p = by_id[t["is_repeat_of"]]
        assert p["customer_id"] == t["customer_id"] is not None
        assert 0 <= t["started_epoch"] - p["started_epoch"] <= WEEK
        assert t["same_intent_as_previous"] == (p["true_intent"] == t["true_intent"])
        seen_same += t["same_intent_as_previous"]
        seen_diff += not t["same_intent_as_previous"]
    assert seen_same > 50 and seen_diff > 50
    # brute-force forward window, including pending/unknown handling
    by_cust = defaultdict(list)
    for i, t in enumerate(truth):
        by_cust[t["customer_id"]].append(i)
    for i, t in enumerate(truth):
        if t["customer_id"] is None or t["started_epoch"] + WEEK > as_of:
            assert t["repeat_strict"] is None and t["repeat_loose"] is None
            continue
        later = [truth[j] for j in by_cust[t["customer_id"]]
                 if j > i and truth[j]["started_epoch"] - t["started_epoch"] <= WEEK]
        assert t["repeat_loose"] == bool(later)
        assert t["repeat_strict"] == any(x["true_intent"] == t["true_intent"] for x in later)
    gaps = [truth[b]["started_epoch"] - truth[a]["started_epoch"]
            for idx in by_cust.values() for a, b in itertools.pairwise(idx)]
    assert any(g > WEEK for g in gaps) and any(g <= WEEK for g in gaps)


def test_breaches_and_pii_point_at_the_right_turns(sim):
    kinds = set()
    for c, t in _pairs(sim):
        turns = c["turns"]
        text = " ".join(x["text"] for x in turns)
        for b in t["breaches"]:
            kinds.add(b["kind"])
            turn = turns[b["turn_index"]]
            if b["kind"] in ("agent_abusive_language", "guaranteed_outcome_promise",
                             "no_identity_verification_before_account_change"):
                assert turn["speaker"] == "agent"
            if b["kind"] == "missing_recording_notice":
                assert c["channel"] == "voice" and "recorded" not in text
            if b["kind"] == "pii_exposure_password_request":
                assert turn["speaker"] in ("bot", "agent") and "password" in turn["text"]
            if b["kind"] == "vulnerable_not_escalated":
                assert t["vulnerable"] and t["bot_entered"] and not t["escalated"]
        if c["channel"] == "voice" and "missing_recording_notice" not in {
                b["kind"] for b in t["breaches"]}:
            assert "recorded" in text
        for p in t["pii"]:
            s = turns[p["turn_index"]]["text"]
            if p["type"] in ("CARD", "ORDER_NOT_CARD"):
                digits = re.search(r"\d{4} ?\d{4} ?\d{4} ?\d{4}", s).group().replace(" ", "")
                assert luhn_ok(digits) == (p["type"] == "CARD")
            if p["type"] == "SSN":
                assert re.search(r"\b\d{3}-\d{2}-\d{4}\b", s)
            if p["type"] == "IBAN":
                assert re.search(r"\bGB\d{2}[A-Z]{4}\d{14}\b", s)
            if p["type"] == "ACCOUNT":
                assert re.search(r"\b\d{8}\b", s)
            if p["type"] == "EMAIL":
                assert re.search(r"@example\.(com|org|net)", s)
        if t["vulnerable"]:
            assert turns[t["vulnerable_turn_index"]]["speaker"] == "customer"
    assert kinds == {"missing_recording_notice", "no_identity_verification_before_account_change",
                     "guaranteed_outcome_promise", "agent_abusive_language", "pii_exposure_card",
                     "pii_exposure_ssn", "pii_exposure_account", "pii_exposure_password_request",
                     "trapped_customer", "vulnerable_not_escalated"}


def test_repeated_after_handoff_is_visible_in_the_transcript(sim):
    n = 0
    for c, t in _pairs(sim):
        if not t["repeated_after_handoff"]:
            continue
        n += 1
        turns = c["turns"]
        first_agent = next(i for i, x in enumerate(turns) if x["speaker"] == "agent")
        before = [x["text"] for x in turns[:first_agent] if x["speaker"] == "customer"]
        after = [x["text"] for x in turns[first_agent:] if x["speaker"] == "customer"]
        if t["repeated_after_handoff_kind"] == "sentence":
            assert set(before) & set(after)
        else:
            assert any(b[0].lower() + b[1:] in a for b in before for a in after)
    assert n > 50


def test_kpis_match_an_independent_recount(sim):
    _, _, truth, kpis = sim
    rows = {(r["month"], r["tier"], r["kpi"]): r for r in kpis["rows"]}
    months = sorted({t["month"] for t in truth})
    assert len(months) == 3
    for m in months:
        ts = [t for t in truth if t["month"] == m]
        bot = [t for t in ts if t["bot_entered"]]
        esc = [t for t in bot if t["escalated"]]
        r = rows[(m, "all", "escalation_rate")]
        assert (r["numerator"], r["denominator"]) == (len(esc), len(bot))
        assert abs(r["value"] - len(esc) / len(bot)) < 1e-12
        r = rows[(m, "ai", "containment_raw")]
        assert r["numerator"] == len(bot) - len(esc)
        r = rows[(m, "all", "routing_accuracy")]
        assert r["numerator"] == sum(t["first_queue"] == t["expected_queue"] for t in ts)
        closed = [t for t in ts if t["customer_id"] and t["repeat_window_closed"]]
        r = rows[(m, "all", "repeat_contact_strict")]
        assert r["denominator"] == len(closed)
        assert r["pending"] == sum(1 for t in ts if t["customer_id"]) - len(closed)
        hs = sorted(t["handoff_seconds"] for t in esc if t["handoff_seconds"] is not None)
        r = rows[(m, "all", "handoff_under_30s_share")]
        assert r["numerator"] == sum(h < 30 for h in hs) and r["denominator"] == len(hs)
        assert rows[(m, "human", "escalation_rate")]["value"] is None
        assert rows[(m, "all", "trapped_count")]["value"] == sum(t["trapped"] for t in ts)
    last = rows[(months[-1], "all", "repeat_contact_strict")]
    assert last["pending"] > 0
