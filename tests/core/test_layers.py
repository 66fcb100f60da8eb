"""Dependencies point one way: core infrastructure ← federation ← features (in the built-in plugins'
order) ← plugins, and no modules import each other in a circle.

A lower layer hears from a higher one only through hooks. The test reads every ``import`` of every
module (at the top or inside a function) with ``ast``, so a lazy import counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shangliang.core.plugins import feature_packages

ROOT = Path(__file__).resolve().parents[2]
TOPS = {"core": "shangliang.core", "federation": "shangliang.federation", "plugins": "shangliang.plugins"}


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package folders (not the tests), by dotted name."""
    found = {}
    for top, package in TOPS.items():
        for path in sorted((root / top).rglob("*.py")):
            if "__pycache__" in path.parts or "versions" in path.parts:
                continue
            parts = list(path.relative_to(root / top).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project modules ``name`` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def rank(module: str, features: list[str]) -> tuple[int, str]:
    """A module's layer: 0 core infrastructure, then the federation and each feature in the built-in
    plugins' order, then the plugins."""
    if module.startswith("shangliang.plugins"):
        return len(features) + 1, "plugins"
    for index, package in enumerate(features):
        if module == package or module.startswith(package + "."):
            return index + 1, package
    return 0, "core infrastructure"


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = module_files(root)
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def wrong_way(edges: dict[str, set[str]], features: list[str]) -> list[str]:
    problems = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            (low, layer), (high, other) = rank(module, features), rank(target, features)
            if high > low:
                problems.append(f"{module} ({layer}) imports {target} ({other}), a layer above it")
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_layers_are_the_built_in_plugins_order():
    assert feature_packages()[:5] == ["shangliang.federation", "shangliang.core.members", "shangliang.core.users",
                                      "shangliang.core.units", "shangliang.core.topics"]


def test_no_import_runs_up_the_layers():
    assert wrong_way(graph(), feature_packages()) == []


def test_no_modules_import_each_other_in_a_circle():
    assert cycles(graph()) == []


# -- the checks fail when broken -------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A copy of the package folders to break."""
    import shutil

    for top in TOPS:
        shutil.copytree(ROOT / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.po"))
    return tmp_path


def test_an_import_of_a_feature_from_the_core_is_caught(tree):
    (tree / "core" / "audit.py").write_text((tree / "core" / "audit.py").read_text(encoding="utf-8")
                                            + "\nfrom shangliang.core.topics import models\n", encoding="utf-8")
    problems = wrong_way(graph(tree), feature_packages())
    assert problems == ["shangliang.core.audit (core infrastructure) imports shangliang.core.topics.models "
                        "(shangliang.core.topics), a layer above it"]


def test_a_lazy_import_of_a_later_feature_is_caught(tree):
    path = tree / "core" / "members" / "services.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef _f():\n    from ..topics import services\n",
                    encoding="utf-8")
    assert [p.split(" (")[0] for p in wrong_way(graph(tree), feature_packages())] == ["shangliang.core.members.services"]


def test_a_circle_is_caught(tree):
    path = tree / "core" / "topics" / "models.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef _f():\n    from . import services\n", encoding="utf-8")
    found = cycles(graph(tree))
    assert any({"shangliang.core.topics.models", "shangliang.core.topics.services"} <= set(c) for c in found)
