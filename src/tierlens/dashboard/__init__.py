"""The Streamlit dashboard's library side: queries, roles and reports.

Pages under ``dashboards/pages/`` only lay out what these modules return:

- :mod:`tierlens.dashboard.queries` - every SQL the pages run, one module per page, against
  the read-only serving snapshot (never the warehouse);
- :mod:`tierlens.dashboard.context` - the settings the app hands the pages for a run;
- :mod:`tierlens.dashboard.auth` - users file, roles and the page access matrix;
- :mod:`tierlens.dashboard.throttle` - login backoff and lockout;
- :mod:`tierlens.dashboard.params` - validation of values from a page's link;
- :mod:`tierlens.dashboard.report` - the monthly report (HTML and PDF).

Reviews, dispositions and the audit log live in their own package, :mod:`tierlens.reviews`.
"""
