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
from fractions import Fraction
from typing import Any, Mapping

from symconv.core.derive import formula_tree
from symconv.core.errors import invalid
from symconv.core.formula import Formula
from symconv.core.symbols import notation, symbol
from symconv.core.transform import constant, substitute
from symconv.core.values import exact, is_sympy
from symconv.explore.integer_sets import (
    SWAPPED,
    SYMPY_RELATIONS,
)
from symconv.explore.inverse_solver import Problem, Solver, to_sympy
from symconv.explore.inverse_trace import recorded_checks
from symconv.explore.inverse_working import (
    Inversion,
    compare,
)

# Spellings a user may type for a relation; longest first so ">=" is not read as ">".
SPELLINGS: tuple[tuple[str, str], ...] = (
    ("==", "="),
    (">=", ">="),
    ("<=", "<="),
    ("≥", ">="),
    ("≤", "<="),
    ("=", "="),
    (">", ">"),
    ("<", "<"),
)


def solve_for(formula: Any, unknown: str, target: Any, **known: Any) -> Inversion:
    """Every whole value of ``unknown`` for which ``formula`` meets ``target``.

    ``formula`` is a :class:`~symconv.core.formula.Formula` or an :class:`~symconv.explore.identities.Identity`.
    ``target`` is a value (the formula must equal it), a string such as ``">= 100"`` or ``"N"``, a
    pair ``(">=", 100)``, or a sympy relation whose left side is the result's symbol. Knowns may be
    numbers or symbol names; with symbolic knowns the answer is a set with conditions on them.
    """
    relation, target_value = parse_target(target)
    problem = _problem(formula, unknown, known)
    return Solver(problem, relation, target_value).solve()


def parse_target(target: Any) -> tuple[str, Any]:
    """``112`` → ("=", 112); ``">= 100"`` → (">=", 100); ``"N"`` → ("=", N); a sympy relation likewise."""
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], str):
        return _relation_name(target[0], target), _target_value(target[1])
    if isinstance(target, str):
        text = target.strip()
        for spelling, spelled in SPELLINGS:
            if text.startswith(spelling):
                return spelled, _target_value(text[len(spelling) :].strip())
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


def _problem(source: Any, unknown: str, known: Mapping[str, Any]) -> Problem:
    if isinstance(source, Formula):
        return _formula_problem(source, unknown, dict(known))
    if hasattr(source, "closed_form") and hasattr(source, "parameters"):
        return _identity_problem(source, unknown, dict(known))
    raise invalid(
        "formula", source, "must be a symconv Formula (symconv.formulas.layers, symconv.formulas.receptive_field) or an Identity"
    )


def _unknown_symbol(unknown: str, owner: str, parameters: Any, known: Mapping[str, Any]) -> Any:
    if unknown not in parameters:
        raise invalid("unknown", unknown, f"{owner} has the arguments {', '.join(parameters)}")
    if unknown in known:
        raise invalid(unknown, known[unknown], "is the unknown, so it cannot also be given a value")
    assumptions = dict(notation(unknown).assumptions)
    if not assumptions.get("integer"):
        raise invalid("unknown", unknown, "must be a whole-number argument (sizes, counts, hyperparameters), not a switch")
    return symbol(unknown)


def _formula_problem(formula: Formula, unknown: str, known: dict[str, Any]) -> Problem:
    variable = _unknown_symbol(unknown, formula.name, list(formula.signature.parameters), known)
    values = formula.bind(**known, **{unknown: variable})
    general = formula_tree(formula)
    # Symbols stay names in the working, so 2p reads as written rather than as 2·p.
    named = {value.name: value for value in values.values() if is_sympy(value) and value.is_Symbol}
    tree = substitute(
        general,
        {
            name: ast.Name(id=value.name, ctx=ast.Load()) if is_sympy(value) and value.is_Symbol else value
            for name, value in values.items()
        },
    )
    expression = to_sympy(tree, formula.namespace, named)
    return Problem(
        name=formula.name,
        result=formula.result,
        unknown=unknown,
        variable=variable,
        known=known,
        # A switch that is given (ceil_mode=False) settles its branch already in the general line.
        general=compare(
            ast.Name(id=formula.result, ctx=ast.Load()),
            "=",
            substitute(general, {name: value for name, value in values.items() if isinstance(value, bool)}),
        ),
        condition_tree=tree,
        expression=expression,
        namespace=formula.namespace,
        checks=recorded_checks(formula, values),
        symbols=_symbolic_knowns(values, unknown),
    )


def _identity_problem(identity: Any, unknown: str, known: dict[str, Any]) -> Problem:
    parameters = dict(identity.parameters)  # argument name → its symbol in the closed form
    variable = _unknown_symbol(unknown, identity.name, list(parameters), known)
    unexpected = sorted(set(known) - set(parameters))
    if unexpected:
        raise invalid(unexpected[0], known[unexpected[0]], f"{identity.name} has the arguments {', '.join(parameters)}")
    given = {name: symbol(value) if isinstance(value, str) else value for name, value in known.items()}
    values = {name: given.get(name, own) for name, own in parameters.items()}
    values[unknown] = variable
    expression = identity.closed_form.xreplace({parameters[name]: value for name, value in values.items()})
    return Problem(
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
