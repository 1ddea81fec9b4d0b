"""The package is laid out by the flow of DESIGN.md, and its imports go one way, down the flow.

Read from the source with :mod:`ast` (nothing is imported): every ``import`` of a ``cpts_geo``
module, at module level or inside a function, except those under ``if TYPE_CHECKING:`` (they
never run). Checked: the folders and top-level modules; no import cycle; no private name
(``_x``) imported from, or read off, another module of the package; every import goes to a
module of the same stage or of an earlier one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "cpts_geo"
#: The stages of the flow, in order; a module may import from its own stage or an earlier one.
RANK = {"errors": 0, "atomic": 0, "version": 0, "lazy": 0, "reference": 1,
        "registry": 2, "analysis": 3,
        "outputs": 4, "atlas": 5, "cli": 6, "__main__": 7}
TOP_LEVEL = {"__init__", "__main__", "cli", "errors", "atomic", "version", "lazy"}
FOLDERS = {"reference", "registry", "analysis", "outputs", "atlas"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> list[tuple[str, list[str], int]]:
    """``(target module, names imported, line)`` of each import of a cpts_geo module."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if _is_package(module) else module.rsplit(".", 1)[0]
    found: list[tuple[str, list[str], int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "cpts_geo":
                    found.append((target, [a.name for a in child.names], child.lineno))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "cpts_geo":
                        found.append((alias.name, [], child.lineno))
            visit(child)

    visit(tree)
    return found


def _edges(module: str) -> set[str]:
    """Modules whose code runs when ``module``'s imports run (parents of targets included)."""
    own_parents = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    out = set()
    for target, names, _ in _imports(module):
        explicit = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
        if len(explicit) < len(names) or not names:
            explicit.append(target)
        for t in explicit:
            out.add(t)
            parts = t.split(".")
            for i in range(2, len(parts)):  # enclosing packages, but never the root package
                parent = ".".join(parts[:i])
                if parent not in own_parents:
                    out.add(parent)
    out.discard(module)
    return {t for t in out if t in MODULES and t != "cpts_geo"}


def _stage(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def test_layout_by_the_flow():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert top == TOP_LEVEL, top ^ TOP_LEVEL
    assert folders == FOLDERS, folders ^ FOLDERS
    registry = {p.stem for p in (PACKAGE / "registry").glob("*.py")}
    # one module per input format, column matching, commune resolution, validation, the model,
    # the cache, stages and tiers
    assert {"text", "xlsx", "listing", "perimeters", "columns", "resolve", "validate", "model",
            "cache", "stages"} <= registry


def test_no_import_cycle():
    graph = {m: _edges(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_no_private_name_crosses_a_module():
    crossing = []
    for module in MODULES:
        for target, names, line in _imports(module):
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    crossing.append(f"{module}:{line} imports {name} from {target}")
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        aliases = {a.asname or a.name for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) for a in node.names
                   if a.name in {m.rsplit(".", 1)[-1] for m in MODULES}}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in aliases):
                crossing.append(f"{module}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert not crossing, "\n".join(crossing)


def test_imports_go_down_the_flow():
    against = []
    for module in MODULES:
        stage = _stage(module)
        if stage == "__init__":  # the public API, chosen by hand, may name any stage
            continue
        for target in _edges(module):
            if RANK[_stage(target)] > RANK[stage]:
                against.append(f"{module} ({stage}) imports {target} ({_stage(target)})")
    assert not against, "\n".join(against)


@pytest.mark.parametrize("source, expected", [
    ("from ..reference import Reference\n", {"cpts_geo.reference"}),
    ("from . import cache\n", {"cpts_geo.registry.cache"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..atlas import x\n", set()),
    ("def f():\n    from ..analysis.check import check_project\n",
     {"cpts_geo.analysis", "cpts_geo.analysis.check"}),
])
def test_the_checker_sees_imports(tmp_path, monkeypatch, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "cpts_geo.registry.probe", path)
    assert _edges("cpts_geo.registry.probe") == expected
