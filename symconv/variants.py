"""Exercise variants: parameter domains and constraints, seeded reproducible sampling, answer keys, stress.

A variant is a pure function of (seed, student, pinned parameters, exercise, index): it is drawn with
its own ``random.Random`` seeded from a SHA-256 of those, never from the global generator or Python's
salted ``hash()``, so the same command gives the same variants on any machine. Drawing uses only
``Random.random()``, the one method whose sequence Python guarantees across versions. Within a set,
a variant whose key repeats an earlier one is drawn again from its own stream, so variant i also
depends on the variants before it, never on those after it or on the size of the set.
"""

from __future__ import annotations

import ast
import copy
import csv
import hashlib
import io
import itertools
import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from fractions import Fraction
from numbers import Real
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from symconv.errors import SymconvError, invalid
from symconv.exercises import Exercise
from symconv.formula import Formula
from symconv.solution import Solution
from symconv.values import exact, is_integer

GENERATOR = "symconv-variants/1"  # bump when the sampling changes, so old keys are not misread
MAX_DRAWS = 1000  # draws per variant before its exercise's domain is declared too tight
PREFERENCE_DRAWS = 50  # draws spent on an interest constraint before any valid variant will do
ENUMERATION_LIMIT = 50_000  # up to this many combinations, distinct valid variants are counted exactly
DUPLICATE = "repeats an earlier variant"
STEERED = "steered to "  # a valid draw set aside while looking for the side of an interest rule a variant wants


# --- domains ---------------------------------------------------------------------------------------


def _below(rng: random.Random, count: int) -> int:
    """An index in range(count) from ``rng.random()`` (bias below count / 2**53, stable everywhere)."""
    return int(rng.random() * count)


@dataclass(frozen=True)
class IntRange:
    """The integers low, low + step, … up to high inclusive."""

    low: int
    high: int
    step: int = 1

    def __post_init__(self) -> None:
        if not (is_integer(self.low) and is_integer(self.high) and is_integer(self.step)):
            raise invalid("IntRange", (self.low, self.high, self.step), "bounds and step must be integers")
        if self.step < 1 or self.high < self.low:
            raise invalid("IntRange", (self.low, self.high, self.step), "needs low <= high and step >= 1")

    @property
    def values(self) -> range:
        return range(self.low, self.high + 1, self.step)

    def __len__(self) -> int:
        return len(self.values)

    def draw(self, rng: random.Random) -> int:
        return self.values[_below(rng, len(self))]

    def draw_array(self, generator: Any, size: int) -> Any:
        return self.low + self.step * generator.integers(0, len(self), size)

    def __str__(self) -> str:
        return f"{self.low}..{self.high}" + (f" step {self.step}" if self.step != 1 else "")


