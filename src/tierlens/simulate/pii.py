"""Fictional PII-shaped values, so the ingest redaction and PII rules get exercised.

All values are generated, never real: card numbers use the 4000 test prefix with a valid
Luhn digit; order numbers are 16 digits that FAIL Luhn (look-alikes that must not be
redacted as cards); phone numbers use the UK drama range (07700 900xxx); e-mails use
example.com/.org/.net; IBANs are GB with a valid mod-97 check.
"""

from __future__ import annotations

from tierlens.simulate.rng import Draw

_FIRST = ("alex", "sam", "jordan", "casey", "morgan", "taylor", "jamie", "robin", "chris", "pat",
          "lee", "dana", "kim", "ash", "drew", "riley", "quinn", "max", "jo", "toni")
_LAST = ("smith", "jones", "patel", "garcia", "nguyen", "brown", "khan", "murphy", "silva",
         "kowalski", "okafor", "larsen", "rossi", "chen", "haddad", "walsh", "novak", "ali")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError("unreachable")


def _digits(draw: Draw, n: int) -> str:
    return "".join(str(draw.randint(0, 9)) for _ in range(n))


def card_number(draw: Draw) -> str:
    body = "4000" + _digits(draw, 11)
    num = body + _luhn_digit(body)
    return " ".join(num[i:i + 4] for i in range(0, 16, 4)) if draw.chance(0.6) else num


def order_number(draw: Draw) -> str:
    """16 digits that look like a card number but fail the Luhn check."""
    body = str(draw.randint(1, 9)) + _digits(draw, 14)
    good = _luhn_digit(body)
    bad = str((int(good) + draw.randint(1, 9)) % 10)
    return body + bad


def short_order_ref(draw: Draw) -> str:
    return f"#{draw.randint(100000, 999999)}"


def phone(draw: Draw) -> str:
    return f"07700 900{draw.randint(0, 999):03d}"


def email(draw: Draw) -> str:
    first, last = draw.choice(_FIRST), draw.choice(_LAST)
    dom = draw.choice(("example.com", "example.org", "example.net"))
    return f"{first}.{last}{draw.randint(1, 99)}@{dom}"


def ssn(draw: Draw) -> str:
    return f"{draw.randint(100, 665)}-{draw.randint(10, 99)}-{draw.randint(1000, 9999)}"


def iban(draw: Draw) -> str:
    bban = "NWBK" + _digits(draw, 6) + _digits(draw, 8)
    rearranged = bban + "GB00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    return f"GB{check:02d}{bban}"


def postcode(draw: Draw) -> str:
    return draw.choice(("SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB",
                        "W1A 0AX", "LS1 4AP", "G2 3AX", "BS1 5TR"))


def date_of_birth(draw: Draw) -> str:
    return f"{draw.randint(1, 28):02d}/{draw.randint(1, 12):02d}/{draw.randint(1950, 2004)}"


def full_name(draw: Draw) -> str:
    return f"{draw.choice(_FIRST).title()} {draw.choice(_LAST).title()}"
