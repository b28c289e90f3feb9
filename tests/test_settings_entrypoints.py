"""Settings are read at the entry points only (issue 14, item 4).

The CLI, the flows, the dashboard app, the bench scripts and the training scripts each read
the settings in one file and pass them down; library code takes them as a parameter. This
scans the code with :mod:`ast` for calls of ``get_settings()`` and fails on any file outside
that list.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("src", "flows", "dashboards", "bench", "models")

# The only files that may call get_settings() (6 at most): its definition and one per
# kind of entry point.
ENTRY_POINTS = frozenset({
    "src/tierlens/settings.py",  # the definition (lru_cache: read once per process)
    "src/tierlens/cli_common.py",  # the CLI: cli_settings(db), used by every command module
    "flows/settings.py",  # the Prefect flows and their scheduler (imports no Prefect)
    "dashboards/streamlit_app.py",  # the dashboard app
    "bench/_common.py",  # the bench scripts
    "models/common.py",  # the training scripts
})


def _calls_get_settings(tree: ast.AST) -> list[int]:
    """Lines that call ``get_settings()`` (by name or as ``module.get_settings()``)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) \
                else None
            if name == "get_settings":
                lines.append(node.lineno)
    return sorted(lines)


def settings_readers() -> dict[str, list[int]]:
    """``{path: [lines]}`` of every scanned file that calls get_settings()."""
    found = {}
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            lines = _calls_get_settings(ast.parse(path.read_text(encoding="utf-8"), rel))
            if lines:
                found[rel] = lines
    return found


def test_the_scan_sees_a_call() -> None:
    """The scanner itself: both spellings count, a mere reference does not."""
    tree = ast.parse("from tierlens import settings\n"
                     "a = get_settings()\nb = settings.get_settings().warehouse\n"
                     "get_settings.cache_clear()\nf = get_settings\n")
    assert _calls_get_settings(tree) == [2, 3]


def test_get_settings_is_called_at_the_entry_points_only() -> None:
    assert len(ENTRY_POINTS) <= 6
    readers = settings_readers()
    outside = {path: lines for path, lines in readers.items() if path not in ENTRY_POINTS}
    assert not outside, ("get_settings() called outside the entry points; take `settings` "
                         f"(or the value needed) as a parameter instead: {outside}")
