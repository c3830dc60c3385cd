"""The layout the code keeps: no import circle in graph/ and loaders/, algorithms over the
store protocol (never a concrete store), and no web code in graph/."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = ("strawberry", "starlette", "uvicorn", "schema", "server", "graphql")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for folder in ("graph", "loaders") for p in (ROOT / folder).rglob("*.py")}


def imported(name: str) -> set[str]:
    """Every module `name` imports, at run time or for type checking alone; `from package
    import module` imports the module (a package's own modules may import each other so)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= submodules or {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.fixture(scope="module")
def imports() -> nx.DiGraph:
    graph = nx.DiGraph()
    for name in MODULES:
        graph.add_node(name)
        graph.add_edges_from((name, target) for target in imported(name) if target in MODULES and target != name)
    return graph


def test_no_import_circle(imports: nx.DiGraph) -> None:
    assert list(nx.simple_cycles(imports)) == []


def test_only_an_adapter_imports_its_store(imports: nx.DiGraph) -> None:
    """Algorithms and rules depend on graph.stores.protocol and on records, never on an adapter."""
    adapters = {name for name in MODULES if name.startswith("graph.stores.") and name.count(".") >= 2}
    adapters -= {"graph.stores.protocol", "graph.stores.answers", "graph.stores.reached"}  # shared by the stores
    for name in MODULES:
        reaching = {t for t in imports.successors(name) if t in adapters}
        package = ".".join(name.split(".")[:3])
        assert {t for t in reaching if not t.startswith(package)} == set(), name


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("graph")))
def test_graph_has_no_web_code(name: str) -> None:
    assert {m for m in imported(name) if m.split(".")[0] in WEB} == set()
