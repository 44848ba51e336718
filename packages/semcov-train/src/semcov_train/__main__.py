"""``python -m semcov_train``: see :mod:`semcov_train.cli`."""

import sys

from semcov_train.cli import main

sys.exit(main())
