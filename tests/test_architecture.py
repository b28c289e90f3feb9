"""The import rules and size limit of docs/ARCHITECTURE.md, checked on the source (AST).

Every ``import`` counts, also one inside a function: a lazy import hides a dependency from a
reader, not from the layering. Each test reports all its violations in one message, so one
run lists everything still to fix.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
MAX_LINES = 450
SIZE_CHECKED = ("src", "flows", "dashboards")

# Layers, first match wins: (layer, pattern over the dotted module name). A module that
# matches none fails test_every_module_has_a_layer, so a new package gets a rule on purpose.
LAYERS: tuple[tuple[str, str], ...] = (
    ("entry", r"tierlens\.cli(_\w+)?|tierlens\.\w+\.cli"),  # the CLI: may compose anything
    ("base", (r"tierlens|tierlens\.(errors|settings|schema|ports|export)"  # config level
              r"|tierlens\.config(\..+)?|tierlens\.orchestrate\.config")),
    ("store", r"tierlens\.store(\..+)?"),
    ("reviews", r"tierlens\.reviews(\..+)?"),
    ("stages", r"tierlens\.stages(\..+)?"),
    ("pipeline", r"tierlens\.(pipeline|orchestrate)(\..+)?"),
    ("dashboard", r"tierlens\.dashboard(\..+)?|dashboards(\..+)?"),
    ("domain", r"tierlens\.(ingest|score|metrics|topics|simulate|validate)(\..+)?"),
)

# layer -> ("only", what it may import) or ("never", what it must not import). A target is a
# layer name or a dotted package (its submodules included). Imports within a layer and of
# modules outside tierlens (stdlib, third party) are not restricted here; `flows` is, below.
RULES: dict[str, tuple[str, frozenset[str]]] = {
    "base": ("only", frozenset({"base"})),
    "store": ("only", frozenset({"base", "store"})),
    "reviews": ("only", frozenset({"base", "store", "reviews"})),
    "domain": ("never", frozenset({"stages", "pipeline", "entry", "dashboard"})),
    "stages": ("never", frozenset({"pipeline", "entry", "dashboard"})),
    "pipeline": ("never", frozenset({"entry", "dashboard"})),
    "dashboard": ("never", frozenset({"stages", "pipeline", "entry", "tierlens.ingest"})),
    "entry": ("never", frozenset()),
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    """Dotted name -> file, for src/tierlens and the dashboards app."""
    out = {_module_name(p, SRC): p for p in sorted((SRC / "tierlens").rglob("*.py"))}
    out.update({_module_name(p, REPO): p for p in sorted((REPO / "dashboards").rglob("*.py"))})
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``name`` imports (anywhere in the file), resolved to a known module where
    the import names one (``from pkg import mod`` -> ``pkg.mod``)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[:len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return out - {name}


def _layer(module: str) -> str | None:
    for layer, pattern in LAYERS:
        if re.fullmatch(pattern, module):
            return layer
    return None


def _matches(target: str, module: str) -> bool:
    return target == _layer(module) or module == target or module.startswith(target + ".")


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    known = set(sources)
    return {name: _imports(name, path, known) for name, path in sources.items()}


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in _graph() if _layer(m) is None)
    assert not missing, "modules with no layer in LAYERS (add one, and a rule): " + ", ".join(missing)


def _violations(graph: dict[str, set[str]]) -> list[str]:
    """One line per import that breaks :data:`RULES` or imports flows/."""
    bad = []
    for module, targets in sorted(graph.items()):
        layer = _layer(module)
        if layer is None:
            continue
        kind, names = RULES[layer]
        for target in sorted(targets):
            if target == "flows" or target.startswith("flows."):
                bad.append(f"{module} -> {target} (nothing in src/ imports flows/)")
                continue
            if not target.startswith("tierlens") or _layer(target) == layer:
                continue
            allowed = any(_matches(n, target) for n in names)
            if (kind == "only" and not allowed) or (kind == "never" and allowed):
                bad.append(f"{module} -> {target} ({layer} {kind} "
                           f"{', '.join(sorted(names)) or 'nothing'})")
    return bad


def test_imports_follow_the_layers() -> None:
    bad = _violations(_graph())
    assert not bad, f"{len(bad)} import(s) break docs/ARCHITECTURE.md:\n" + "\n".join(bad)


def test_the_rules_flag_what_they_forbid() -> None:
    graph = {"tierlens.store.x": {"tierlens.score.rules", "tierlens.errors", "duckdb"},
             "tierlens.reviews.y": {"tierlens.store.db", "tierlens.dashboard.ui"},
             "tierlens.dashboard.z": {"tierlens.ingest.readers", "tierlens.metrics.catalogue"},
             "tierlens.score.w": {"tierlens.metrics.kpis", "tierlens.cli"},
             "tierlens.cli": {"flows.params", "tierlens.pipeline"}}
    assert [line.split(" (")[0] for line in _violations(graph)] == [
        "tierlens.cli -> flows.params", "tierlens.dashboard.z -> tierlens.ingest.readers",
        "tierlens.reviews.y -> tierlens.dashboard.ui", "tierlens.score.w -> tierlens.cli",
        "tierlens.store.x -> tierlens.score.rules"]
    assert _imports("tierlens.ingest.readers", SRC / "tierlens/ingest/readers.py",
                    set(_sources())) >= {"tierlens.ingest.registry", "tierlens.ingest.record"}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root] & graph.keys())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child] & graph.keys()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (each a group of modules that import each other):\n" + \
        "\n".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_file_over_the_size_limit() -> None:
    big = []
    for folder in SIZE_CHECKED:
        for path in sorted((REPO / folder).rglob("*.py")):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > MAX_LINES:
                big.append(f"{path.relative_to(REPO)}: {n} lines")
    assert not big, f"files over {MAX_LINES} lines (split them by responsibility):\n" + \
        "\n".join(big)
