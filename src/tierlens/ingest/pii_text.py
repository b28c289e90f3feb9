"""Text normalisation for PII detection, with a map back to the original characters.

People (and their keyboards, phones and copy-paste) separate digits with more than the ASCII
space and hyphen: a no-break space (U+00A0), a thin or narrow no-break space (U+2009,
U+202F), a figure space, a tab, an en or em dash, a minus sign, or an invisible zero-width
space. Digits themselves may be full-width (``４１１１``) or from another script. Detectors
are written for ASCII, so a text is normalised first:

- every Unicode space separator and the tab become ``" "``;
- every dash and hyphen (U+2010-U+2015, U+2212 minus, U+FE58, U+FE63, U+FF0D) becomes ``"-"``;
- every Unicode decimal digit becomes its ASCII digit; ``＠`` ``＋`` ``．`` their ASCII forms;
- zero-width and invisible characters (U+200B-U+200D, U+2060, U+FEFF, U+00AD) are dropped.

:func:`normalize` returns the normalised text and, when characters were dropped, the
position in the original text of every normalised character, so a detection can be mapped
back onto the original text (:func:`to_original`) and the original characters replaced,
invisible ones included.
"""

from __future__ import annotations

import unicodedata

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
          "\u202f\u205f\u3000"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"


def _table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(c): " " for c in _SPACES}
    table.update({ord(c): "-" for c in _DASHES})
    table.update({ord(c): None for c in INVISIBLE})
    table.update({0xFF20: "@", 0xFF0B: "+", 0xFF0E: "."})
    for cp in range(0x80, 0x1FC00):  # every Nd character lies below U+1FC00
        if unicodedata.category(chr(cp)) == "Nd":
            table[cp] = str(unicodedata.decimal(chr(cp)))
    return table


TABLE = _table()
_ONE_TO_ONE = {k: v for k, v in TABLE.items() if v is not None}
# The characters normalisation changes, as a regex class body (for the prefilter).
SEPARATOR_CLASS = "".join(f"\\u{ord(c):04x}" for c in _SPACES[1:] + _DASHES + INVISIBLE)


def normalize(text: str) -> tuple[str, list[int] | None]:
    """(normalised text, original index of each normalised character or None if 1:1)."""
    if text.isascii():
        return (text.replace("\t", " ") if "\t" in text else text), None
    if not any(c in text for c in INVISIBLE):
        return text.translate(_ONE_TO_ONE), None
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        mapped = TABLE.get(ord(ch), ch)
        if mapped is not None:
            chars.append(mapped)
            where.append(i)
    return "".join(chars), where


def to_original(where: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """Map a span of the normalised text back to the original text."""
    if where is None:
        return start, end
    return where[start], where[end - 1] + 1
