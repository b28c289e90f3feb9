"""Each rule kind on small hand-built frames: positives, hard negatives, spans, scoring."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierlens.schema import PII_SPAN_SCHEMA
from tierlens.score.compliance import HIT_SCHEMA, SCORE_SCHEMA, evaluate_rulebook, find_matches
from tierlens.score.rules import Match, Negation, parse_rulebook

SPK = {"C": "customer", "B": "bot", "A": "agent", "S": "system"}


def frames(convs: dict[str, tuple[str | None, list[str]]], pii: list[tuple] = ()):
    """{cid: (channel, ["C| text", "S| handoff", ...])} -> conversations, turns, pii_spans."""
    conv = pl.DataFrame({"conversation_id": list(convs),
                         "channel": [c for c, _ in convs.values()]},
                        schema={"conversation_id": pl.String, "channel": pl.String})
    rows = []
    for cid, (_, turns) in convs.items():
        for i, t in enumerate(turns):
            k, text = t.split("| ", 1)
            sys_ = k == "S"
            rows.append({"conversation_id": cid, "turn_index": i, "speaker": SPK[k],
                         "text": "" if sys_ else text, "event": text if sys_ else None})
    turns = pl.DataFrame(rows, schema={"conversation_id": pl.String, "turn_index": pl.Int32,
                                       "speaker": pl.String, "text": pl.String,
                                       "event": pl.String})
    return conv, turns, pl.DataFrame(list(pii), schema=PII_SPAN_SCHEMA, orient="row")


def book(rules_yaml: str, extra: str = ""):
    return parse_rulebook(f'rulebook_version: "t"\n{extra}rules:\n{rules_yaml}', "test.yaml")


def run(b, convs, pii=()):
    conv, turns, spans = frames(convs, pii)
    return evaluate_rulebook(b, conv, turns, spans)


def keys(hits: pl.DataFrame) -> set:
    return set(hits.select("conversation_id", "rule_id", "turn_index").iter_rows())


PHRASE = """\
  - id: guarantee
    version: "2"
    kind: phrase
    severity: major
    speakers: [agent, bot]
    channels: [chat, voice]
    description: No guaranteed outcomes.
    phrases: ["I guarantee", "100% sure"]
"""


def test_phrase_hit_span_speaker_channel_and_negation():
    hits, scores = run(book(PHRASE), {
        "a": ("chat", ["C| I guarantee nothing", "A| Olá! Sure, I guarantee it. I guarantee."]),
        "b": ("chat", ["A| I don't guarantee it, I can't guarantee anything."]),
        "c": ("email", ["A| I guarantee it"]),  # channel not covered
        "d": (None, ["A| I guarantee it"]),  # unknown channel: not judged by channel rules
        "e": ("voice", ["A| No problem, I guarantee you'll be happy."]),
    })
    assert hits.schema == pl.Schema(HIT_SCHEMA)
    assert keys(hits) == {("a", "guarantee", 1), ("e", "guarantee", 0)}
    a = hits.row(0, named=True)
    text = "Olá! Sure, I guarantee it. I guarantee."
    assert (a["span_start"], a["span_end"]) == (11, 22)  # characters, not bytes
    assert text[a["span_start"]:a["span_end"]] == a["matched_text"] == "I guarantee"
    assert a["rule_version"] == "2" and a["rulebook_version"] == "t" and a["kind"] == "phrase"
    assert scores.schema == pl.Schema(SCORE_SCHEMA)
    assert scores.height == 5 and set(scores["conversation_id"]) == set("abcde")


def test_find_matches_negation_is_clause_bounded():
    neg = Negation()
    m = Match(patterns=(r"\bask for your password\b",))
    _, turns, _ = frames({"x": ("chat", [
        "A| I will never ask for your password.",
        "A| Don't worry, I will ask for your password now.",  # negation in another clause
        "A| Not a problem. Let me ask for your password",  # sentence boundary
        "A| I won't lie but I must ask for your password"])})  # "but" starts a new clause
    got = find_matches(turns, m, neg)
    assert got["turn_index"].to_list() == [1, 2, 3]


REQUIRED = """\
  - id: notice
    version: "1"
    kind: required
    severity: major
    speakers: [agent, bot]
    channels: [voice]
    description: Recording notice within 2 turns.
    within_turns: 2
    must_say: {phrases: ["call is recorded"]}
  - id: pw
    version: "1"
    kind: required
    severity: minor
    speakers: [agent, bot]
    description: After a password question, say it can't be retrieved.
    within_turns: 1
    trigger: {phrases: ["forgot my password"], ignore_negated: false}
    must_say: {phrases: ["reset link"]}
