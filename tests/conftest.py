"""Settings of the whole suite: one bytecode cache for the session's interpreters, and which
tests share a worker when the suite runs on several (pytest-xdist, ``--dist loadgroup``).

Bytecode. With ``PYTHONDONTWRITEBYTECODE`` set (as on the CI machine) every interpreter that the
suite starts (``uv run`` in the documentation blocks, the trainer's command line, torchrun
workers, launcher workers) compiles torch, torchvision and timm from source again: seconds of
CPU each time. The session instead writes bytecode once into a folder of its own
(``PYTHONPYCACHEPREFIX``, outside the checkout, deleted at the end), which the pytest processes
and every interpreter they start read. A prefix set by the caller is used as it is.

Workers. The tests of one file run on one worker, in file order, so a module fixture (a smoke
training shared by several tests) is built once; the blocks of one Markdown file run in file
order on one worker, in the one folder they share (``tests/docs/test_readme_blocks.py``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest


def _share_bytecode() -> str | None:
    """Point this process and its children at one bytecode folder; the folder if made here."""
    made = None
    prefix = os.environ.get("PYTHONPYCACHEPREFIX")
    if not prefix:
        prefix = made = tempfile.mkdtemp(prefix="semcov-tests-pycache-")
        os.environ["PYTHONPYCACHEPREFIX"] = prefix  # xdist workers and subprocesses inherit it
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False
    return made


_MADE_PYCACHE = _share_bytecode()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): tests that run on one xdist worker")
    distributed = config.getoption("dist", "no") != "no" and config.getoption("numprocesses", 0)
    if distributed and not hasattr(config, "workerinput"):
        _make_hypothesis_storage()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _MADE_PYCACHE:  # only the process that made it (workers and nested runs inherit it)
        shutil.rmtree(_MADE_PYCACHE, ignore_errors=True)


def _make_hypothesis_storage() -> None:
    """Hypothesis writes its folder (``.hypothesis/`` in the current folder) when its first test
    runs. Made here, before any worker starts, so that it cannot appear in the checkout while a
    documentation block runs on another worker (a block that leaves a new path there fails)."""
    try:
        from hypothesis.configuration import storage_directory
    except ImportError:
        return
    storage_directory("constants", intent_to_write=False).create_if_missing()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """One xdist group per test file, and one per Markdown file for its code blocks.

    On an xdist worker the documentation groups come first, the one with the most ``slow``
    blocks (trainings) first, so that the longest chain of blocks starts at once instead of
    last; the order inside every group stays the file order."""
    slow_blocks: dict[str, int] = {}
    for item in items:
        name = _group(item)
        if name.startswith("docs:"):
            slow_blocks[name] = slow_blocks.get(name, 0) + (
                item.get_closest_marker("slow") is not None
            )
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(name))
    if hasattr(config, "workerinput"):
        # sorted() is stable: tests keep their order inside a group and among the other files
        items[:] = sorted(items, key=lambda item: -slow_blocks.get(_group(item), -1))


def _group(item: pytest.Item) -> str:
    """``docs:<Markdown file>`` for a code block of tests/docs, else the test's file."""
    callspec = getattr(item, "callspec", None)
    block = callspec.params.get("block") if callspec is not None else None
    if block is not None and hasattr(block, "path") and hasattr(block, "line"):
        return f"docs:{Path(block.path).as_posix()}"
    return item.nodeid.split("::", 1)[0]
