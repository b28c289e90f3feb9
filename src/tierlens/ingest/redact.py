"""PII redaction: replace personal data with typed placeholders *before* anything is stored.

Placeholders: ``[EMAIL] [PHONE] [CARD] [SSN] [IBAN] [ACCOUNT] [PASSWORD]``.

A text is first **normalised** (:mod:`tierlens.ingest.pii_text`): Unicode spaces (no-break,
thin, narrow, figure...), tabs, dashes (en, em, minus, non-breaking hyphen...) and digits of
any script (full-width...) become their ASCII forms and zero-width characters are dropped;
detections are mapped back, so the original characters, invisible ones included, are replaced.

Detection rules (:mod:`tierlens.ingest.pii_detect`; each is precise on purpose: a false
positive destroys evidence that QA needs, such as an order number; a false negative leaks
PII). Validation is done by maintained libraries: ``python-stdnum`` (Luhn, IBAN, US SSN) and
``phonenumbers`` (phone numbers in any format):

- **EMAIL**: ``local@domain.tld``, Unicode (IDN) local parts and domains and punycode
  included. A Twitter handle (``@AcmeSupport``) has no local part and survives.
- **CARD**: 13-19 digits in any grouping (contiguous, 4-4-4-4, Amex 4-6-5 or 4-4-4-3,
  uneven ``4111 111111111111``...) separated by spaces, dots or hyphens, first digit 2-6,
  **Luhn-valid** (stdnum). The card starts where the digit run starts; a run that continues
  a letters-and-digits code (``AT66 2920 ...``) or is introduced as an order / tracking /
  reference / invoice / ticket / case / serial... number is not a card (1 random number in
  10 passes Luhn).
- **SSN**: ``AAA-GG-SSSS`` with one consistent separator (hyphen, space or dot, after
  normalisation: en dashes too), or 9 digits after ``ssn`` / ``social security`` /
  ``social``; valid by ``stdnum.us.ssn`` (no 000 / 666 / 9xx area, 00 group, 0000 serial).
- **IBAN**: country code (any case) + 2 check digits + BBAN, compact or in groups of single
  spaces, of the registered length for its country and valid by ``stdnum.iban`` (mod-97 and
  the country's BBAN structure).
- **PHONE**: ``phonenumbers.PhoneNumberMatcher`` on every digit run no other type took:
  international numbers (``+`` or ``00``, 8-15 digits) in any format; national numbers
  (10-11 digits, read as US or GB) when printed in the region's grouping (``(415) 555-2671``,
  ``415.555.2671``, ``020 7946 0958``, ``07700 900123``), or as bare digits right after a
  phone word (``call``, ``mobile``, ``text me at``...). Not after an order / ticket... word.
- **ACCOUNT** (contextual): a run of 8-17 digits (contiguous, or groups of >= 3 digits, a
  last group of 2 when there are 10+ digits, so dates never qualify) that follows an account
  keyword (``account``, ``acct``, ``acc``, ``a/c``, ``routing``, ``aba``, ``sort code``,
  ``member``/``customer`` ``number``...) with at most 30 characters of non-digit text between
  them and no sentence end (``. ! ?`` or a line break).
- **PASSWORD**: a secret said in clear after ``password`` / ``passcode`` / ``passphrase`` /
  ``passwd`` / ``pwd`` followed by ``is``, ``was``, ``:``, ``=``, or ``changed/set ... to``;
  and digit PINs after ``pin``. Only the secret is replaced (``my password is [PASSWORD]``).
  A following common word (``is incorrect``) or a mask (``****``) is not a secret, and a
  request (``never ask for your password``) has none.

When detections overlap, the earlier type in ``PRIORITY`` wins.

Speed: ``PREFILTER`` is a cheap regex that every detection needs to match somewhere (a run
of at least 8 digits of any script, Unicode separators allowed, an ``@``, or a password
word). :func:`redact_frame` evaluates it vectorised in polars and runs the precise Python
pass only on the rows it selects; :func:`redact_text` applies the same prefilter, so both
agree.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import polars as pl

from tierlens.ingest.pii_detect import (
    IBAN_LENGTHS,
    PRIORITY,
    Detection,
    detect_normalized,
    iban_ok,
    luhn_ok,
)
from tierlens.ingest.pii_text import SEPARATOR_CLASS, normalize, to_original
from tierlens.schema import PII_SPAN_SCHEMA

__all__ = ["IBAN_LENGTHS", "PII_TYPES", "PREFILTER", "PRIORITY", "PiiSpan", "detect", "iban_ok",
           "luhn_ok", "redact_changes", "redact_frame", "redact_series", "redact_text",
           "redact_value"]

PII_TYPES = ("EMAIL", "PHONE", "CARD", "SSN", "IBAN", "ACCOUNT", "PASSWORD")

# Every detector below can only fire on a text that matches this (same syntax in Rust and
# Python). Cards, phones, SSNs, account numbers and IBANs all hold a run of at least 8 digits
# (any script: \d is Unicode in both engines) with at most 3 separators between two digits
# (ASCII ``space . ( ) / + -``, any Unicode space, dash or invisible separator); e-mails an
# ``@`` (or a full-width one); passwords and PINs a password word.
PREFILTER = (rf"[@\uff20]|\d(?:[\s.()/+\-{SEPARATOR_CLASS}\uff0b\uff0e]{{0,3}}\d){{7}}"
             r"|(?i:pass(?:word|code|phrase|wd|\s+(?:word|phrase))|pwd|\bpin(?:\b|code))")
_PREFILTER_RE = re.compile(PREFILTER)


class PiiSpan(NamedTuple):
    """One placeholder: its type and character span in the *redacted* text."""

    pii_type: str
    start: int
    end: int


def detect(text: str) -> list[Detection]:
    """Non-overlapping detections ``(start, end, type)`` on the *original* text, sorted.

    The text is normalised first (:mod:`tierlens.ingest.pii_text`: Unicode spaces, dashes,
    digits, invisible separators), detected on (:mod:`tierlens.ingest.pii_detect`), and each
    span mapped back, so a replaced span covers the original characters, invisible ones too.
    """
    norm, where = normalize(text)
    return [(*to_original(where, s, e), kind) for s, e, kind in detect_normalized(norm)]


def _apply(text: str, found: list[Detection]) -> tuple[str, list[PiiSpan]]:
    parts: list[str] = []
    spans: list[PiiSpan] = []
    pos = 0
    out_len = 0
    for start, end, kind in found:
        keep = text[pos:start]
        parts.append(keep)
        out_len += len(keep)
        placeholder = f"[{kind}]"
        parts.append(placeholder)
        spans.append(PiiSpan(kind, out_len, out_len + len(placeholder)))
        out_len += len(placeholder)
        pos = end
    parts.append(text[pos:])
    return "".join(parts), spans


def _redact_candidate(text: str) -> tuple[str, list[PiiSpan]]:
    found = detect(text)
    if not found:
        return text, []
    return _apply(text, found)


def redact_text(text: str) -> tuple[str, list[PiiSpan]]:
    """Replace PII in one text with typed placeholders.

    Returns the redacted text and one :class:`PiiSpan` per placeholder, with offsets in the
    redacted text.
    """
    if not text or not _PREFILTER_RE.search(text):
        return text, []
    return _redact_candidate(text)


def redact_frame(turns: pl.DataFrame, text_col: str = "text") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Redact ``text_col`` of a turns frame (one row per turn).

    ``turns`` must have ``conversation_id`` and ``turn_index``. Returns the same frame (same
    rows, order and columns) with the text redacted, and a spans frame with schema
    ``PII_SPAN_SCHEMA``: one row per placeholder.
    """
    empty_spans = pl.DataFrame(schema=PII_SPAN_SCHEMA)
    if turns.height == 0:
        return turns, empty_spans
    mask = turns.get_column(text_col).str.contains(PREFILTER).fill_null(False)
    idx = mask.arg_true()
    if idx.len() == 0:
        return turns, empty_spans
    texts = turns.get_column(text_col).gather(idx).to_list()
    conv = turns.get_column("conversation_id").gather(idx).to_list()
    tix = turns.get_column("turn_index").gather(idx).to_list()
    changed_pos: list[int] = []
    changed_text: list[str] = []
    rows: dict[str, list[Any]] = {k: [] for k in PII_SPAN_SCHEMA}
    idx_list = idx.to_list()
    for k, text in enumerate(texts):
        new, spans = _redact_candidate(text)
        if not spans:
            continue
        changed_pos.append(idx_list[k])
        changed_text.append(new)
        for span in spans:
            rows["conversation_id"].append(conv[k])
            rows["turn_index"].append(tix[k])
            rows["pii_type"].append(span.pii_type)
            rows["span_start"].append(span.start)
            rows["span_end"].append(span.end)
    if not changed_pos:
        return turns, empty_spans
    col = turns.get_column(text_col).scatter(changed_pos, changed_text)
    return turns.with_columns(col), pl.DataFrame(rows, schema=PII_SPAN_SCHEMA)


def redact_series(texts: pl.Series) -> pl.Series:
    """``redact_text`` on every value of a string column (identifier columns, metadata):
    same length and order, nulls kept. Each distinct value the prefilter selects is redacted
    once (a conversation id repeats on every turn)."""
    changed = redact_changes(texts)
    return texts.replace(changed) if changed else texts


def redact_changes(texts: pl.Series) -> dict[str, str]:
    """{value: redacted value} for the distinct values of ``texts`` that redaction changes."""
    candidates = texts.filter(texts.str.contains(PREFILTER).fill_null(False)).unique()
    return {t: new for t in candidates.to_list() if (new := redact_text(t)[0]) != t}


def redact_value(obj: Any) -> Any:
    """Redact every string inside a JSON-like value (dict / list / tuple / str), keys kept.

    Integers are checked too (a card number stored as a JSON number): when their decimal
    text contains PII, the redacted string replaces them. Returns a new object.
    """
    if isinstance(obj, str):
        return redact_text(obj)[0]
    if isinstance(obj, dict):
        return {k: redact_value(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_value(v) for v in obj]
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= 10_000_000:
        text = str(obj)
        new, spans = redact_text(text)
        return new if spans else obj
    return obj
