"""The repository's docs stand alone: no pointer to a document outside the repository, and
every relative link in them resolves to a file in it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), REPO / "models" / "README.md",
               REPO / "data" / "README.md", REPO / "bench" / "README.md"])
OUTSIDE = re.compile(r"PRODUCT\.md|STYLE\.md|product brief|\.\./shared|/work/|\.\./\.\.",
                     re.IGNORECASE)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_pointer_outside_the_repository(doc):
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(doc.read_text().splitlines(), 1)
            if OUTSIDE.search(line)]
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve_inside_the_repository(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path = (doc.parent / target).resolve()
        if not path.exists() or REPO.resolve() not in path.parents:
            broken.append(target)
    assert not broken, f"{doc.name}: links to nothing in the repository: {broken}"


def test_the_definitions_and_the_input_contract_are_in_docs():
    metrics = (REPO / "docs" / "metrics.md").read_text()
    for term in ("Bot-entered", "Escalated", "Handoff time", "Trapped customer",
                 "Repeat contact", "Containment", "FCR", "Routing accuracy", "Cohorts",
                 "QA score"):
        assert f"**{term}**" in metrics, term
    contract = (REPO / "docs" / "input.md").read_text()
    for field in ("conversation_id", "started_at", "turns", "speaker", "text", "event",
                  "bot_confidence", "turn_queue"):
        assert f"`{field}`" in contract, field
