"""``python -m semcov_metrics``: the metrics command line (see :mod:`semcov_metrics.cli`)."""

from semcov_metrics.cli import main

raise SystemExit(main())
