"""What a variant may draw: parameter domains, validity and interest constraints, and the main answer a quiz asks for."""

from __future__ import annotations

import ast
import copy
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from numbers import Real
from typing import Any, Callable, Mapping

from symconv.core.errors import SymconvError, invalid
from symconv.core.formula import Formula
from symconv.core.values import exact, is_integer

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


@dataclass(frozen=True)
class IntMatrix:
    """Integer matrices, rows as tuples: a side from ``sides`` (the row count, and the column count unless
    ``columns`` fixes it), then every entry from low..high.

    Too many to list, so never enumerated: ``count`` says how many there are.
    """

    sides: tuple[int, ...]
    low: int
    high: int
    columns: int | None = None

    def __post_init__(self) -> None:
        if not self.sides or any(not is_integer(side) or side < 1 for side in self.sides) or self.high < self.low:
            raise invalid("IntMatrix", (self.sides, self.low, self.high), "needs sides >= 1 and low <= high")

    def _shape(self, side: int) -> tuple[int, int]:
        return side, self.columns or side

    @property
    def count(self) -> int:
        return sum((self.high - self.low + 1) ** math.prod(self._shape(side)) for side in self.sides)

    @property
    def values(self) -> Any:
        import itertools

        span = range(self.low, self.high + 1)
        return (
            tuple(entries[row * cols : (row + 1) * cols] for row in range(rows))
            for rows, cols in map(self._shape, self.sides)
            for entries in itertools.product(span, repeat=rows * cols)
        )

    def draw(self, rng: random.Random) -> tuple[tuple[int, ...], ...]:
        rows, cols = self._shape(self.sides[_below(rng, len(self.sides))])
        span = self.high - self.low + 1
        return tuple(tuple(self.low + _below(rng, span) for _ in range(cols)) for _ in range(rows))

    def draw_array(self, generator: Any, size: int) -> Any:
        raise invalid("IntMatrix", str(self), "matrices are drawn one variant at a time, not as arrays")

    def __str__(self) -> str:
        shapes = " or ".join("×".join(map(str, self._shape(side))) for side in self.sides)
        return f"{shapes}, entries {self.low}..{self.high}"


@dataclass(frozen=True)
class IntTuple:
    """Tuples of ``length`` integers, each from low..high."""

    length: int
    low: int
    high: int

    def __post_init__(self) -> None:
        if not is_integer(self.length) or self.length < 1 or self.high < self.low:
            raise invalid("IntTuple", (self.length, self.low, self.high), "needs length >= 1 and low <= high")

    @property
    def count(self) -> int:
        return (self.high - self.low + 1) ** self.length

    @property
    def values(self) -> Any:
        import itertools

        return itertools.product(range(self.low, self.high + 1), repeat=self.length)

    def draw(self, rng: random.Random) -> tuple[int, ...]:
        return tuple(self.low + _below(rng, self.high - self.low + 1) for _ in range(self.length))

    def draw_array(self, generator: Any, size: int) -> Any:
        raise invalid("IntTuple", str(self), "tuples are drawn one variant at a time, not as arrays")

    def __str__(self) -> str:
        return f"{self.length} integers {self.low}..{self.high}"


def domain_size(domain: Any) -> int:
    """How many values a domain holds: ``count`` where there are too many to list, else ``len``.

    A domain is any object with ``draw(rng)`` (using only ``rng.random()``) and ``__str__``, plus either ``values``
    and ``__len__`` or ``count`` (a lower bound when it sets ``lower_bound = True``); exercises may define their
    own, e.g. a set of detections around given objects.
    """
    count = getattr(domain, "count", None)
    return count if isinstance(count, int) else len(domain)


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
    from symconv.core.derive import formula_tree

    class TrueDivision(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            self.generic_visit(node)
            return ast.BinOp(left=node.left, op=ast.Div(), right=node.right) if isinstance(node.op, ast.FloorDiv) else node

    tree = ast.fix_missing_locations(ast.Expression(TrueDivision().visit(copy.deepcopy(formula_tree(formula)))))
    exact_quotient = compile(tree, f"<{formula.name} without floor>", "eval")

    def holds(params: Mapping[str, Any]) -> bool:
        values = formula.bind(**_arguments(formula, params))
        fractions = {name: Fraction(value) if is_integer(value) else value for name, value in values.items()}
        return eval(exact_quotient, formula.function.__globals__, fractions) != formula.function(**values)

    return Constraint(description, holds, share=share)


@dataclass(frozen=True)
class MainAnswer:
    """The number a quiz question asks for: an answer, or one entry of a matrix answer; a matrix, list or
    mapping of numbers is asked for as several parts.

    ``prompt`` is prose (inline math between ``$``) completing "Enter …".
    """

    name: str
    prompt: str
    index: tuple[int | str, ...] = ()

    def value(self, answers: Mapping[str, Any]) -> Any:
        value = answers[self.name]
        for position in self.index:
            value = value[position]
        # A mapping (one number per case, e.g. per depth) is asked for in its order; an array as nested lists.
        if isinstance(value, Mapping):
            return list(value.values())
        return value.tolist() if hasattr(value, "tolist") else exact(value)


@dataclass(frozen=True)
class AnswerParts:
    """Several numbers asked together (one multi-part quiz question): each an answer or one entry of one.

    ``parts`` holds (label, answer name, index) triples; ``name`` names the whole set in reports.
    """

    name: str
    prompt: str
    parts: tuple[tuple[str, str, tuple[int | str, ...]], ...]

    def labels(self) -> list[str]:
        return [label for label, _, _ in self.parts]

    def value(self, answers: Mapping[str, Any]) -> list[Any]:
        return [MainAnswer(name, label, index).value(answers) for label, name, index in self.parts]


def formula_answers(**formulas: Formula) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """An ``array_answers`` hook: each answer is a formula's plain function applied to the parameter arrays."""

    def answers(arrays: Mapping[str, Any]) -> dict[str, Any]:
        return {name: formula.function(**_arguments(formula, arrays)) for name, formula in formulas.items()}

    return answers


def is_number(value: Any) -> bool:
    """A real number that is not a truth value."""
    return isinstance(value, Real) and not isinstance(value, bool)
