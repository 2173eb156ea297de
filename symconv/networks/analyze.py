"""Walk a network once → Report: per-layer shapes, parameters, MACs and receptive field, with totals.

``analyze(net, (3, 224, 224))`` is plain integer arithmetic (neither sympy nor numpy is imported);
``analyze(net, (3, "H", "W"))`` gives exact sympy expressions (floors included), and
``report.subs(H=…, W=…)`` evaluates them back to the numeric report, exactly and fast.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from numbers import Integral
from typing import Any, Callable, Mapping

from symconv.core.errors import SymconvError, invalid
from symconv.core.transform import constant
from symconv.core.values import exact, is_sympy
from symconv.formulas.layers import elementwise_macs
from symconv.networks.fields import Field
from symconv.networks.layers import Layer, Signal, elements, shape_text, size

# fvcore's FlopCountAnalysis (one "flop" per multiply-accumulate) on top of the layers' own MACs:
# kind -> (count per element, the tensor whose elements are counted). ReLU, max pool, add: 0.
FVCORE_ELEMENTWISE: dict[str, tuple[int, str]] = {
    "BatchNorm2d": (2, "output"),
    "GroupNorm": (5, "output"),
    "LayerNorm": (5, "output"),
    "AdaptiveAvgPool2d": (1, "input"),
}
Rule = Callable[[tuple, tuple], Any]


def _per_element(count: int, side: str) -> Rule:
    return lambda shape_in, shape_out: elementwise_macs(elements(shape_out if side == "output" else shape_in), count)


CONVENTIONS: dict[str, dict[str, Rule]] = {
    "macs": {},
    "fvcore": {kind: _per_element(count, side) for kind, (count, side) in FVCORE_ELEMENTWISE.items()},
}
CONVENTION_NOTES: dict[str, str] = {
    "macs": (
        "Convention macs: one multiply-accumulate counts 1; convolution, linear and attention products "
        "are counted, biases, normalisation, activations, pooling and additions are not (torchvision's "
        "published figures). FLOPs are twice the MACs. Parameters are the learned weights, each counted once; "
        "buffers such as batch norm's running statistics are not parameters."
    ),
    "fvcore": (
        "Convention fvcore (FlopCountAnalysis, one flop per multiply-accumulate): the MACs of convolution, "
        "linear and attention products, plus 2 per output element of batch norm, 5 per element of layer "
        "and group norm, 1 per input element of adaptive average pooling; activations, max pooling and "
        "additions count 0. Parameters are the learned weights, each counted once; buffers are not parameters."
    ),
}


@dataclass(frozen=True)
class Row:
    """One layer: ``receptive_field`` and ``jump`` are None once the spatial grid has been mixed away."""

    path: str
    kind: str
    output_shape: tuple[Any, ...]
    params: Any
    macs: Any
    receptive_field: Any
    jump: Any


@dataclass(frozen=True)
class Report:
    """Totals and rows of one analysis; values are ints (and Fractions) or sympy expressions.

    ``receptive_field`` and ``jump`` are those of the last layer that still has spatial extent, along
    the width (see ``symconv.networks.fields.Field``); a unit of a multi-path network sees the union of what its
    paths see, which for aligned paths is the widest path.
    """

    params: Any
    macs: Any
    macs_by_op: Mapping[str, Any]
    output_shape: tuple[Any, ...]
    receptive_field: Any
    jump: Any
    layers: tuple[Row, ...]
    input_shape: tuple[Any, ...]
    convention: str = "macs"
    # Conditions on the symbols (sympy relations) under which the network runs and the formulas hold.
    valid_when: tuple[Any, ...] = ()
    # Operators met but not counted, as (name, number of calls): never silently zero.
    not_counted: tuple[tuple[str, int], ...] = ()
    # Where the receptive field stops (a global operation) and where joined paths are centred differently.
    field_notes: tuple[str, ...] = ()

    @cached_property
    def symbols(self) -> tuple[Any, ...]:
        """The free symbols of the report, sorted by name."""
        found: set[Any] = set()
        self.map_values(lambda value: found.update(value.free_symbols) if is_sympy(value) else None)
        return tuple(sorted(found, key=lambda symbol: symbol.name))

    def map_values(self, function: Callable[[Any], Any]) -> "Report":
        """The same report with ``function`` applied to every value (sizes, counts, fields)."""

        def values(items: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(map(function, items))

        def row(old: Row) -> Row:
            return Row(
                old.path, old.kind, values(old.output_shape), *values((old.params, old.macs, old.receptive_field, old.jump))
            )

        return Report(
            function(self.params),
            function(self.macs),
            {kind: function(value) for kind, value in self.macs_by_op.items()},
            values(self.output_shape),
            function(self.receptive_field),
            function(self.jump),
            tuple(map(row, self.layers)),
            values(self.input_shape),
            self.convention,
            self.valid_when,
            self.not_counted,
            self.field_notes,
        )

    def subs(self, **sizes: Any) -> "Report":
        """Evaluate a symbolic report at sizes given by symbol name: ``report.subs(H=224, W=224)``."""
        by_name = {symbol.name: symbol for symbol in self.symbols}
        for name in sizes:
            if name not in by_name:
                raise invalid(name, sizes[name], f"is not a symbol of this report (symbols: {', '.join(by_name) or 'none'})")
        sizes = {name: _size_value(name, value) for name, value in sizes.items()}
        if not by_name:
            return self
        _check_conditions(self.valid_when, {by_name[name]: value for name, value in sizes.items()})
        if set(sizes) == set(by_name) and all(isinstance(value, int) for value in sizes.values()):
            evaluated = self._evaluator(*(sizes[name] for name in by_name))
        else:
            mapping = {by_name[name]: value for name, value in sizes.items()}
            evaluated = lambda value: exact(value.xreplace(mapping)) if is_sympy(value) else value  # noqa: E731
        report = self.map_values(evaluated)
        _check_sizes(report, sizes)
        return report

    @cached_property
    def _compiled(self) -> tuple[Callable[..., tuple[Any, ...]], dict[Any, int]]:
        """All symbolic values of the report as one compiled Python function of its symbols (exact)."""
        expressions: dict[Any, int] = {}
        self.map_values(
            lambda value: expressions.setdefault(value, len(expressions)) if is_sympy(value) and value.free_symbols else None
        )
        return compile_exact(list(expressions), self.symbols), expressions

    def _evaluator(self, *arguments: int) -> Callable[[Any], Any]:
        function, positions = self._compiled
        results = [exact(result) for result in function(*arguments)]
        return lambda value: results[positions[value]] if value in positions else exact(value)

    def __repr__(self) -> str:
        from symconv.networks.table import format_table

        return format_table(self)

    def _repr_latex_(self) -> str:
        from symconv.render import markdown

        return "\n\n".join(markdown.BLOCK_RENDERERS[type(block)](block) for block in report_derivations(self))

    def _repr_markdown_(self) -> str:
        """The same Markdown, offered as Markdown: notebooks then render its tables and headings too."""
        return self._repr_latex_()


def _size_value(name: str, value: Any) -> Any:
    """A size to put in: a whole number of at least 1, or a sympy expression in other sizes."""
    if is_sympy(value):
        return value
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise invalid(name, value, "must be a whole number of at least 1 (or a sympy expression)")
    if value < 1:
        raise invalid(name, value, "must be at least 1")
    return int(value)


def _check_conditions(conditions: tuple[Any, ...], mapping: Mapping[Any, Any]) -> None:
    """Sizes outside the conditions a report holds under are an error naming the condition broken."""
    for condition in conditions:
        if condition.xreplace(mapping) == False:  # noqa: E712 - sympy's false is not the object False
            at = ", ".join(f"{symbol}={value}" for symbol, value in mapping.items())
            from symconv.networks.table import condition_text

            raise SymconvError(f"{at}: outside the sizes this report holds for; it needs {condition_text(condition)}")


def _check_sizes(report: Report, sizes: Mapping[str, Any]) -> None:
    """A symbolic report evaluated where some layer would have no output at all is an error."""
    at = ", ".join(f"{name}={value}" for name, value in sizes.items())
    for row in report.layers:
        if any(isinstance(n, int) and n < 1 for n in row.output_shape):
            raise SymconvError(
                f"{row.path or row.kind}: at {at} the output would be {shape_text(row.output_shape)}, below one unit"
            )


# ---- the walk -----------------------------------------------------------------------------------


class Walk:
    """One pass over a network: containers call ``visit`` and ``merge``, leaves go through ``leaf``."""

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        self.rules = rules
        self.rows: list[Row] = []
        self.path = ""

    def visit(self, layer: Layer, name: str, signal: Signal) -> Signal:
        """Trace ``layer`` under ``name`` (an empty name keeps the current path)."""
        outer = self.path
        self.path = _join(outer, name)
        try:
            return layer.trace(signal, self)
        finally:
            self.path = outer

    def leaf(self, layer: Layer, signal: Signal) -> Signal:
        try:
            effect = layer.forward(signal.shape)
            field = None if signal.field is None else layer.field(signal.field, signal.shape)
            rule = self.rules.get(layer.kind)
            macs = effect.macs if rule is None else rule(signal.shape, effect.shape)
        except SymconvError as error:
            raise SymconvError(f"{self.path or layer.kind}: {error}") from None
        self.rows.append(Row(self.path, layer.kind, effect.shape, effect.params, macs, *_size_and_jump(field)))
        return Signal(effect.shape, field)

    def merge(self, kind: str, name: str, shape: tuple[Any, ...], signals: tuple[Signal, ...]) -> Signal:
        """Join paths (an element-wise sum, a concatenation): a unit sees what it sees along every path."""
        fields = [signal.field for signal in signals]
        field = None if any(field is None for field in fields) else Field.merge(fields)
        rule = self.rules.get(kind)
        macs = 0 if rule is None else rule(shape, shape)
        self.rows.append(Row(_join(self.path, name), kind, shape, 0, macs, *_size_and_jump(field)))
        return Signal(shape, field)

    def fail(self, message: str) -> SymconvError:
        return SymconvError(f"{self.path or 'network'}: {message}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def _size_and_jump(field: Field | None) -> tuple[Any, Any]:
    return (None, None) if field is None else (field.size, field.jump)


def total(values: list[Any]) -> Any:
    """The sum, as one sympy Add when anything is symbolic (repeated + would re-sort every time)."""
    if any(is_sympy(value) for value in values):
        import sympy

        return sympy.Add(*values)
    return sum(values)


def analyze(net: Layer, input_shape: tuple[Any, ...], convention: str = "macs") -> Report:
    """Shapes, parameters, MACs (under ``convention``) and receptive field of ``net`` on one input.

    ``input_shape`` excludes the batch: (3, 224, 224), or symbolic (3, "H", "W").
    """
    if not isinstance(net, Layer):
        raise invalid("net", type(net).__name__, "must be a symconv.networks.nn layer")
    if convention not in CONVENTIONS:
        raise invalid("convention", convention, f"must be one of {', '.join(CONVENTIONS)}")
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise invalid("input_shape", input_shape, "must be a tuple of sizes such as (3, 224, 224)")
    if any(isinstance(entry, Integral) and not isinstance(entry, bool) and entry < 1 for entry in input_shape):
        raise invalid("input_shape", tuple(input_shape), "sizes must be at least 1")
    shape = tuple(size("input_shape", entry) for entry in input_shape)
    walk = Walk(CONVENTIONS[convention])
    output = walk.visit(net, "", Signal(shape, Field.input() if len(shape) == 3 else None))
    return assemble(tuple(walk.rows), shape, output.shape, convention)


def assemble(
    rows: tuple[Row, ...], input_shape: tuple[Any, ...], output_shape: tuple[Any, ...], convention: str, **extra: Any
) -> Report:
    """The report of a list of rows: totals, MACs by kind, the last receptive field with spatial extent."""
    field = (1, 1) if len(input_shape) == 3 else None
    by_kind: dict[str, list[Any]] = {}
    for row in rows:
        if not (isinstance(row.macs, int) and row.macs == 0):
            by_kind.setdefault(row.kind, []).append(row.macs)
    for row in rows:
        if row.receptive_field is not None:
            field = (row.receptive_field, row.jump)
    return Report(
        params=total([row.params for row in rows]),
        macs=total([row.macs for row in rows]),
        macs_by_op={kind: total(values) for kind, values in by_kind.items()},
        output_shape=output_shape,
        receptive_field=None if field is None else field[0],
        jump=None if field is None else field[1],
        layers=rows,
        input_shape=input_shape,
        convention=convention,
        **extra,
    )


# ---- exact compiled evaluation of sympy expressions --------------------------------------------

_CALLS = {"floor": "floor", "ceiling": "ceil", "Min": "min", "Max": "max"}


def compile_exact(expressions: list[Any], symbols: tuple[Any, ...]) -> Callable[..., tuple[Any, ...]]:
    """One Python function of ``symbols`` returning every expression, in exact int/Fraction arithmetic.

    Shared subexpressions (the nested floors of the sizes) are computed once.
    """
    import sympy

    names = {symbol: f"_{index}" for index, symbol in enumerate(symbols)}
    shared, reduced = sympy.cse(expressions, symbols=sympy.numbered_symbols("_t"))
    lines = [f"def evaluate({', '.join(names.values())}):"]
    for temporary, expression in shared:
        names[temporary] = temporary.name
        lines.append(f"    {temporary.name} = {_python(expression, names)}")
    lines.append(f"    return ({''.join(_python(expression, names) + ', ' for expression in reduced)})")
    namespace: dict[str, Any] = {"Fraction": Fraction, "floor": math.floor, "ceil": math.ceil}
    exec(compile("\n".join(lines), "<symconv report>", "exec"), namespace)
    return namespace["evaluate"]


def _python(expression: Any, names: Mapping[Any, str]) -> str:
    if expression in names:
        return names[expression]
    if expression.is_Integer:
        return str(int(expression))
    if expression.is_Rational:
        return f"Fraction({expression.p}, {expression.q})"
    if expression.is_Add or expression.is_Mul:
        joiner = " + " if expression.is_Add else " * "
        return "(" + joiner.join(_python(argument, names) for argument in expression.args) + ")"
    if expression.is_Pow and expression.exp.is_Integer:
        power = f"{_python(expression.base, names)} ** {abs(int(expression.exp))}"
        return f"(Fraction(1) / {power})" if expression.exp < 0 else f"({power})"
    call = _CALLS.get(type(expression).__name__)
    if call is not None:
        return f"{call}({', '.join(_python(argument, names) for argument in expression.args)})"
    raise invalid("expression", str(expression), "cannot be evaluated exactly (unsupported operation)")


# ---- renderings ---------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """Ints as ints, Fractions and sympy values as strings in sympy syntax, shapes as lists."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [json_value(entry) for entry in value]
    if isinstance(value, Fraction) or is_sympy(value):
        return str(value)
    raise invalid("value", value, "has no JSON form")


