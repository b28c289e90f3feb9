"""PII redaction: replace personal data with typed placeholders *before* anything is stored.

Placeholders: ``[EMAIL] [PHONE] [CARD] [SSN] [IBAN] [ACCOUNT] [PASSWORD]``.

Detection rules (each one is precise on purpose: a false positive destroys evidence that QA
needs, such as an order number; a false negative leaks PII):

- **EMAIL**: ``local@domain.tld``. A Twitter handle (``@AcmeSupport``) has no local part and
  survives.
- **CARD**: 13-19 digits, contiguous or in the printed groupings (4-4-4-4[-1..3], Amex 4-6-5,
  Diners 4-6-4) with one consistent separator (space or dash), whose first digit is a
  card-network prefix (2-6) and which **pass the Luhn check**. A number directly introduced
  as an order / tracking / reference / confirmation / invoice / ticket / case number is not
  a card, even when it happens to pass Luhn (1 random number in 10 does).
- **SSN**: ``AAA-GG-SSSS`` (dash or space, one consistent separator) with area not 000, 666
  or 9xx, group not 00, serial not 0000; or 9 contiguous digits with the same exclusions
  when ``ssn`` / ``social security`` / ``social`` appears within the 30 preceding characters.
- **IBAN**: country code + 2 check digits + BBAN, with or without spaces, of the registered
  length for its country (an unregistered country code is never an IBAN) and **passing ISO
  13616 mod-97**.
- **PHONE**: ``+`` international numbers (8-15 digits, groups separated by space, dot, dash
  or parentheses); NANP numbers ``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``,
  ``555 123 4567``, optionally ``+1`` / ``1-``; UK-style national numbers ``020 7946 0958``,
  ``07700 900123``; and 10-11 contiguous digits only right after a phone word (``phone``,
  ``call``, ``cell``, ``mobile``, ``tel``, ``contact number``, ``text me at``...).
- **ACCOUNT** (contextual): a run of 8-17 digits (contiguous, or groups of >= 3 digits with
  single spaces/dashes, so dates never qualify) that follows an account keyword (``account``,
  ``acct``, ``acc``, ``a/c``, ``routing``, ``aba``, ``sort code``, ``member``/``customer``
  ``number``...) with at most 30 characters of non-digit text between them and no sentence
  end (``. ! ?`` or a line break). Shorter runs (``account ending 1234``) are not secret.
- **PASSWORD**: a secret said in clear after ``password`` / ``passcode`` / ``passphrase`` /
  ``passwd`` / ``pwd`` followed by ``is``, ``was``, ``:``, ``=``, or ``changed/set ... to``;
  and digit PINs after ``pin``. Only the secret is replaced (``my password is [PASSWORD]``).
  A following common word (``is incorrect``, ``is not working``, ``is case sensitive``) or a
  mask (``****``) is not a secret, and a request (``never ask for your password``) has none.

When detections overlap, the earlier type in ``PRIORITY`` wins.

Speed: ``PREFILTER`` is a cheap regex that every detection needs to match somewhere (a run
of at least 8 digits, separators allowed, an ``@``, or a password word).
:func:`redact_frame` evaluates it vectorised in polars and runs the precise Python pass only
on the rows it selects; :func:`redact_text` applies the same prefilter, so both agree.
ASCII digits only: full-width or other-script digits are not detected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import polars as pl

from tierlens.schema import PII_SPAN_SCHEMA

PII_TYPES = ("EMAIL", "PHONE", "CARD", "SSN", "IBAN", "ACCOUNT", "PASSWORD")
PRIORITY = ("EMAIL", "IBAN", "CARD", "SSN", "ACCOUNT", "PHONE", "PASSWORD")

# Every detector below can only fire on a text that matches this (same syntax in Rust and Python).
# Cards, phones, SSNs, account numbers and IBANs all hold a run of at least 8 digits with at
# most 3 separators ``space . ( ) / + -`` between two digits (an IBAN's account part); emails
# an "@"; passwords and PINs a password word.
PREFILTER = (r"@|[0-9](?:[ .()/+-]{0,3}[0-9]){7}"
             r"|(?i:pass(?:word|code|phrase|wd|\s+(?:word|phrase))|pwd|\bpin(?:\b|code))")
_PREFILTER_RE = re.compile(PREFILTER)


class PiiSpan(NamedTuple):
    """One placeholder: its type and character span in the *redacted* text."""

    pii_type: str
    start: int
    end: int


_Detection = tuple[int, int, str]  # start, end (in the original text), pii type


# --- validators -----------------------------------------------------------------------------

def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by every payment card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ISO 13616 registered IBAN lengths (SWIFT IBAN registry), by country code.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}


def iban_ok(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod-97-10 check on a compact (no spaces) upper-case IBAN."""
    want = IBAN_LENGTHS.get(iban[:2])
    if (want is not None and len(iban) != want) or not 15 <= len(iban) <= 34:
        return False
    if not (iban[2:4].isdigit() and iban.isalnum() and iban.isascii()):
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


