"""Variants in bulk: answers on numpy arrays, and the stress report a teacher reads before an exam."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from symconv.core.errors import invalid
from symconv.core.limits import MAX_STRESS
from symconv.core.values import exact, is_array, is_integer
from symconv.teaching.domains import Constraint, is_number
from symconv.teaching.exercises import Exercise
from symconv.teaching.variants import (  # the sampler's own wording of its reasons
    ENUMERATION_LIMIT,
    MAX_DRAWS,
    PREFERENCE_DRAWS,
    STEERED,
    Tally,
    _steering,
    _too_tight,
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

WORKED_SAMPLE = 200  # worked solutions timed per run: their cost per variant is reported, their content is not


@dataclass
class StressReport:
    """The authoring check before an exam: what ``count`` draws of an exercise look like and cost.

    ``params`` and ``answers`` hold one column per name over all the variants (a numpy array or a
    list), or a single value for a parameter every variant shares.
    """

    exercise: Exercise
    count: int
    seed: int
    method: str
    params: Mapping[str, Any]
    answers: Mapping[str, Any]
    interest: list[tuple[Constraint, float]]
    tally: Tally
    duplicates: int
    distinct_space: int | None
    combinations: int
    combinations_at_least: bool  # some domain knows only a lower bound of its size
    draw_seconds: float
    answer_seconds: float
    worked_seconds: float
    worked_count: int

    def text(self) -> str:
        exercise, count = self.exercise, self.count
        lines = [f"exercise {exercise.number}: {count} variants drawn with seed {self.seed} (no deduplication)", self.method, ""]
        lines += _range_table(
            "parameter", [(name, self.params[name], str(exercise.domains.get(name, "fixed"))) for name in exercise.defaults]
        )
        lines.append("")
        lines += _range_table("answer", [(name, column, "") for name, column in self.answers.items()])
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
        for rule, share in self.interest:
            lines.append(f"interest: {rule.description}: {share:.1%} of variants (target {rule.share:.0%})")
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
            f"time per variant: draw {self.draw_seconds / count * 1e3:.4f} ms, answers {self.answer_seconds / count * 1e3:.4f} ms; "
            f"worked solution (solve + LaTeX) {self.worked_seconds / self.worked_count * 1e3:.3f} ms, "
            f"timed on the first {self.worked_count} variants"
        )
        return "\n".join(lines)


def _range_table(heading: str, columns: Iterable[tuple[str, Any, str]]) -> list[str]:
    rows = [(heading, "min", "max", "distinct", "domain")]
    for name, values, domain in columns:
        rows.append((name, *_summary(values), domain))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    return [
        "  ".join(
            cell.ljust(width) if column in (0, 4) else cell.rjust(width) for column, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


def _summary(values: Any) -> tuple[str, str, str]:
    """Minimum, maximum (numbers only) and number of distinct values of a column, or of one shared value."""
    if _is_numeric_array(values):
        import numpy

        return _short(exact(values.min())), _short(exact(values.max())), str(len(numpy.unique(values)))
    if is_array(values):
        values = values.tolist()
    elif not isinstance(values, list):
        values = [values]
    numbers = [exact(value) for value in values]
    numeric = all(is_number(number) for number in numbers)
    low, high = (_short(min(numbers)), _short(max(numbers))) if numeric and numbers else ("", "")
    distinct = len({json.dumps(_plain(value), sort_keys=True) for value in values})
    return low, high, str(distinct)


def _is_numeric_array(values: Any) -> bool:
    return is_array(values) and values.ndim == 1 and values.dtype.kind in "iuf"


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
    """Draw ``count`` variants without deduplication, answer each, time a sample of worked solutions, and report.

    An exercise with ``array_answers`` is drawn and answered on numpy arrays (no sympy per variant);
    any other is drawn variant by variant as ``symconv variants`` draws it and solved once per distinct
    variant, ``progress`` ticking once per variant answered.
    """
    require_parametrised(exercise)
    if count < 1:
        raise invalid("-n", count, "must be at least 1")
    if count > MAX_STRESS:
        raise invalid("-n", count, f"must be at most {MAX_STRESS}")
    pins = pins_for(exercise, pins or {})
    if exercise.array_answers is not None:
        return _stress_arrays(exercise, count, seed, pins)
    return _stress_one_by_one(exercise, count, seed, pins, progress or (lambda: None))


def _worked_seconds(exercise: Exercise, params: Iterable[Mapping[str, Any]]) -> float:
    from symconv.render.latex_solution import render_solution

    start = time.perf_counter()
    for one in params:
        render_solution(exercise.solution(**one))
    return time.perf_counter() - start


def _stress_one_by_one(
    exercise: Exercise, count: int, seed: int, pins: Mapping[str, Any], progress: Callable[[], None]
) -> StressReport:
    tally, seen, duplicates, drawn = Tally(), set(), 0, []
    start = time.perf_counter()
    for index in range(count):
        params = draw_params(exercise, variant_random(variant_digest(seed, None, exercise, pins, index)), pins, None, tally)
        key = variant_key(exercise, params)
        duplicates += key in seen
        seen.add(key)
        drawn.append(params)
    draw_seconds = time.perf_counter() - start
    start = time.perf_counter()
    solved: dict[tuple, Mapping[str, Any]] = {}  # answers depend on the parameters only
    answers = []
    for params in drawn:
        identity = tuple(params.values())
        if identity not in solved:
            solved[identity] = exercise.solution(**params).answers
        answers.append(solved[identity])
        progress()
    answer_seconds = time.perf_counter() - start
    worked = drawn[:WORKED_SAMPLE]
    size = _domain_size(exercise, pins)
    space = distinct_valid(exercise, pins) if size[0] <= ENUMERATION_LIMIT else None
    interest = [
        (rule, sum(bool(rule.holds(params)) for params in drawn) / count)
        for rule in exercise.constraints
        if rule.share is not None
    ]
    method = (
        f"how: each variant drawn from its own stream as `symconv variants` draws it, its answers solved "
        f"({len(solved)} distinct variants solved once each); every statistic below is over all {count} variants"
    )
    return StressReport(
        exercise,
        count,
        seed,
        method,
        {name: [params[name] for params in drawn] for name in exercise.defaults},
        {name: [one[name] for one in answers] for name in answers[0]},
        interest,
        tally,
        duplicates,
        space,
        *size,
        draw_seconds,
        answer_seconds,
        _worked_seconds(exercise, worked),
        len(worked),
    )


class _Judge:
    """Every constraint's verdict on drawn parameters, given as index columns into the free domains' values.

    Up to ``ENUMERATION_LIMIT`` combinations, each rule is asked once of the whole grid of combinations
    and a draw's verdict is looked up by its combination's number; beyond that each rule is asked of
    the drawn arrays themselves.
    """

    def __init__(self, exercise: Exercise, free: list[tuple[str, Any]], shared: Mapping[str, Any]) -> None:
        import numpy

        self.exercise, self.free, self.shared = exercise, free, shared
        self.radices = tuple(len(values) for _, values in free)
        self.size = math.prod(self.radices)
        self.tables = None
        if self.size <= ENUMERATION_LIMIT:
            self.grid = list(numpy.indices(self.radices).reshape(len(free), self.size))
            self.tables = self._ask(self.grid)

    def values(self, indices: list[Any]) -> dict[str, Any]:
        return {name: values[column] for (name, values), column in zip(self.free, indices)}

    def _ask(self, indices: list[Any]) -> list[Any]:
        import numpy

        size = len(indices[0]) if indices else 1
        # Integer parameters every draw shares become columns too: a rule turning a lone int into a
        # Fraction would otherwise make whole columns object arrays, a hundred times slower.
        shared = {name: numpy.full(size, value) if is_integer(value) else value for name, value in self.shared.items()}
        arrays = {**shared, **self.values(indices)}
        return [numpy.broadcast_to(rule.mask(arrays), (size,)) for rule in self.exercise.constraints]

    def verdicts(self, indices: list[Any], size: int) -> list[Any]:
        """One boolean column per constraint, in the order the exercise lists them."""
        import numpy

        if self.tables is None:
            return self._ask(indices)
        codes = numpy.ravel_multi_index(indices, self.radices) if indices else numpy.zeros(size, dtype=numpy.int64)
        return [table[codes] for table in self.tables]

    def distinct_keys(self, indices: list[Any], among: Any = None) -> int:
        """How many distinct variant keys the rows hold (those where ``among`` is true, if given)."""
        import numpy

        columns = self.values([column if among is None else column[among] for column in indices])
        if self.exercise.key is None:
            if not columns:
                return 1 if among is None or among.any() else 0
            return numpy.unique(numpy.stack(list(columns.values())), axis=1).shape[1]
        lists = {name: column.tolist() for name, column in columns.items()}
        rows = (dict(zip(lists, row)) for row in zip(*lists.values()))
        return len({variant_key(self.exercise, {**self.shared, **row}) for row in rows})


def _stress_arrays(exercise: Exercise, count: int, seed: int, pins: Mapping[str, Any]) -> StressReport:
    import numpy

    start = time.perf_counter()
    free = [(name, numpy.asarray(domain.values)) for name, domain in exercise.domains.items() if name not in pins]
    shared = {name: value for name, value in {**exercise.defaults, **pins}.items() if name not in dict(free)}
    judge = _Judge(exercise, free, shared)
    generator = numpy.random.Generator(numpy.random.PCG64(int.from_bytes(variant_digest(seed, None, exercise, pins, -1), "big")))
    rules = list(exercise.constraints)
    interest = [(position, rule) for position, rule in enumerate(rules) if rule.share is not None]
    # As in draw_params: each variant's own draw decides which side of each interest rule it looks for.
    wanted = {position: generator.random(count) < rule.share for position, rule in interest}
    tally, pending, kept_rows, kept_indices = Tally(), numpy.arange(count), [], []
    for attempt in range(MAX_DRAWS):
        if not pending.size:
            break
        size = pending.size
        indices = [generator.integers(0, len(values), size) for _, values in free]
        verdicts = judge.verdicts(indices, size)
        tally.draws += size
        broken = numpy.zeros(size, dtype=bool)
        for position, rule in enumerate(rules):
            if rule.share is None:
                failed = ~verdicts[position] & ~broken
                _count(tally, rule.description, failed)
            elif attempt < PREFERENCE_DRAWS:
                side = wanted[position][pending]
                failed = (verdicts[position] != side) & ~broken
                _count(tally, _steering(rule, True), failed & side)
                _count(tally, _steering(rule, False), failed & ~side)
            else:
                continue
            broken |= failed
        tally.accepted += size - int(broken.sum())
        kept_rows.append(pending[~broken])
        kept_indices.append([column[~broken] for column in indices])
        pending = pending[broken]
    if pending.size:
        raise _too_tight(exercise, tally, pins)
    order = numpy.argsort(numpy.concatenate(kept_rows), kind="stable")
    indices = [numpy.concatenate([part[column] for part in kept_indices])[order] for column in range(len(free))]
    params = {**shared, **judge.values(indices)}
    duplicates = count - judge.distinct_keys(indices)
    space = None
    if judge.tables is not None:
        valid = numpy.ones(judge.size, dtype=bool)
        for rule, table in zip(rules, judge.tables):
            valid &= table if rule.share is None else True
        space = judge.distinct_keys(judge.grid, valid)
    final = judge.verdicts(indices, count)
    draw_seconds = time.perf_counter() - start
    start = time.perf_counter()
    answers = {name: numpy.broadcast_to(column, (count,)) for name, column in answer_arrays(exercise, params).items()}
    answer_seconds = time.perf_counter() - start
    drawn = judge.values([column[:WORKED_SAMPLE] for column in indices])
    worked = [
        {**shared, **{name: column[row].item() for name, column in drawn.items()}} for row in range(min(count, WORKED_SAMPLE))
    ]
    method = (
        f"how: all {count} variants drawn together on numpy arrays from one seeded stream (not the per-variant streams "
        f"of `symconv variants`) by the same rules: validity on every draw, interest steered for a variant's first "
        f"{PREFERENCE_DRAWS} draws; answers computed on the arrays; every statistic below is over all {count} variants"
    )
    return StressReport(
        exercise,
        count,
        seed,
        method,
        {name: params[name] for name in exercise.defaults},
        answers,
        [(rule, float(final[position].mean())) for position, rule in interest],
        tally,
        duplicates,
        space,
        *_domain_size(exercise, pins),
        draw_seconds,
        answer_seconds,
        _worked_seconds(exercise, worked),
        len(worked),
    )


def _domain_size(exercise: Exercise, pins: Mapping[str, Any]) -> tuple[int, bool]:
    """How many parameter combinations the free domains hold, and whether that is only a lower bound."""
    bound = any(getattr(domain, "lower_bound", False) for name, domain in exercise.domains.items() if name not in pins)
    return combinations(exercise, pins), bound


def _count(tally: Tally, reason: str, failed: Any) -> None:
    times = int(failed.sum())
    if times:
        tally.reasons[reason] += times
