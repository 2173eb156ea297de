"""Benchmark: the whole `symconv stress 1 -n 100000` process against a bare `python -c "import sympy"`.

Goal (issue 15): at most 10x the sympy floor. Both commands run as fresh processes, alternately, in
the same run, after the package is compiled to bytecode (this machine sets PYTHONDONTWRITEBYTECODE,
so an uncompiled checkout would recompile its sources at every run). The report's own timing line
(draw and answers per variant, worked solution on a bounded sample) is printed too.

Run: python bench/stress.py [--runs 5] [-n 100000] [--exercise 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_time(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - start, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--exercise", type=int, default=1)
    arguments = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "symconv", "derivations"], check=True, cwd=ROOT)
    stress = [sys.executable, "-m", "symconv.cli.main", "stress", str(arguments.exercise), "-n", str(arguments.n)]
    floor = [sys.executable, "-c", "import sympy"]
    _, report = wall_time(stress)  # warm the file cache
    times: dict[str, list[float]] = {"stress": [], "import sympy": []}
    for _ in range(arguments.runs):
        times["stress"].append(wall_time(stress)[0])
        times["import sympy"].append(wall_time(floor)[0])
    medians = {name: statistics.median(values) for name, values in times.items()}
    label = f"stress {arguments.exercise} -n {arguments.n}"
    print(f"{label:>24}: {medians['stress'] * 1000:7.0f} ms (median of {arguments.runs})")
    print(f"{'import sympy':>24}: {medians['import sympy'] * 1000:7.0f} ms (median of {arguments.runs})")
    print(f"{'ratio':>24}: {medians['stress'] / medians['import sympy']:7.2f}x the sympy floor (goal <= 10x)")
    print(f"{'report says':>24}: {report.splitlines()[-1]}")


if __name__ == "__main__":
    main()