# --- detectors: each yields (start, end, type) spans on the original text -------------------

_EMAIL = re.compile(r"(?<![\w.+'-])[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*"
                    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
                    r"(?![\w-])")

# Patterns start with a digit and check what precedes it with a lookbehind placed after that
# digit: a leading lookbehind would stop ``re`` from skipping fast to the next digit.
_CARD = re.compile(
    r"[0-9](?<![0-9A-Za-z][0-9])(?<![0-9][ -][0-9])(?:"
    r"[0-9]{12,18}"
    r"|[0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?"
    r"|[0-9]{3}([ -])[0-9]{6}\2[0-9]{4,5}"
    r")(?![0-9A-Za-z])(?![ -][0-9])")
_NOT_A_CARD_BEFORE = re.compile(
    r"(?i)\b(?:order|tracking|track|reference|ref|confirmation|conf|invoice|ticket|case|"
    r"booking|shipment|parcel|package|serial|imei|awb|waybill)"
    r"(?:\s*(?:number|num|no\.?|nr|id|code))?\s*(?:is|was)?\s*[:#]?\s*$")

_SSN_GROUPED = re.compile(r"[0-8](?<![0-9A-Za-z][0-9])(?<![0-9][ -][0-9])"
                          r"[0-9]{2}(?<!000|666)([- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
                          r"(?![0-9A-Za-z])(?![ -][0-9])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|social security|social)\b[^0-9.!?\n]{0,30}?"
                          r"(?<![0-9])((?!000|666|9)[0-9]{3}(?!00)[0-9]{2}(?!0000)[0-9]{4})"
                          r"(?![0-9])")

_IBAN_START = re.compile(r"([A-Z](?<![0-9A-Za-z][A-Z])[A-Z])[0-9]{2} ?[A-Za-z0-9]")

_PHONE_INTL = re.compile(r"(?<![0-9A-Za-z+])\+[0-9]{1,3}(?:[ .-]?\(?[0-9]{1,5}\)?){2,7}"
                         r"(?![0-9])")
# (+1 / 1- prefixed numbers are found by _PHONE_INTL and _PHONE_NANP_1.)
_PHONE_NANP = re.compile(r"(?:\((?<![0-9A-Za-z+.-]\()[2-9][0-9]{2}\) ?"
                         r"|[2-9](?<![0-9A-Za-z+.-][2-9])[0-9]{2}([ .-]))"
                         r"[0-9]{3}(?(1)\1|[ .-])[0-9]{4}(?![0-9A-Za-z])(?![.-][0-9])")
_PHONE_NANP_1 = re.compile(r"1(?<![0-9A-Za-z+.-]1)([ .-])[2-9][0-9]{2}\1[0-9]{3}\1[0-9]{4}"
                           r"(?![0-9A-Za-z])(?![.-][0-9])")
