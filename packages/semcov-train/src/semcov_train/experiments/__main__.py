"""``python -m semcov_train.experiments``: train one grid of runs from the command line.

    uv run python -m semcov_train.experiments --experiment demo --methods erm semcovnet \
        --modalities dermoscopic --preset smoke --launcher local --workers 2

Every option of the apps is here (``--folds``, ``--seeds``, ``--lrs``, ``--shard K/N``,
``--launcher``, ``--set field=value``, ...); finished runs are skipped, unfinished ones resume.
Prints one line per run of the grid: its state after the launch and its test AUC.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from semcov_train import METHODS
from semcov_train.rundir import read_results

from .command_line import app_grid, app_parser, app_settings, parse_app_args, run_app, run_grids
from .plan import plan


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; the exit status (2: bad option or settings, one line on stderr)."""
    parser = app_parser(__doc__.splitlines()[0], "results/experiments", METHODS)
    parser.add_argument("--experiment", required=True, help="experiment name (first folder)")
    parser.add_argument(
        "--modalities", nargs="+", default=["auto"], help="default: the dataset's first"
    )
    args = parse_app_args(parser, argv, real_dataset="milk10k", choices={"methods": METHODS})
    grids = [app_grid(args, args.experiment, args.modalities)]

    def finish(not_run: dict[str, str]) -> None:
        for method, reason in not_run.items():
            print(f"{method}: not run: {reason}", file=sys.stderr)
        for job in plan(grids, args.preset, app_settings(args)).jobs:
            auc = ""
            if job.state is not None and job.state.value == "finished":
                value = read_results(job.run_dir).get("auc")
                auc = f" test AUC {value:.4f}" if isinstance(value, float) else ""
            state = job.state.value if job.state is not None else "not run"
            print(f"{job.run.label}: {state}{auc} ({job.run_dir})")

    return run_app("semcov_train.experiments", lambda: run_grids(args, grids), finish)


if __name__ == "__main__":
    raise SystemExit(main())
