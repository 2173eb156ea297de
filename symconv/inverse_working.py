"""The working of an inverse problem: relation lines as expression trees, and sets and conditions as text."""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any, Mapping

from symconv.integer_sets import SYMPY_RELATIONS, unevaluated_floor
from symconv.transform import constant, is_value, reduce_once
from symconv.values import exact, is_sympy

# Written relation → the comparison node of a working line.
COMPARISON_NODES: dict[str, type[ast.cmpop]] = {"=": ast.Eq, ">=": ast.GtE, ">": ast.Gt, "<=": ast.LtE, "<": ast.Lt}
# Written relation → how it reads in plain text and in LaTeX.
WRITTEN = {"=": "=", ">=": "≥", ">": ">", "<=": "≤", "<": "<"}
WRITTEN_LATEX = {"=": "=", ">=": r"\geq", ">": ">", "<=": r"\leq", "<": "<"}


@dataclass(frozen=True)
class Line:
    """One line of the working: a relation tree (or None for prose only) and why it follows."""

    tree: ast.expr | None
    reason: str = ""

    def __repr__(self) -> str:
        from symconv.render.text import expression_text

        body = expression_text(self.tree) if self.tree is not None else ""
        return "    ".join(part for part in (body, f"({self.reason})" if self.reason else "") if part)

    def _repr_latex_(self) -> str:
        from symconv.render.latex import escape_text, expression_latex

        body = expression_latex(self.tree) if self.tree is not None else ""
        reason = rf"\quad \text{{{escape_text(self.reason)}}}" if self.reason else ""
        return f"${body}{reason}$"


@dataclass(frozen=True)
class Quotient:
    """numerator/denominator kept apart for display: (2p + 217)/2 rather than p + 217/2."""

    numerator: Any
    denominator: Any


def fraction_parts(expression: Any) -> tuple[Any, Any]:
    """The numerator and denominator of a sympy value over one common denominator."""
    import sympy

    return sympy.fraction(sympy.together(expression))


def partial_evaluations(tree: ast.expr, namespace: Mapping[str, Any]) -> list[ast.expr]:
    """One tree per evaluation level of the parts that hold numbers only; the unknown stays in place."""
    trees = []
    while True:
        reduced = _reduce_numbers(tree, namespace)
        if ast.dump(reduced) == ast.dump(tree):
            return trees
        trees.append(reduced)
        tree = reduced


def _reduce_numbers(node: ast.expr, namespace: Mapping[str, Any]) -> ast.expr:
    if is_value(node):
        return node
    if _only_numbers(node):
        return reduce_once(node, namespace)
    node = copy.copy(node)
    for name, child in ast.iter_fields(node):
        if isinstance(child, ast.expr):
            setattr(node, name, _reduce_numbers(child, namespace))
        elif isinstance(child, list):
            setattr(node, name, [_reduce_numbers(item, namespace) if isinstance(item, ast.expr) else item for item in child])
    return node


def _only_numbers(node: ast.expr) -> bool:
    return all(
        not isinstance(child, ast.Name) and not (isinstance(child, ast.Constant) and is_sympy(child.value) and child.value.free_symbols)
        for child in ast.walk(node)
    )


def compare(left: ast.expr, relation: str, right: ast.expr) -> ast.Compare:
    return ast.Compare(left=left, ops=[COMPARISON_NODES[relation]()], comparators=[right])


def chain(low: Any, first: str, middle: Any, second: str, high: Any) -> ast.Compare:
    return ast.Compare(left=working_tree(low), ops=[COMPARISON_NODES[first](), COMPARISON_NODES[second]()], comparators=[working_tree(middle), working_tree(high)])


def relation_tree(condition: Any) -> ast.expr:
    return compare(working_tree(condition.lhs), SYMPY_RELATIONS[condition.rel_op], working_tree(condition.rhs))


def condition_line(condition: Any) -> Line:
    """A relation as a working line; a combination of relations (and, or) as prose."""
    if SYMPY_RELATIONS.get(getattr(condition, "rel_op", None)) is not None:
        return Line(relation_tree(condition))
    if condition in (True, False):
        return Line(None, "this holds for every value allowed" if condition else "this can never hold")
    return Line(None, condition_text(condition))


