"""The HTML report in a real browser: the system's headless Chromium (Debian's ``chromium``,
which ``.ci/run`` installs) driven by Playwright for Python, which downloads no browser.

Loaded by ``tests/conftest.py`` (this folder is not importable under ``--import-mode=importlib``)
and handed to the tests through its ``browser`` and ``browser_tools`` fixtures. Chromium missing
skips the browser tests outside CI and fails them in CI (``CI=true``).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

__all__ = [
    "PAGE_PARTS",
    "VIEWPORT",
    "check_page",
    "chromium_path",
    "launch_browser",
    "open_report",
    "screenshot_pixels",
]

#: The browser window of every check: a laptop screen.
VIEWPORT = {"width": 1200, "height": 900}
#: What every report page shows: the summary, its key numbers, a per-SCG table and a figure.
PAGE_PARTS = {
    "summary": "#summary .summary p",
    "key numbers": "#key-numbers",
    "scg table": "table.scg-table",
    "first figure": "svg.figure",
}


def chromium_path() -> str:
    """The system Chromium; skips the calling test when it is missing, fails it in CI."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def launch_browser() -> Iterator[Any]:
    """Yield a headless Chromium launched from the system's binary (a fixture's body).

    ``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD`` is set so that nothing in Playwright fetches a
    browser of its own; ``executable_path`` is always given, so none is looked for.
    """
    executable = chromium_path()
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable)
        try:
            yield instance
        finally:
            instance.close()


def open_report(browser: Any, path: Path, parts: Mapping[str, str] | None = None) -> dict:
    """Load ``path`` in a fresh page; return what it requested, logged, showed, drew and printed.

    Args:
        browser: a Playwright browser.
        path: the HTML file.
        parts: ``{name: CSS selector}`` whose first match must be visible; default
            :data:`PAGE_PARTS`.

    Returns:
        ``errors`` (console errors and page errors), ``requests`` (every URL), ``visible``
        (``{name: bool}``), ``n_figures`` (inline SVG figures), ``screenshot`` (PNG bytes of
        the first screen), ``pdf`` (the page printed to A4).
    """
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        visible: dict[str, bool] = {}
        for name, selector in (parts or PAGE_PARTS).items():
            visible[name] = page.locator(selector).first.is_visible()
        result = {
            "errors": errors,
            "requests": requests,
            "visible": visible,
            "n_figures": page.locator("svg.figure").count(),
            "screenshot": page.screenshot(full_page=False),
            "pdf": page.pdf(format="A4"),
        }
    finally:
        page.close()
    return result


def screenshot_pixels(png: bytes) -> np.ndarray:
    """A PNG screenshot as an (height, width, 3) uint8 array."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def check_page(result: dict, min_figures: int) -> None:
    """Assert what a page loaded by :func:`open_report` must do: no console or page error,
    only ``file:`` and ``data:`` requests, every part visible, at least ``min_figures``
    figures, a first screen with ink and colour (not blank), and a PDF."""
    assert result["errors"] == []
    assert result["requests"] and all(
        url.startswith(("file:", "data:")) for url in result["requests"]
    ), result["requests"]
    assert all(result["visible"].values()), result["visible"]
    assert result["n_figures"] >= min_figures
    pixels = screenshot_pixels(result["screenshot"])
    assert pixels.shape[:2] == (VIEWPORT["height"], VIEWPORT["width"])
    assert (pixels < 250).any(axis=2).mean() > 0.02  # not blank: ink on a few % of the pixels
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200  # text, figures, colours
    assert result["pdf"].startswith(b"%PDF") and len(result["pdf"]) > 20_000
