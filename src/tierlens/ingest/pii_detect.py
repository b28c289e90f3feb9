"""PII detectors. Each works on a text already normalised by :mod:`tierlens.ingest.pii_text`
(ASCII spaces, hyphens and digits) and yields ``(start, end, type)`` spans on it.

Validation comes from maintained libraries wherever one exists: ``python-stdnum`` for the
Luhn check of card numbers, ISO 13616 IBANs (registered length, country BBAN format and
mod-97) and US SSNs (area, group, serial and the known-invalid list), and ``phonenumbers``'
:class:`~phonenumbers.PhoneNumberMatcher` for telephone numbers in any national or
international format. The regexes here only find candidates. See :mod:`tierlens.ingest.redact`
for the rules of each type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.us import ssn as std_ssn

Detection = tuple[int, int, str]  # start, end (in the normalised text), pii type

PRIORITY = ("EMAIL", "IBAN", "CARD", "SSN", "ACCOUNT", "PHONE", "PASSWORD")
PHONE_REGIONS = ("US", "GB")  # national numbers without a +country prefix are read as these


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of payment card numbers (``stdnum.luhn``)."""
    return digits.isdigit() and luhn.is_valid(digits)


def iban_ok(iban: str) -> bool:
    """ISO 13616 IBAN by ``stdnum.iban``: mod-97, registered length and BBAN structure of its
    country. National BBAN checksums are not required (a mistyped one is still an IBAN)."""
    try:
        std_iban.validate(iban, check_country=False)
    except ValidationError:
        return False
    return True


# ISO 13616 registered IBAN lengths by country code: how far the IBAN walk reads (the
# validity itself is stdnum's).
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

# --- e-mail: local@domain.tld, Unicode (IDN) local parts and domains included ----------------
_EMAIL = re.compile(r"(?<![\w.+'-])[^\W_][\w.%+'-]*@[^\W_](?:[\w-]*[^\W_])?"
                    r"(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.(?:[^\W\d_]{2,24}|xn--[a-z0-9-]{1,59})"
                    r"(?![\w-])")

# --- numbers: runs of digit groups separated by one space, dot or hyphen ---------------------
# (the lookbehind sits after the first digit so ``re`` can skip fast to the next digit)
_RUN = re.compile(r"[0-9](?<![0-9A-Za-z][0-9])[0-9]*(?:(?: {1,2}|[.-])[0-9]+)*(?![0-9A-Za-z])")
_GROUP = re.compile(r"[0-9]+")
_NOT_PII_BEFORE = re.compile(
    r"(?i)\b(?:order|tracking|track|reference|ref|confirmation|conf|invoice|ticket|case|"
    r"booking|shipment|parcel|package|serial|imei|awb|waybill|transaction|txn|receipt|"
    r"claim|policy|sku|product)"
    r"(?:\s*(?:number|num|no\.?|nr|id|code))?\s*(?:is|was)?\s*[:#]?\s*$")


_GLUED_CODE_BEFORE = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]+[0-9]|[0-9]+[A-Za-z])[A-Za-z0-9]* $")


def _introduced_as_not_pii(text: str, start: int) -> bool:
    return _NOT_PII_BEFORE.search(text, max(0, start - 40), start) is not None


def _cards(text: str) -> Iterator[Detection]:
    """13-19 digits whose first is a card-network prefix (2-6) and which pass Luhn, in any
    grouping (even uneven: ``4111 111111111111``, Amex ``3782 8224 6310 005``) with spaces,
    dots or hyphens. The card starts where the digit run starts and ends on a group boundary
    (a CVV or expiry may follow in the same run); a run that continues a code (``AT66 2920
    ...``, a letters-and-digits token just before it) or is introduced as an order /
    tracking / reference... number is not a card."""
    for run in _RUN.finditer(text):
        start = run.start()
        if _GLUED_CODE_BEFORE.search(text, max(0, start - 16), start):
            continue
        if text[start] not in "23456":  # card-network prefixes
            continue
        best, digits = None, ""
        for g in _GROUP.finditer(text, start, run.end()):
            digits += g.group(0)
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn_ok(digits):
                best = g.end()
        if best is not None and not _introduced_as_not_pii(text, start):
            yield start, best, "CARD"