_PHONE_UK = re.compile(r"0(?<![0-9A-Za-z+.-]0)[1-9][0-9]{1,3}([ .-])[0-9]{3,4}(?:\1?[0-9]{3,4})"
                       r"(?![0-9A-Za-z])(?![.-][0-9])")
_PHONE_CONTEXT = re.compile(r"(?i)\b(?:phone|call|cell|mobile|tel|telephone|text|whatsapp|"
                            r"reach|fax|contact\s+(?:number|no))\b[^0-9.!?\n]{0,25}?(?<![0-9])([0-9]{10,11})(?![0-9])")

_PHONE_WORDS = ("phone", "call", "cell", "mobile", "tel", "text", "whatsapp", "reach", "fax",
                "contact")
_TEN_DIGITS = re.compile(r"[0-9]{10}")

_ACCOUNT = re.compile(
    r"(?i)\b(?:account|accounts|acct|acc|a/c|routing|aba|sort\s*code|member(?:ship)?\s*(?:number|"
    r"no|id)|customer\s*(?:number|no))\b(?:[^0-9.!?\n]|(?<=\bno)\.){0,30}?(?<![0-9])"
    r"([0-9]{8,17}|[0-9]{3,}(?:[ -][0-9]{3,}){1,4})(?![0-9])(?![ -][0-9])")

_PASSWORD = re.compile(
    r"(?i)\b(?:password|pass\s?word|passcode|passphrase|pass\s?phrase|passwd|pwd)"
    r"(?:\s+(?:is|was|will\s+be|would\s+be)|\s*[:=]|\s+to)(?:\s*[:=])?"
    r"(?:\s+(?:now|still|currently|actually|just)(?=\s))?\s*"
    r"([\"'`\u201c\u2018]?)([^\s\"'`\u201d\u2019]{1,64}(?: [0-9]{1,6}(?![^\s.,;!?]))*)")
_PIN = re.compile(r"(?i)\bpin(?:\s*(?:code|number))?(?:\s+(?:is|was)|\s*[:=])\s*([0-9]{4,8})"
                  r"(?![0-9])")
_PASSWORD_TO_NEEDS = re.compile(r"(?i)\b(?:change|changed|set|reset|update|updated)\b[^.!?\n]{0,20}$")
_NOT_A_SECRET = frozenset("""
a an the my your our their his her its this that it is was be been being not no never now
incorrect wrong invalid expired correct right required needed missing reset changed locked
too very so case sensitive different same weak strong short long empty blank new old
working valid okay ok fine good bad safe secure protected encrypted hidden shown visible
still already just only also same sent emailed texted updated set saved stored
forgotten forgot lost compromised hacked stolen leaked known unknown there here
for to of on in at by with from and or but if when then than as into onto about
same different correct incorrect case-sensitive mandatory optional
""".split())  # noqa: SIM905 - a word list reads better as text
_MASK = re.compile(r"^(?:[*\u2022#._-]+|[xX]{3,})$")


def _cards(text: str) -> Iterator[_Detection]:
    for m in _CARD.finditer(text):
        digits = m.group(0).replace(" ", "").replace("-", "")
        if digits[0] not in "23456" or not luhn_ok(digits):
            continue
        if _NOT_A_CARD_BEFORE.search(text, max(0, m.start() - 40), m.start()):
            continue
        yield m.start(), m.end(), "CARD"


def _ssns(text: str) -> Iterator[_Detection]:
    for m in _SSN_GROUPED.finditer(text):
        yield m.start(), m.end(), "SSN"
    lowered = text.lower()
    if "ss" in lowered or "social" in lowered:
        for m in _SSN_CONTEXT.finditer(text):
            yield m.start(1), m.end(1), "SSN"


