"""Variants in bulk: answers on numpy arrays, and the stress report a teacher reads before an exam."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from symconv.core.errors import invalid
from symconv.core.limits import MAX_STRESS
from symconv.core.values import exact, is_integer
from symconv.teaching.domains import is_number
from symconv.teaching.exercises import Exercise
from symconv.teaching.variants import (
    ENUMERATION_LIMIT,
    MAX_DRAWS,
    STEERED,
    Tally,
    combinations,
    distinct_valid,
    draw_params,
    pins_for,
    require_parametrised,
    variant_digest,
    variant_key,
    variant_random,
)

# --- bulk answers on arrays ---------------------------------------------------------------------------


def sample_arrays(exercise: Exercise, seed: int, count: int, pins: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``count`` valid parameter sets as numpy arrays (one stream per exercise, not the per-variant one).

    Same domains and validity constraints as :func:`sample`, without deduplication or interest steering:
    this is the path for bulk answer keys and statistics, not for the documents.
    """
    import numpy

    require_parametrised(exercise)
    pins = pins_for(exercise, pins or {})
    digest = variant_digest(seed, None, exercise, pins, -1)
    generator = numpy.random.Generator(numpy.random.PCG64(int.from_bytes(digest, "big")))
    validity = [rule for rule in exercise.constraints if rule.share is None]
    free = [(name, domain) for name, domain in exercise.domains.items() if name not in pins]
    kept: list[dict[str, Any]] = []
    found, drawn = 0, 0
    while found < count:
        if drawn >= MAX_DRAWS * max(count, 1):
            raise invalid("exercise", exercise.number, f"domain too tight: {found} of {drawn} array draws valid")
        batch = max(1024, int((count - found) * drawn / max(found, 1) * 1.1) if found else count + count // 4)
        arrays = {**exercise.defaults, **{name: domain.draw_array(generator, batch) for name, domain in free}, **pins}
        valid = numpy.ones(batch, dtype=bool)
        for rule in validity:
            valid &= rule.mask(arrays)
        drawn += batch
        found += int(valid.sum())
        kept.append({name: arrays[name][valid] for name, _ in free})
    result = {name: numpy.concatenate([part[name] for part in kept])[:count] for name, _ in free}
    return {**exercise.defaults, **pins, **result}


def answer_arrays(exercise: Exercise, arrays: Mapping[str, Any]) -> dict[str, Any]:
    if exercise.array_answers is None:
        raise invalid("exercise", exercise.number, "declares no array_answers hook for vectorised answers")
    return dict(exercise.array_answers(arrays))


# --- stress ------------------------------------------------------------------------------------------------


@dataclass
class StressReport:
    """The authoring check before an exam: what ``count`` draws of an exercise look like and cost."""

    exercise: Exercise
    count: int
    seed: int
    params: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    tally: Tally
    duplicates: int
    distinct_space: int | None
    combinations: int
    combinations_at_least: bool  # some domain knows only a lower bound of its size
    draw_seconds: float
    worked_seconds: float

    def text(self) -> str:
        exercise, count = self.exercise, self.count
        lines = [f"exercise {exercise.number}: {count} variants drawn with seed {self.seed} (no deduplication)", ""]
        lines += _range_table(
            "parameter",
            [(name, [p[name] for p in self.params], str(exercise.domains.get(name, "fixed"))) for name in exercise.defaults],
        )
        lines.append("")
        lines += _range_table(
            "answer", [(name, [a[name] for a in self.answers], "") for name in self.answers[0]] if self.answers else []
        )
        invalid_draws = sum(times for reason, times in self.tally.reasons.items() if not reason.startswith(STEERED))
        lines += [
            "",
            f"draws: {self.tally.draws} for {count} variants; rejected as invalid: {invalid_draws} "
            f"({invalid_draws / self.tally.draws:.1%}); set aside while steering towards interest: {self.tally.rejected - invalid_draws}",
        ]
        lines += [
            f"  {times:>6}  {reason}"
            for reason, times in sorted(self.tally.reasons.items(), key=lambda item: (-item[1], item[0]))
        ]
        for rule in (rule for rule in exercise.constraints if rule.share is not None):
            met = sum(bool(rule.holds(params)) for params in self.params)
            lines.append(f"interest: {rule.description}: {met / count:.1%} of variants (target {rule.share:.0%})")
        space = f" of {self.distinct_space} distinct valid variants" if self.distinct_space is not None else ""
        lines.append(
            f"duplicates: {self.duplicates} of {count} repeat an earlier variant; {count - self.duplicates} distinct{space}"
        )
        if self.distinct_space is None:
            lines.append(
                f"distinct variants: the domains hold {self.combinations:,} combinations"
                f"{' or more' if self.combinations_at_least else ''} before constraints, too many to count the valid ones"
            )
        lines.append(
            f"time per variant: draw {self.draw_seconds / count * 1e3:.3f} ms, "
            f"worked solution (solve + LaTeX) {self.worked_seconds / count * 1e3:.3f} ms"
        )
        return "\n".join(lines)


def _range_table(heading: str, columns: Iterable[tuple[str, list[Any], str]]) -> list[str]:
    rows = [(heading, "min", "max", "distinct", "domain")]
    for name, values, domain in columns:
        numbers = [exact(value) for value in values]
        numeric = all(is_number(number) for number in numbers)
        low, high = (_short(min(numbers)), _short(max(numbers))) if numeric and numbers else ("", "")
        distinct = len({json.dumps(_plain(value), sort_keys=True) for value in values})
        rows.append((name, low, high, str(distinct), domain))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    return [
        "  ".join(
            cell.ljust(width) if column in (0, 4) else cell.rjust(width) for column, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


def _short(value: Any) -> str:
    return str(value) if is_integer(value) else f"{float(value):.4g}"


def _plain(value: Any) -> Any:
    from symconv.render.json import answer_value

    return answer_value(value)


def stress(
    exercise: Exercise,
    count: int,
    seed: int = 0,
    pins: Mapping[str, Any] | None = None,
    progress: Callable[[], None] | None = None,
) -> StressReport:
    """Draw ``count`` variants without deduplication, work each one, and report ranges, rejections and cost."""
    from symconv.render.latex_solution import render_solution

    require_parametrised(exercise)
    if count < 1:
        raise invalid("-n", count, "must be at least 1")
    if count > MAX_STRESS:
        raise invalid("-n", count, f"must be at most {MAX_STRESS}")
    pins = pins_for(exercise, pins or {})
    tally, seen, duplicates, drawn = Tally(), set(), 0, []
    start = time.perf_counter()
    for index in range(count):
        params = draw_params(exercise, variant_random(variant_digest(seed, None, exercise, pins, index)), pins, None, tally)
        key = variant_key(exercise, params)
        duplicates += key in seen
        seen.add(key)
        drawn.append(params)
    draw_seconds = time.perf_counter() - start
    answers = []
    start = time.perf_counter()
    for params in drawn:
        solution = exercise.solution(**params)
        render_solution(solution)
        answers.append(dict(solution.answers))
        if progress is not None:
            progress()
    worked_seconds = time.perf_counter() - start
    total = combinations(exercise, pins)
    space = distinct_valid(exercise, pins) if total <= ENUMERATION_LIMIT else None
    bound = any(getattr(domain, "lower_bound", False) for name, domain in exercise.domains.items() if name not in pins)
    return StressReport(
        exercise, count, seed, drawn, answers, tally, duplicates, space, total, bound, draw_seconds, worked_seconds
    )
