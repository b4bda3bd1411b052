"""The shape of the package (issue 12): module and function sizes, and the sync/async twins.

Style rule 2 caps a module at 300 lines and a function at 60; rule 8 keeps each loop written
once, so the twins may share at most 60 lines (``scripts/mirrored_lines.py`` counts them).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_smooth"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
MAX_MIRRORED_LINES = 60
TWINS = [
    ("client/sync_client.py", "client/async_client.py"),
    ("client/sync_session.py", "client/async_session.py"),
]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _mirrored_lines(sync: Path, other: Path) -> int:
    script = PACKAGE.parent / "scripts" / "mirrored_lines.py"
    spec = importlib.util.spec_from_file_location("mirrored_lines", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mirrored_lines", module)
    spec.loader.exec_module(module)
    count: int = module.mirrored(sync, other)
    return count


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"] = size
    assert long == {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_time_imports(path: Path, known: set[str]) -> set[str]:
    """Return the package's modules that ``path`` imports when it is imported.

    Only module-level statements count: imports inside functions and under ``TYPE_CHECKING``
    run later or never.
    """
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known}
    return found


def test_no_import_cycle_at_import_time() -> None:
    modules = {_module_name(path): path for path in _modules()}
    graph = {
        name: _import_time_imports(path, set(modules)) - {name} for name, path in modules.items()
    }
    # A package's __init__ importing its own submodules is how re-exports work: not a cycle.
    for name in graph:
        graph[name] = {dep for dep in graph[name] if not name.startswith(dep + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize(("sync", "other"), TWINS)
def test_the_twins_share_at_most_60_lines(sync: str, other: str) -> None:
    assert _mirrored_lines(PACKAGE / sync, PACKAGE / other) <= MAX_MIRRORED_LINES