@dataclass(frozen=True, init=False)
class Choice:
    """One of the listed values, each equally likely."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        if not values:
            raise invalid("Choice", values, "needs at least one value")
        object.__setattr__(self, "values", tuple(values))

    def __len__(self) -> int:
        return len(self.values)

    def draw(self, rng: random.Random) -> Any:
        return self.values[_below(rng, len(self))]

    def draw_array(self, generator: Any, size: int) -> Any:
        import numpy

        return numpy.asarray(self.values)[generator.integers(0, len(self), size)]

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.values)) + "}"


# --- constraints -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """A rule every variant meets (``share`` None), or one a share of the variants is steered to meet.

    Steering is a preference, not a rule: a variant looks for its side of an interest rule (meeting it
    or not) for ``PREFERENCE_DRAWS`` draws, then takes any valid draw, so pins never make it impossible.

    ``holds(params)`` takes all parameters by name. Written with operators and formula calls it also
    works on numpy arrays element by element; ``vectorised`` replaces it there when it cannot.
    """

    description: str
    holds: Callable[[Mapping[str, Any]], Any]
    share: float | None = None
    vectorised: Callable[[Mapping[str, Any]], Any] | None = None

    def mask(self, arrays: Mapping[str, Any]) -> Any:
        import numpy

        return numpy.asarray((self.vectorised or self.holds)(arrays), dtype=bool)


def _arguments(formula: Formula, params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in formula.signature.parameters if name in params}


def accepted_by(formula: Formula, description: str) -> Constraint:
    """Valid when ``formula`` accepts the parameters it takes: its own checks decide, none re-typed.

    Verdicts are remembered per combination of the formula's arguments, as draws revisit them often.
    """
    names = tuple(formula.signature.parameters)

    @lru_cache(maxsize=1 << 16)
    def accepts(values: tuple[Any, ...]) -> bool:
        try:
            formula(**dict(values))
        except SymconvError:
            return False
        return True

    def holds(params: Mapping[str, Any]) -> bool:
        return accepts(tuple((name, params[name]) for name in names if name in params))

    def vectorised(arrays: Mapping[str, Any]) -> Any:
        return _mask_by_distinct(holds, _arguments(formula, arrays))

    return Constraint(description, holds, vectorised=vectorised)


TABLE_LIMIT = 1 << 22  # combinations numbered below this are found with a lookup table, above it by sorting


def _mask_by_distinct(holds: Callable[[Mapping[str, Any]], bool], arguments: Mapping[str, Any]) -> Any:
    """Run a scalar check once per distinct combination of the integer array arguments, then spread the verdicts.

    Each combination is numbered in mixed radix over the columns' ranges, so the distinct ones are
    found with a table (or one sort of the numbers when the ranges are wide), never a sort of rows.
    """
    import numpy

    varying = {name: numpy.asarray(value, dtype=numpy.int64) for name, value in arguments.items() if numpy.ndim(value)}
    if not varying:
        return numpy.asarray(holds(arguments))
    lows = {name: int(column.min()) for name, column in varying.items()}
    spans = {name: int(column.max()) - lows[name] + 1 for name, column in varying.items()}
    size = math.prod(spans.values())
    if size >= 2**63:
        raise invalid("domains", spans, "too wide to number their combinations in 64 bits for a vectorised check")
    codes = numpy.zeros(len(next(iter(varying.values()))), dtype=numpy.int64)
    for name, column in varying.items():
        codes = codes * spans[name] + (column - lows[name])
    if size <= TABLE_LIMIT:
        present = numpy.zeros(size, dtype=bool)
        present[codes] = True
        distinct, lookup = numpy.flatnonzero(present), None
    else:
        distinct, lookup = numpy.unique(codes, return_inverse=True)
    columns, rest = {}, distinct.copy()
    for name in reversed(varying):
        rest, digit = numpy.divmod(rest, spans[name])
        columns[name] = digit + lows[name]
    verdicts = numpy.array(
        [holds({**arguments, **{name: int(column[row]) for name, column in columns.items()}}) for row in range(len(distinct))],
        dtype=bool,
    )
    if lookup is not None:
        return verdicts[lookup.reshape(-1)]
    table = numpy.zeros(size, dtype=bool)
    table[distinct] = verdicts
    return table[codes]


def floor_discards(formula: Formula, share: float, description: str) -> Constraint:
    """Interest: the formula's floor division drops a remainder (the exact quotient is not whole).

    The formula's own tree, with ``//`` turned into ``/``, is evaluated on Fractions and compared with it.
    """
    from symconv.derive import formula_tree

    class TrueDivision(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            self.generic_visit(node)
            return ast.BinOp(left=node.left, op=ast.Div(), right=node.right) if isinstance(node.op, ast.FloorDiv) else node

    tree = ast.fix_missing_locations(ast.Expression(TrueDivision().visit(copy.deepcopy(formula_tree(formula)))))
    exact_quotient = compile(tree, f"<{formula.name} without floor>", "eval")

    def holds(params: Mapping[str, Any]) -> bool:
        values = formula.bind(**_arguments(formula, params))
        fractions = {name: Fraction(value) if is_integer(value) else value for name, value in values.items()}
        return eval(exact_quotient, formula.namespace, fractions) != formula.function(**values)

    return Constraint(description, holds, share=share)


@dataclass(frozen=True)
class MainAnswer:
    """The one number a single-answer quiz question asks for: an answer, or one entry of a matrix answer.

    ``prompt`` is prose (inline math between ``$``) completing "Enter …".
    """

    name: str
    prompt: str
    index: tuple[int | str, ...] = ()

    def value(self, answers: Mapping[str, Any]) -> Any:
        value = answers[self.name]
        for position in self.index:
            value = value[position]
        return exact(value)


def formula_answers(**formulas: Formula) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """An ``array_answers`` hook: each answer is a formula's plain function applied to the parameter arrays."""

    def answers(arrays: Mapping[str, Any]) -> dict[str, Any]:
        return {name: formula.function(**_arguments(formula, arrays)) for name, formula in formulas.items()}

    return answers


# --- variants ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""

    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


@dataclass(frozen=True)
class Variant:
    """One drawn variant: its stable id, where it came from, and its full parameters."""

    id: str
    exercise: Exercise
    index: int
    params: Mapping[str, Any]
    student: Student | None = None

    def solution(self) -> Solution:
        return self.exercise.solution(**self.params)


