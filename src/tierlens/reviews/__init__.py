"""The review store: human work (reviews, dispositions, label corrections, assignments) in
its own SQLite file, with a keyed, hash-chained audit log.

Its users are the dashboard (writes), ``tierlens reviews import`` and ``audit verify`` (CLI),
intent training (label corrections as examples) and publish (a mirror in the warehouse).
The file is ``settings.review_store``.

- :mod:`tierlens.reviews.store` - writes and reads, one transaction per event with its
  audit row;
- :mod:`tierlens.reviews.checks` - what a write accepts (known labels, scorecard criteria);
- :mod:`tierlens.reviews.audit` - the audit chain's key, checks and anchors (docs/audit.md);
- :mod:`tierlens.reviews.importer` - a QA team's CSV of manual reviews, as label corrections;
- :mod:`tierlens.reviews.sync` - the mirror into the warehouse and the chain anchors.
"""
