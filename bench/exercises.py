"""Benchmark: each exercise's worked solution (solve + LaTeX) in process, after sympy is imported.

Goal (issue 15): none above 0.15 s, which is 0.45x a bare `python -c "import sympy"` on the issue's
machine (0.33 s). Each exercise runs in a fresh process, with sympy and the modules its first
symbolic sum imports lazily (sympy.tensor & co., paid once by whichever exercise comes first)
already loaded; the anchor, `import sympy` in a fresh process, is measured in the same run, so the
ratio holds on a loaded machine too.

Run: python bench/exercises.py [--runs 3] [numbers ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS, ISSUE_SYMPY_IMPORT = 0.15, 0.33

ONE_EXERCISE = r"""
import sys, time
import sympy
import sympy.calculus.accumulationbounds, sympy.matrices.expressions, sympy.tensor.tensor
from symconv.render.latex_solution import render_solution
from symconv.teaching import exercises

exercise = exercises.load(None)[int(sys.argv[1])]
start = time.perf_counter()
render_solution(exercise.solution())
print(time.perf_counter() - start)
"""


def run(command: list[str]) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("numbers", type=int, nargs="*")
    arguments = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "symconv", "derivations"], check=True, cwd=ROOT)
    sys.path.insert(0, str(ROOT))
    from symconv.teaching import exercises

    numbers = arguments.numbers or sorted(exercises.load(None))
    anchors, seconds = [], {number: [] for number in numbers}
    for _ in range(arguments.runs):
        start = time.perf_counter()
        run([sys.executable, "-c", "import sympy"])
        anchors.append(time.perf_counter() - start)
        for number in numbers:
            seconds[number].append(float(run([sys.executable, "-c", ONE_EXERCISE, str(number)])))
    anchor = statistics.median(anchors)
    limit = GOAL_SECONDS / ISSUE_SYMPY_IMPORT
    print(f"import sympy (fresh process): {anchor * 1000:.0f} ms, median of {arguments.runs}")
    print(f"goal: each exercise <= {limit:.2f}x that ({GOAL_SECONDS} s on the issue's machine)")
    for number, times in sorted(seconds.items(), key=lambda item: -statistics.median(item[1])):
        ratio = statistics.median(times) / anchor
        print(
            f"exercise {number:2d}: {statistics.median(times) * 1000:7.1f} ms  {ratio:5.2f}x import sympy"
            f"  ~{ratio * ISSUE_SYMPY_IMPORT:.3f} s on the issue's machine{'  OVER' if ratio > limit else ''}"
        )


if __name__ == "__main__":
    main()
