"""Prefect flows and deployments: thin wrappers over :mod:`tierlens.pipeline` (they add
Prefect tasks, retries, mapping and schedules).

- ``ingest_and_score`` (every 15 minutes): inbox -> ingest -> validate -> score -> derive ->
  publish, crash-safe and incremental;
- ``nightly_outcomes``: repeat contact, durable containment, FCR and KPIs (forward windows);
- ``monthly_report`` (the 1st): the previous month's KPI report (HTML + PDF);
- ``rescore``: apply a new rulebook or model to history.

``flows/deployments.py`` serves them all with their schedules. See docs/orchestration.md.
"""
