"""The package's shape, as rules that fail: pure controllers, SimPy only in the engine, no import cycles.

Every import statement counts, wherever it stands: module level, inside a function, or under
`if TYPE_CHECKING:`. A function-level import that dodges a cycle at run time is still a cycle in
the design. Each rule is also run on a small planted tree, so that a broken checker cannot pass.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import simkit

PACKAGE = Path(simkit.__file__).parent


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name."""
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> Iterator[str]:
    """Every module `path` imports (all statements, any depth), resolved to the most specific known name."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in known else base


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    mods = _modules(root)
    known = set(mods)
    return {name: {m for m in _imports(path, name, known) if m in known} for name, path in mods.items()}


def third_party_imports(root: Path) -> dict[str, set[str]]:
    """Module -> the top-level names of everything it imports."""
    mods = _modules(root)
    return {name: {m.split(".")[0] for m in _imports(path, name, set(mods))} for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def violations(root: Path) -> list[str]:
    """Every broken rule in the package at `root`, one line each."""
    top = root.name
    out = []
    for mod, names in sorted(third_party_imports(root).items()):
        in_control = mod.startswith(f"{top}.control")
        in_engine = mod == f"{top}.engine" or mod.startswith(f"{top}.engine.")
        if "simpy" in names and not in_engine:
            out.append(f"{mod} imports simpy (only {top}.engine may)")
        if in_control and "pandas" in names:
            out.append(f"{mod} imports pandas (controllers are pure)")
    out.extend(f"import cycle: {' -> '.join(c)}" for c in cycles(import_graph(root)))
    return out


def test_the_package_keeps_its_rules() -> None:
    assert violations(PACKAGE) == []


def test_control_never_reaches_the_engine() -> None:
    """Pure controllers are called by the engine, never the other way round."""
    graph = import_graph(PACKAGE)
    bad = sorted(
        f"{m} -> {d}"
        for m, deps in graph.items()
        if m.startswith("simkit.control")
        for d in deps
        if d.startswith(("simkit.engine", "simkit.results", "simkit.api", "simkit.cli"))
    )
    assert bad == []


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in {
        "__init__.py": "",
        "control/__init__.py": "",
        "engine/__init__.py": "",
        **files,
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"control/hpa.py": "def f():\n    import simpy\n"},
            "pkg.control.hpa imports simpy (only pkg.engine may)",
        ),
        ({"traffic.py": "import simpy.rt\n"}, "pkg.traffic imports simpy (only pkg.engine may)"),
        ({"control/ca.py": "import pandas as pd\n"}, "pkg.control.ca imports pandas (controllers are pure)"),
        (
            {"a.py": "from pkg import b\n", "b.py": "def f():\n    from pkg.a import x\n"},
            "import cycle: pkg.a -> pkg.b",
        ),
        (
            {
                "a.py": "import typing\nif typing.TYPE_CHECKING:\n    from .engine.loop import L\n",
                "engine/loop.py": "from ..a import thing\n",
            },
            "import cycle: pkg.a -> pkg.engine.loop",
        ),
    ],
)
def test_a_planted_violation_is_found(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    assert violations(_plant(tmp_path, files)) == [expected]


def test_a_clean_planted_tree_passes(tmp_path: Path) -> None:
    root = _plant(
        tmp_path, {"engine/loop.py": "import simpy\nfrom pkg.control import hpa\n", "control/hpa.py": ""}
    )
    assert violations(root) == []


def test_public_api_is_pinned() -> None:
    """Adding to or removing from `simkit.__all__` is a decision: change this list with it."""
    assert sorted(simkit.__all__) == [
        "DEFAULT_SCENARIO",
        "RunResult",
        "Scenario",
        "ScenarioError",
        "SimkitError",
        "__version__",
        "load_scenario",
        "optimize",
        "parse_scenario",
        "plan_stats",
        "probability_met",
        "recommend_plan",
        "replicate",
        "simulate",
        "summarize_runs",
    ]
    for name in simkit.__all__:
        assert hasattr(simkit, name), name
