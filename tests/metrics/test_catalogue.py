"""The KPI catalogue: every computed KPI is described, formatted and coloured by its direction."""

from __future__ import annotations

import pytest

from tierlens.metrics.catalogue import (
    catalogue_markdown,
    format_delta,
    format_value,
    kpi_info,
    replace_doc_block,
)
from tierlens.metrics.kpis import kpi_catalogue


def test_every_computed_kpi_is_described_in_order():
    info = kpi_info()
    assert list(info) == [k.name for k in kpi_catalogue()]
    for k in info.values():
        assert k.label and k.label != k.name and "_" not in k.label
        assert k.fmt in ("pct", "seconds", "currency", "count", "score")
        assert k.good in ("up", "down", None) and k.definition.endswith(".")


def test_lower_is_better_kpis_colour_inverse():
    info = kpi_info()
    for name in ("escalation_rate", "abandonment_rate", "aht_seconds", "cost_per_resolution",
                 "repeat_contact_strict"):
        assert info[name].good == "down" and info[name].delta_color == "inverse", name
    for name in ("containment_durable", "fcr", "csat_surveyed", "qa_score"):
        assert info[name].delta_color == "normal", name
    assert info["conversations"].delta_color == "off"


def test_formats_read_as_a_person_writes_them():
    info = kpi_info()
    assert format_value(info["escalation_rate"], 0.0734) == "7.3%"
    assert format_value(info["aht_seconds"], 312.4) == "312 s"
    assert format_value(info["cost_per_resolution"], 3.1) == "$3.10"
    assert format_value(info["conversations"], 652.0) == "652"
    assert format_value(info["qa_score"], 78.44) == "78.4"
    assert format_value(info["fcr"], None) == "n/a"
    assert format_delta(info["escalation_rate"], 0.012) == "+1.2 pp"
    assert format_delta(info["cost_per_resolution"], -0.25) == "-$0.25"
    assert format_delta(info["aht_seconds"], -12.0) == "-12 s"


def test_handoff_target_comes_from_the_setting():
    info = kpi_info(handoff_target_seconds=45)
    assert info["handoff_seconds_median"].target == 45.0
    assert info["handoff_seconds_median"].target_text == "<= 45 s"
    assert info["handoff_share_under_target"].label == "Handoffs under 45 s"
    assert kpi_info()["handoff_share_under_target"].label == "Handoffs under 30 s"


def test_doc_block_replacement_needs_the_markers():
    block = catalogue_markdown()
    assert "| `fcr` | First-contact resolution |" in block
    with pytest.raises(ValueError, match="markers"):
        replace_doc_block("no markers here", block)
