"""``python -m semcov_train.reporting RUNS_DIR``: see :mod:`semcov_train.reporting.cli`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
