"""Generate the PII redaction test set: ``tests/golden/pii/pii_set.jsonl``.

    python tests/golden/pii/make_pii_set.py          # rewrite the committed file
    python tests/golden/pii/make_pii_set.py --check  # exit 1 if it differs from the file

Every value is synthetic (fixed seed): card numbers are random digits completed to pass
Luhn, IBANs random BBANs of the country's structure with computed ISO 7064 check digits,
SSNs random numbers in the issued ranges, phones random numbers in real area / city codes
(plus the fictional 555 and 07700 900xxx ranges), e-mails made-up names on made-up domains.

One JSON object per line: ``type`` (a PII type, or null for a look-alike that must stay),
``format`` (how it is written), ``text`` and ``start``/``end``, the characters of the value
in ``text``. Each PII type has at least 300 items in at least 10 formats; look-alikes (order
numbers, amounts, dates, ids...) as many again.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).with_name("pii_set.jsonl")
PER_TYPE = 300
LOOKALIKES = 600
SEED = 20261129

NBSP, THIN, NNBSP, ZWSP, EN, EM, MINUS, NBHY = ("\u00a0", "\u2009", "\u202f", "\u200b",
                                                "\u2013", "\u2014", "\u2212", "\u2011")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
R = random.Random(SEED)


def digits(n: int) -> str:
    return "".join(R.choice("0123456789") for _ in range(n))


def luhn_complete(body: str) -> str:
    for d in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(body + d)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return body + d
    raise AssertionError("unreachable")


def card(prefix: str, length: int) -> str:
    return luhn_complete(prefix + digits(length - len(prefix) - 1))


def group(s: str, sizes: tuple[int, ...], sep: str) -> str:
    out, pos = [], 0
    for n in sizes:
        out.append(s[pos:pos + n])
        pos += n
    if pos < len(s):
        out.append(s[pos:])
    return sep.join(p for p in out if p)


def regroup(s: str, pattern: str, sizes: tuple[int, ...] = (4, 4, 4, 4)) -> str:
    """``s`` cut into ``sizes`` and laid out by ``pattern`` ({0}, {1}... are the groups)."""
    parts, pos = [], 0
    for n in sizes:
        parts.append(s[pos:pos + n])
        pos += n
    return pattern.format(*parts)


def mixed_case(s: str) -> str:
    return s[0] + s[1].lower() + s[2:]


def visa() -> str:
    return card(R.choice(["4", "51", "52", "53", "54", "55", "2221", "2720", "6011", "35"]), 16)


CARD_FORMATS: dict[str, Callable[[], str]] = {
    "contiguous": lambda: visa(),
    "4-4-4-4 space": lambda: group(visa(), (4, 4, 4, 4), " "),
    "4-4-4-4 hyphen": lambda: group(visa(), (4, 4, 4, 4), "-"),
    "4-4-4-4 dot": lambda: group(visa(), (4, 4, 4, 4), "."),
    "4-4-4-4 no-break space": lambda: group(visa(), (4, 4, 4, 4), NBSP),
    "4-4-4-4 thin space": lambda: group(visa(), (4, 4, 4, 4), THIN),
    "4-4-4-4 narrow no-break space": lambda: group(visa(), (4, 4, 4, 4), NNBSP),
    "4-4-4-4 zero-width space": lambda: group(visa(), (4, 4, 4, 4), ZWSP),
    "4-4-4-4 tab": lambda: group(visa(), (4, 4, 4, 4), "\t"),
    "4-4-4-4 en dash": lambda: group(visa(), (4, 4, 4, 4), EN),
    "uneven 4-12": lambda: group(visa(), (4, 12), " "),
    "uneven 8-8": lambda: group(visa(), (8, 8), " "),
    "uneven 6-10": lambda: group(visa(), (6, 10), "-"),
    "amex 4-6-5": lambda: group(card(R.choice(["34", "37"]), 15), (4, 6, 5), " "),
    "amex 4-4-4-3": lambda: group(card(R.choice(["34", "37"]), 15), (4, 4, 4, 3), " "),
    "diners 4-6-4": lambda: group(card("36", 14), (4, 6, 4), " "),
    "19 digits 4-4-4-4-3": lambda: group(card("62", 19), (4, 4, 4, 4, 3), " "),
    "full-width digits": lambda: group(visa(), (4, 4, 4, 4), " ").translate(FULLWIDTH),
    "mixed separators": lambda: regroup(visa(), "{0} {1}-{2} {3}"),
}
CARD_TEMPLATES = ["My card number is {v}.", "Please charge {v} instead.", "card: {v}",
                  "it's {v}, expiry 09/27", "use {v} for the payment please", "{v}",
                  "the long number on the front is {v} thanks", "Card no {v} - cvv to follow"]

# (country, BBAN structure: a = capital letters, n = digits), as the IBAN registry has them
IBAN_COUNTRIES = [("DE", "18n"), ("GB", "4a14n"), ("FR", "23n"), ("NL", "4a10n"),
                  ("ES", "20n"), ("IT", "1a22n"), ("BE", "12n"), ("AT", "16n"), ("PL", "24n"),
                  ("IE", "4a14n"), ("PT", "21n"), ("SE", "20n"), ("DK", "14n"), ("FI", "14n"),
                  ("CH", "17n"), ("NO", "11n")]


def iban() -> str:
    cc, struct = R.choice(IBAN_COUNTRIES)
    bban = ""
    for part in struct.replace("a", "a,").replace("n", "n,").split(","):
        if part:
            n, kind = int(part[:-1]), part[-1]
            bban += "".join(R.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n)) \
                if kind == "a" else digits(n)
    check = 98 - int("".join(str(int(c, 36)) for c in bban + cc + "00")) % 97
    return f"{cc}{check:02d}{bban}"


def spaced(s: str, sep: str = " ") -> str:
    return sep.join(s[i:i + 4] for i in range(0, len(s), 4))


IBAN_FORMATS: dict[str, Callable[[], str]] = {
    "compact": lambda: iban(),
    "groups of 4": lambda: spaced(iban()),
    "compact lower case": lambda: iban().lower(),
    "groups of 4 lower case": lambda: spaced(iban()).lower(),
    "mixed case": lambda: mixed_case(spaced(iban())),
    "groups no-break space": lambda: spaced(iban(), NBSP),
    "groups thin space": lambda: spaced(iban(), THIN),
    "groups zero-width space": lambda: spaced(iban(), ZWSP),
    "groups tab": lambda: spaced(iban(), "\t"),
    "groups lower no-break space": lambda: spaced(iban(), NBSP).lower(),
    "groups narrow no-break space": lambda: spaced(iban(), NNBSP),
}
IBAN_TEMPLATES = ["My IBAN is {v}.", "IBAN: {v}", "please send it to {v} thanks",
                  "the account is ({v})", "{v}", "refund to iban {v}, name J Smith"]


def ssn() -> str:
    area = R.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}{R.randint(1, 99):02d}{R.randint(1, 9999):04d}"


def ssn3(sep: str) -> Callable[[], str]:
    return lambda: regroup(ssn(), f"{{0}}{sep}{{1}}{sep}{{2}}", (3, 2, 4))


SSN_FORMATS: dict[str, Callable[[], str]] = {
    "hyphens": ssn3("-"), "spaces": ssn3(" "), "en dashes": ssn3(EN), "em dashes": ssn3(EM),
    "minus signs": ssn3(MINUS), "non-breaking hyphens": ssn3(NBHY),
    "no-break spaces": ssn3(NBSP), "thin spaces": ssn3(THIN), "dots": ssn3("."),
    "full-width digits": lambda: ssn3("-")().translate(FULLWIDTH),
    "contiguous": lambda: ssn(),
}
SSN_TEMPLATES = ["My SSN is {v}.", "ssn: {v}", "social security number {v}",
                 "my social is {v}, thanks", "SSN {v}"]

US_AREAS = ["212", "415", "312", "617", "206", "303", "404", "512", "702", "818", "646", "305"]


def us() -> str:
    return R.choice(US_AREAS) + str(R.randint(2, 9)) + digits(2) + digits(4)


def uk_london() -> str:
    return "20" + R.choice(["7", "3", "8"]) + digits(7)


def phone_fmt(fn: Callable[[], str], shape: Callable[[str], str]) -> Callable[[], str]:
    return lambda: shape(fn())


PHONE_FORMATS: dict[str, Callable[[], str]] = {
    "(415) 555-2671": phone_fmt(us, lambda s: f"({s[:3]}) {s[3:6]}-{s[6:]}"),
    "415-555-2671": phone_fmt(us, lambda s: f"{s[:3]}-{s[3:6]}-{s[6:]}"),
    "415.555.2671": phone_fmt(us, lambda s: f"{s[:3]}.{s[3:6]}.{s[6:]}"),
    "415 555 2671": phone_fmt(us, lambda s: f"{s[:3]} {s[3:6]} {s[6:]}"),
    "+1 415 555 2671": phone_fmt(us, lambda s: f"+1 {s[:3]} {s[3:6]} {s[6:]}"),
    "+1-415-555-2671": phone_fmt(us, lambda s: f"+1-{s[:3]}-{s[3:6]}-{s[6:]}"),
    "1-415-555-2671": phone_fmt(us, lambda s: f"1-{s[:3]}-{s[3:6]}-{s[6:]}"),
    "+1 (415) 555-2671": phone_fmt(us, lambda s: f"+1 ({s[:3]}) {s[3:6]}-{s[6:]}"),
    "en dashes": phone_fmt(us, lambda s: f"{s[:3]}{EN}{s[3:6]}{EN}{s[6:]}"),
    "no-break spaces": phone_fmt(us, lambda s: f"{s[:3]}{NBSP}{s[3:6]}{NBSP}{s[6:]}"),
    "fictional 555-01xx": lambda: f"({R.choice(US_AREAS)}) 555-01{digits(2)}",
    "+44 20 7946 0958": phone_fmt(uk_london, lambda s: f"+44 {s[:2]} {s[2:6]} {s[6:]}"),
    "+44 (0)20 7946 0958": phone_fmt(uk_london, lambda s: f"+44 (0){s[:2]} {s[2:6]} {s[6:]}"),
    "020 7946 0958": phone_fmt(uk_london, lambda s: f"0{s[:2]} {s[2:6]} {s[6:]}"),
    "0044 20 7946 0958": phone_fmt(uk_london, lambda s: f"0044 {s[:2]} {s[2:6]} {s[6:]}"),
    "07700 900123 (drama range)": lambda: f"07700 900{digits(3)}",
    "+44 7700 900123": lambda: f"+44 7{R.choice(['4', '5', '7', '8', '9'])}{digits(2)} "
                               f"{digits(6)}",
    "+33 1 42 68 53 00": lambda: "+33 " + " ".join([R.choice("1234567")] + [digits(2)
                                                                             for _ in range(4)]),
    "+49 30 12345678": lambda: f"+49 30 {digits(8)}",
    "+91 98765 43210": lambda: f"+91 9{digits(4)} {digits(5)}",
    "+61 412 345 678": lambda: f"+61 4{digits(2)} {digits(3)} {digits(3)}",
    "+81 3-1234-5678": lambda: f"+81 3-{digits(4)}-{digits(4)}",
}
PHONE_TEMPLATES = ["call me on {v}", "My number is {v}.", "you can reach me at {v} after 5pm",
                   "mobile: {v}", "{v}", "text {v} when it ships", "phone {v}, thanks"]
CONTIGUOUS_PHONE_TEMPLATES = ["call me on {v}", "my cell is {v}", "mobile {v}", "text me at {v}",
                              "phone: {v}"]

FIRST = ["alex", "sam", "jordan", "casey", "morgan", "taylor", "jamie", "robin", "chris", "pat"]
LAST = ["smith", "jones", "patel", "garcia", "nguyen", "brown", "khan", "murphy", "silva"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.co.uk", "example.net"]


def name() -> str:
    return f"{R.choice(FIRST)}.{R.choice(LAST)}{R.randint(1, 99)}"


EMAIL_FORMATS: dict[str, Callable[[], str]] = {
    "first.last": lambda: f"{name()}@{R.choice(DOMAINS)}",
    "plus tag": lambda: f"{R.choice(FIRST)}+orders{R.randint(1, 9)}@{R.choice(DOMAINS)}",
    "upper case": lambda: f"{name()}@{R.choice(DOMAINS)}".upper(),
    "hyphen and underscore": lambda: f"{R.choice(FIRST)}_{R.choice(LAST)}-x@my-mail.example.com",
    "digits first": lambda: f"{R.randint(1950, 2005)}{R.choice(FIRST)}@{R.choice(DOMAINS)}",
    "apostrophe": lambda: f"o'{R.choice(LAST)}@example.ie",
    "long new TLD": lambda: f"{name()}@studio.photography",
    "IDN domain (Latin)": lambda: f"{R.choice(['josé', 'zoë', 'jürgen', 'åsa'])}@"
                                  f"{R.choice(['exämple.de', 'bücher.example', 'café.fr'])}",
    "IDN local and domain (CJK)": lambda: f"{R.choice(['用户', '山田', '李明'])}{R.randint(1, 99)}@"
                                          f"{R.choice(['例子.广告', '例え.テスト', '示例.中国'])}",
    "IDN Cyrillic": lambda: f"{R.choice(['иван', 'ольга', 'пётр'])}@пример.рф",
    "punycode domain": lambda: f"{R.choice(FIRST)}@xn--bcher-kva.example",
    "angle brackets": lambda: f"{name()}@{R.choice(DOMAINS)}",  # WRAP puts it in <...>
    "mailto": lambda: f"{name()}@{R.choice(DOMAINS)}",
    "full-width at sign": lambda: f"{name()}\uff20{R.choice(DOMAINS)}",
}
WRAP = {"angle brackets": "<{v}>", "mailto": "mailto:{v}"}
EMAIL_TEMPLATES = ["My email is {v}.", "email me at {v}", "it's {v}, thanks", "{v}",
                   "send the receipt to {v} please"]


def acct(n: int) -> str:
    return digits(n)


ACCOUNT_FORMATS: dict[str, Callable[[], str]] = {
    "account number": lambda: "account number {v}",
    "acct #": lambda: "acct # {v}",
    "a/c": lambda: "a/c {v}",
    "routing number": lambda: "routing number {v}",
    "member number": lambda: "member number: {v}",
    "customer number": lambda: "customer number {v}",
    "my account is": lambda: "my account is {v}",
    "account no.": lambda: "account no. {v}",
    "checking account": lambda: "checking account {v}",
    "savings acct:": lambda: "savings acct: {v}",
    "account grouped": lambda: "account {v}",
}
ACCOUNT_VALUES = {"routing number": lambda: acct(9), "account grouped":
                  lambda: f"{digits(4)} {digits(4)} {digits(2)}"}

PASSWORD_FORMATS: dict[str, str] = {
    "my password is": "my password is {v}", "password:": "password: {v}",
    "passcode =": "passcode = {v}", "pin is": "my pin is {v}", "PIN:": "PIN: {v}",
    "pwd=": "pwd={v}", "passphrase is": "the passphrase is {v}",
    "changed to": "I changed my password to {v}", "password was": "my password was {v} before",
    "pass word is": "pass word is {v}", "pin code:": "pin code: {v}", "passwd:": "passwd: {v}",
}
WORDS = ["Summer", "zebra", "Blue", "otter", "Tr0ub4dor", "hunter", "Qwerty", "letmein", "sky"]


def secret(fmt: str) -> str:
    if "pin" in fmt.lower():
        return digits(R.choice([4, 4, 6]))
    return R.choice(WORDS) + R.choice(["", "!", "#", "_"]) + str(R.randint(1, 9999))


def lookalike_formats() -> dict[str, Callable[[], tuple[str, str]]]:
    """Each returns (template with {v}, value): things that look like PII but aren't."""
    def bad_luhn() -> str:
        d = visa()
        return d[:-1] + str((int(d[-1]) + R.randint(1, 9)) % 10)

    def bad_iban() -> str:
        s = iban()
        return s[:2] + f"{(int(s[2:4]) + R.randint(1, 50)) % 97 + 2:02d}"[-2:] + s[4:]

    return {
        "order number 16 digits": lambda: ("order number {v} has shipped", card("4", 16)),
        "order # 10 digits": lambda: ("Order #{v} was cancelled", us()),
        "tracking number": lambda: ("tracking number {v}", "9400 " + " ".join(
            digits(4) for _ in range(4)) + " " + digits(2)),
        "ticket 10 digits": lambda: ("ticket {v} is open", us()),
        "reference grouped": lambda: ("reference {v}", group(card("5", 16), (4, 4, 4, 4), " ")),
        "invoice id": lambda: ("invoice INV-{v}", f"2026-{digits(6)}"),
        "amount": lambda: ("you charged me {v} twice", f"${R.randint(1, 999)},{digits(3)}.{digits(2)}"),
        "large amount": lambda: ("the balance is {v}", f"{R.randint(1, 9)},{digits(3)},{digits(3)}.{digits(2)}"),
        "euro amount": lambda: ("Betrag {v}", f"{R.randint(1, 99)}.{digits(3)},{digits(2)} EUR"),
        "ISO date": lambda: ("on {v} at 10:30", f"2026-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}"),
        "date and time": lambda: ("since {v}", (f"2026-{R.randint(1, 12):02d}-{R.randint(1, 28):02d} "
                                                f"{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}")),
        "UK date": lambda: ("born {v}", f"{R.randint(1, 28):02d}/{R.randint(1, 12):02d}/{R.randint(1940, 2005)}"),
        "compact timestamp": lambda: ("log {v}", (f"2026{R.randint(1, 12):02d}{R.randint(1, 28):02d}T"
                                                  f"{digits(6)}Z")),
        "date range": lambda: ("from {v}", f"01.{R.randint(1, 12):02d}.2026 - 15.{R.randint(1, 12):02d}.2026"),
        "ZIP+4": lambda: ("zip {v}", f"{digits(5)}-{digits(4)}"),
        "IP address": lambda: ("my IP is {v}", ".".join(str(R.randint(1, 254)) for _ in range(4))),
        "version": lambda: ("app version {v}", f"{R.randint(1, 20)}.{R.randint(0, 20)}.{digits(8)}"),
        "ISBN": lambda: ("ISBN {v}", f"978-{R.randint(0, 9)}-{digits(2)}-{digits(6)}-{R.randint(0, 9)}"),
        "Luhn-failing 16 digits": lambda: ("the code on the box is {v}", bad_luhn()),
        "IBAN with bad check digits": lambda: ("is {v} right?", spaced(bad_iban())),
        "SSN-shaped, area 000": lambda: ("number {v}", f"000-{digits(2)}-{digits(4)}"),
        "SSN-shaped, area 9xx": lambda: ("id {v}", f"9{digits(2)}-{digits(2)}-{digits(4)}"),
        "twitter handle": lambda: ("thanks {v}!", f"@{R.choice(['Acme', 'Help', 'Bank'])}Support"),
        "card ending": lambda: ("card ending {v}", digits(4)),
        "quantity and price": lambda: ("{v}", (f"{R.randint(2, 99)} x {R.randint(100, 999)} ml for "
                                               f"{R.randint(1, 99)}.{digits(2)}")),
        "case number": lambda: ("case number {v}", digits(10)),
        "SKU": lambda: ("SKU {v}", f"{digits(3)}-{digits(3)}-{digits(4)}"),
    }


