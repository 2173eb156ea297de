"""Theoretical receptive field (Araujo, Norris & Sim, Distill 2019): of a stack of layers, and of a network's units.

Per layer l with kernel K, stride s, dilation d and padding p, from r_0 = 1, j_0 = 1, u_0 = 0:
r_l = r_{l-1} + (K_eff - 1) j_{l-1}, j_l = j_{l-1} s, u_l = u_{l-1} - p j_{l-1}.
r is the size, j the effective stride (jump) and u the input coordinate of the left edge of the
first output unit's field (negative where it starts in the padding). Padding moves the field,
never resizes it.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from symconv.checks import require_at_least
from symconv.errors import SymconvError
from symconv.errors import invalid
from symconv.formula import compute, formula
from symconv.formulas import effective_kernel_size
from symconv.solution import Table
from symconv.transform import constant
from symconv.values import divide, is_sympy, same


def _check_step(values: Mapping[str, Any]) -> None:
    require_at_least(1, values, *(name for name in ("kernel_size", "stride", "dilation") if name in values))


@formula("receptive_field", "pixels", check=_check_step)
def receptive_field_growth(receptive_field_in, jump_in, kernel_size, dilation=1):
    """Each layer widens the field by its effective kernel minus one, d(K - 1), in units of the incoming jump."""
    return receptive_field_in + dilation * (kernel_size - 1) * jump_in


@formula("jump", "pixels", check=_check_step)
def jump_growth(jump_in, stride):
    """The distance in input pixels between neighbouring units grows by each stride."""
    return jump_in * stride


@formula("start", "pixels")
def start_growth(start_in, jump_in, padding=0):
    """Left edge of the first unit's field: padding shifts it left by p incoming jumps."""
    return start_in - padding * jump_in


@dataclass(frozen=True)
class LayerWindow:
    """The sliding-window hyperparameters of one layer; element-wise layers are K = 1, s = 1."""

    kernel_size: Any
    stride: Any = 1
    dilation: Any = 1
    padding: Any = 0
    name: str = ""


@dataclass(frozen=True)
class FieldRow:
    layer: LayerWindow
    receptive_field: Any
    jump: Any
    start: Any


@dataclass(frozen=True)
class ReceptiveField:
    """Size r, jump j and start u after the last layer, and the same per layer."""

    size: Any
    jump: Any
    start: Any
    rows: tuple[FieldRow, ...]


def as_window(layer: Any) -> LayerWindow:
    """Accept a LayerWindow, a mapping of its fields, or a tuple (kernel_size, stride, dilation, padding)."""
    if isinstance(layer, LayerWindow):
        return layer
    if isinstance(layer, Mapping):
        return LayerWindow(**layer)
    if isinstance(layer, Sequence) and 1 <= len(layer) <= 4:
        return LayerWindow(*layer)
    raise SymconvError(f"layer={layer!r}: must be (kernel_size, stride[, dilation[, padding]]) or a mapping of those")


def receptive_field(layers: Iterable[Any]) -> ReceptiveField:
    """Fold the recurrences over ``layers``, keeping every intermediate row."""
    size, jump, start = 1, 1, 0
    rows = []
    for layer in map(as_window, layers):
        size, jump, start = (
            receptive_field_growth(size, jump, layer.kernel_size, layer.dilation),
            jump_growth(jump, layer.stride),
            start_growth(start, jump, layer.padding),
        )
        rows.append(FieldRow(layer, size, jump, start))
    return ReceptiveField(size, jump, start, tuple(rows))


def field_table(field: ReceptiveField) -> Table:
    """Layer by layer: the window, then the size r and jump j after the layer (r_0 = j_0 = 1)."""
    rows = [("input", "", "", "", 1, 1)]
    for index, row in enumerate(field.rows, start=1):
        layer = row.layer
        rows.append((layer.name or f"layer {index}", layer.kernel_size, layer.stride, layer.dilation, row.receptive_field, row.jump))
    return Table(("layer", "$K$", "$s$", "$d$", "$r_l$", "$j_l$"), tuple(rows))


def closed_form(field: ReceptiveField) -> ast.expr:
    """The unrolled recurrence r = 1 + sum over layers of (K_eff - 1) j_{l-1}, with the values in place."""
    total: ast.expr = constant(1)
    jump_before = 1
    for row in field.rows:
        span = effective_kernel_size(row.layer.kernel_size, row.layer.dilation)
        term = ast.BinOp(left=ast.BinOp(left=constant(span), op=ast.Sub(), right=constant(1)), op=ast.Mult(), right=constant(jump_before))
        total = ast.BinOp(left=total, op=ast.Add(), right=term)
        jump_before = row.jump
    return total


# ---- the fields of a whole network's units, exact through transposed convolutions and crops ----


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
        kernel_size, stride, padding, dilation = _numeric("a sliding window after a transposed convolution", kernel_size, stride, padding, dilation)
        period = self.period // math.gcd(self.period, stride)
        taps = lambda v: (v * stride - padding + t * dilation for t in range(kernel_size))  # noqa: E731
        return Field(period, self.shift * period * stride // self.period, tuple(self._hull(taps(v)) for v in range(period)), self.aliases)

    def transposed(self, kernel_size: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> "Field":
        """After a transposed convolution: output o reads input i wherever o = i·s − p + t·d."""
        kernel_size, stride, padding, dilation = _numeric("a transposed convolution", kernel_size, stride, padding, dilation)
        period = self.period * stride
        taps = lambda o: ((o + padding - t * dilation) // stride for t in range(kernel_size) if (o + padding - t * dilation) % stride == 0)  # noqa: E731
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
        return Field(period, shift, tuple(Field._union([field.span(unit) for field in fields]) for unit in range(period)), aliases)

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