def _ibans(text: str) -> Iterator[_Detection]:
    for m in _IBAN_START.finditer(text):
        want = IBAN_LENGTHS.get(m.group(1))
        if want is None:  # not a registered IBAN country: guessing lengths would invite chance hits
            continue
        # Walk from the start taking exactly the country's length of alphanumerics, single
        # spaces allowed between them, so a following word or IBAN is never swallowed.
        chars: list[str] = []
        j, n = m.start(), len(text)
        while j < n and len(chars) < want:
            ch = text[j]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
            elif not (ch == " " and j + 1 < n and text[j + 1] != " " and chars):
                break
            j += 1
        if len(chars) != want or (j < n and text[j].isalnum()):
            continue
        if iban_ok("".join(chars).upper()):
            yield m.start(), j, "IBAN"


def _phones(text: str) -> Iterator[_Detection]:
    if "+" in text:
        for m in _PHONE_INTL.finditer(text):
            n = sum(ch.isdigit() for ch in m.group(0))
            if 8 <= n <= 15:
                yield m.start(), m.end(), "PHONE"
    for rx in (_PHONE_NANP_1, _PHONE_NANP, _PHONE_UK):
        for m in rx.finditer(text):
            n = sum(ch.isdigit() for ch in m.group(0))
            if 10 <= n <= 11:
                yield m.start(), m.end(), "PHONE"
    lowered = text.lower()
    if any(w in lowered for w in _PHONE_WORDS) and _TEN_DIGITS.search(text):
        for m in _PHONE_CONTEXT.finditer(text):
            yield m.start(1), m.end(1), "PHONE"


def _accounts(text: str) -> Iterator[_Detection]:
    for m in _ACCOUNT.finditer(text):
        digits = m.group(1).replace(" ", "").replace("-", "")
        if 8 <= len(digits) <= 17:
            yield m.start(1), m.end(1), "ACCOUNT"


def _passwords(text: str) -> Iterator[_Detection]:
    for m in _PASSWORD.finditer(text):
        secret = m.group(2).rstrip(".,;:!?)]}")
        first = secret.split(" ", 1)[0]
        if not secret or first.lower() in _NOT_A_SECRET or _MASK.match(first):
            continue
        if "[" in secret:  # already a placeholder, e.g. "[PII]"
            continue
        connector = m.group(0)[: m.start(1) - m.start()].rstrip().lower()
        if connector.endswith(" to") and not _PASSWORD_TO_NEEDS.search(text, 0, m.start()):
            continue
        yield m.start(2), m.start(2) + len(secret), "PASSWORD"
    for m in _PIN.finditer(text):
        yield m.start(1), m.end(1), "PASSWORD"


def _emails(text: str) -> Iterator[_Detection]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield m.start(), m.end(), "EMAIL"


_DETECTORS: dict[str, Callable[[str], Iterator[_Detection]]] = {
    "EMAIL": _emails, "IBAN": _ibans, "CARD": _cards, "SSN": _ssns, "PHONE": _phones,
    "ACCOUNT": _accounts, "PASSWORD": _passwords,
}


_DIGIT_RUN = re.compile(r"[0-9](?:[ .()/+-]{0,3}[0-9]){7}")  # the numeric part of PREFILTER
_NUMERIC = frozenset({"IBAN", "CARD", "SSN", "ACCOUNT", "PHONE"})
# Cheap substring triggers (on the lower-cased text) without which a detector can't fire.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "EMAIL": ("@",),
    "ACCOUNT": ("acc", "a/c", "routing", "aba", "sort", "member", "customer"),
    "PASSWORD": ("pass", "pwd", "pin"),
}


def detect(text: str) -> list[_Detection]:
    """Non-overlapping detections on ``text``, sorted by start; higher PRIORITY wins overlaps."""
    taken: list[_Detection] = []
    numeric = _DIGIT_RUN.search(text) is not None
    lowered = text.lower()
    for pii_type in PRIORITY:
        if pii_type in _NUMERIC and not numeric:
            continue
        triggers = _TRIGGERS.get(pii_type)
        if triggers and not any(t in lowered for t in triggers):
            continue
        for start, end, kind in _DETECTORS[pii_type](text):
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, kind))
    taken.sort()
    return taken


def _apply(text: str, found: list[_Detection]) -> tuple[str, list[PiiSpan]]:
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