def working_tree(expression: Any) -> ast.expr:
    """A sympy value as a working tree: floors become ⌊numerator/denominator⌋, the rest stay values."""
    import sympy

    floor = unevaluated_floor()
    if isinstance(expression, sympy.Mod):
        return ast.BinOp(left=working_tree(expression.args[0]), op=ast.Mod(), right=working_tree(expression.args[1]))
    if isinstance(expression, Quotient):
        if expression.denominator == 1:
            return working_tree(expression.numerator)
        return ast.BinOp(left=working_tree(expression.numerator), op=ast.Div(), right=working_tree(expression.denominator))
    if not is_sympy(expression) or not (expression.has(floor) or expression.has(sympy.Mod)):
        return constant(exact(expression))
    if expression.func == floor:
        numerator, denominator = fraction_parts(expression.args[0])
        if denominator == 1:
            return ast.Call(func=ast.Name(id="floor", ctx=ast.Load()), args=[working_tree(numerator)], keywords=[])
        return ast.BinOp(left=working_tree(numerator), op=ast.FloorDiv(), right=working_tree(denominator))
    if isinstance(expression, (sympy.Min, sympy.Max)):
        name = "minimum" if isinstance(expression, sympy.Min) else "maximum"
        return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[working_tree(argument) for argument in expression.args], keywords=[])
    if expression.is_Add:
        terms = sorted(expression.as_ordered_terms(), key=lambda term: not term.has(floor))
        tree = working_tree(terms[0])
        for term in terms[1:]:
            negative = term.could_extract_minus_sign()
            tree = ast.BinOp(left=tree, op=ast.Sub() if negative else ast.Add(), right=working_tree(-term if negative else term))
        return tree
    if expression.is_Mul:
        coefficient, rest = expression.as_coeff_Mul()
        if coefficient == -1:
            return ast.UnaryOp(op=ast.USub(), operand=working_tree(rest))
        return ast.BinOp(left=constant(exact(coefficient)), op=ast.Mult(), right=working_tree(rest))
    return constant(expression)


def exact_text(value: Any) -> str:
    """A value in plain text, after making it exact."""
    from symconv.render.text import value_text

    return value_text(exact(value))


def set_text(solutions: Any) -> str:
    """A solution set in plain text: {3}, {50, 51, 52, …}, ∅, {p ∈ ℤ : …}."""
    import sympy

    from symconv.render.text import expression_text

    if solutions.is_empty:
        return "∅"
    if isinstance(solutions, sympy.FiniteSet):
        return "{" + ", ".join(exact_text(value) for value in solutions) + "}"
    if isinstance(solutions, sympy.Range) and not solutions.free_symbols:
        start, step = solutions.inf if solutions.step > 0 else solutions.sup, solutions.step
        first = [exact_text(start + step * index) for index in range(3)]
        if solutions.is_finite_set:
            last = solutions.sup if step > 0 else solutions.inf
            return "{" + ", ".join(first[:2]) + ", …, " + exact_text(last) + "}"
        return "{" + ", ".join(first) + ", …}"
    if isinstance(solutions, sympy.Union):
        return " ∪ ".join(set_text(part) for part in solutions.args)
    if isinstance(solutions, sympy.ConditionSet):
        return "{" + f"{exact_text(solutions.sym)} ∈ {set_text(solutions.base_set)} : {condition_text(solutions.condition)}" + "}"
    if isinstance(solutions, sympy.Intersection) and sympy.S.Integers in solutions.args:
        interval = next(part for part in solutions.args if isinstance(part, sympy.Interval))
        low = "" if interval.inf == -sympy.oo else expression_text(constant(interval.inf)) + " ≤ "
        high = "" if interval.sup == sympy.oo else " ≤ " + expression_text(constant(interval.sup))
        return "{whole numbers " + f"{low}·{high}" + "}"
    if solutions == sympy.S.Integers:
        return "ℤ"
    return str(solutions)


def condition_text(condition: Any) -> str:
    """A condition in plain text: relations with ≤ and ≥, 'a mod m = 0', 'and' between parts."""
    import sympy

    from symconv.render.text import expression_text

    if isinstance(condition, sympy.And):
        return " and ".join(condition_text(part) for part in condition.args)
    if isinstance(condition, sympy.Or):
        return " or ".join(f"({condition_text(part)})" for part in condition.args)
    relation = SYMPY_RELATIONS.get(getattr(condition, "rel_op", None))
    if relation is None:
        return str(condition)
    return expression_text(relation_tree(condition))
