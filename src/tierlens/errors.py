"""A small hierarchy of named errors.

Library code raises these; only the CLI (and the dashboard) turn them into
friendly one-line messages. Each message should name the file, the line or
field where it can, and what to do about it.
"""

from __future__ import annotations

from numbers import Integral, Real


class TierlensError(Exception):
    """Base class: anything tierlens raises on purpose."""


class ConfigError(TierlensError):
    """A settings value or a YAML config file (rulebook, routing policy, scorecard) is invalid."""


class InputError(TierlensError):
    """An input path can't be read at all (missing, unreadable, unknown format)."""


class RecordError(TierlensError):
    """One record breaks the input contract; it goes to quarantine, never up the stack.

    ``field`` names the offending field and ``reason`` is a short machine-readable code
    such as ``missing_field`` or ``invalid_json``.
    """

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message


class StoreError(TierlensError):
    """The warehouse is missing, locked by another writer, or at an unknown schema version."""


class ModelError(TierlensError):
    """A model head or the encoder can't be loaded or is incompatible."""


def describe(value: object) -> str:
    """What a bad value looks like, never the value itself: messages, quarantine rows and DQ
    results are shown on dashboards and exported, and a bad value may be PII (a card number in
    ``csat``, an e-mail in ``speaker``). ``"text (19 chars)"``, ``"a 16-digit number"``..."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Integral):  # numpy integers too
        return f"a {len(str(abs(int(value))))}-digit number"
    if isinstance(value, Real):
        if value != value:  # noqa: PLR0124 - NaN
            return "NaN"
        return "an infinite number" if abs(float(value)) == float("inf") else "a number"
    if isinstance(value, str):
        return "empty text" if not value else f"text ({len(value)} chars)"
    if isinstance(value, dict):
        return f"an object ({len(value)} keys)"
    if isinstance(value, (list, tuple)):
        return f"a list ({len(value)} items)"
    return f"a {type(value).__name__}"
