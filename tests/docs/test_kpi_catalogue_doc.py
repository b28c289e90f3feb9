"""docs/metrics.md carries the KPI catalogue, current with tierlens.metrics.catalogue."""

from __future__ import annotations

from tests.conftest import REPO
from tierlens.metrics.catalogue import catalogue_markdown, kpi_info, replace_doc_block

METRICS = (REPO / "docs" / "metrics.md").read_text()


def test_every_catalogue_kpi_is_listed_with_its_label():
    missing = [k.name for k in kpi_info().values()
               if f"| `{k.name}` | {k.label} |" not in METRICS]
    assert not missing, f"KPIs missing from docs/metrics.md: {missing}"


def test_the_generated_table_is_current():
    assert replace_doc_block(METRICS, catalogue_markdown()) == METRICS, (
        "docs/metrics.md is stale: run python docs/gen_kpi_doc.py")
