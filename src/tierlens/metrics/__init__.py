"""Hybrid outcome metrics: episodes, repeat contact, containment, FCR, routing, QA, KPIs."""