def report_object(report: Report) -> dict[str, Any]:
    fields = ("path", "kind", "output_shape", "params", "macs", "receptive_field", "jump")
    extra: dict[str, Any] = {}
    if report.valid_when:  # conditions exist only on symbolic reports, where the text renderer is loaded anyway
        from symconv.networks.table import condition_text

        extra["valid_when"] = [condition_text(condition) for condition in report.valid_when]
    if report.not_counted:
        extra["not_counted"] = dict(report.not_counted)
    if report.field_notes:
        extra["field_notes"] = list(report.field_notes)
    return {
        "convention": report.convention,
        "input_shape": json_value(report.input_shape),
        "params": json_value(report.params),
        "macs": json_value(report.macs),
        "macs_by_op": {kind: json_value(value) for kind, value in report.macs_by_op.items()},
        "output_shape": json_value(report.output_shape),
        "receptive_field": json_value(report.receptive_field),
        "jump": json_value(report.jump),
        "layers": [{name: json_value(getattr(row, name)) for name in fields} for row in report.layers],
        **extra,
    }


def report_json(report: Report) -> str:
    import json

    return json.dumps(report_object(report), indent=2)


def _sum_tree(values: list[Any]) -> ast.expr:
    tree: ast.expr = constant(values[0])
    for value in values[1:]:
        tree = ast.BinOp(left=tree, op=ast.Add(), right=constant(value))
    return tree


