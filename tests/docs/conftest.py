"""The documentation tests import their helpers (``markdown_blocks``, ``block_fixtures``) from
this folder by module name."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
