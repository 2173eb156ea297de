"""Benchmark: worked variants (goal: 1,000 in at most 1 s) and vectorised answer keys (goal: 10^6 a second).

Both are printed against the naive path measured in the same run: each answer by ``subs`` into the
formula's sympy expression. ``--profile`` prints where the worked path spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from symconv.formulas.layers import (
    conv_macs,
    conv_output_size,
    conv_params,
    effective_kernel_size,
)
from symconv.render.latex_solution import render_solution
from symconv.teaching import exercises, stress, variants

SEED = 2024
# 1,000 worked variants of the formula-shaped exercises, each set well inside its distinct variants
# (exercise 1: 198, 2: 778, 3: 352, 9: 96 with the practitioners' domains).
WORKED = {1: 150, 2: 500, 3: 300, 9: 50}
# Per-variant cost of the other parametrised exercises, for the record (sympy-backed working).
OTHERS = {4: 16, 5: 4, 6: 4, 10: 50, 28: 9}
ARRAY_EXERCISES = (1, 2, 3, 9, 10, 28)
ARRAY_KEYS = 10**6
NAIVE_SAMPLE = 100
# The answer each naive key substitutes into, by exercise.
NAIVE_FORMULAS = {
    1: conv_output_size,
    2: conv_output_size,
    3: conv_params,
    9: conv_macs,
    10: conv_macs,
    28: effective_kernel_size,
}


def worked(drawn: list) -> None:
    for variant in drawn:
        solution = variant.solution()
        render_solution(solution)
        dict(solution.answers)


def draw_worked(counts: dict[int, int]) -> list:
    return [variant for number, count in counts.items() for variant in variants.sample(exercises.get(number), SEED, count)]


def naive_seconds_per_key(drawn: list) -> float:
    """Each variant's answer by sympy's subs into the formula's symbolic expression (built once per formula)."""
    from symconv.core.symbols import (
        symbol,  # sympy symbols with the notation's assumptions
    )

    expressions = {}
    for formula in set(NAIVE_FORMULAS.values()):
        names = [name for name in formula.signature.parameters if name not in ("groups", "bias")]
        expressions[formula] = (names, formula.function(**{name: symbol(name) for name in names}))
    sample = drawn[:: max(1, len(drawn) // NAIVE_SAMPLE)][:NAIVE_SAMPLE]
    start = time.perf_counter()
    for variant in sample:
        names, expression = expressions[NAIVE_FORMULAS[variant.exercise.number]]
        value = expression.subs({symbol(name): variant.params[name] for name in names})
        assert value.is_Integer
    return (time.perf_counter() - start) / len(sample)


def array_keys_per_second(number: int) -> tuple[float, float]:
    """Keys per second (sampling, validity and answers on arrays) and the answers' share of the time."""
    exercise = exercises.get(number)
    stress.answer_arrays(exercise, stress.sample_arrays(exercise, SEED, ARRAY_KEYS))  # warm the verdict caches
    start = time.perf_counter()
    arrays = stress.sample_arrays(exercise, SEED + 1, ARRAY_KEYS)
    middle = time.perf_counter()
    stress.answer_arrays(exercise, arrays)
    end = time.perf_counter()
    return ARRAY_KEYS / (end - start), (end - middle) / (end - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", action="store_true", help="print the worked path's top functions")
    arguments = parser.parse_args()

    worked(draw_worked({number: 5 for number in WORKED}))  # warm imports and caches
    start = time.perf_counter()
    drawn = draw_worked(WORKED)
    drawn_at = time.perf_counter()
    worked(drawn)
    total = time.perf_counter() - start
    per_worked = total / len(drawn)
    naive = naive_seconds_per_key(drawn)
    print(
        f"worked variants (exercises {', '.join(map(str, WORKED))}): {len(drawn)} in {total:.3f} s "
        f"(draw {drawn_at - start:.3f} s), {per_worked * 1e3:.3f} ms each (goal: 1,000 in <= 1 s)"
    )
    print(
        f"naive sympy subs, answer only: {naive * 1e3:.3f} ms per key; a worked variant (working + answers) "
        f"is {naive / per_worked:.1f}x faster than the naive answer alone"
    )

    for number, count in OTHERS.items():
        others = draw_worked({number: count})
        worked(others[:1])  # warm the exercise's first sympy calls
        start = time.perf_counter()
        worked(others)
        print(f"  exercise {number:>2}: {(time.perf_counter() - start) / count * 1e3:7.3f} ms per worked variant")

    print(f"vectorised answer keys ({ARRAY_KEYS:,} per exercise, numpy):")
    for number in ARRAY_EXERCISES:
        rate, answers_share = array_keys_per_second(number)
        exercise = exercises.get(number)
        naive_rate = 1 / naive_seconds_per_key(
            variants.sample(exercise, SEED, min(NAIVE_SAMPLE, variants.distinct_valid(exercise, {})))
        )
        print(
            f"  exercise {number:>2}: {rate:14,.0f} keys/s ({answers_share:.0%} of it computing answers), "
            f"{rate / naive_rate:,.0f}x the naive {naive_rate:,.0f} keys/s (goal >= 1,000,000)"
        )

    if arguments.profile:
        profile = cProfile.Profile()
        profile.enable()
        worked(draw_worked({1: 200}))
        profile.disable()
        report = io.StringIO()
        pstats.Stats(profile, stream=report).sort_stats("tottime").print_stats(12)
        print(report.getvalue())


if __name__ == "__main__":
    main()
