"""Settings of the whole suite: one bytecode cache for the session's interpreters, which
tests share a worker when the suite runs on several (pytest-xdist, ``--dist loadfile``), and
the headless Chromium of the HTML report's browser tests (``browser``, ``browser_tools``:
tests/browser_support.py).

Bytecode. With ``PYTHONDONTWRITEBYTECODE`` set (as on the CI machine) every interpreter that the
suite starts (``uv run`` in the documentation blocks, the trainer's command line, torchrun
workers, launcher workers) compiles torch, torchvision and timm from source again: seconds of
CPU each time. The session instead writes bytecode once into a folder of its own
(``PYTHONPYCACHEPREFIX``, outside the checkout, deleted at the end), which the pytest processes
and every interpreter they start read. A prefix set by the caller is used as it is; where
bytecode is written as usual (next to the sources), nothing changes.

Workers. The tests of one file run on one worker, in file order, so a module fixture (a smoke
training shared by several tests) is built once; the blocks of one Markdown file run in file
order on one worker, in the one folder they share (``tests/docs/test_readme_blocks.py``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import types
from pathlib import Path

import pytest


def _share_bytecode() -> str | None:
    """Point this process and its children at one bytecode folder where writing bytecode is
    switched off (``PYTHONDONTWRITEBYTECODE``); the folder if made here. Where interpreters write
    their ``__pycache__`` folders as usual, nothing changes."""
    made = None
    prefix = os.environ.get("PYTHONPYCACHEPREFIX")
    if not prefix:
        if not (os.environ.get("PYTHONDONTWRITEBYTECODE") or sys.dont_write_bytecode):
            return None
        prefix = made = tempfile.mkdtemp(prefix="semcov-tests-pycache-")
        os.environ["PYTHONPYCACHEPREFIX"] = prefix  # xdist workers and subprocesses inherit it
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False
    return made


_MADE_PYCACHE = _share_bytecode()


def pytest_configure(config: pytest.Config) -> None:
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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` with the code blocks of each Markdown file as a unit of their own
    (instead of the whole of tests/docs/test_readme_blocks.py); other tests: their file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileAndDocumentScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return FileAndDocumentScheduling(config, log)


def _scope(nodeid: str) -> str:
    """``docs:<Markdown file>`` for a code block of tests/docs, else the test's file."""
    path, _, name = nodeid.partition("::")
    if path.endswith("test_readme_blocks.py") and name.startswith("test_block_runs["):
        return "docs:" + name.removeprefix("test_block_runs[").rsplit(":", 1)[0]
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker the documentation units come first, the one with the most ``slow``
    blocks (trainings) first, so that the longest chain of blocks starts at once instead of
    last (with ``--no-loadscope-reorder`` units are handed out in collection order). The order
    inside every unit stays the file order."""
    if not hasattr(config, "workerinput"):
        return
    slow_blocks: dict[str, int] = {}
    for item in items:
        scope = _scope(item.nodeid)
        if scope.startswith("docs:"):
            slow = item.get_closest_marker("slow") is not None
            slow_blocks[scope] = slow_blocks.get(scope, 0) + slow
    # sorted() is stable: tests keep their order inside a unit and among the other files
    items[:] = sorted(items, key=lambda item: -slow_blocks.get(_scope(item.nodeid), -1))


def _browser_support() -> types.ModuleType:
    """tests/browser_support.py, loaded by path (this folder is no package under importlib
    mode); loaded once per process."""
    name = "semcov_tests_browser_support"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("browser_support.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def browser_tools() -> types.ModuleType:
    """The browser helpers: ``open_report``, ``check_page``, ``screenshot_pixels``, ...
    (tests/browser_support.py)."""
    return _browser_support()


@pytest.fixture(scope="module")
def browser(browser_tools):
    """A headless system Chromium for one test module (Playwright); skipped when Chromium is
    missing outside CI, failed in CI (``CI=true``). Module scope, not session: while Playwright
    runs, its event loop holds the worker's main thread, where signal handlers run, so a later
    test of the same worker that signals itself (the SIGTERM preemption test) would hang."""
    yield from browser_tools.launch_browser()
