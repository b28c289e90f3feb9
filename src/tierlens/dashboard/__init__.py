"""The Streamlit dashboard's library side: queries, roles, the review store and reports.

Pages under ``dashboards/pages/`` only lay out what these modules return:

- :mod:`tierlens.dashboard.queries` - every SQL the pages run, one module per page, against
  the read-only serving snapshot (never the warehouse);
- :mod:`tierlens.dashboard.context` - the settings the app hands the pages for a run;
- :mod:`tierlens.dashboard.auth` - users file, roles and the page access matrix;
- :mod:`tierlens.dashboard.reviews` - reviews, dispositions, label corrections,
  assignments and the hash-chained audit log, in a separate SQLite file;
- :mod:`tierlens.dashboard.audit` - the audit chain's key, checks and anchors
  (docs/audit.md);
- :mod:`tierlens.dashboard.throttle` - login backoff and lockout;
- :mod:`tierlens.dashboard.params` - validation of values from a page's link;
- :mod:`tierlens.dashboard.report` - the monthly report (HTML and PDF).
"""