"""


def test_required_missing_late_not_judged_and_trigger():
    hits, _ = run(book(REQUIRED), {
        "ok": ("voice", ["B| Hi. This call is recorded.", "C| hi"]),
        "ok2": ("voice", ["C| hello", "A| Hello", "C| hi", "B| This call is recorded."]),
        "late": ("voice", ["A| Hi", "C| hi", "A| What's up?", "C| x",
                           "A| By the way, this call is recorded."]),
        "never": ("voice", ["A| Hi", "C| hi"]),
        "silent": ("voice", ["C| hello?", "S| end"]),  # no agent/bot turn: not judged
        "chat": ("chat", ["A| Hi"]),  # not voice
        "pw_bad": ("chat", ["C| I forgot my password", "A| Let me check.", "A| reset link"]),
        "pw_ok": ("chat", ["C| I forgot my password", "A| I've sent a reset link."]),
        "pw_none": ("chat", ["C| What's my balance", "A| Let me check."]),
    })
    assert keys(hits) == {("late", "notice", 4), ("never", "notice", None),
                          ("pw_bad", "pw", 0)}
    late = hits.filter(pl.col("conversation_id") == "late").row(0, named=True)
    assert late["matched_text"] == "call is recorded" and "said late, at turn 4" in late["detail"]
    never = hits.filter(pl.col("conversation_id") == "never").row(0, named=True)
    assert never["span_start"] is None and "never said" in never["detail"]


ORDERING = """\
  - id: verify_first
    version: "1"
    kind: ordering
    severity: critical
    speakers: [agent]
    description: Verify identity before changes.
    first: {patterns: ['\\byou''re verified\\b']}
    then: {patterns: ['\\bi''ve updated your address\\b']}
"""


def test_ordering_before_after_and_same_turn():
    hits, scores = run(book(ORDERING), {
        "ok": ("chat", ["A| Thanks, you're verified.", "A| I've updated your address."]),
        "same_ok": ("chat", ["A| You're verified, and I've updated your address."]),
        "same_bad": ("chat", ["A| I've updated your address, and you're verified."]),
        "after": ("chat", ["A| I've updated your address.", "A| Oh, you're verified."]),
        "never": ("chat", ["C| hi", "A| I've updated your address."]),
        "neg": ("chat", ["A| I haven't updated anything. I can't say I've updated your address."]),
    })
    assert keys(hits) == {("same_bad", "verify_first", 0), ("after", "verify_first", 0),
                          ("never", "verify_first", 1)}
    assert "turn 1" in hits.filter(pl.col("conversation_id") == "after")["detail"][0]
    # one critical hit = red flag; risk = 1 - exp(-1)
    s = scores.filter(pl.col("conversation_id") == "never").row(0, named=True)
    assert s["red_flag"] and s["n_hits"] == 1 and math.isclose(s["risk_score"], 1 - math.exp(-1))


PII = """\
  - id: said
    version: "1"
    kind: pii_exposure
    severity: critical
    speakers: [agent]
    description: Staff never say PII.
    pii_types: [CARD, SSN]
    luhn_scan: true
  - id: asked
    version: "1"
    kind: pii_exposure
    severity: critical
    speakers: [agent]
    description: Staff never ask for a password.
    request: {patterns: ['\\bwhat(?:''s| is) your password\\b', '\\btell me your pin\\b']}
