"""Derivations as data: the general formula, the substitution, one line per evaluation level, the result.

``derive(formula, **values)`` builds the steps; renderers in ``symconv.render`` turn them into LaTeX,
Markdown, text or JSON. Nothing here produces markup.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Iterable, Literal, Mapping

from symconv.core.display import latex_repr, text_repr
from symconv.core.errors import invalid
from symconv.core.formula import Formula, return_expression
from symconv.core.transform import (
    constant,
    expand_calls,
    is_value,
    reduce_once,
    substitute,
)
from symconv.core.values import exact, is_symbolic

StepKind = Literal["formula", "substitution", "evaluation", "simplification", "result"]


@dataclass(frozen=True)
class Step:
    """One line of working: an expression tree (``ast.expr``) whose leaves are names or values."""

    kind: StepKind
    expression: ast.expr
    reason: str = ""


@dataclass(frozen=True)
class Derivation:
    """``lhs = step_1 = step_2 = … = value unit``, with the convention or assumption stated in ``note``."""

    lhs: str
    steps: tuple[Step, ...]
    value: Any
    unit: str | None = None
    note: str = ""

    __repr__ = text_repr
    _repr_latex_ = latex_repr


def derive(
    formula: Formula | Callable[..., Any],
    *args: Any,
    lhs: str | None = None,
    unit: str | None = None,
    note: str = "",
    reasons: Mapping[StepKind, str] | None = None,
    simplify: bool = True,
    **kwargs: Any,
) -> Derivation:
    """Work ``formula`` out for the given arguments, step by step, exactly.

    ``formula`` is a :class:`Formula` or any plain single-expression function (exercise content
    composes its own small formulas that way). Arguments may be ints, Fractions or sympy expressions.
    A symbolic value is simplified as a last step unless ``simplify`` is False: content whose value
    is already in its final form (a test holds it to what simplification gives) skips simplify's cost.
    """
    # A plain function's tree is cached under the function itself: the Formula wrapped around it
    # here is new at every call, and would miss the cache (and grow it) each time.
    source = formula
    if not isinstance(formula, Formula):
        if not callable(formula) or not hasattr(formula, "__code__"):
            raise invalid("formula", formula, "must be a Formula or a plain function whose body is one return expression")
        formula = Formula(formula, result=lhs or formula.__name__, unit=unit)
    values = formula.bind(*args, **kwargs)
    formula.evaluate(values)  # runs the checks; the steps below compute the value exactly
    general = formula_tree(source)
    # A switch the caller set (ceil_mode, bias) picks its branch already in the general line.
    general = substitute(general, {name: value for name, value in values.items() if isinstance(value, bool)})
    substituted = substitute(general, values)
    evaluation, value = _evaluation_steps(substituted, formula.namespace)
    steps = [Step("formula", general), Step("substitution", substituted), *evaluation]
    if simplify and is_symbolic(value):
        simplified = _simplify(value)
        if simplified != value:
            steps.append(Step("simplification", constant(simplified)))
            value = simplified
    reasons = reasons or {}
    steps = [Step(step.kind, step.expression, reasons.get(step.kind, "")) for step in steps]
    return Derivation(
        lhs=lhs or formula.result,
        steps=tuple(steps),
        value=value,
        unit=formula.unit if unit is None else unit,
        note=note,
    )


def derive_expression(
    expression: ast.expr,
    lhs: str,
    unit: str | None = None,
    note: str = "",
    namespace: Mapping[str, Any] | None = None,
) -> Derivation:
    """Work out an expression tree already filled with values (e.g. built by :func:`weighted_sum`)."""
    namespace = namespace or {}
    evaluation, value = _evaluation_steps(expression, namespace)
    return Derivation(lhs, (Step("substitution", expression), *evaluation), value, unit, note)


def weighted_sum(weights: Iterable[Any], values: Iterable[Any]) -> ast.expr:
    """The tree w_1 x_1 + w_2 x_2 + … (one output of a convolution, written out)."""
    terms = [ast.BinOp(left=constant(exact(w)), op=ast.Mult(), right=constant(exact(x))) for w, x in zip(weights, values)]
    total = terms[0]
    for term in terms[1:]:
        total = ast.BinOp(left=total, op=ast.Add(), right=term)
    return total


def general(formula: Formula, lhs: str | None = None, note: str = "") -> Derivation:
    """Only the general formula, as a one-line derivation (for stating a rule before a table)."""
    return Derivation(lhs or formula.result, (Step("formula", formula_tree(formula)),), None, None, note)


@lru_cache(maxsize=None)
def formula_tree(function: Callable[..., Any]) -> ast.expr:
    """The general expression tree of a formula or plain function, calls to other formulas inlined.

    Cached: trees are never mutated (transformers build new nodes), so one tree serves every derivation.
    """
    if isinstance(function, Formula):
        return expand_calls(function.expression, function.namespace)
    return expand_calls(return_expression(function), function.__globals__)


def _evaluation_steps(expression: ast.expr, namespace: Mapping[str, Any]) -> tuple[list[Step], Any]:
    """One step per evaluation level, and the value.

    Factors 1 and terms 0 left over by an evaluation are not written, and a level that then reads as
    the line before or after it is folded away.
    """
    start, lines = expression, []
    while not is_value(expression):
        reduced = reduce_once(expression, namespace)
        if not _reads_the_same(expression, reduced):
            lines.append(_WithoutIdentities().visit(_copied(reduced)))
        expression = reduced
    papers = [_paper(line) for line in [*lines, None]]
    kept, before = [], _paper(start)
    for index, line in enumerate(lines):
        # a level that reads as the line before it or the one after it is folded away (never the result)
        if papers[index] in (before, papers[index + 1]) and index < len(lines) - 1:
            continue
        kept.append(line)
        before = papers[index]
    steps = [Step("evaluation", line) for line in kept]
    if steps:
        steps[-1] = Step("result", steps[-1].expression)
    return steps, expression.value


class _WithoutIdentities(ast.NodeTransformer):
    """The tree with the operations that change no value on paper left out: 1·x, x·1, x + 0, 0 + x, x − 0, 0·x."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = ast.BinOp(left=self.visit(node.left), op=node.op, right=self.visit(node.right))
        left, right = (child.value if isinstance(child, ast.Constant) else None for child in (node.left, node.right))
        if isinstance(node.op, ast.Mult):
            if _is(left, 0) or _is(right, 0):
                return ast.Constant(value=0)
            if _is(left, 1):
                return node.right
            if _is(right, 1):
                return node.left
        if isinstance(node.op, (ast.Add, ast.Sub)) and _is(right, 0):
            return node.left
        if isinstance(node.op, ast.Add) and _is(left, 0):
            return node.right
        return node


