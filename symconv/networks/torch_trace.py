"""Trace a torch module with torch.export (non-strict, dynamic sizes) and read its sizes and guards as symconv's sympy.

torch.export runs the module on fake tensors whose dynamic sizes are symbols; every size in the graph
is then a sympy expression in torch's own functions (``FloorDiv``, ``TruncToInt``, ``PythonMod`` …),
and the conditions the trace relied on are the shape environment's guards. ``Translator`` rewrites
both into plain sympy over the user's symbols (floor, ceiling, Min, Max), which the report evaluates
exactly. Only this module and ``torch_ops`` import torch, and only when called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from symconv.core.errors import SymconvError, invalid
from symconv.core.symbols import symbol

# Samples for the dynamic sizes, tried in turn: non-square (a square sample merges H and W), large
# enough that no intermediate size is 0 or 1 (torch specialises those), divisible by 64 (U-Nets).
# A smaller one serves models with a size limit (a position embedding cut to the token count); the
# last, square and 224, models that run at one size only (a fixed position embedding).
SAMPLES = ((256, 320), (96, 128), (224, 224))


@dataclass(frozen=True)
class Trace:
    """An exported program and the translation of its sizes into the caller's symbols."""

    program: Any
    translator: "Translator"
    input_shape: tuple[Any, ...]  # the caller's shape (batch excluded), specialised sizes as ints
    conditions: tuple[Any, ...]  # sympy conditions on the caller's symbols under which the trace holds


def export(module: Any, input_shape: tuple[Any, ...], sample: tuple[int, ...] | None = None) -> Trace:
    """torch.export of ``module`` on a batch of one; string entries of ``input_shape`` are dynamic sizes."""
    import torch
    from torch.export import Dim

    dynamic = [index for index, entry in enumerate(input_shape) if isinstance(entry, str)]
    samples = [sample] if sample is not None else list(SAMPLES)
    failures = []
    for candidate in samples:
        sizes = list(input_shape)
        for position, index in enumerate(dynamic):
            sizes[index] = candidate[position % len(candidate)]
        example = torch.zeros(1, *sizes)
        dynamic_shapes = ({index + 1: Dim.AUTO for index in dynamic},) if dynamic else None
        try:
            with torch.no_grad():  # shapes and counts need no autograd bookkeeping; the trace is faster without it
                program = torch.export.export(module, (example,), dynamic_shapes=dynamic_shapes, strict=False)
        except Exception as error:  # noqa: BLE001 - any failure of the user's model is reported by name
            failures.append((f"{type(error).__name__}: {_first_line(error)}", "×".join(map(str, sizes))))
            continue
        return _trace(program, input_shape)
    reasons: dict[str, list[str]] = {}
    for reason, at in failures:
        reasons.setdefault(reason, []).append(at)
    told = "; ".join(f"at {', '.join(sizes)}: {reason}" for reason, sizes in reasons.items())
    raise SymconvError(f"{type(module).__name__}: torch.export failed {told}")


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def _trace(program: Any, input_shape: tuple[Any, ...]) -> Trace:
    import sympy

    placeholder = next(node for node in program.graph.nodes if node.op == "placeholder" and node.name in _user_inputs(program))
    torch_sizes = placeholder.meta["val"].shape[1:]
    mapping: dict[Any, Any] = {}
    conditions: list[Any] = []
    shape: list[Any] = []
    for entry, size in zip(input_shape, torch_sizes):
        if not isinstance(entry, str):
            shape.append(entry)
            continue
        ours = symbol(entry)
        expression = _expression(size)
        if isinstance(expression, sympy.Symbol) and expression not in mapping:
            mapping[expression] = ours
            shape.append(ours)
        else:  # torch fixed this size, or tied it to another one
            translated = Translator(mapping)(expression)
            conditions.append(sympy.Eq(ours, translated))
            shape.append(translated)
    translator = Translator(mapping)
    environment = _shape_env(program)
    if environment is not None:
        conditions = _ranges(environment, mapping) + conditions + _guards(environment, translator)
    return Trace(program, translator, tuple(shape), tuple(pruned(combined(conditions), list(mapping.values()))))


def _user_inputs(program: Any) -> set[str]:
    return {spec.arg.name for spec in program.graph_signature.input_specs if spec.kind.name == "USER_INPUT"}


def _expression(size: Any) -> Any:
    """The sympy expression of a torch size (an int stays an int)."""
    import sympy

    return sympy.Integer(size) if isinstance(size, int) else size.node.expr


def _shape_env(program: Any) -> Any:
    from torch.export.exported_program import _get_shape_env

    return _get_shape_env(program.graph_module)