_SSN_GROUPED = re.compile(r"[0-9](?<![0-9A-Za-z][0-9])[0-9]{2}([- .])[0-9]{2}\1[0-9]{4}"
                          r"(?![0-9A-Za-z])(?![ .-][0-9])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|social security|social)\b[^0-9.!?\n]{0,30}?"
                          r"(?<![0-9])([0-9]{9})(?![0-9])")


def ssn_ok(digits: str) -> bool:
    """A valid US SSN by ``stdnum.us.ssn``; the famous published ones stdnum rejects
    (078-05-1120...) are redacted too: a customer typing one is still typing an SSN."""
    return std_ssn.is_valid(digits) or \
        std_ssn.format(digits) in getattr(std_ssn, "_ssn_blacklist", ())


def _ssns(text: str) -> Iterator[Detection]:
    """``AAA-GG-SSSS`` (one consistent separator: hyphen, space or dot), or 9 digits after
    ``ssn`` / ``social security``; valid by ``stdnum.us.ssn``."""
    for m in _SSN_GROUPED.finditer(text):
        if ssn_ok(m.group(0).replace(m.group(1), "")):
            yield m.start(), m.end(), "SSN"
    lowered = text.lower()
    if "ss" in lowered or "social" in lowered:
        for m in _SSN_CONTEXT.finditer(text):
            if ssn_ok(m.group(1)):
                yield m.start(1), m.end(1), "SSN"


_IBAN_START = re.compile(r"([A-Za-z](?<![0-9A-Za-z][A-Za-z])[A-Za-z])[0-9]{2} ?[A-Za-z0-9]")


def _ibans(text: str) -> Iterator[Detection]:
    """Country code (any case) + check digits + BBAN, compact or in groups of single spaces,
    of the country's registered length, valid by ``stdnum.iban``."""
    for m in _IBAN_START.finditer(text):
        want = IBAN_LENGTHS.get(m.group(1).upper())
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


# --- phones: candidates found here, read by phonenumbers' matcher ----------------------------
_INTL = re.compile(r"\+|00[1-9]")
_PHONE_CANDIDATE = re.compile(r"(?:\+|(?<![0-9])00(?=[1-9]))?\(?[0-9](?:[ .()-]{0,3}[0-9]){7,}\)?")
_PHONE_WORD = re.compile(r"(?i)\b(?:phone|call|cell|mobile|tel|telephone|text|whatsapp|reach|"
                         r"fax|contact\s+(?:number|no)|number|ring|dial)\b[^0-9.!?\n]{0,25}$")


def _groups(text: str) -> list[int]:
    return [len(g) for g in _GROUP.findall(text)]


def _printed_like_a_phone(raw: str, region: str) -> bool:
    """Whether ``raw``'s digit groups are those of the number as phonenumbers prints it
    nationally (a country code or national prefix may lead): ``415-555-2671``,
    ``(555) 123-4567``, ``07700 900123`` are; ``9012 3456 78`` or ``2026-000123`` are not."""
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return False
    want = _groups(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL))
    got = _groups(raw)
    extra = got[: len(got) - len(want)]
    return got[len(extra):] == want and len(extra) <= 1 and sum(extra) <= 3


def _regions_for(national: str) -> list[str]:
    """The regions a national number can be from: one starting with 0 only from a region
    whose national (trunk) prefix is 0 (GB yes, US no), saving the matcher a pointless run."""
    first = national.lstrip("(")[:1]
    return [r for r in PHONE_REGIONS
            if first != "0" or _NATIONAL_PREFIX.get(r) == "0"]


_NATIONAL_PREFIX = {r: phonenumbers.PhoneMetadata.metadata_for_region(r).national_prefix
                    for r in PHONE_REGIONS}


