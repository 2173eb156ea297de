"""Benchmark: the whole `symconv sheet --no-pdf` process against a bare `python -c "import sympy"`.

Both are run as fresh processes in the same script, alternately, and the medians compared; the goal
is at most 3x the sympy floor. The package is compiled to bytecode first, as an installed wheel would
be (this machine sets PYTHONDONTWRITEBYTECODE, so a checkout would otherwise recompile at every run).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
ROOT = Path(__file__).resolve().parent.parent


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "symconv", "derivations"], check=True, cwd=ROOT)
    with tempfile.TemporaryDirectory() as out:
        sheet = [sys.executable, "-m", "symconv.cli.main", "sheet", "--no-pdf", "--out", out]
        floor = [sys.executable, "-c", "import sympy"]
        wall_time(sheet)  # warm the file cache and the bytecode
        times = {"sheet": [], "import sympy": []}
        for _ in range(RUNS):
            times["sheet"].append(wall_time(sheet))
            times["import sympy"].append(wall_time(floor))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>14}: {value * 1000:7.0f} ms (median of {RUNS})")
    print(
        f"{'ratio':>14}: {medians['sheet'] / medians['import sympy']:7.2f}x the sympy floor (goal <= 3x; the issue's machine: <= 1.5 s)"
    )


if __name__ == "__main__":
    main()
