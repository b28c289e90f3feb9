"""One field value of a raw record, checked and converted (pure; no frames).

Each check raises :class:`tierlens.errors.RecordError` with a reason code and the field's
name, so :mod:`tierlens.ingest.normalize` can quarantine the record; a message describes a
bad value, it never repeats it.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

from tierlens.errors import RecordError, describe


def parse_ts(value: Any, field_name: str) -> datetime | None:
    """ISO-8601 (``Z`` or offset; naive means UTC) or epoch seconds -> aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("bad_timestamp", f"{field_name} is a boolean, expected ISO-8601 time",
                          field_name)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RecordError("bad_timestamp", f"{field_name}: a time out of range "
                              f"({describe(value)})", field_name) from exc
    if not isinstance(value, str):
        raise RecordError("bad_timestamp", f"{field_name} must be an ISO-8601 string", field_name)
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise RecordError("bad_timestamp", f"{field_name}: not an ISO-8601 time, e.g. "
                          f"2026-10-01T09:14:03Z ({describe(value)})", field_name) from exc
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def number(value: Any, field_name: str, kind: type) -> float | int | None:
    """A number (``kind`` int: a whole number that fits Int16); empty and NaN are missing."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("bad_type", f"{field_name} must be a number, got a boolean", field_name)
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise RecordError("bad_type", f"{field_name}: not a number ({describe(value)})",
                          field_name) from exc
    if number != number:  # noqa: PLR0124 -- NaN: treat as missing (CSV/Parquet exports write NaN for empty)
        return None
    if kind is int:
        out_of_range = RecordError("out_of_range", f"{field_name}: out of range "
                                   f"({describe(value)})", field_name)
        if math.isinf(number):
            raise out_of_range
        if number != int(number):
            raise RecordError("bad_type", f"{field_name}: must be a whole number "
                              f"({describe(value)})", field_name)
        if not -(2**15) <= number < 2**15:  # the int columns (csat, nps) are Int16
            raise out_of_range
        return int(number)
    return number


def string(value: Any, field_name: str) -> str | None:
    """A string; a number is taken as its text, anything else is ``bad_type``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RecordError("bad_type", f"{field_name} must be a string, got {type(value).__name__}",
                      field_name)


def pseudonym(customer_id: str | None, salt: str) -> str | None:
    """Salted SHA-256 pseudonym; the raw customer id is never stored."""
    if customer_id is None or customer_id == "":
        return None
    return "cus_" + hashlib.sha256(f"{salt}\x00{customer_id}".encode()).hexdigest()[:20]


def text_field(value: Any, field_name: str) -> str | None:
    """:func:`string`, with the common case (a str or None) first."""
    return value if type(value) is str or value is None else string(value, field_name)


def time_text(value: Any, field_name: str) -> str | None:
    """Timestamps stay text here (parsed vectorised later); numbers are epoch seconds."""
    if type(value) is str or value is None:
        return value or None
    parsed = parse_ts(value, field_name)
    return None if parsed is None else parsed.isoformat()