def _copied(node: Any) -> Any:
    """A fresh copy of an expression tree for a transformer to rewrite in place.

    The leaves' values (ints, fractions, sympy expressions) are immutable and shared; this is several
    times faster than ``copy.deepcopy``, which the working of bulk variants would spend much time in.
    """
    if isinstance(node, ast.AST):
        fresh = node.__class__()
        for name, value in ast.iter_fields(node):
            setattr(fresh, name, _copied(value))
        return fresh
    if isinstance(node, list):
        return [_copied(item) for item in node]
    return node


def _is(value: Any, number: int) -> bool:
    return isinstance(value, (int, Fraction)) and not isinstance(value, bool) and value == number


class _Unpack(ast.NodeTransformer):
    """Symbolic values written out in their own syntax, so that a line compares as it reads."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return _python_tree(node.value) if is_symbolic(node.value) else node


def _unpacked(tree: ast.expr) -> str:
    """``ast.dump`` of ``tree`` with its symbolic values unpacked (a numeric tree is dumped as it is)."""
    if not any(isinstance(node, ast.Constant) and is_symbolic(node.value) for node in ast.walk(tree)):
        return ast.dump(tree)
    return ast.dump(_Unpack().visit(_copied(tree)))


def _paper(tree: ast.expr | None) -> str:
    """What a line shows, as a comparable string: symbolic values unpacked into their own syntax."""
    if tree is None:
        return ""
    try:
        return _unpacked(tree)
    except SyntaxError:
        return ast.dump(tree)


def _reads_the_same(before: ast.expr, after: ast.expr) -> bool:
    """True when evaluating only packed the line into one value that reads exactly as before (1/4, C/2)."""
    if not (is_value(after) and (is_symbolic(after.value) or isinstance(after.value, Fraction))):
        return False
    try:
        return _unpacked(before) == ast.dump(_python_tree(after.value))
    except SyntaxError:
        return False


def _python_tree(value: Any) -> ast.expr:
    """A sympy expression as the Python expression tree of its own printed syntax."""
    return ast.parse(str(value), mode="eval").body


def _simplify(value: Any) -> Any:
    """A rational function in lowest terms (cancel: fast and canonical); anything else through simplify."""
    import sympy

    if value.is_rational_function(*value.free_symbols):
        return sympy.cancel(value)
    return sympy.simplify(value)