def _phones(text: str, free: Callable[[int, int], bool]) -> Iterator[Detection]:
    """Phone numbers by ``phonenumbers.PhoneNumberMatcher`` (leniency POSSIBLE, so fictional
    ranges such as 555-01xx or 07700 900xxx count too), run on each candidate digit run that
    no other type took. A match is kept when it is international (``+`` or ``00`` then 8-15
    digits), or national with 10-11 digits and either printed in its region's phone grouping
    or, written without separators, right after a phone word (``call``, ``mobile``...)."""
    for cand in _PHONE_CANDIDATE.finditer(text):
        c0, c1 = cand.start(), cand.end()
        if not free(c0, c1) or _introduced_as_not_pii(text, c0):
            continue
        raw = cand.group(0)
        intl = _INTL.match(raw) is not None
        if not intl and not 10 <= sum(ch.isdigit() for ch in raw) <= 11:
            continue  # not a national number's length (an id such as sim11-000000, a UUID)
        worded = _PHONE_WORD.search(text, max(0, c0 - 40), c0) is not None
        if not intl and raw.isdigit() and not worded:
            continue  # a bare digit run is a phone only right after a phone word
        for region in PHONE_REGIONS if intl else _regions_for(raw):
            found = False
            for m in PhoneNumberMatcher(raw, region, leniency=Leniency.POSSIBLE):
                s = m.raw_string
                n = sum(ch.isdigit() for ch in s)
                if _INTL.match(s):
                    ok = 8 <= n <= 15
                else:
                    ok = 10 <= n <= 11 and ((s.isdigit() and worded)
                                            or (not s.isdigit() and _printed_like_a_phone(s, region)))
                if ok:
                    found = True
                    yield c0 + m.start, c0 + m.end, "PHONE"
            if found:
                break


_ACCOUNT = re.compile(
    r"(?i)\b(?:account|accounts|acct|acc|a/c|routing|aba|sort\s*code|member(?:ship)?\s*(?:number|"
    r"no|id)|customer\s*(?:number|no))\b(?:[^0-9.!?\n]|(?<=\bno)\.){0,30}?(?<![0-9])"
    r"([0-9]{8,17}|[0-9]{3,}(?:[ -][0-9]{2,}){1,4})(?![0-9])(?![ -][0-9])")


def _accounts(text: str) -> Iterator[Detection]:
    """8-17 digits after an account keyword; in groups, a group of 2 only when the whole has
    10 digits or more (so a date such as 2026-10-01 never qualifies)."""
    for m in _ACCOUNT.finditer(text):
        digits = m.group(1).replace(" ", "").replace("-", "")
        short_group = any(len(g) < 3 for g in re.split(r"[ -]", m.group(1)))
        if 8 <= len(digits) <= 17 and not (short_group and len(digits) < 10):
            yield m.start(1), m.end(1), "ACCOUNT"


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


def _passwords(text: str) -> Iterator[Detection]:
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


def _emails(text: str) -> Iterator[Detection]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield m.start(), m.end(), "EMAIL"


_DETECTORS: dict[str, Callable[[str], Iterator[Detection]]] = {
    "EMAIL": _emails, "IBAN": _ibans, "CARD": _cards, "SSN": _ssns, "ACCOUNT": _accounts,
    "PASSWORD": _passwords,
}
_DIGIT_RUN = re.compile(r"[0-9](?:[ .()/+-]{0,3}[0-9]){7}")  # what every numeric type holds
_NUMERIC = frozenset({"IBAN", "CARD", "SSN", "ACCOUNT", "PHONE"})
# Cheap substring triggers (on the lower-cased text) without which a detector can't fire.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "EMAIL": ("@",),
    "ACCOUNT": ("acc", "a/c", "routing", "aba", "sort", "member", "customer"),
    "PASSWORD": ("pass", "pwd", "pin"),
}


# The fewest digits a detection of the type holds in one run (spaces, dots, hyphens between
# groups): a card 13, an SSN 9; so a short id such as ``sim11-000000`` costs one regex.
_MIN_DIGITS = {"CARD": 13, "SSN": 9}
_RUN_OF_GROUPS = re.compile(r"[0-9]+(?:[ .-][0-9]+)*")


def _longest_digit_run(text: str) -> int:
    return max(sum(ch.isdigit() for ch in m.group(0)) for m in _RUN_OF_GROUPS.finditer(text))


def detect_normalized(text: str) -> list[Detection]:
    """Non-overlapping detections on a normalised text, sorted; higher PRIORITY wins overlaps."""
    taken: list[Detection] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in taken)

    numeric = _DIGIT_RUN.search(text) is not None
    longest = _longest_digit_run(text) if numeric else 0
    lowered = text.lower()
    for pii_type in PRIORITY:
        if pii_type in _NUMERIC and (not numeric or longest < _MIN_DIGITS.get(pii_type, 0)):
            continue
        triggers = _TRIGGERS.get(pii_type)
        if triggers and not any(t in lowered for t in triggers):
            continue
        found = _phones(text, free) if pii_type == "PHONE" else _DETECTORS[pii_type](text)
        for start, end, kind in found:
            if free(start, end):
                taken.append((start, end, kind))
    taken.sort()
    return taken
