"""Inverse problems: every whole value of one argument for which a formula meets a target.

``solve_for(conv_output_size, "padding", 112, n=224, kernel_size=7, stride=2)`` works from the
formula's own expression tree: the condition is written with the values in place, the floor is
removed exactly (⌊u⌋ = m exactly when m ≤ u < m + 1), positive denominators are multiplied out,
and the unknown is isolated. Its domain comes from its symbol's assumptions (padding ≥ 0, stride
≥ 1, …) and the formula's own checks, which are run once with the unknown in place so that every
rule they test (pooling's 2p ≤ K, an output of at least 1) joins the conditions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from symconv.derive import formula_tree
from symconv.errors import SymconvError, invalid
from symconv.formula import Formula
from symconv.integer_sets import (
    SWAPPED,
    SYMPY_RELATIONS,
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
from symconv.inverse_trace import recorded_checks
from symconv.inverse_working import (
    COMPARISON_NODES,
    WRITTEN,
    WRITTEN_LATEX,
    Line,
    Quotient,
    chain,
    compare,
    condition_line,
    exact_text,
    fraction_parts,
    partial_evaluations,
    relation_tree,
    set_text,
    working_tree,
)
from symconv.symbols import notation, symbol, text_name
from symconv.transform import BINARY_OPERATORS, COMPARISONS, constant, substitute
from symconv.values import exact, is_symbolic, is_sympy

# Spellings a user may type for a relation; longest first so ">=" is not read as ">".
SPELLINGS: tuple[tuple[str, str], ...] = (
    ("==", "="), (">=", ">="), ("<=", "<="), ("≥", ">="), ("≤", "<="), ("=", "="), (">", ">"), ("<", "<"),
)

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
            raise invalid("solutions", self.solutions_text(), "has no least element until its symbols have values; use .at()") from None

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
            text_name(name) if _is_own_symbol(name, value) else f"{text_name(name)} = {exact_text(value)}"
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
        from symconv.render.latex import escape_text, expression_latex, latex_name, sympy_latex

        rows = []
        for line in self.lines:
            if line.tree is None:  # prose must not widen the column of the working
                rows.append(rf"\intertext{{{escape_text(line.reason)}}}" if intertext else rf"& \text{{{escape_text(line.reason)}}}")
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
            f"${latex_name(name)}$" if _is_own_symbol(name, value) else f"${latex_name(name)} = {value_latex(_known_value(value))}$"
            for name, value in self.known.items()
        )
        relation = WRITTEN_LATEX[self.relation]
        head = (
            f"{escape_text(self.source)}: all whole ${latex_name(self.unknown)}$ with "
            f"${latex_name(self.result)} {relation} {value_latex(_known_value(self.target))}$"
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


def _known_value(value: Any) -> Any:
    """A known as a value to typeset: a symbol name becomes its symbol."""
    return symbol(value) if isinstance(value, str) else exact(value)


def _is_own_symbol(name: str, value: Any) -> bool:
    """A known given as the symbol its argument is written with (n="N"), listed without "= N"."""
    return isinstance(value, str) and text_name(value) == text_name(name)


def solve_for(formula: Any, unknown: str, target: Any, **known: Any) -> Inversion:
    """Every whole value of ``unknown`` for which ``formula`` meets ``target``.

    ``formula`` is a :class:`~symconv.formula.Formula` or an :class:`~symconv.identities.Identity`.
    ``target`` is a value (the formula must equal it), a string such as ``">= 100"`` or ``"N"``, a
    pair ``(">=", 100)``, or a sympy relation whose left side is the result's symbol. Knowns may be
    numbers or symbol names; with symbolic knowns the answer is a set with conditions on them.
    """
    relation, target_value = parse_target(target)
    problem = _problem(formula, unknown, known)
    return _Solver(problem, relation, target_value).solve()


def parse_target(target: Any) -> tuple[str, Any]:
    """``112`` → ("=", 112); ``">= 100"`` → (">=", 100); ``"N"`` → ("=", N); a sympy relation likewise."""
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], str):
        return _relation_name(target[0], target), _target_value(target[1])
    if isinstance(target, str):
        text = target.strip()
        for spelling, relation in SPELLINGS:
            if text.startswith(spelling):
                return relation, _target_value(text[len(spelling):].strip())
        return "=", _target_value(text)
    if is_sympy(target) and getattr(target, "is_Relational", False):
        relation = SYMPY_RELATIONS.get(target.rel_op)
        if relation is None:
            raise invalid("target", target, "must be a relation =, <, <=, > or >=")
        if target.lhs.is_Symbol and not target.rhs.is_Symbol:
            return relation, exact(target.rhs)
        if target.rhs.is_Symbol and not target.lhs.is_Symbol:
            return SWAPPED[relation], exact(target.lhs)
        raise invalid("target", target, "one side must be the result's symbol, the other the value it is compared with")
    return "=", _target_value(target)


def _relation_name(spelling: str, target: Any) -> str:
    for written, relation in SPELLINGS:
        if spelling.strip() == written:
            return relation
    raise invalid("target", target, "the relation must be one of =, ==, <, <=, >, >=, ≤, ≥")


def _target_value(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            return exact(Fraction(text))
        except ValueError:
            pass
        if not text.isidentifier():
            raise invalid("target", value, "must be a number, a fraction a/b or a symbol name, after an optional relation")
        return symbol(text)
    if isinstance(value, bool) or not (isinstance(value, (int, Fraction)) or is_sympy(value) or hasattr(value, "__index__")):
        raise invalid("target", value, "must be an exact number or a sympy expression")
    return exact(value)


@dataclass
class _Problem:
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


def _problem(source: Any, unknown: str, known: Mapping[str, Any]) -> _Problem:
    if isinstance(source, Formula):
        return _formula_problem(source, unknown, dict(known))
    if hasattr(source, "closed_form") and hasattr(source, "parameters"):
        return _identity_problem(source, unknown, dict(known))
    raise invalid("formula", source, "must be a symconv Formula (symconv.formulas, symconv.receptive_field) or an Identity")


def _unknown_symbol(unknown: str, owner: str, parameters: Any, known: Mapping[str, Any]) -> Any:
    if unknown not in parameters:
        raise invalid("unknown", unknown, f"{owner} has the arguments {', '.join(parameters)}")
    if unknown in known:
        raise invalid(unknown, known[unknown], "is the unknown, so it cannot also be given a value")
    assumptions = dict(notation(unknown).assumptions)
    if not assumptions.get("integer"):
        raise invalid("unknown", unknown, "must be a whole-number argument (sizes, counts, hyperparameters), not a switch")
    return symbol(unknown)


def _formula_problem(formula: Formula, unknown: str, known: dict[str, Any]) -> _Problem:
    variable = _unknown_symbol(unknown, formula.name, list(formula.signature.parameters), known)
    values = formula.bind(**known, **{unknown: variable})
    general = formula_tree(formula)
    # Symbols stay names in the working, so 2p reads as written rather than as 2·p.
    named = {value.name: value for value in values.values() if is_sympy(value) and value.is_Symbol}
    tree = substitute(general, {name: ast.Name(id=value.name, ctx=ast.Load()) if is_sympy(value) and value.is_Symbol else value for name, value in values.items()})
    expression = _to_sympy(tree, formula.namespace, named)
    return _Problem(
        name=formula.name,
        result=formula.result,
        unknown=unknown,
        variable=variable,
        known=known,
        # A switch that is given (ceil_mode=False) settles its branch already in the general line.
        general=compare(ast.Name(id=formula.result, ctx=ast.Load()), "=", substitute(general, {name: value for name, value in values.items() if isinstance(value, bool)})),
        condition_tree=tree,
        expression=expression,
        namespace=formula.namespace,
        checks=recorded_checks(formula, values),
        symbols=_symbolic_knowns(values, unknown),
    )


def _identity_problem(identity: Any, unknown: str, known: dict[str, Any]) -> _Problem:
    parameters = dict(identity.parameters)  # argument name → its symbol in the closed form
    variable = _unknown_symbol(unknown, identity.name, list(parameters), known)
    unexpected = sorted(set(known) - set(parameters))
    if unexpected:
        raise invalid(unexpected[0], known[unexpected[0]], f"{identity.name} has the arguments {', '.join(parameters)}")
    given = {name: symbol(value) if isinstance(value, str) else value for name, value in known.items()}
    values = {name: given.get(name, own) for name, own in parameters.items()}
    values[unknown] = variable
    expression = identity.closed_form.xreplace({parameters[name]: value for name, value in values.items()})
    return _Problem(
        name=identity.name,
        result=identity.result,
        unknown=unknown,
        variable=variable,
        known=known,
        general=compare(ast.Name(id=identity.result, ctx=ast.Load()), "=", constant(identity.closed_form)),
        condition_tree=constant(expression),
        expression=expression,
        namespace={},
        checks=lambda result: [],
        symbols=_symbolic_knowns(values, unknown),
    )


def _symbolic_knowns(values: Mapping[str, Any], unknown: str) -> dict[str, Any]:
    """Argument and symbol names of knowns that are bare symbols, for :meth:`Inversion.at`."""
    found = {}
    for name, value in values.items():
        if name != unknown and is_sympy(value) and value.is_Symbol:
            found[name] = value
            found[value.name] = value
    return found


class _Solver:
    """Turns the condition into integer sets, writing a line for every step it takes."""

    def __init__(self, problem: _Problem, relation: str, target: Any) -> None:
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
            split = sympy.Or(*(
                sympy.And(sympy.Eq(part, bound), *(relational(others, other, bound) for other in parts if other is not part))
                for part in parts
            ))
            which = "smallest" if is_min else "largest"
            self.lines.append(Line(None, f"the {which} of several values equals m when one equals m and the others are {'at least' if is_min else 'at most'} m"))
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
                self.lines.append(Line(chain(denominator * low, "<=", numerator, "<", denominator * high), f"multiply by {exact_text(denominator)} > 0"))
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
        self.lines.append(Line(compare(working_tree(Quotient(numerator, denominator)), relation, working_tree(limit)), FLOOR_RULES[relation]))
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
        bounds = [linear_bound(relation, self.x) for relation in relations if getattr(relation, "is_Relational", False) and relation.has(self.x)]
        if not bounds or any(bound is None for bound in bounds):
            return
        lows = [(relation, value) for relation, value in bounds if relation in (">=", ">")]
        highs = [(relation, value) for relation, value in bounds if relation in ("<=", "<")]
        equal = [value for relation, value in bounds if relation == "="]
        x_tree = constant(self.x)
        if equal:
            tree = compare(x_tree, "=", constant(exact(equal[0])))
        elif len(lows) == 1 and len(highs) == 1:
            low, high = lows[0], highs[0]
            tree = ast.Compare(left=constant(exact(low[1])), ops=[COMPARISON_NODES[SWAPPED[low[0]]](), COMPARISON_NODES[high[0]]()], comparators=[x_tree, constant(exact(high[1]))])
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
                self.lines.append(Line(None, f"{text_name(self.problem.unknown)} is whole only when {exact_text(numerator)} is a multiple of {exact_text(denominator)}"))
            elif value.is_integer is not True:
                checks.append(sympy.Eq(sympy.Mod(value, 1), 0))
            kept = [check for check in checks if check is not sympy.true]
            if any(check is sympy.false for check in kept):
                return sympy.S.EmptySet
            base = sympy.FiniteSet(value)
            return sympy.ConditionSet(self.x, sympy.And(*kept), base) if kept else base
        low = sympy.Max(*lows) if lows else -sympy.oo
        high = sympy.Min(*highs) if highs else sympy.oo
        base = normal_form(sympy.Intersection(sympy.Interval(low, high), sympy.S.Integers, evaluate=not (is_symbolic(low) or is_symbolic(high))))
        return sympy.ConditionSet(self.x, sympy.And(*side), base) if side else base


# Sympy values of trees and their parts.


def _to_sympy(node: ast.expr, namespace: Mapping[str, Any], named: Mapping[str, Any]) -> Any:
    """The sympy value of a tree whose names are symbols in ``named``; floors stay unevaluated."""
    import sympy

    if isinstance(node, ast.Name):
        return named[node.id]
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, bool) else sympy.sympify(node.value)
    if isinstance(node, ast.BinOp):
        left, right = _to_sympy(node.left, namespace, named), _to_sympy(node.right, namespace, named)
        if isinstance(node.op, ast.FloorDiv):
            return floor_of(left / right)
        if isinstance(node.op, ast.Div):
            return left / right
        return BINARY_OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        operand = _to_sympy(node.operand, namespace, named)
        return sympy.Not(operand) if isinstance(node.op, ast.Not) else -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        function = {"minimum": sympy.Min, "maximum": sympy.Max}.get(node.func.id) or namespace[node.func.id]
        return function(*(_to_sympy(argument, namespace, named) for argument in node.args))
    if isinstance(node, ast.IfExp):
        test = _to_sympy(node.test, namespace, named)
        if test in (True, False):
            return _to_sympy(node.body if test else node.orelse, namespace, named)
        return sympy.Piecewise((_to_sympy(node.body, namespace, named), test), (_to_sympy(node.orelse, namespace, named), True))
    if isinstance(node, ast.Compare):
        left = _to_sympy(node.left, namespace, named)
        parts = []
        for comparison, right_node in zip(node.ops, node.comparators):
            right = _to_sympy(right_node, namespace, named)
            parts.append(COMPARISONS[type(comparison)](left, right) if not isinstance(comparison, ast.Eq) else sympy.Eq(left, right))
            left = right
        return sympy.And(*parts)
    raise SymconvError(f"expression: cannot solve through a {type(node).__name__} node")


def _atoms_of(expression: Any, kinds: tuple[type, ...]) -> list[Any]:
    """Atoms of the given kinds, outermost first (a floor inside a minimum is handled after it)."""
    import sympy

    return [node for node in sympy.preorder_traversal(expression) if isinstance(node, kinds)]
