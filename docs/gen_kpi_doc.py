"""Rewrite the KPI catalogue table in docs/metrics.md from tierlens.metrics.catalogue.

Usage: python docs/gen_kpi_doc.py   (tests/docs checks that the committed table is current)
"""

from pathlib import Path

from tierlens.metrics.catalogue import catalogue_markdown, replace_doc_block

DOC = Path(__file__).resolve().parent / "metrics.md"

if __name__ == "__main__":
    DOC.write_text(replace_doc_block(DOC.read_text(), catalogue_markdown()))
    print(f"updated {DOC.name}")
