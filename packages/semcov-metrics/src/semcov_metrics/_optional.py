"""Imports of the optional extras, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["HTML_EXTRA", "require"]

#: The extra that brings Jinja2, matplotlib and PyYAML: the HTML report and model cards.
HTML_EXTRA = "html"


def require(module: str, purpose: str, extra: str = HTML_EXTRA) -> ModuleType:
    """Import ``module`` or raise an ImportError that says which extra to install.

    Example:
        >>> require("json", "reading JSON").__name__
        'json'
        >>> require("no_such_module_x", "the HTML report")
        Traceback (most recent call last):
        ...
        ImportError: the HTML report needs no_such_module_x: pip install "semcov-metrics[html]"
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise ImportError(f'{purpose} needs {top}: pip install "semcov-metrics[{extra}]"') from None
