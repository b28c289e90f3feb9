"""Orchestration support for the Prefect flows in ``flows/``: the run ledger, alerts and the
orchestration settings. No Prefect import here except in the optional notification edge."""