def _ranges(environment: Any, mapping: dict[Any, Any]) -> list[Any]:
    """The range torch inferred for each dynamic size: H ≥ lower bound (sizes are ≥ 1 anyway)."""
    import sympy

    conditions = []
    for theirs, ours in mapping.items():
        bounds = environment.var_to_range.get(theirs)
        if bounds is None:
            continue
        if bounds.lower.is_Integer and int(bounds.lower) > 1:
            conditions.append(sympy.Ge(ours, int(bounds.lower)))
        if bounds.upper.is_Integer:
            conditions.append(sympy.Le(ours, int(bounds.upper)))
    return conditions


def _guards(environment: Any, translator: "Translator") -> list[Any]:
    """The guards that still matter: not implied by the ranges, not torch's "size ≠ 1" bookkeeping.

    An inequation (≠) is recorded when a size could have been 1 (broadcasting) or equal to another
    size, to keep the traced graph general; it is no condition on the sizes the model runs at.
    """
    import sympy

    kept = []
    for guard in environment.guards:
        expression = guard.expr
        if isinstance(expression, sympy.Ne) or not expression.free_symbols <= set(translator.mapping):
            continue
        try:
            known = environment._maybe_evaluate_static(expression, axioms=())  # decided by the final ranges alone
        except Exception:  # noqa: BLE001 - a private API: without it every guard is kept
            known = None
        if known is not None and bool(known):
            continue
        condition = divisibility(translator(expression))
        if condition is not sympy.true:
            kept.append(condition)
    return kept


