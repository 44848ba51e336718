"""Rules of the layout that no single package's tests see: module size, module-level import
cycles inside a package, the run-time device default, and the experiment modules importing."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from semcov_train.cli import config_from_args
from semcov_train.config import PRESETS
from semcov_train.evaluation.predict import _parser as predict_parser
from semcov_train.experiments.command_line import app_parser, parse_app_args

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(ROOT.glob("packages/*/src"))
MAX_LINES = 450


def _modules(src: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module under one ``src`` folder."""
    modules = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not in functions, not under TYPE_CHECKING
    (class bodies, ``if``, ``try`` and ``with`` blocks run at import, so they count)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level_imports(block)
            for handler in node.handlers:
                yield from _module_level_imports(handler.body)
        elif isinstance(node, (ast.With, ast.ClassDef, ast.For, ast.While)):
            yield from _module_level_imports(node.body)


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom, modules) -> set[str]:
    """The modules of the same package an import statement loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    found = set()
    for alias in node.names:
        # `from pkg import sub` loads the submodule; `from pkg import name` only pkg itself.
        found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    return found & set(modules)


def _import_graph(src: Path) -> dict[str, set[str]]:
    modules = _modules(src)
    graph = {}
    for name, path in modules.items():
        body = ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body
        graph[name] = set().union(
            *(_targets(name, path, node, modules) for node in _module_level_imports(body))
        )
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def test_cycle_finder_sees_a_cycle_and_ignores_type_checking_and_function_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("from .c import f\n")
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import e\n"
    )
    (package / "e.py").write_text("def g():\n    from . import d\n")
    graph = _import_graph(tmp_path)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.d"] == set() == graph["pkg.e"]
    assert _cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.parent.name)
def test_no_module_level_import_cycle_inside_a_package(src):
    assert _cycles(_import_graph(src)) == []


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.parent.name)
def test_source_files_stay_under_the_line_limit(src):
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted(src.rglob("*.py"))
        if (n := len(path.read_bytes().splitlines())) > MAX_LINES
    }
    assert long == {}, f"over {MAX_LINES} lines: split by concept"


def test_experiments_and_reporting_import_in_a_fresh_interpreter():
    code = "import semcov_train.experiments, semcov_train.reporting; print('ok')"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_trainer_command_line_device_defaults_to_auto(preset):
    config, _ = config_from_args(["--method", "erm", "--dataset", "synthetic", "--preset", preset])
    assert config.device == "auto"


def test_predict_command_line_device_defaults_to_auto_not_the_runs_device():
    args = predict_parser().parse_args(["--run", "r", "--csv-path", "new.csv", "--out", "p.csv"])
    assert args.device == "auto"


def test_app_options_device_defaults_to_auto():
    parser = app_parser("test", "results/test", ["erm"])
    for preset in ("smoke", "quick", "paper"):
        args = parse_app_args(parser, ["--preset", preset], real_dataset="milk10k", choices={})
        assert args.device == "auto", preset
