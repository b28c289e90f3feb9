"""Source adapters: foreign export formats converted into input-contract conversations.

An adapter is a module with three members:

- ``NAME: str`` - the format name (``tierlens ingest`` reports it; ``reader_for`` looks it up);
- ``sniff(path: Path, head: bytes) -> bool`` - does this file look like my format? ``head`` is
  the first 64 KiB (decompressed for ``.gz``); it must be cheap and must not raise;
- ``read(path: Path) -> Iterator[RawRecord]`` - one ``RawRecord`` per conversation, with
  ``payload`` an input-contract dict, or ``error`` (a ``RecordError`` with a reason code) for a
  record that can't be converted. It raises ``InputError`` only when the whole file is unusable.

``ADAPTERS`` is consulted in order, before the extension-based built-in readers. See
docs/adapters.md for adding one.
"""

from __future__ import annotations

from tierlens.ingest.adapters import contact_lens, twitter

ADAPTERS = [contact_lens, twitter]

__all__ = ["ADAPTERS", "contact_lens", "twitter"]