def divisibility(condition: Any) -> Any:
    """torch's ways of saying "is a multiple": k⌊x/k⌋ = x becomes x mod k = 0, and k⌊x/(km)⌋ = ⌊x/m⌋
    becomes ⌊x/m⌋ mod k = 0."""
    import sympy

    if not isinstance(condition, sympy.Eq):
        return condition
    difference = condition.lhs - condition.rhs
    quotients = [(quotient, *sympy.fraction(sympy.together(quotient.args[0]))) for quotient in difference.atoms(sympy.floor)]
    for quotient, numerator, denominator in quotients:
        if not denominator.is_Integer:
            continue
        candidates = [(numerator, denominator)]  # x itself, or a coarser quotient ⌊x/m⌋ with m dividing k·m
        for other, other_numerator, other_denominator in quotients:
            same_numerator = other_numerator == numerator and other_denominator.is_Integer
            if same_numerator and other_denominator < denominator and denominator % other_denominator == 0:
                candidates.append((other, denominator // other_denominator))
        for multiple, factor in candidates:
            if any(sympy.expand(difference - sign * (factor * quotient - multiple)) == 0 for sign in (1, -1)):
                return sympy.Eq(sympy.Mod(multiple, factor), 0)
    return condition


def combined(conditions: list[Any]) -> list[Any]:
    """x mod m = 0 and ⌊x/m⌋ mod k = 0 together are x mod km = 0 (repeatedly: a U-Net's levels)."""
    import sympy

    conditions = list(dict.fromkeys(conditions))
    merged = True
    while merged:
        merged = False
        multiples = {
            (condition.lhs.args[0], condition.lhs.args[1]): condition
            for condition in conditions
            if isinstance(condition, sympy.Eq) and isinstance(condition.lhs, sympy.Mod) and condition.rhs == 0
        }
        for (value, factor), condition in multiples.items():
            if not isinstance(value, sympy.floor):
                continue
            numerator, denominator = sympy.fraction(sympy.together(value.args[0]))
            inner = multiples.get((numerator, denominator))
            if inner is not None and denominator.is_Integer:
                stronger = sympy.Eq(sympy.Mod(numerator, denominator * factor), 0)
                conditions = [stronger if entry is inner else entry for entry in conditions if entry is not condition]
                merged = True
                break
    return conditions


def pruned(conditions: list[Any], symbols: list[Any]) -> list[Any]:
    """The conditions without the inequalities that the others already imply on a grid of sizes.

    torch records an inequality for every size check it meets (a product of sizes ≥ 2, a crop that
    fits); most follow from one tighter bound. An inequality (or an and/or of them) is dropped when no
    size from each symbol's least value to 128 beyond it, nor 255, 1,000 or 4,099 beyond it, satisfies
    the others but not it. Equations (multiples, fixed sizes) are always kept. An upper bound is thus
    dropped only if it lies beyond 4,099 pixels more than the least size, which no image reaches.
    """
    import numpy
    import sympy

    if not symbols or len(conditions) < 2:
        return conditions
    lowest = {symbol: _least(conditions, symbol) for symbol in symbols}
    axes = [
        numpy.array([*range(lowest[symbol], lowest[symbol] + 129), *(lowest[symbol] + step for step in (255, 1000, 4099))])
        for symbol in symbols
    ]
    grid = [axis.ravel() for axis in numpy.meshgrid(*axes, indexing="ij")]
    holds = {}
    for condition in conditions:
        values = sympy.lambdify(symbols, condition, "numpy")(*grid)
        holds[condition] = numpy.broadcast_to(numpy.asarray(values, dtype=bool), grid[0].shape)
    kept = list(conditions)
    for condition in conditions:
        if not _inequality(condition) or condition in _range_bounds(symbols, conditions):
            continue
        others = [holds[other] for other in kept if other is not condition]
        where = numpy.logical_and.reduce(others) if others else numpy.ones_like(grid[0], dtype=bool)
        if not numpy.any(where & ~holds[condition]):
            kept.remove(condition)
    return kept


def _least(conditions: list[Any], symbol: Any) -> int:
    """The least size of ``symbol`` its range allows (1 without a range)."""
    import sympy

    bounds = [int(c.rhs) for c in conditions if isinstance(c, sympy.GreaterThan) and c.lhs == symbol and c.rhs.is_Integer]
    return max([1, *bounds])


def _range_bounds(symbols: list[Any], conditions: list[Any]) -> list[Any]:
    import sympy

    return [c for c in conditions if isinstance(c, sympy.GreaterThan) and c.lhs in symbols and c.rhs.is_Integer]


def _inequality(condition: Any) -> bool:
    import sympy

    if isinstance(condition, (sympy.And, sympy.Or)):
        return all(_inequality(argument) for argument in condition.args)
    return isinstance(condition, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan))


class Translator:
    """torch's symbolic sizes → plain sympy over the caller's symbols (cached per expression)."""

    def __init__(self, mapping: dict[Any, Any]) -> None:
        self.mapping = mapping
        self.cache: dict[Any, Any] = {}

    def __call__(self, expression: Any) -> Any:
        """A torch size (int, SymInt or sympy expression) as an int or a plain sympy expression."""
        if isinstance(expression, bool):
            return expression
        if isinstance(expression, int):
            return expression
        node = getattr(expression, "node", None)
        if node is not None:  # a SymInt / SymFloat / SymBool
            expression = node.expr
        result = self.cache.get(expression)
        if result is None:
            result = self._translate(expression)
            self.cache[expression] = result
        return int(result) if getattr(result, "is_Integer", False) else result

    def _translate(self, expression: Any) -> Any:
        import sympy

        if expression in self.mapping:
            return self.mapping[expression]
        if isinstance(expression, sympy.Float):
            return sympy.Rational(float(expression))  # the double torch multiplies by, exactly
        if expression.is_Atom:
            if expression.is_Symbol:
                raise invalid("size", str(expression), "depends on a size torch did not take from the input")
            return expression
        name = type(expression).__name__
        arguments = [self._translate(argument) for argument in expression.args]
        rule = _FUNCTIONS.get(name)
        if rule is not None:
            return rule(*arguments)
        if isinstance(
            expression, (sympy.Add, sympy.Mul, sympy.Pow, sympy.Min, sympy.Max, sympy.Rel, sympy.And, sympy.Or, sympy.Not)
        ):
            return expression.func(*arguments)
        if isinstance(expression, (sympy.floor, sympy.ceiling)):
            return expression.func(*arguments)
        raise invalid("size", str(expression), f"uses {name}, which symconv cannot express exactly")


def _floor_division(a: Any, b: Any) -> Any:
    import sympy

    return sympy.floor(a / b)


def _modulo(a: Any, b: Any) -> Any:
    import sympy

    return a - b * sympy.floor(a / b)


def _ceiling_division(a: Any, b: Any) -> Any:
    import sympy

    return sympy.ceiling(a / b)


def _floor(a: Any, *rest: Any) -> Any:
    """Sizes are never negative, so truncation toward zero is the floor."""
    import sympy

    return sympy.floor(a)


def _ceiling(a: Any, *rest: Any) -> Any:
    import sympy

    return sympy.ceiling(a)


def _maximum(*arguments: Any) -> Any:
    import sympy

    return sympy.Max(*arguments)


def _minimum(*arguments: Any) -> Any:
    import sympy

    return sympy.Min(*arguments)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "FloorDiv": _floor_division,
    "CleanDiv": lambda a, b: a / b,
    "CeilDiv": _ceiling_division,
    "IntTrueDiv": lambda a, b: a / b,
    "FloatTrueDiv": lambda a, b: a / b,
    "Mod": _modulo,
    "PythonMod": _modulo,
    "TruncToInt": _floor,
    "FloorToInt": _floor,
    "CeilToInt": _ceiling,
    "ToFloat": lambda a: a,
    "TruncToFloat": _floor,
    "Identity": lambda a: a,
    "Max": _maximum,
    "Min": _minimum,
    "IntTrueDivision": lambda a, b: a / b,
}
