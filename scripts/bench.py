"""`make bench`: run every benchmarks/bench_*.py in turn and print their measured figures.

Each benchmark compares against a baseline measured in the same run. Figures depend on the
machine, so this prints the machine first; quote both together.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from biomedgpt_tools.testing.machine import describe_machine

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("only", nargs="*", help="run only these (e.g. generation resolvers)")
    args = parser.parse_args()

    scripts = sorted((REPO_ROOT / "benchmarks").glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    print(f"machine: {describe_machine()}", flush=True)
    failures = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        started = time.perf_counter()
        command = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
        result = subprocess.run(command, cwd=REPO_ROOT, env=environment)
        print(
            f"--- {script.stem}: exit {result.returncode}, {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        if result.returncode != 0:
            failures.append(script.stem)
    if failures:
        print(f"\nbenchmarks that failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