@dataclass
class Tally:
    """What happened to the draws of a run: how many, how many accepted, why the others were not."""

    draws: int = 0
    accepted: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return self.draws - self.accepted

    def rate(self) -> float:
        return self.rejected / self.draws if self.draws else 0.0


def require_parametrised(exercise: Exercise) -> None:
    if not exercise.parametrised:
        raise invalid("exercise", exercise.number, "not parametrised: it declares no parameter domains, so it has no variants")


def variant_key(exercise: Exercise, params: Mapping[str, Any]) -> Hashable:
    return exercise.key(params) if exercise.key is not None else tuple(params[name] for name in exercise.domains)


def shown_parameters(exercise: Exercise) -> set[str]:
    """The parameters the question states: only these may be pinned, or its text would not match its answer."""
    return set(re.findall(r"\{(\w+)\}", exercise.question)) & set(exercise.defaults)


def pins_for(exercise: Exercise, pins: Mapping[str, Any]) -> dict[str, Any]:
    """The pinned parameters that this exercise states in its question."""
    return {name: value for name, value in sorted(pins.items()) if name in shown_parameters(exercise)}


def _digest(seed: int, student: Student | None, exercise: Exercise, pins: Mapping[str, Any], index: int) -> bytes:
    # JSON keeps the parts unambiguous whatever characters a student id holds.
    material = json.dumps([GENERATOR, seed, student.id if student else None, exercise.number, pins, index])
    return hashlib.sha256(material.encode("utf-8")).digest()


def variant_random(digest: bytes) -> random.Random:
    return random.Random(int.from_bytes(digest, "big"))


def _draw(exercise: Exercise, rng: random.Random, pins: Mapping[str, Any], taken: set | None, tally: Tally) -> dict[str, Any]:
    validity = [rule for rule in exercise.constraints if rule.share is None]
    # Each interest rule should hold in its share of variants: this variant's stream decides which side it is on.
    wanted = [(rule, rng.random() < rule.share) for rule in exercise.constraints if rule.share is not None]
    free = [(name, domain) for name, domain in exercise.domains.items() if name not in pins]
    for attempt in range(MAX_DRAWS):
        params = {**exercise.defaults, **{name: domain.draw(rng) for name, domain in free}, **pins}
        tally.draws += 1
        broken = next((rule.description for rule in validity if not rule.holds(params)), None)
        if broken is None and taken is not None and variant_key(exercise, params) in taken:
            broken = DUPLICATE
        if broken is None and attempt < PREFERENCE_DRAWS:
            broken = next((_steering(rule, side) for rule, side in wanted if bool(rule.holds(params)) != side), None)
        if broken is None:
            tally.accepted += 1
            return params
        tally.reasons[broken] += 1
    raise _too_tight(exercise, tally)


def _steering(rule: Constraint, side: bool) -> str:
    return f"{STEERED}{'meet' if side else 'avoid'}: {rule.description}"


def _too_tight(exercise: Exercise, tally: Tally) -> SymconvError:
    reason, times = tally.reasons.most_common(1)[0]
    return invalid(
        "exercise",
        exercise.number,
        f"domain too tight: no acceptable variant in {MAX_DRAWS} draws; {tally.rejected} of {tally.draws} draws "
        f"rejected ({tally.rate():.1%}), most often ({times}) because: {reason}",
    )


def combinations(exercise: Exercise, pins: Mapping[str, Any]) -> int:
    """How many parameter combinations the domains allow (before constraints and keys)."""
    return math.prod(len(domain) for name, domain in exercise.domains.items() if name not in pins)


def distinct_valid(exercise: Exercise, pins: Mapping[str, Any]) -> int:
    """The number of distinct keys among the combinations that meet every validity constraint."""
    validity = [rule for rule in exercise.constraints if rule.share is None]
    free = [(name, domain.values) for name, domain in exercise.domains.items() if name not in pins]
    keys = set()
    for values in itertools.product(*(values for _, values in free)):
        params = {**exercise.defaults, **dict(zip((name for name, _ in free), values)), **pins}
        if all(rule.holds(params) for rule in validity):
            keys.add(variant_key(exercise, params))
    return len(keys)


