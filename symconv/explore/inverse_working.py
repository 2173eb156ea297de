"""The working of an inverse problem: relation lines as expression trees, and sets and conditions as text."""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

from symconv.core.errors import invalid
from symconv.core.symbols import symbol, text_name
from symconv.core.transform import constant, is_value, reduce_once
from symconv.core.values import exact, is_symbolic, is_sympy
from symconv.explore.integer_sets import SYMPY_RELATIONS, normal_form, unevaluated_floor

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
    trees: list[ast.expr] = []
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
        not isinstance(child, ast.Name) and not (isinstance(child, ast.Constant) and is_symbolic(child.value))
        for child in ast.walk(node)
    )


def compare(left: ast.expr, relation: str, right: ast.expr) -> ast.Compare:
    return ast.Compare(left=left, ops=[COMPARISON_NODES[relation]()], comparators=[right])


def chain(low: Any, first: str, middle: Any, second: str, high: Any) -> ast.Compare:
    return ast.Compare(
        left=working_tree(low),
        ops=[COMPARISON_NODES[first](), COMPARISON_NODES[second]()],
        comparators=[working_tree(middle), working_tree(high)],
    )


def relation_tree(condition: Any) -> ast.expr:
    return compare(working_tree(condition.lhs), SYMPY_RELATIONS[condition.rel_op], working_tree(condition.rhs))


def condition_line(condition: Any) -> Line:
    """A relation as a working line; a combination of relations (and, or) as prose."""
    if SYMPY_RELATIONS.get(getattr(condition, "rel_op", "")) is not None:
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
        return ast.Call(
            func=ast.Name(id=name, ctx=ast.Load()), args=[working_tree(argument) for argument in expression.args], keywords=[]
        )
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
    relation = SYMPY_RELATIONS.get(getattr(condition, "rel_op", ""))
    if relation is None:
        return str(condition)
    return expression_text(relation_tree(condition))


FLOOR_RULE = "⌊u⌋ = m exactly when m ≤ u < m + 1"
FLOOR_RULES = {
    "=": FLOOR_RULE,
    ">=": "⌊u⌋ ≥ m exactly when u ≥ m rounded up",
    ">": "⌊u⌋ > m exactly when u ≥ ⌊m⌋ + 1",
    "<=": "⌊u⌋ ≤ m exactly when u < ⌊m⌋ + 1",
    "<": "⌊u⌋ < m exactly when u < m rounded up",
}


