"""A small hierarchy of named errors.

Library code raises these; only the CLI (and the dashboard) turn them into
friendly one-line messages. Each message should name the file, the line or
field where it can, and what to do about it.
"""

from __future__ import annotations


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