def _item(kind: str | None, fmt: str, template: str, value: str) -> dict:
    start = template.index("{v}")
    text = template.replace("{v}", value)
    return {"type": kind, "format": fmt, "text": text, "start": start, "end": start + len(value)}


def generate() -> list[dict]:
    R.seed(SEED)
    items: list[dict] = []
    simple = [("CARD", CARD_FORMATS, CARD_TEMPLATES), ("IBAN", IBAN_FORMATS, IBAN_TEMPLATES),
              ("SSN", SSN_FORMATS, SSN_TEMPLATES), ("EMAIL", EMAIL_FORMATS, EMAIL_TEMPLATES)]
    for kind, formats, templates in simple:
        names = list(formats)
        for i in range(PER_TYPE):
            fmt = names[i % len(names)]
            value = formats[fmt]()
            tpl = R.choice(templates)
            if kind == "SSN" and fmt == "contiguous":  # 9 bare digits are an SSN only when said so
                tpl = R.choice(["My SSN is {v}.", "ssn: {v}", "social security number {v}"])
            items.append(_item(kind, fmt, tpl.replace("{v}", WRAP.get(fmt, "{v}")), value))
    names = list(PHONE_FORMATS) + ["contiguous after a phone word"]
    for i in range(PER_TYPE):
        fmt = names[i % len(names)]
        if fmt == "contiguous after a phone word":
            items.append(_item("PHONE", fmt, R.choice(CONTIGUOUS_PHONE_TEMPLATES), us()))
        else:
            items.append(_item("PHONE", fmt, R.choice(PHONE_TEMPLATES), PHONE_FORMATS[fmt]()))
    names = list(ACCOUNT_FORMATS)
    for i in range(PER_TYPE):
        fmt = names[i % len(names)]
        value = ACCOUNT_VALUES.get(fmt, lambda: acct(R.choice([8, 10, 12])))()
        items.append(_item("ACCOUNT", fmt, ACCOUNT_FORMATS[fmt]() + R.choice(["", ".", " please"]),
                           value))
    names = list(PASSWORD_FORMATS)
    for i in range(PER_TYPE):
        fmt = names[i % len(names)]
        items.append(_item("PASSWORD", fmt, PASSWORD_FORMATS[fmt], secret(fmt)))
    formats = lookalike_formats()
    names = list(formats)
    for i in range(LOOKALIKES):
        fmt = names[i % len(names)]
        template, value = formats[fmt]()
        items.append(_item(None, fmt, template, value))
    return items


def render(items: list[dict]) -> str:
    return "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)


if __name__ == "__main__":
    text = render(generate())
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} items to {OUT}")
