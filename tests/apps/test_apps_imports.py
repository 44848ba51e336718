"""Apps are declarations: each imports only packages, never another app, never edits sys.path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"
APP_FILES = sorted(APPS.glob("*.py"))
APP_NAMES = {path.stem for path in APP_FILES}


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("." * node.level + (node.module or ""))
            else:
                names.add(node.module.split(".")[0])
    return names


def test_there_are_apps():
    assert {"reproduce_table1", "reproduce_table9", "figure1", "reproduce_cas"} <= APP_NAMES


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: p.stem)
def test_app_imports_only_packages(path):
    imported = _imported(path)
    assert not imported & APP_NAMES, f"{path.name} imports the apps {imported & APP_NAMES}"
    assert not any(name.startswith(".") for name in imported)
    assert "sys.path" not in path.read_text()


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: p.stem)
def test_app_docstring_is_short(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc is not None and "uv run apps/" in doc
    prose = doc.split("::")[0].strip().splitlines()
    assert len(prose) <= 6, f"{path.name}: move the long notes to apps/README.md"
