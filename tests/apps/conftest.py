"""Shared setup of the app tests: the apps folder on sys.path (apps import each other by
module name, as they do when run as scripts) and the command-line options of a smoke run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"
if str(APPS) not in sys.path:
    sys.path.insert(0, str(APPS))


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