def check_count(exercise: Exercise, count: int, pins: Mapping[str, Any]) -> None:
    """Refuse a set larger than the exercise's distinct variants (counted exactly when that is cheap)."""
    if count < 1:
        raise invalid("-n", count, "must be at least 1")
    pinned = " with the pinned parameters" if pins else ""
    total = combinations(exercise, pins)
    if count > total:
        raise invalid("-n", count, f"exercise {exercise.number} has only {total} distinct variants{pinned}")
    # Only near the limit can constraints and keys make a set impossible; counting costs a pass over all.
    if 4 * count > total and total <= ENUMERATION_LIMIT:
        distinct = distinct_valid(exercise, pins)
        if count > distinct:
            raise invalid("-n", count, f"exercise {exercise.number} has only {distinct} distinct valid variants{pinned}")


def sample(
    exercise: Exercise,
    seed: int,
    count: int,
    pins: Mapping[str, Any] | None = None,
    student: Student | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Variant]:
    """``count`` distinct variants of ``exercise``: the first ``k`` are the same whatever ``count`` is."""
    require_parametrised(exercise)
    pins = pins_for(exercise, pins or {})
    check_count(exercise, count, pins)
    tally = Tally()
    taken: set = set()
    variants = []
    for index in range(count):
        digest = _digest(seed, student, exercise, pins, index)
        params = _draw(exercise, variant_random(digest), pins, taken, tally)
        taken.add(variant_key(exercise, params))
        variants.append(Variant(f"{exercise.number}-{digest.hex()[:8]}", exercise, index, params, student))
        if progress is not None:
            progress()
    return variants


def parse_pins(texts: Sequence[str], chosen: Sequence[Exercise]) -> dict[str, Any]:
    """``["kernel_size=5"]`` -> {"kernel_size": 5}; the name must be stated in a chosen exercise's question."""
    known = {name: exercise.defaults[name] for exercise in chosen for name in shown_parameters(exercise)}
    hidden = {name for exercise in chosen for name in exercise.defaults} - set(known)
    pins: dict[str, Any] = {}
    for text in texts:
        name, equals, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or not value:
            raise invalid("--param", text, "must be name=value, e.g. kernel_size=5")
        if name in hidden:
            raise invalid("--param", text, f"{name!r} is not stated in the questions, so pinning it would change answers unseen")
        if name not in known:
            raise invalid("--param", text, f"unknown parameter {name!r}; the chosen questions state {sorted(known)}")
        pins[name] = _pin_value(text, value, known[name])
    return pins


def _pin_value(text: str, value: str, default: Any) -> Any:
    if isinstance(default, bool):
        if value.lower() not in ("true", "false"):
            raise invalid("--param", text, "must be true or false")
        return value.lower() == "true"
    if is_integer(default):
        try:
            return int(value)
        except ValueError:
            raise invalid("--param", text, "must be an integer") from None
    raise invalid("--param", text, f"a parameter holding {type(default).__name__} values cannot be pinned from the command line")


# --- answer keys -------------------------------------------------------------------------------------


def main_answer(exercise: Exercise, answers: Mapping[str, Any]) -> MainAnswer:
    """The declared main answer, else the first answer that is a single number."""
    if exercise.main_answer is not None:
        return exercise.main_answer
    for name, value in answers.items():
        if _is_number(exact(value)):
            return MainAnswer(name, name.replace("_", " "))
    raise invalid("exercise", exercise.number, "has no single-number answer for a numerical quiz question; declare main_answer")


def key_entry(variant: Variant, answers: Mapping[str, Any]) -> dict[str, Any]:
    """One variant in key.json: enough to regenerate it and to grade it."""
    from symconv.render.json import answer_value

    entry: dict[str, Any] = {"id": variant.id}
    if variant.student is not None:
        entry["student"] = {"id": variant.student.id, "name": variant.student.name}
    entry.update(
        exercise=variant.exercise.number,
        index=variant.index,
        params={name: answer_value(value) for name, value in variant.params.items()},
        answers={name: answer_value(value) for name, value in answers.items()},
    )
    return entry


# --- rosters -------------------------------------------------------------------------------------------


