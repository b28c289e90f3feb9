"""PII redaction: golden corpus (recall + false positives), properties, frame and value APIs."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierlens.ingest.redact import (
    PII_TYPES,
    PREFILTER,
    PiiSpan,
    detect,
    iban_ok,
    luhn_ok,
    redact_frame,
    redact_text,
    redact_value,
)
from tierlens.schema import PII_SPAN_SCHEMA

CORPUS_PATH = Path(__file__).resolve().parents[1] / "golden" / "pii_corpus.jsonl"
CORPUS = [json.loads(line) for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()]


def test_corpus_is_big_and_balanced() -> None:
    with_pii = [c for c in CORPUS if c["types"]]
    clean = [c for c in CORPUS if not c["types"]]
    assert len(CORPUS) >= 150
    assert len(clean) >= 60
    assert {t for c in with_pii for t in c["types"]} == set(PII_TYPES)


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c["text"][:40])
def test_corpus_case(case: dict) -> None:
    redacted, spans = redact_text(case["text"])
    assert redacted == case["expected"]
    assert [s.pii_type for s in spans] == case["types"]
    for span in spans:
        assert redacted[span.start:span.end] == f"[{span.pii_type}]"


def test_corpus_recall_and_false_positive_rate(capsys: pytest.CaptureFixture[str]) -> None:
    expected_total = found = 0
    clean_total = clean_touched = 0
    per_type: dict[str, list[int]] = {t: [0, 0] for t in PII_TYPES}
    for case in CORPUS:
        redacted, spans = redact_text(case["text"])
        got = [s.pii_type for s in spans]
        if not case["types"]:
            clean_total += 1
            clean_touched += redacted != case["text"]
            continue
        for t in case["types"]:
            per_type[t][1] += 1
        ok = redacted == case["expected"]
        for t in case["types"]:
            expected_total += 1
            if ok and t in got:
                found += 1
                per_type[t][0] += 1
    recall = found / expected_total
    fp_rate = clean_touched / clean_total
    with capsys.disabled():
        print(f"\nPII corpus: recall {recall:.3f} over {expected_total} placeholders; "
              f"false-positive rate {fp_rate:.3f} over {clean_total} clean texts; "
              + ", ".join(f"{t} {a}/{b}" for t, (a, b) in per_type.items()))
    assert recall >= 0.99
    assert fp_rate == 0.0


def test_prefilter_agrees_between_polars_and_python() -> None:
    texts = [c["text"] for c in CORPUS]
    in_polars = pl.Series(texts).str.contains(PREFILTER).to_list()
    import re
    in_python = [bool(re.search(PREFILTER, t)) for t in texts]
    assert in_polars == in_python
    # every text that holds PII passes the prefilter, or the frame path would skip it
    assert all(hit for hit, c in zip(in_polars, CORPUS) if c["types"])


# --- properties -------------------------------------------------------------------------------

WORDS = ["please", "charge", "my", "card", "the", "number", "is", "thanks", "hello", "I", "think",
         "it", "was", "declined", "again", "today", "use", "this", "one", "Visa", "ok", "and",
         "refund", "to", "so"]
sentence_words = st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join)


def _luhn_complete(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


@st.composite
def valid_cards(draw: st.DrawFn) -> tuple[str, str]:
    length = draw(st.integers(13, 19))
    first = draw(st.sampled_from("23456"))
    body = first + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                         min_size=length - 2, max_size=length - 2)))
    digits = _luhn_complete(body)
    if length == 16 and draw(st.booleans()):
        sep = draw(st.sampled_from(" -"))
        printed = sep.join(digits[i:i + 4] for i in range(0, 16, 4))
    else:
        printed = digits
    return digits, printed


@given(card=valid_cards(), before=sentence_words, after=sentence_words,
       punct=st.sampled_from(["", ".", ",", "!", ")", ";"]))
@settings(max_examples=400, deadline=None)
def test_valid_luhn_cards_are_always_redacted(card: tuple[str, str], before: str, after: str,
                                              punct: str) -> None:
    _, printed = card
    text = f"{before} {printed}{punct} {after}".strip()
    redacted, spans = redact_text(text)
    assert "CARD" in [s.pii_type for s in spans]
    assert printed not in redacted
    assert not any(ch.isdigit() for ch in redacted)  # the sentence words hold no digits


@given(digits=st.text(alphabet="0123456789", min_size=13, max_size=19), before=sentence_words,
       after=sentence_words)
@settings(max_examples=400, deadline=None)
def test_digit_strings_failing_luhn_are_never_cards(digits: str, before: str, after: str) -> None:
    if luhn_ok(digits):
        digits = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert not luhn_ok(digits)
    text = f"{before} {digits} {after}".strip()
    _, spans = redact_text(text)
    assert "CARD" not in [s.pii_type for s in spans]


def _iban_with_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
    return f"{country}{check:02d}{bban}"


# (country, letters, digits): the BBAN structure of the country (a bank code of letters, then
# digits), as the IBAN registry defines it
@given(country=st.sampled_from([("GB", 4, 14), ("DE", 0, 18), ("FR", 0, 23), ("NL", 4, 10)]),
       seed=st.integers(0, 2**32 - 1), spaced=st.booleans(), lower=st.booleans(),
       before=sentence_words)
@settings(max_examples=200, deadline=None)
def test_valid_ibans_are_always_redacted(country: tuple[str, int, int], seed: int, spaced: bool,
                                         lower: bool, before: str) -> None:
    code, letters, n = country
    rnd = random.Random(seed)
    bban = "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(letters)) \
        + "".join(rnd.choice("0123456789") for _ in range(n))
    iban = _iban_with_check(code, bban)
    assert iban_ok(iban)
    printed = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if spaced else iban
    printed = printed.lower() if lower else printed
    redacted, spans = redact_text(f"{before} IBAN {printed} thanks".strip())
    assert [s.pii_type for s in spans] == ["IBAN"]
    assert redacted.endswith("IBAN [IBAN] thanks")


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_spans_point_at_placeholders_and_redaction_is_idempotent(text: str) -> None:
    redacted, spans = redact_text(text)
    for span in spans:
        assert redacted[span.start:span.end] == f"[{span.pii_type}]"
    assert redact_text(redacted)[0] == redacted


PII_ALPHABET = "0123456789 -.+()@#:abcdehGBFRDEsnpwordiPINacut/"


@given(st.text(alphabet=PII_ALPHABET, max_size=80))
@settings(max_examples=1000, deadline=None)
def test_prefilter_is_a_superset_of_every_detector(text: str) -> None:
    import re
    if not re.search(PREFILTER, text):
        assert detect(text) == []


@pytest.mark.parametrize("text", ["my pass phrase is blue-otter-7", "pincode: 4821",
                                  "PASS WORD = zebra99"])
def test_password_word_variants_pass_the_prefilter_and_are_redacted(text: str) -> None:
    assert [s.pii_type for s in redact_text(text)[1]] == ["PASSWORD"]
    assert pl.Series([text]).str.contains(PREFILTER).item()


def test_spoken_passwords_are_redacted_whole_and_stopwords_checked_on_first_token() -> None:
    assert redact_text("password is the 123")[1] == []
    assert redact_text("my password is 1 2 3 4")[0] == "my password is [PASSWORD]"
    assert redact_text("password is sam 54, thanks")[0] == "password is [PASSWORD], thanks"


# --- frame and value APIs ---------------------------------------------------------------------

def test_redact_frame_matches_redact_text_and_returns_spans() -> None:
    texts = [c["text"] for c in CORPUS] + ["", None, "no pii here at all"]
    turns = pl.DataFrame({
        "conversation_id": [f"c-{i // 3}" for i in range(len(texts))],
        "turn_index": pl.Series([i % 3 for i in range(len(texts))], dtype=pl.Int32),
        "text": texts,
        "speaker": ["customer"] * len(texts),
    })
    before = turns.clone()
    out, spans = redact_frame(turns)
    assert turns.equals(before)  # the input frame is not modified in place
    assert out.columns == turns.columns and out.height == turns.height
    assert out["conversation_id"].to_list() == turns["conversation_id"].to_list()
    expected_texts = [redact_text(t)[0] if t is not None else None for t in texts]
    assert out["text"].to_list() == expected_texts
    assert dict(spans.schema) == PII_SPAN_SCHEMA
    expected_rows = []
    for i, t in enumerate(texts):
        for s in (redact_text(t)[1] if t else []):
            expected_rows.append((f"c-{i // 3}", i % 3, s.pii_type, s.start, s.end))
    assert spans.rows() == expected_rows
    assert spans.height == sum(len(c["types"]) for c in CORPUS)


def test_redact_frame_without_candidates_and_empty() -> None:
    turns = pl.DataFrame({"conversation_id": ["a", "b"], "turn_index": [0, 1],
                          "body": ["hello", "how are you"]})
    out, spans = redact_frame(turns, text_col="body")
    assert out.equals(turns)
    assert spans.height == 0 and dict(spans.schema) == PII_SPAN_SCHEMA
    out, spans = redact_frame(turns.clear(), text_col="body")
    assert out.height == 0 and spans.height == 0


def test_redact_value_walks_json_like_objects() -> None:
    obj = {"email": "ann@example.com", "nested": {"notes": ["call +44 20 7946 0958", 3, None]},
           "card": 4111111111111111, "order": 1234567890123, "ok": True, "ratio": 0.5}
    out = redact_value(obj)
    assert out == {"email": "[EMAIL]", "nested": {"notes": ["call [PHONE]", 3, None]},
                   "card": "[CARD]", "order": 1234567890123, "ok": True, "ratio": 0.5}
    assert obj["email"] == "ann@example.com"  # input untouched


def test_piispan_is_a_namedtuple() -> None:
    _, spans = redact_text("mail bo@ex.com now")
    assert spans == [PiiSpan("EMAIL", 5, 12)]
    assert spans[0].pii_type == "EMAIL" and spans[0].end == 12


UNICODE_SEPARATORS = [" ", "-", ".", "\t", "\u00a0", "\u2009", "\u202f", "\u2007", "\u200b",
                      "\u2013", "\u2014", "\u2212", "\u2011"]


@given(card=valid_cards(), cuts=st.lists(st.integers(1, 18), min_size=1, max_size=4, unique=True),
       sep=st.sampled_from(UNICODE_SEPARATORS), before=sentence_words, after=sentence_words)
@settings(max_examples=400, deadline=None)
def test_cards_in_any_grouping_and_separator_are_redacted(card: tuple[str, str], cuts: list[int],
                                                          sep: str, before: str,
                                                          after: str) -> None:
    digits, _ = card
    bounds = [0, *sorted(c for c in cuts if c < len(digits)), len(digits)]
    printed = sep.join(digits[a:b] for a, b in pairwise(bounds) if b > a)
    text = f"{before} {printed} {after}".strip()
    redacted, spans = redact_text(text)
    assert "CARD" in [s.pii_type for s in spans]
    assert not any(ch.isdigit() for ch in redacted)
    assert redacted.replace("[CARD]", "").split() == text.replace(printed, "").split()