"""


def test_pii_spans_luhn_and_requests():
    hits, _ = run(book(PII), {
        "span": ("chat", ["C| card [CARD]", "A| So that's [CARD] and [EMAIL]?"]),
        "luhn": ("chat", ["A| You paid with 4539 1488 0343 6467."]),
        "order": ("chat", ["A| Your order number is 4000123412341235."]),  # fails Luhn
        "ask": ("chat", ["A| Quick check: what's your password?"]),
        "never": ("chat", ["A| We will never tell me your PIN, I mean never ask for it.",
                           "A| Nobody should tell me your PIN."]),
    }, pii=[("span", 0, "CARD", 5, 11), ("span", 1, "CARD", 10, 16),
            ("span", 1, "EMAIL", 21, 28)])
    assert keys(hits) == {("span", "said", 1), ("luhn", "said", 0), ("ask", "asked", 0)}
    span = hits.filter(pl.col("conversation_id") == "span").row(0, named=True)
    assert (span["matched_text"], span["span_start"], span["span_end"]) == ("[CARD]", 10, 16)
    assert span["detail"] == "CARD said"
    luhn = hits.filter(pl.col("conversation_id") == "luhn").row(0, named=True)
    assert luhn["matched_text"] == "[CARD]"  # never the digits
    assert (luhn["span_start"], luhn["span_end"]) == (14, 33)


TRAPPED = """\
  - id: trapped
    version: "1"
    kind: trapped_customer
    severity: critical
    speakers: [customer]
    description: Asked for a human, no handoff within 2 bot turns.
    human_request: {patterns: ['\\b(?:speak|talk) to a (?:human|person)\\b', '^agent$']}
"""


@pytest.mark.parametrize("turns,trapped", [
    (["C| I want to speak to a human", "B| ok", "B| still here", "S| handoff", "A| hi"], False),
    (["C| agent", "B| a", "B| b", "B| c", "S| handoff", "A| hi"], True),  # 3rd bot turn
    (["C| agent", "B| a", "B| b", "A| hi"], False),  # agent on the 3rd turn
    (["C| talk to a person", "B| connecting you"], True),  # no handoff ever
    (["B| hi", "C| talk to a person", "S| end"], False),  # the bot never had a turn
    (["C| I don't want to talk to a person", "B| a", "B| b", "B| c"], False),  # negated
    (["A| hi", "C| I want to speak to a human", "B| a", "B| b", "B| c"], False),  # had a human
    (["C| hi", "B| a", "C| agent", "B| b", "B| c", "S| transfer", "A| hi"], False),
])
def test_trapped_customer_window(turns, trapped):
    hits, _ = run(book(TRAPPED), {"x": ("chat", turns)})
    assert (hits.height == 1) is trapped
    if trapped:
        assert hits["turn_index"][0] == next(i for i, t in enumerate(turns) if t.startswith("C|"))


VULNERABLE = """\
  - id: vuln
    version: "1"
    kind: vulnerable_customer
    severity: critical
    speakers: [customer]
    description: Vulnerability must reach a human.
    cues:
      bereavement: {patterns: ['\\bpassed away\\b']}
      financial_hardship: {patterns: ['\\bcan''t afford\\b']}
