"""``python -m semcov_data``: the command line (see :mod:`semcov_data.cli`)."""

from semcov_data.cli import main

raise SystemExit(main())
