"""Shared setup of the app tests: every app loaded from its file (as ``uv run apps/X.py`` runs
it; the apps import only the packages) and the command-line options of a smoke run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"


def _load_apps() -> None:
    """Register each ``apps/<name>.py`` as the module ``<name>`` (tests ``import figure1``)."""
    for path in sorted(APPS.glob("*.py")):
        if path.stem in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)


_load_apps()


@pytest.fixture(scope="session")
def semcov_cache(tmp_path_factory) -> Path:
    """One cache folder (synthetic benchmark, image cache) for every app test; no weights."""
    return tmp_path_factory.mktemp("semcov-cache")


@pytest.fixture
def smoke_args(tmp_path, semcov_cache) -> list[str]:
    """``--preset smoke`` with run directories under ``tmp_path/runs``, tables under
    ``tmp_path/out``, the shared cache, one thread, no workers, no progress bars."""
    return [
        *("--preset", "smoke", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")),
        *("--cache-dir", str(semcov_cache)),
        *("--num-workers", "0", "--num-threads", "1", "--no-progress"),
    ]
