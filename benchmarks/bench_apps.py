"""Wall-clock time of the apps' default runs (what `uv run apps/<app>.py` does with no arguments).

Each app runs in a subprocess with its default arguments, its run directories and outputs in a
fresh temporary folder (nothing is reused between apps unless ``--shared-runs`` is given, which
is how a user who runs the apps one after the other sees them: Table 3 reuses Tables 1 and 2).
Prints one Markdown row per app: wall time, CPU time (user + system, all processes: on a
shared machine the wall time is an upper bound and the CPU time what the app itself needs),
trained runs, skipped runs, the slowest run.

    uv run python benchmarks/bench_apps.py reproduce_table1 figure5_coverage
    uv run python benchmarks/bench_apps.py --preset smoke --all
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APPS = Path(__file__).resolve().parents[1] / "apps"
NOT_APPS = {"app_runner", "collect_results", "figure_common"}
#: The line the grid prints as each run ends (``[3/48 ended] [5/60] table1 erm …: … (18 s)``).
TRAINED = re.compile(r"^\[\d+/\d+ ended\] \[\d+/\d+\] .*\((\d+) s\)$")


def all_apps() -> list[str]:
    """Every app script in apps/ (tables, figures, seed-paper apps), in name order."""
    return sorted(p.stem for p in APPS.glob("*.py") if p.stem not in NOT_APPS)


def run_app(app: str, root: Path, preset: str | None, extra: list[str]) -> dict:
    """Run one app with its defaults under `root`; its wall time and what it trained."""
    command = [sys.executable, str(APPS / f"{app}.py"), "--no-progress"]
    command += ["--runs", str(root / "runs"), "--out", str(root / "out" / app)]
    command += ["--cache-dir", str(root / "cache")]
    if preset is not None:
        command += ["--preset", preset]
    command += extra
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = completed.stderr.splitlines()
    seconds = [int(m.group(1)) for line in lines if (m := TRAINED.match(line))]
    return {
        "app": app,
        "status": completed.returncode,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "trained": len(seconds),
        "skipped": sum("finished earlier" in line for line in lines),
        "not_run": sum(": not run: " in line for line in lines),
        "slowest": max(seconds, default=0),
        "stderr": completed.stderr,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="*", help=f"apps to time (default all: {all_apps()})")
    parser.add_argument("--all", action="store_true", help="every app")
    parser.add_argument("--preset", default=None, help="override the apps' default preset")
    parser.add_argument(
        "--shared-runs", action="store_true", help="one runs folder for all apps (reuse)"
    )
    args, extra = parser.parse_known_args(argv)
    apps = all_apps() if args.all or not args.apps else args.apps
    unknown = sorted(set(apps) - set(all_apps()))
    if unknown:
        parser.error(f"unknown apps {unknown}; known: {all_apps()}")
    header = ("app", "wall time (s)", "CPU time (s)", "runs trained", "runs reused", "not run")
    print("| " + " | ".join(header) + " | slowest run (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="semcov-bench-apps-") as tmp:
        for app in apps:
            root = Path(tmp) if args.shared_runs else Path(tmp) / app
            row = run_app(app, root, args.preset, extra)
            if row["status"] != 0:
                failed += 1
                print(row["stderr"][-2000:], file=sys.stderr)
            status = "" if row["status"] == 0 else f" (exit {row['status']})"
            print(
                f"| {app}{status} | {row['seconds']:.0f} | {row['cpu_seconds']:.0f} "
                f"| {row['trained']} | {row['skipped']} "
                f"| {row['not_run']} | {row['slowest']} |",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