@dataclass(frozen=True)
class Inversion:
    """The solution set of an inverse problem and the working that leads to it."""

    source: str
    result: str
    unknown: str
    relation: str
    target: Any
    known: Mapping[str, Any]
    solutions: Any
    lines: tuple[Line, ...]
    reason: str = ""
    # Symbolic knowns by argument name and by symbol name, for at().
    symbols: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_finite(self) -> bool:
        return bool(self.solutions.is_finite_set)

    def values(self) -> list[Any]:
        """The solutions as a sorted list of exact numbers (only for a finite set with numbers)."""
        if not self.is_finite or any(is_symbolic(value) for value in self.solutions):
            raise invalid("solutions", self.solutions_text(), "is not a finite set of numbers; use .solutions")
        return sorted(exact(value) for value in self.solutions)

    @property
    def smallest(self) -> Any:
        """The least solution (for an 'at least' question), or None when there is none."""
        if self.solutions.is_empty:
            return None
        try:
            return exact(self.solutions.inf)
        except NotImplementedError:  # a set with conditions on symbols has no least element yet
            raise invalid(
                "solutions", self.solutions_text(), "has no least element until its symbols have values; use .at()"
            ) from None

    def __contains__(self, value: Any) -> bool:
        return bool(self.solutions.contains(value))

    def at(self, **values: Any) -> Any:
        """The solution set with the symbolic knowns given values (by argument or symbol name)."""
        import sympy

        replacements = {}
        for name, value in values.items():
            if name in self.symbols:
                replacements[self.symbols[name]] = sympy.sympify(value)
            else:
                raise invalid(name, value, f"is not a symbolic known of this problem; they are {sorted(self.symbols)}")
        return normal_form(self.solutions.subs(replacements))

    def solutions_text(self) -> str:
        return set_text(self.solutions)

    def question_text(self) -> str:
        known = ", ".join(
            text_name(name) if is_own_symbol(name, value) else f"{text_name(name)} = {exact_text(value)}"
            for name, value in self.known.items()
        )
        relation = WRITTEN[self.relation]
        written = text_name(self.unknown)
        named = written if written == self.unknown else f"{written} ({self.unknown})"
        head = f"{self.source}: all whole {named} with {text_name(self.result)} {relation} {exact_text(self.target)}"
        return head + (f", given {known}" if known else "")

    def text(self) -> str:
        lines = [self.question_text(), *(f"    {line!r}" for line in self.lines)]
        lines.append(f"    {text_name(self.unknown)} ∈ {self.solutions_text()}")
        if self.reason:
            lines.append(f"    ({self.reason})")
        return "\n".join(lines)

    def aligned(self, intertext: bool = False) -> str:
        """The working as the body of an ``aligned`` environment, or of ``align*`` with prose as intertext."""
        from symconv.render.latex import (
            escape_text,
            expression_latex,
            latex_name,
            sympy_latex,
        )

        rows = []
        for line in self.lines:
            if line.tree is None:  # prose must not widen the column of the working
                rows.append(
                    rf"\intertext{{{escape_text(line.reason)}}}" if intertext else rf"& \text{{{escape_text(line.reason)}}}"
                )
                continue
            reason = rf" && \text{{{escape_text(line.reason)}}}" if line.reason else ""
            rows.append(f"& {expression_latex(line.tree)}{reason}")
        answer = rf"& {latex_name(self.unknown)} \in {sympy_latex(self.solutions)}"
        if self.reason:
            answer += rf" && \text{{{escape_text(self.reason)}}}"
        rows.append(answer)
        # \intertext follows a line break and is not followed by one.
        return "".join(row + ("\n" if row.startswith("\\intertext") else " \\\\\n") for row in rows[:-1]) + rows[-1]

    def question_latex(self) -> str:
        """The question as a sentence with inline LaTeX mathematics."""
        from symconv.render.latex import escape_text, latex_name, value_latex

        known = ", ".join(
            f"${latex_name(name)}$" if is_own_symbol(name, value) else f"${latex_name(name)} = {value_latex(known_value(value))}$"
            for name, value in self.known.items()
        )
        relation = WRITTEN_LATEX[self.relation]
        head = (
            f"{escape_text(self.source)}: all whole ${latex_name(self.unknown)}$ with "
            f"${latex_name(self.result)} {relation} {value_latex(known_value(self.target))}$"
        )
        return head + (f", given {known}" if known else "")

    def latex(self) -> str:
        """A LaTeX fragment: the question as a sentence, then the working in ``align*``."""
        return f"{self.question_latex()}\n\\begin{{align*}}\n{self.aligned(intertext=True)}\n\\end{{align*}}"

    def markdown(self) -> str:
        return f"{self.question_latex()}\n\n$$\n\\begin{{aligned}}\n{self.aligned()}\n\\end{{aligned}}\n$$"

    def __repr__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        return f"$$\\begin{{aligned}}\n{self.aligned()}\n\\end{{aligned}}$$"


def known_value(value: Any) -> Any:
    """A known as a value to typeset: a symbol name becomes its symbol."""
    return symbol(value) if isinstance(value, str) else exact(value)


def is_own_symbol(name: str, value: Any) -> bool:
    """A known given as the symbol its argument is written with (n="N"), listed without "= N"."""
    return isinstance(value, str) and text_name(value) == text_name(name)