def report_derivations(report: Report) -> tuple[Any, ...]:
    """The working behind the totals: per-kind totals, each kind's MACs as count × layer value, the sums."""
    from symconv.core.derive import derive_expression, weighted_sum  # the working is built only when asked for
    from symconv.core.solution import Table, Text
    from symconv.networks.table import condition_text, shape_cell

    kinds: dict[str, dict[str, Any]] = {}
    for row in report.layers:
        entry = kinds.setdefault(row.kind, {"layers": 0, "params": [], "macs": {}})
        entry["layers"] += 1
        entry["params"].append(row.params)
        entry["macs"][row.macs] = entry["macs"].get(row.macs, 0) + 1
    totals = {
        kind: (entry["layers"], total(entry["params"]), total([count * value for value, count in entry["macs"].items()]))
        for kind, entry in kinds.items()
    }
    counted = {kind: values for kind, values in totals.items() if not all(isinstance(v, int) and v == 0 for v in values[1:])}
    blocks: list[Any] = [
        Text(
            f"Input {shape_cell(report.input_shape)}, output {shape_cell(report.output_shape)}. {CONVENTION_NOTES[report.convention]}"
        ),
        Table(
            ("kind", "layers", "parameters", "MACs"),
            tuple((kind, *values) for kind, values in counted.items())
            + (("total", len(report.layers), report.params, report.macs),),
            caption="Totals by layer kind",
        ),
    ]
    for kind, entry in kinds.items():
        nonzero = {value: count for value, count in entry["macs"].items() if not (isinstance(value, int) and value == 0)}
        if sum(nonzero.values()) > 1:  # a kind with one counted layer needs no assembly
            blocks.append(Text(f"{kind} layers, grouped by their MACs (number of layers × MACs of one):"))
            blocks.append(derive_expression(weighted_sum(nonzero.values(), nonzero.keys()), lhs=f"MACs_{kind}", unit="MACs"))
    if report.not_counted:
        listed = ", ".join(f"{name} ×{count}" for name, count in report.not_counted)
        blocks.append(Text(f"Not counted (operators without a formula here, so without MACs): {listed}."))
    for note in report.field_notes:
        blocks.append(Text(f"Receptive field: {note}."))
    if report.valid_when:
        blocks.append(Text(f"These formulas hold when {', '.join(map(condition_text, report.valid_when))}."))
    params = [values[1] for values in counted.values() if not (isinstance(values[1], int) and values[1] == 0)]
    macs = list(report.macs_by_op.values())
    blocks.append(Text("The totals are the sums over the kinds:"))
    if params:
        blocks.append(derive_expression(_sum_tree(params), lhs="params", unit="parameters"))
    if macs:
        blocks.append(derive_expression(_sum_tree(macs), lhs="macs", unit="MACs", note=f"convention {report.convention}"))
    if report.receptive_field is not None:
        last = [row.path or row.kind for row in report.layers if row.receptive_field is not None]
        where = f" after {last[-1]}, the last layer with spatial extent" if last else ""
        blocks.append(
            Text(
                f"Receptive field{where} (Araujo et al. 2019; a multi-path network takes its widest path): "
                "$r = {r}$ input pixels, effective stride $j = {j}$.",
                {"r": report.receptive_field, "j": report.jump},
            )
        )
    return tuple(blocks)