"""


def test_vulnerable_customer_cue_types_and_reaching_a_human():
    hits, _ = run(book(VULNERABLE), {
        "both": ("chat", ["C| My dad passed away and I can't afford the bill", "B| ok"]),
        "handed": ("chat", ["C| My dad passed away", "B| I'm sorry", "S| handoff", "A| hi"]),
        "human": ("chat", ["A| hi", "C| I can't afford it", "S| end"]),
        "negated": ("chat", ["C| It's not that I can't afford it", "B| ok"]),
    })
    assert keys(hits) == {("both", "vuln", 0)}
    assert sorted(hits["detail"].to_list()) == ["bereavement", "financial_hardship"]


def test_risk_score_and_red_flag_threshold():
    rules = PHRASE + REQUIRED.replace("severity: major", "severity: major")
    b = book(rules, extra="scoring: {red_flag_threshold: 0.5}\n")
    _, scores = run(b, {
        "one_major": ("voice", ["A| hi", "C| x"]),  # notice missing: 1 major
        "two_majors": ("voice", ["A| hi. I guarantee it", "C| x", "A| I guarantee it"]),
        "clean": ("chat", ["A| hi"]),
    })
    s = {r["conversation_id"]: r for r in scores.iter_rows(named=True)}
    assert math.isclose(s["one_major"]["risk_score"], 1 - math.exp(-0.4))
    assert not s["one_major"]["red_flag"]
    # distinct rules count once: two guarantee hits + the notice = 0.4 + 0.4
    assert s["two_majors"]["n_hits"] == 3
    assert math.isclose(s["two_majors"]["risk_score"], 1 - math.exp(-0.8))
    assert s["two_majors"]["red_flag"]
    assert s["clean"]["risk_score"] == 0 and not s["clean"]["red_flag"]


def test_suppressed_by_drops_duplicate_concept_hits():
    b = book(PHRASE + PHRASE.replace("id: guarantee", "id: guarantee2").replace(
        'description: No guaranteed outcomes.',
        'description: Same concept again.\n    suppressed_by: [guarantee]'))
    hits, _ = run(b, {"a": ("chat", ["A| I guarantee it"])})
    assert set(hits["rule_id"]) == {"guarantee"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["I guarantee", "ünïcødé", "100% sure", " ", ". ", "no ",
                                 "🙂", "I can't guarantee", "x"]), min_size=1, max_size=12))
def test_spans_always_point_at_the_matched_text(parts):
    text = "".join(parts)
    hits, _ = run(book(PHRASE), {"h": ("chat", ["A| " + text])})
    for h in hits.iter_rows(named=True):
        assert text[h["span_start"]:h["span_end"]] == h["matched_text"]


def test_pii_rules_on_real_ingest_redaction(no_semantic):
    """Raw text -> ingest redaction -> pii_spans -> the default PII rules."""
    from tierlens.ingest.redact import redact_text

    raw = {("r", 0): ("customer", "My card is 4539 1488 0343 6467, please charge it"),
           ("r", 1): ("agent", "Thanks, so that's 4539 1488 0343 6467?"),
           ("r", 2): ("agent", "Your order number is 4000123412341235."),
           ("r", 3): ("agent", "I will never ask for your password."),
           ("r", 4): ("customer", "ok my password is hunter2")}
    rows, spans = [], []
    for (cid, ti), (speaker, text) in raw.items():
        red, found = redact_text(text)
        rows.append({"conversation_id": cid, "turn_index": ti, "speaker": speaker,
                     "text": red, "event": None})
        spans += [(cid, ti, s.pii_type, s.start, s.end) for s in found]
    turns = pl.DataFrame(rows, schema_overrides={"turn_index": pl.Int32, "event": pl.String})
    conv = pl.DataFrame({"conversation_id": ["r"], "channel": ["chat"]})
    pii = pl.DataFrame(spans, schema=PII_SPAN_SCHEMA, orient="row")
    hits, _ = evaluate_rulebook(no_semantic, conv, turns, pii)
    pii_hits = hits.filter(pl.col("kind") == "pii_exposure")
    assert set(pii_hits.select("rule_id", "turn_index", "matched_text").iter_rows()) == {
        ("pii_shared_by_customer", 0, "[CARD]"), ("pii_said_by_staff", 1, "[CARD]"),
        ("pii_shared_by_customer", 4, "[PASSWORD]")}
    assert not hits["matched_text"].str.contains("4539").any()