def read_roster(path: Path) -> list[Student]:
    """Students from a CSV file with a header row holding an ``id`` column (``name`` optional)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise invalid("--students", str(path), f"cannot be read: {error}") from None
    reader = csv.reader(io.StringIO(text))
    try:  # (line number, fields) of every row that is not blank
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise invalid("--students", str(path), f"malformed CSV: {error}") from None
    if len(rows) < 2:
        raise invalid("--students", str(path), "the roster is empty: it needs a header row with an 'id' column and one row per student")
    header = [cell.strip().lower() for cell in rows[0][1]]
    if "id" not in header:
        raise invalid("--students", str(path), f"the header row {rows[0][1]} has no 'id' column")
    id_column, name_column = header.index("id"), header.index("name") if "name" in header else None
    students, first_line = [], {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise invalid("--students", str(path), f"line {line} has {len(row)} fields where the header has {len(header)}")
        if any(ord(character) < 32 and character != "\t" for cell in row for character in cell):
            raise invalid("--students", str(path), f"line {line} contains a control character")
        student = Student(row[id_column].strip(), row[name_column].strip() if name_column is not None else "")
        if not student.id:
            raise invalid("--students", str(path), f"line {line} has an empty id")
        if student.id in first_line:
            raise invalid("--students", str(path), f"student id {student.id!r} appears twice (lines {first_line[student.id]} and {line})")
        first_line[student.id] = line
        students.append(student)
    return students


# --- bulk answers on arrays ---------------------------------------------------------------------------


def sample_arrays(exercise: Exercise, seed: int, count: int, pins: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``count`` valid parameter sets as numpy arrays (one stream per exercise, not the per-variant one).

    Same domains and validity constraints as :func:`sample`, without deduplication or interest steering:
    this is the path for bulk answer keys and statistics, not for the documents.
    """
    import numpy

    require_parametrised(exercise)
    pins = pins_for(exercise, pins or {})
    digest = _digest(seed, None, exercise, pins, -1)
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
    draw_seconds: float
    worked_seconds: float

    def text(self) -> str:
        exercise, count = self.exercise, self.count
        lines = [f"exercise {exercise.number}: {count} variants drawn with seed {self.seed} (no deduplication)", ""]
        lines += _range_table("parameter", [(name, [p[name] for p in self.params], str(exercise.domains.get(name, "fixed"))) for name in exercise.defaults])
        lines.append("")
        lines += _range_table("answer", [(name, [a[name] for a in self.answers], "") for name in self.answers[0]] if self.answers else [])
        invalid_draws = sum(times for reason, times in self.tally.reasons.items() if not reason.startswith(STEERED))
        lines += [
            "",
            f"draws: {self.tally.draws} for {count} variants; rejected as invalid: {invalid_draws} "
            f"({invalid_draws / self.tally.draws:.1%}); set aside while steering towards interest: {self.tally.rejected - invalid_draws}",
        ]
        lines += [f"  {times:>6}  {reason}" for reason, times in sorted(self.tally.reasons.items(), key=lambda item: (-item[1], item[0]))]
        for rule in (rule for rule in exercise.constraints if rule.share is not None):
            met = sum(bool(rule.holds(params)) for params in self.params)
            lines.append(f"interest: {rule.description}: {met / count:.1%} of variants (target {rule.share:.0%})")
        space = f" of {self.distinct_space} distinct valid variants" if self.distinct_space is not None else ""
        lines.append(f"duplicates: {self.duplicates} of {count} repeat an earlier variant; {count - self.duplicates} distinct{space}")
        lines.append(
            f"time per variant: draw {self.draw_seconds / count * 1e3:.3f} ms, "
            f"worked solution (solve + LaTeX) {self.worked_seconds / count * 1e3:.3f} ms"
        )
        return "\n".join(lines)


def _range_table(heading: str, columns: Iterable[tuple[str, list[Any], str]]) -> list[str]:
    rows = [(heading, "min", "max", "distinct", "domain")]
    for name, values, domain in columns:
        numbers = [exact(value) for value in values]
        numeric = all(_is_number(number) for number in numbers)
        low, high = (_short(min(numbers)), _short(max(numbers))) if numeric and numbers else ("", "")
        distinct = len({json.dumps(_plain(value), sort_keys=True) for value in values})
        rows.append((name, low, high, str(distinct), domain))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    return [
        "  ".join(cell.ljust(width) if column in (0, 4) else cell.rjust(width) for column, (cell, width) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


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
    from symconv.render.latex import render_solution

    require_parametrised(exercise)
    if count < 1:
        raise invalid("-n", count, "must be at least 1")
    pins = pins_for(exercise, pins or {})
    tally, seen, duplicates, drawn = Tally(), set(), 0, []
    start = time.perf_counter()
    for index in range(count):
        params = _draw(exercise, variant_random(_digest(seed, None, exercise, pins, index)), pins, None, tally)
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
    space = distinct_valid(exercise, pins) if combinations(exercise, pins) <= ENUMERATION_LIMIT else None
    return StressReport(exercise, count, seed, drawn, answers, tally, duplicates, space, draw_seconds, worked_seconds)
