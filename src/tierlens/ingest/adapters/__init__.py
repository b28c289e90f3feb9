"""Source adapters: foreign export formats converted into input-contract conversations.

Each module here is one adapter (``NAME``, ``sniff``, ``read``; the contract is in
:mod:`tierlens.ingest.registry`, which lists them in sniffing order). An adapter imports
:mod:`tierlens.ingest.record`, never the readers. See docs/adapters.md for adding one.
"""
