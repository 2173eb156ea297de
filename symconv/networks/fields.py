"""The receptive fields of a network's units (Araujo et al. 2019), exact through transposed convolutions and crops."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from symconv.core.errors import invalid
from symconv.core.formula import compute
from symconv.core.values import divide, is_sympy, same
from symconv.formulas.receptive_field import (
    jump_growth,
    receptive_field_growth,
    start_growth,
)


class Field:
    """The receptive fields of a map's units along the width, in input pixels (Araujo et al. 2019, made
    exact for transposed convolutions and crops). Windows are square, so the height's fields are the
    same unless a crop is off-centre by different amounts along the two axes.

    Unit q + m·period covers input pixels [lo_q + m·shift, hi_q + m·shift] (``spans[q]``; None when the
    unit depends on no input pixel at all). Ordinary layers keep one span (period 1): then r = hi − lo + 1,
    the jump j = shift and the start u = lo follow Araujo's recurrences, symbols allowed. A transposed
    convolution of stride s gives units of s kinds (period s) whose spans are tracked one by one, which
    needs numeric hyperparameters. The size r is the widest span, the jump j = shift / period.

    A crop whose offset depends on the input size moves spans by a symbolic amount; it is carried as a
    placeholder symbol (``aliases``: placeholder → offset) so that comparing span ends stays cheap, and
    put back, unevaluated, in the size.
    """

    __slots__ = ("period", "shift", "spans", "aliases")

    def __init__(self, period: int, shift: Any, spans: tuple[Any, ...], aliases: Mapping[Any, Any] | None = None) -> None:
        self.period, self.shift, self.spans, self.aliases = period, shift, spans, aliases or {}

    @classmethod
    def input(cls) -> "Field":
        return cls(1, 1, ((0, 0),))

    @property
    def size(self) -> Any:
        sizes = [hi - lo + 1 for lo, hi in filter(None, self.spans)]
        if not sizes:
            return 0
        if not self.aliases:
            return _largest(sizes)
        import sympy

        largest = _largest(sizes)
        with sympy.evaluate(False):  # deciding Min/Max of nested floors would cost seconds
            return largest.xreplace(self.aliases)

    @property
    def jump(self) -> Any:
        return divide(self.shift, self.period)

    def span(self, unit: int) -> Any:
        """The input interval of any unit, the grid extended periodically beyond the borders."""
        cycles, residue = divmod(unit, self.period)
        span = self.spans[residue]
        return None if span is None else (span[0] + cycles * self.shift, span[1] + cycles * self.shift)

    def window(self, kernel_size: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> "Field":
        """After a sliding window: unit v reads units v·s − p + t·d for t = 0 … K − 1."""
        if self.period == 1 and self.spans[0] is not None:
            (lo, hi), jump = self.spans[0], self.shift
            size = compute(receptive_field_growth, hi - lo + 1, jump, kernel_size, dilation)
            start = compute(start_growth, lo, jump, padding)
            return Field(1, compute(jump_growth, jump, stride), ((start, start + size - 1),), self.aliases)
        kernel_size, stride, padding, dilation = _numeric(
            "a sliding window after a transposed convolution", kernel_size, stride, padding, dilation
        )
        period = self.period // math.gcd(self.period, stride)
        taps = lambda v: (v * stride - padding + t * dilation for t in range(kernel_size))  # noqa: E731
        return Field(
            period, self.shift * period * stride // self.period, tuple(self._hull(taps(v)) for v in range(period)), self.aliases
        )

    def transposed(self, kernel_size: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> "Field":
        """After a transposed convolution: output o reads input i wherever o = i·s − p + t·d."""
        kernel_size, stride, padding, dilation = _numeric("a transposed convolution", kernel_size, stride, padding, dilation)
        period = self.period * stride
        taps = lambda o: (
            (o + padding - t * dilation) // stride for t in range(kernel_size) if (o + padding - t * dilation) % stride == 0
        )  # noqa: E731
        return Field(period, self.shift, tuple(self._hull(taps(o)) for o in range(period)), self.aliases)

    def cropped(self, offset: Any) -> "Field":
        """After dropping ``offset`` leading units (a centre crop): unit u is the old unit u + offset."""
        aliases = self.aliases
        if is_sympy(offset) and offset.free_symbols:
            import sympy

            alias = sympy.Dummy("offset", integer=True, nonnegative=True)
            offset, aliases = alias, {**aliases, alias: offset}
        if self.period == 1 and self.spans[0] is not None:
            (lo, hi), moved = self.spans[0], offset * self.shift
            return Field(1, self.shift, ((lo + moved, hi + moved),), aliases)
        (offset,) = _numeric("a crop after a transposed convolution", offset)
        return Field(self.period, self.shift, tuple(self.span(unit + offset) for unit in range(self.period)), aliases)

    def _hull(self, units: Iterable[int]) -> Any:
        return Field._union([self.span(unit) for unit in units])

    @staticmethod
    def merge(fields: list["Field"]) -> "Field | None":
        """Paths joined unit by unit: each unit sees the hull of what it sees along every path (for
        aligned paths, the widest one). Paths whose units are spaced differently share no grid: None."""
        first = fields[0]
        aliases = {alias: offset for field in fields for alias, offset in field.aliases.items()}
        if all(field.period == 1 and field.spans[0] is not None and same(field.shift, first.shift) for field in fields):
            spans = [field.spans[0] for field in fields]
            return Field(1, first.shift, ((_smallest(lo for lo, _ in spans), _largest(hi for _, hi in spans)),), aliases)
        if any(not same(field.jump, first.jump) for field in fields):
            return None
        _numeric("joining paths after a transposed convolution", *(field.shift for field in fields))
        period = math.lcm(*(field.period for field in fields))
        shift = int(first.shift) * period // first.period
        return Field(
            period, shift, tuple(Field._union([field.span(unit) for field in fields]) for unit in range(period)), aliases
        )

    @staticmethod
    def _union(spans: list[Any]) -> Any:
        """The smallest interval holding every span (a crop's offset may leave the ends symbolic)."""
        spans = [span for span in spans if span is not None]
        return (_smallest(lo for lo, _ in spans), _largest(hi for _, hi in spans)) if spans else None

    def __repr__(self) -> str:
        return f"Field(period={self.period}, shift={self.shift}, spans={self.spans})"


def _numeric(what: str, *values: Any) -> tuple[int, ...]:
    """The values as ints (sympy integers included), or the error saying why they must be numbers."""
    if not all(isinstance(value, int) or getattr(value, "is_Integer", False) for value in values):
        symbolic = next(value for value in values if not isinstance(value, int))
        raise invalid("receptive field", symbolic, f"{what} is followed unit by unit, which needs integer hyperparameters")
    return tuple(int(value) for value in values)


def _largest(values: Iterable[Any]) -> Any:
    return _extreme(values, smallest=False)


def _smallest(values: Iterable[Any]) -> Any:
    return _extreme(values, smallest=True)


def _extreme(values: Iterable[Any], smallest: bool) -> Any:
    """min or max that stays cheap on symbolic span ends: candidates are flattened, those with the same
    symbolic part compared by their constants, and any other candidate dropped only when sympy can
    prove another one beats it; what remains is an unevaluated Min/Max (sympy's own would try to
    decide every pair of nested floors, which costs minutes on a U-Net)."""
    values = list(values)
    if not any(is_sympy(value) for value in values):
        return min(values) if smallest else max(values)
    import sympy

    kind = sympy.Min if smallest else sympy.Max
    better = (lambda a, b: a <= b) if smallest else (lambda a, b: a >= b)
    by_part: dict[Any, Any] = {}
    for value in values:
        constant, part = sympy.sympify(value).as_coeff_Add()
        for term in part.args if isinstance(part, kind) else (part,):
            term_constant, term_part = (term + constant).as_coeff_Add()
            if term_part not in by_part or better(term_constant, by_part[term_part]):
                by_part[term_part] = term_constant
    kept: list[Any] = []
    for candidate in (part + constant for part, constant in by_part.items()):
        if any(_beats(other, candidate, smallest) for other in kept):
            continue
        kept = [other for other in kept if not _beats(candidate, other, smallest)] + [candidate]
    return kept[0] if len(kept) == 1 else kind(*kept, evaluate=False)


def _beats(a: Any, b: Any, smallest: bool) -> bool:
    """True when a is provably at least as extreme as b (sympy's assumptions on their difference)."""
    difference = a - b
    return bool(difference.is_nonpositive if smallest else difference.is_nonnegative)


# ---- the base class -----------------------------------------------------------------------------
