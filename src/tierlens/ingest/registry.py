"""The adapter registry: which foreign export formats ingest reads, and in which order.

An adapter is a module with three members:

- ``NAME: str`` - the format name (``tierlens ingest`` reports it; ``reader_for`` looks it up);
- ``sniff(path: Path, head: bytes) -> bool`` - does this file look like my format? ``head`` is
  the first 64 KiB (decompressed for ``.gz``); it must be cheap and must not raise;
- ``read(path: Path) -> Iterator[RawRecord]`` - one ``RawRecord`` per conversation, with
  ``payload`` an input-contract dict, or ``error`` (a ``RecordError`` with a reason code) for a
  record that can't be converted. It raises ``InputError`` only when the whole file is unusable.

``ADAPTERS`` is consulted in order, before the extension-based built-in readers of
:mod:`tierlens.ingest.readers`. The import direction is one way: readers -> registry ->
adapters -> :mod:`tierlens.ingest.record`; an adapter never imports the readers. See
docs/adapters.md for adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from tierlens.ingest.adapters import contact_lens, twitter
from tierlens.ingest.record import RawRecord

Reader = Callable[[Path], Iterator[RawRecord]]


class Adapter(Protocol):
    """What an adapter module provides (a module satisfies this protocol)."""

    NAME: str

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def read(self, path: Path) -> Iterator[RawRecord]: ...


ADAPTERS: tuple[Adapter, ...] = (contact_lens, twitter)  # type: ignore[assignment]


def sniffed_format(path: Path, head: bytes) -> str | None:
    """The NAME of the first adapter whose ``sniff`` recognises the file, else None."""
    for adapter in ADAPTERS:
        if adapter.sniff(path, head):
            return adapter.NAME
    return None


def adapter_reader(fmt: str) -> Reader | None:
    """The ``read`` of the adapter named ``fmt``, else None."""
    for adapter in ADAPTERS:
        if adapter.NAME == fmt:
            return adapter.read
    return None
