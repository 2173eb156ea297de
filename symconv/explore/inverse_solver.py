"""The solver of an inverse problem: the condition on the unknown turned into whole-number sets, one written line per step."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Mapping

from symconv.core.errors import SymconvError
from symconv.core.symbols import text_name
from symconv.core.transform import BINARY_OPERATORS, COMPARISONS, constant
from symconv.core.values import exact, is_symbolic
from symconv.explore.integer_sets import (
    SWAPPED,
    at_least,
    floor_of,
    integer_set,
    is_predicate,
    isolate,
    linear_bound,
    normal_form,
    relational,
    unevaluated_floor,
)
from symconv.explore.inverse_working import (
    COMPARISON_NODES,
    FLOOR_RULE,
    FLOOR_RULES,
    Inversion,
    Line,
    Quotient,
    chain,
    compare,
    condition_line,
    exact_text,
    fraction_parts,
    partial_evaluations,
    relation_tree,
    working_tree,
)


@dataclass
class Problem:
    """What the solver needs from a formula or an identity, with the unknown as a sympy symbol."""

    name: str
    result: str
    unknown: str
    variable: Any
    known: dict[str, Any]
    general: ast.expr
    condition_tree: ast.expr
    expression: Any
    namespace: Mapping[str, Any]
    checks: Any  # (result) -> list of sympy conditions recorded from the formula's checks
    symbols: dict[str, Any]


class Solver:
    """Turns the condition into integer sets, writing a line for every step it takes."""

    def __init__(self, problem: Problem, relation: str, target: Any) -> None:
        import sympy

        self.sympy = sympy
        self.problem = problem
        self.relation = relation
        self.target = sympy.sympify(target)
        self.x = problem.variable
        self.lines: list[Line] = []
        self.lower = 1 if self.x.is_positive else 0 if self.x.is_nonnegative else None

    def solve(self) -> Inversion:
        problem = self.problem
        self.lines.append(Line(problem.general))
        self.lines.append(Line(compare(problem.condition_tree, self.relation, constant(exact(self.target)))))
        for tree in partial_evaluations(problem.condition_tree, problem.namespace):
            self.lines.append(Line(compare(tree, self.relation, constant(exact(self.target)))))
        try:
            # On every solution of an equation the result is the target, so the result's checks see it.
            checked = problem.checks(self.target if self.relation == "=" else problem.expression)
        except SymconvError as error:
            return self._finish(self.sympy.S.EmptySet, f"no value can work: {error}")
        target_condition = relational(self.relation, problem.expression, self.target)
        conditions = [target_condition]
        for condition in checked:
            if condition is self.sympy.true or condition is True:
                continue
            if condition is self.sympy.false or condition is False:
                return self._finish(self.sympy.S.EmptySet, f"{problem.name} cannot be valid here: one of its rules fails")
            if condition not in conditions:
                conditions.append(condition)
        # Symbols other than the unknown call for an answer with conditions on them.
        self.symbolic = any(getattr(condition, "free_symbols", set()) - {self.x} for condition in conditions)
        eliminated = []
        for index, condition in enumerate(conditions):
            if index == 1:
                self.lines.append(Line(None, f"the rules of {problem.name} must hold too:"))
            if index >= 1:
                self.lines.append(condition_line(condition))
            eliminated.append(self._eliminate(condition))
        whole = self.sympy.And(*eliminated)
        solutions = self._symbolic_set(whole) if self.symbolic else self._numeric_set(whole)
        reason = "" if not solutions.is_empty else f"no whole {text_name(problem.unknown)} satisfies every condition"
        return self._finish(solutions, reason)

    def _finish(self, solutions: Any, reason: str) -> Inversion:
        problem = self.problem
        if solutions.has(unevaluated_floor()):  # a floor kept in a condition is an ordinary floor to the reader
            solutions = solutions.replace(unevaluated_floor(), self.sympy.floor)
        return Inversion(
            source=problem.name,
            result=problem.result,
            unknown=problem.unknown,
            relation=self.relation,
            target=exact(self.target),
            known=problem.known,
            solutions=solutions,
            lines=tuple(self.lines),
            reason=reason,
            symbols=problem.symbols,
        )

    # Elimination: min/max and floor give way to plain (polynomial) relations.

    def _eliminate(self, condition: Any) -> Any:
        sympy = self.sympy
        if condition in (True, False):  # sympy.true and sympy.false compare equal to these
            return sympy.sympify(condition)
        if isinstance(condition, (sympy.And, sympy.Or)):
            return condition.func(*(self._eliminate(argument) for argument in condition.args))
        if isinstance(condition, sympy.Not):
            return sympy.Not(self._eliminate(condition.args[0]))
        extreme = next((atom for atom in _atoms_of(condition, (sympy.Min, sympy.Max)) if atom.has(self.x)), None)
        if extreme is not None:
            return self._split_extreme(condition, extreme)
        floor = next((atom for atom in _atoms_of(condition, (unevaluated_floor(),)) if atom.has(self.x)), None)
        if floor is not None:
            return self._remove_floor(condition, floor)
        return self._clear_denominators(condition)

    def _split_extreme(self, condition: Any, extreme: Any) -> Any:
        sympy = self.sympy
        isolated = isolate(condition, extreme)
        if isolated is None:
            return condition
        relation, bound = isolated
        self.lines.append(Line(compare(working_tree(extreme), relation, working_tree(bound))))
        parts = extreme.args
        is_min = isinstance(extreme, sympy.Min)
        both = relation in ((">=", ">") if is_min else ("<=", "<"))
        if relation == "=":
            others = ">=" if is_min else "<="
            split = sympy.Or(
                *(
                    sympy.And(sympy.Eq(part, bound), *(relational(others, other, bound) for other in parts if other is not part))
                    for part in parts
                )
            )
            which = "smallest" if is_min else "largest"
            self.lines.append(
                Line(
                    None,
                    f"the {which} of several values equals m when one equals m and the others are {'at least' if is_min else 'at most'} m",
                )
            )
        else:
            split = (sympy.And if both else sympy.Or)(*(relational(relation, part, bound) for part in parts))
            word = "all of them" if both else "one of them"
            self.lines.append(Line(None, f"a {'minimum' if is_min else 'maximum'} compared this way holds when {word} does"))
        return self._eliminate(split)

    def _remove_floor(self, condition: Any, floor: Any) -> Any:
        sympy = self.sympy
        isolated = isolate(condition, floor)
        if isolated is None:
            return condition
        relation, bound = isolated
        inner = floor.args[0]
        self.lines.append(Line(compare(working_tree(floor), relation, working_tree(bound))))
        if relation == "=":
            if bound.is_integer is False:
                self.lines.append(Line(None, f"a floor is a whole number and {exact_text(bound)} is not"))
                return sympy.false
            low, high = bound, bound + 1
            numerator, denominator = fraction_parts(inner)
            self.lines.append(Line(chain(low, "<=", Quotient(numerator, denominator), "<", high), FLOOR_RULE))
            if denominator != 1 and denominator.is_positive:
                self.lines.append(
                    Line(
                        chain(denominator * low, "<=", numerator, "<", denominator * high),
                        f"multiply by {exact_text(denominator)} > 0",
                    )
                )
                low, inner, high = denominator * low, numerator, denominator * high
            window = sympy.And(sympy.Le(low, inner), sympy.Lt(inner, high))
            self._solved_line(window)
            # A floor equals m only for a whole m: say so when the symbols leave it open.
            return window if bound.is_integer else sympy.And(window, sympy.Eq(sympy.Mod(bound, 1), 0))
        relation, limit = {
            ">=": (">=", sympy.ceiling(bound)),
            ">": (">=", sympy.floor(bound) + 1),
            "<=": ("<", sympy.floor(bound) + 1),
            "<": ("<", sympy.ceiling(bound)),
        }[relation]
        numerator, denominator = fraction_parts(inner)
        self.lines.append(
            Line(compare(working_tree(Quotient(numerator, denominator)), relation, working_tree(limit)), FLOOR_RULES[relation])
        )
        return self._clear_denominators(relational(relation, inner, limit))

    def _clear_denominators(self, condition: Any) -> Any:
        """Multiply a relation by its positive denominator: (x + 3)/s ≥ 2 becomes x + 3 ≥ 2s."""
        sympy = self.sympy
        if not getattr(condition, "is_Relational", False) or not condition.has(self.x):
            return condition
        left, right = condition.lhs, condition.rhs
        if right.has(self.x):
            left, right = left - right, sympy.Integer(0)
        numerator, denominator = fraction_parts(left)
        if denominator == 1 or not denominator.is_positive:
            self._solved_line(condition)
            return condition
        cleared = condition.func(numerator, denominator * right)
        if cleared in (sympy.true, sympy.false):
            self.lines.append(condition_line(cleared))
            return cleared
        self.lines.append(Line(relation_tree(cleared), f"multiply by {exact_text(denominator)} > 0"))
        self._solved_line(cleared)
        return cleared

    def _solved_line(self, condition: Any) -> None:
        """When the condition is linear in the unknown, write it with the unknown alone."""
        relations = list(condition.args) if isinstance(condition, self.sympy.And) else [condition]
        found = [
            linear_bound(relation, self.x)
            for relation in relations
            if getattr(relation, "is_Relational", False) and relation.has(self.x)
        ]
        if not found or any(bound is None for bound in found):
            return
        bounds = [bound for bound in found if bound is not None]
        lows = [(relation, value) for relation, value in bounds if relation in (">=", ">")]
        highs = [(relation, value) for relation, value in bounds if relation in ("<=", "<")]
        equal = [value for relation, value in bounds if relation == "="]
        x_tree = constant(self.x)
        if equal:
            tree = compare(x_tree, "=", constant(exact(equal[0])))
        elif len(lows) == 1 and len(highs) == 1:
            low, high = lows[0], highs[0]
            tree = ast.Compare(
                left=constant(exact(low[1])),
                ops=[COMPARISON_NODES[SWAPPED[low[0]]](), COMPARISON_NODES[high[0]]()],
                comparators=[x_tree, constant(exact(high[1]))],
            )
        elif len(bounds) == 1:
            tree = compare(x_tree, bounds[0][0], constant(exact(bounds[0][1])))
        else:
            return
        if self.lines and ast.dump(self.lines[-1].tree or ast.Pass()) == ast.dump(tree):
            return
        self.lines.append(Line(tree, f"solve for {text_name(self.problem.unknown)}"))

    # From plain relations to sets of whole numbers.

    def _domain(self) -> Any:
        sympy = self.sympy
        return sympy.Range(self.lower, sympy.oo) if self.lower is not None else sympy.S.Integers

    def _numeric_set(self, condition: Any) -> Any:
        return normal_form(at_least(integer_set(condition, self.x), self.lower))

    def _symbolic_set(self, condition: Any) -> Any:
        """Conjunctions of relations linear in the unknown: a value or a range with conditions."""
        sympy = self.sympy
        relations = list(condition.args) if isinstance(condition, sympy.And) else [condition]
        lows = [] if self.lower is None else [sympy.Integer(self.lower)]
        highs, equal, side = [], [], []
        for relation in relations:
            if relation is sympy.true:
                continue
            bound = linear_bound(relation, self.x) if getattr(relation, "is_Relational", False) and relation.has(self.x) else None
            if bound is None:
                if relation.has(self.x) and not is_predicate(relation, self.x):
                    return sympy.ConditionSet(self.x, condition, self._domain())
                side.append(relation)
                continue
            kind, value = bound
            if kind == "=":
                equal.append(value)
            elif kind == ">=":
                lows.append(sympy.ceiling(value))
            elif kind == ">":
                lows.append(sympy.floor(value) + 1)
            elif kind == "<=":
                highs.append(sympy.floor(value))
            else:
                highs.append(sympy.ceiling(value) - 1)
        if equal:
            value = equal[0]
            numerator, denominator = fraction_parts(value)
            checks = [sympy.Eq(other, value) for other in equal[1:]]
            checks += [sympy.Ge(value, low) for low in lows] + [sympy.Le(value, high) for high in highs]
            checks += [predicate.xreplace({self.x: value}) for predicate in side]
            if denominator != 1:
                checks.append(sympy.Eq(sympy.Mod(numerator, denominator), 0))
                self.lines.append(
                    Line(
                        None,
                        f"{text_name(self.problem.unknown)} is whole only when {exact_text(numerator)} is a multiple of {exact_text(denominator)}",
                    )
                )
            elif value.is_integer is not True:
                checks.append(sympy.Eq(sympy.Mod(value, 1), 0))
            kept = [check for check in checks if check is not sympy.true]
            if any(check is sympy.false for check in kept):
                return sympy.S.EmptySet
            base = sympy.FiniteSet(value)
            return sympy.ConditionSet(self.x, sympy.And(*kept), base) if kept else base
        low = sympy.Max(*lows) if lows else -sympy.oo
        high = sympy.Min(*highs) if highs else sympy.oo
        base = normal_form(
            sympy.Intersection(sympy.Interval(low, high), sympy.S.Integers, evaluate=not (is_symbolic(low) or is_symbolic(high)))
        )
        return sympy.ConditionSet(self.x, sympy.And(*side), base) if side else base


# Sympy values of trees and their parts.


def to_sympy(node: ast.expr, namespace: Mapping[str, Any], named: Mapping[str, Any]) -> Any:
    """The sympy value of a tree whose names are symbols in ``named``; floors stay unevaluated."""
    import sympy

    if isinstance(node, ast.Name):
        return named[node.id]
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, bool) else sympy.sympify(node.value)
    if isinstance(node, ast.BinOp):
        left, right = to_sympy(node.left, namespace, named), to_sympy(node.right, namespace, named)
        if isinstance(node.op, ast.FloorDiv):
            return floor_of(left / right)
        if isinstance(node.op, ast.Div):
            return left / right
        return BINARY_OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        operand = to_sympy(node.operand, namespace, named)
        return sympy.Not(operand) if isinstance(node.op, ast.Not) else -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        function = {"minimum": sympy.Min, "maximum": sympy.Max}.get(node.func.id) or namespace[node.func.id]
        return function(*(to_sympy(argument, namespace, named) for argument in node.args))
    if isinstance(node, ast.IfExp):
        test = to_sympy(node.test, namespace, named)
        if test in (True, False):
            return to_sympy(node.body if test else node.orelse, namespace, named)
        return sympy.Piecewise((to_sympy(node.body, namespace, named), test), (to_sympy(node.orelse, namespace, named), True))
    if isinstance(node, ast.Compare):
        left = to_sympy(node.left, namespace, named)
        parts = []
        for comparison, right_node in zip(node.ops, node.comparators):
            right = to_sympy(right_node, namespace, named)
            parts.append(
                COMPARISONS[type(comparison)](left, right) if not isinstance(comparison, ast.Eq) else sympy.Eq(left, right)
            )
            left = right
        return sympy.And(*parts)
    raise SymconvError(f"expression: cannot solve through a {type(node).__name__} node")


def _atoms_of(expression: Any, kinds: tuple[type, ...]) -> list[Any]:
    """Atoms of the given kinds, outermost first (a floor inside a minimum is handled after it)."""
    import sympy

    return [node for node in sympy.preorder_traversal(expression) if isinstance(node, kinds)]
