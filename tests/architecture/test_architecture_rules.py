"""Rules of the layout that no single package's tests see: module size, import cycles inside a
package (imports inside functions included), which imports may wait until a function runs, the
run-time device default, and the experiment modules importing."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from semcov_train.cli import config_from_args
from semcov_train.config import PRESETS
from semcov_train.evaluation.predict import _parser as predict_parser
from semcov_train.experiments.command_line import app_parser, parse_app_args

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(ROOT.glob("packages/*/src"))
MAX_LINES = 450


#: Packages a module may import inside a function, so that importing the module does not
#: need them: optional extras and heavy dependencies only some calls use. Every other import
#: of another package sits at module level.
ALLOWED_LAZY = {
    "semcov_metrics": {"torch", "matplotlib", "jinja2", "playwright", "scipy", "sklearn"},
    "semcov_layers": {"timm"},
    "semcov_data": {"transformers", "sklearn"},
    "semcov_train": {
        "kornia",
        "matplotlib",
        "submitit",
        "timm",
        "torch.utils.tensorboard",
        "transformers",
    },
}


@dataclass(frozen=True)
class Import:
    """One import statement of a module: the modules it names (relative ones resolved) and
    whether it runs inside a function (lazy) rather than when the module is imported."""

    module: str
    targets: tuple[str, ...]
    lazy: bool
    line: int


def source_modules(src: Path) -> dict[str, Path]:
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


def _statements(
    body: list[ast.stmt], lazy: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement of `body` and its blocks, with whether it runs inside a function;
    imports under ``if TYPE_CHECKING:`` never run and are left out."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, lazy
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _statements(node.body, True)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _statements(node.body, lazy)
            yield from _statements(node.orelse, lazy)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _statements(block, lazy)
            for handler in node.handlers:
                yield from _statements(handler.body, lazy)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                yield from _statements(case.body, lazy)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.ClassDef, ast.For, ast.While)):
            yield from _statements(node.body, lazy)
            yield from _statements(getattr(node, "orelse", []), lazy)


def _names(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> tuple[str, ...]:
    """The dotted names an import statement loads, relative imports resolved against `name`;
    ``from pkg import x`` names ``pkg.x`` (which may be a submodule or an attribute)."""
    if isinstance(node, ast.Import):
        return tuple(alias.name for alias in node.names)
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    return tuple(f"{source}.{alias.name}" for alias in node.names)


def read_imports(src: Path) -> list[Import]:
    """Every import of every module under `src` (module level and inside functions)."""
    found = []
    for name, path in source_modules(src).items():
        body = ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body
        for node, lazy in _statements(body, False):
            found.append(Import(name, _names(name, path, node), lazy, node.lineno))
    return found


def _loaded(target: str, importer: str, modules: dict[str, Path]) -> set[str]:
    """The modules of the package that importing `target` from `importer` runs: the module
    itself (or, for an attribute, the module holding it) and the packages above it that are
    not already running because they hold `importer`."""
    parts = target.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    held = importer.split(".")
    loaded = {".".join(parts)} if parts else set()
    for k in range(1, len(parts)):
        if parts[:k] != held[:k]:
            loaded.add(".".join(parts[:k]))
    return loaded


def import_graph(src: Path, *, lazy: bool = True) -> dict[str, set[str]]:
    """Module → the modules of the same source folder it imports (with `lazy`, also inside
    functions)."""
    modules = source_modules(src)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for found in read_imports(src):
        if found.lazy and not lazy:
            continue
        for target in found.targets:
            graph[found.module] |= _loaded(target, found.module, modules) - {found.module}
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


def import_cycles(src: Path, *, lazy: bool = True) -> list[list[str]]:
    """The import cycles among the modules under `src`, each as its sorted modules."""
    return _cycles(import_graph(src, lazy=lazy))


def lazy_imports_of_other_packages(src: Path, package: str) -> set[tuple[str, str]]:
    """``(module, imported)`` for each import inside a function of `package` that loads
    another package and is not allowed to be lazy (:data:`ALLOWED_LAZY`)."""
    allowed = ALLOWED_LAZY.get(package, set())
    found = set()
    for item in read_imports(src):
        if not item.lazy:
            continue
        for target in item.targets:
            if target.split(".")[0] == package:
                continue
            parts = target.split(".")
            if not any(".".join(parts[:k]) in allowed for k in range(1, len(parts) + 1)):
                found.add((item.module, target))
    return found


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_cycle_finder_sees_a_module_level_cycle_and_ignores_type_checking(tmp_path):
    src = _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\n",
            "pkg/b.py": "from .c import f\n",
            "pkg/c.py": "import pkg.a\n",
            "pkg/d.py": "import typing\nif typing.TYPE_CHECKING:\n    from . import e\n",
            "pkg/e.py": "from . import d\n",
        },
    )
    graph = import_graph(src)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.d"] == set()
    assert import_cycles(src) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_cycle_finder_sees_a_cycle_of_imports_inside_functions(tmp_path):
    src = _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/left.py": "def f():\n    from ..right import g\n    return g\n",
            "pkg/right.py": "class R:\n    def g(self):\n        from .sub import left\n",
            "pkg/alone.py": "def h():\n    import json\n",
        },
    )
    assert import_graph(src, lazy=False)["pkg.sub.left"] == set()
    assert import_cycles(src, lazy=False) == []
    assert import_cycles(src) == [["pkg.right", "pkg.sub.left"]]
    assert lazy_imports_of_other_packages(src, "pkg") == {("pkg.alone", "json")}


def test_cycle_finder_counts_the_packages_an_import_runs(tmp_path):
    """``from pkg.sub.x import y`` runs ``pkg/sub/__init__.py`` too: a cycle through it counts."""
    src = _plant(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/low.py": "from .sub.leaf import VALUE\n",
            "pkg/sub/__init__.py": "from .top import TOP\n",
            "pkg/sub/leaf.py": "VALUE = 1\n",
            "pkg/sub/top.py": "from ..low import VALUE as TOP\n",
        },
    )
    assert import_graph(src)["pkg.low"] == {"pkg.sub", "pkg.sub.leaf"}
    assert import_cycles(src) == [["pkg.low", "pkg.sub", "pkg.sub.top"]]


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.parent.name)
def test_no_module_level_import_cycle_inside_a_package(src):
    assert import_cycles(src, lazy=False) == []


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.parent.name)
def test_no_import_cycle_inside_a_package_counting_imports_inside_functions(src):
    assert import_cycles(src) == []


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.parent.name)
def test_only_optional_heavy_dependencies_are_imported_inside_functions(src):
    package = next(
        path.name for path in src.iterdir() if path.is_dir() and path.name in ALLOWED_LAZY
    )
    assert lazy_imports_of_other_packages(src, package) == set()


def test_semcov_train_imports_its_own_modules_at_module_level():
    src = ROOT / "packages" / "semcov-train" / "src"
    lazy = {
        (item.module, target)
        for item in read_imports(src)
        if item.lazy
        for target in item.targets
        if target.split(".")[0] == "semcov_train"
    }
    assert lazy == set()


#: What each room of semcov_train may import (docs/architecture.md, "semcov_train in rooms"):
#: subpackages and root modules by name; ``config`` reads two leaf modules of other rooms.
_FLOOR = {"config", "_registry", "parsing"}
_BELOW_EVALUATION = {"rundir", "methods", "inputs", "runtime", *_FLOOR}
ROOM_IMPORTS = {
    "_registry": set(),
    "parsing": set(),
    "config": {"_registry", "methods.encoder_config", "evaluation.threshold"},
    "runtime": {"config"},
    "inputs": {"methods", "runtime", "config", "_registry"},
    "methods": {"inputs", "runtime", "config", "_registry"},
    "rundir": {"inputs", "config"},
    "evaluation": _BELOW_EVALUATION,
    "training": {"evaluation", *_BELOW_EVALUATION},
    "audit": {"evaluation", *_BELOW_EVALUATION},
    "reporting": {"evaluation", "rundir", *_FLOOR},
    "cli": {"audit", "training", "evaluation", *_BELOW_EVALUATION},
    "__main__": {"cli"},
    "": {"training", "evaluation", *_BELOW_EVALUATION},
    "experiments": {"", "cli", "reporting", "audit", "training", "evaluation", *_BELOW_EVALUATION},
}


def _room(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_semcov_train_rooms_import_down_the_floors():
    graph = import_graph(ROOT / "packages" / "semcov-train" / "src")
    assert {_room(module) for module in graph} == set(ROOM_IMPORTS)
    upward = set()
    for module, targets in graph.items():
        allowed = ROOM_IMPORTS[_room(module)]
        for target in targets:
            if target.count(".") == 1 and not graph[target]:
                continue  # a room's own package, importing nothing: the way to a leaf module
            name = target.split(".", 1)[1] if "." in target else ""
            room = _room(target)
            if room != _room(module) and room not in allowed and name not in allowed:
                upward.add((module, target))
    assert upward == set()


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.parent.name)
def test_source_files_stay_under_the_line_limit(src):
    long = {
        str(path.relative_to(ROOT)): n
        for path in source_modules(src).values()
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
