"""Sets of whole numbers from sympy conditions: isolate, bound, intersect, filter, and list them."""

from __future__ import annotations

from typing import Any

# Written relation → the sympy class that builds it.
SYMPY_CLASSES: dict[str, str] = {"=": "Eq", ">=": "Ge", ">": "Gt", "<=": "Le", "<": "Lt"}
# Written relation → the same relation read with both sides swapped.
SWAPPED: dict[str, str] = {"=": "=", ">=": "<=", ">": "<", "<=": ">=", "<": ">"}
# sympy's rel_op → written relation.
SYMPY_RELATIONS: dict[str, str] = {"==": "=", ">=": ">=", ">": ">", "<=": "<=", "<": "<"}
# Bounded solution sets up to this size are listed as a FiniteSet; larger ones stay a Range.
LISTED = 100

_FLOOR = None


def unevaluated_floor() -> Any:
    """An unevaluated floor: sympy would otherwise simplify ⌊p + 217/2⌋ to p + 108 out of sight."""
    global _FLOOR
    if _FLOOR is None:
        import sympy

        _FLOOR = sympy.Function("Floor")
    return _FLOOR


def floor_of(value: Any) -> Any:
    """⌊value⌋: evaluated when it is a number, kept as a marker while symbols remain."""
    import sympy

    return unevaluated_floor()(value) if getattr(value, "free_symbols", None) else sympy.floor(value)


def relational(relation: str, left: Any, right: Any) -> Any:
    """The sympy relation ``left relation right`` for a written relation such as ">="."""
    import sympy

    return getattr(sympy, SYMPY_CLASSES[relation])(left, right)


def isolate(condition: Any, part: Any) -> tuple[str, Any] | None:
    """``a·part + rest OP c`` → (OP', (c − rest)/a), flipping OP when a < 0; None when not of that form."""
    import sympy

    relation = SYMPY_RELATIONS.get(getattr(condition, "rel_op", ""))
    if relation is None:
        return None
    difference = condition.lhs - condition.rhs
    rest, term = difference.as_independent(part, as_Add=True)
    coefficient = sympy.cancel(term / part)
    if coefficient.has(part) or coefficient.is_zero or coefficient.is_zero is None:
        return None
    if coefficient.is_negative:
        relation = SWAPPED[relation]
    elif not coefficient.is_positive:
        return None
    return relation, _tidy(-rest / coefficient)


def linear_bound(relation: Any, x: Any) -> tuple[str, Any] | None:
    """``a·x + b OP 0`` with the sign of a known → (OP', −b/a); None otherwise."""
    import sympy

    written = SYMPY_RELATIONS.get(getattr(relation, "rel_op", ""))
    if written is None:
        return None
    polynomial = (relation.lhs - relation.rhs).as_poly(x)
    if polynomial is None or polynomial.degree() != 1:
        return None
    coefficient, rest = (sympy.sympify(value) for value in polynomial.all_coeffs())
    if not (coefficient.is_positive or coefficient.is_negative):
        return None
    if coefficient.is_negative:
        written = SWAPPED[written]
    return written, _tidy(-rest / coefficient)


def _tidy(value: Any) -> Any:
    """Numbers as they are; symbolic values factored, d(K − 1)/2 rather than (Kd − d)/2."""
    import sympy

    return sympy.factor(value) if value.free_symbols else value


def is_predicate(condition: Any, x: Any) -> bool:
    """A divisibility rule (c mod g = 0): it filters values rather than bounding them."""
    import sympy

    return bool(condition.has(sympy.Mod)) and condition.has(x)


def integer_set(condition: Any, x: Any) -> Any:
    """The whole numbers ``x`` for which a condition free of min, max and isolable floors holds."""
    import sympy

    if condition is sympy.true:
        return sympy.S.Integers
    if condition is sympy.false:
        return sympy.S.EmptySet
    if isinstance(condition, sympy.And):
        plain = [argument for argument in condition.args if not is_predicate(argument, x)]
        bounds = [linear_bound(argument, x) for argument in plain]
        # Linear relations meet in one range, computed directly: sympy's set intersections are slow.
        result = _numeric_range([bound for bound in bounds if bound is not None])
        for argument, bound in zip(plain, bounds):
            if bound is None:
                result = sympy.Intersection(result, integer_set(argument, x))
        for predicate in (argument for argument in condition.args if is_predicate(argument, x)):
            result = _restrict(result, predicate, x)
        return result
    if isinstance(condition, sympy.Or):
        return sympy.Union(*(integer_set(argument, x) for argument in condition.args))
    if is_predicate(condition, x):
        return sympy.ConditionSet(x, condition, sympy.S.Integers)
    if condition.has(unevaluated_floor()):  # a floor that could not be isolated stays a condition to filter by
        return sympy.ConditionSet(x, condition.replace(unevaluated_floor(), sympy.floor), sympy.S.Integers)
    bound = linear_bound(condition, x)
    if bound is not None:
        return _numeric_range([bound])
    real = sympy.solveset(condition, x, sympy.S.Reals)
    return _integers_in(real)


def at_least(whole: Any, lower: int | None) -> Any:
    """The members of a set of whole numbers from ``lower`` up, cut directly where the set is a range."""
    import sympy

    if lower is None:
        return whole
    if isinstance(whole, sympy.Union):
        return sympy.Union(*(at_least(part, lower) for part in whole.args))
    if isinstance(whole, sympy.FiniteSet):
        return sympy.FiniteSet(*(value for value in whole if value >= lower))
    if isinstance(whole, sympy.Range) and whole.step == 1:
        return sympy.Range(max(whole.inf, lower), whole.sup + 1) if whole.sup >= max(whole.inf, lower) else sympy.S.EmptySet
    return sympy.Intersection(whole, sympy.Range(lower, sympy.oo))


def _numeric_range(bounds: list[tuple[str, Any]]) -> Any:
    """The whole numbers meeting every bound (relation, number): a Range, one value, or nothing."""
    import sympy

    low, high, equal = -sympy.oo, sympy.oo, set()
    for relation, value in bounds:
        if relation == "=":
            equal.add(value)
        elif relation in (">=", ">"):
            low = max(low, sympy.ceiling(value) if relation == ">=" else sympy.floor(value) + 1)
        else:
            high = min(high, sympy.floor(value) if relation == "<=" else sympy.ceiling(value) - 1)
    if equal:
        (value, *others) = equal
        fits = not others and value.is_integer and low <= value <= high
        return sympy.FiniteSet(value) if fits else sympy.S.EmptySet
    if low > high:
        return sympy.S.EmptySet
    return sympy.Range(low, high + 1) if high != sympy.oo else sympy.Range(low, sympy.oo)


def _integers_in(real: Any) -> Any:
    """The whole numbers in a set of reals (intervals become ranges)."""
    import sympy

    if isinstance(real, sympy.Union):
        return sympy.Union(*(_integers_in(part) for part in real.args))
    if isinstance(real, sympy.FiniteSet):
        return sympy.FiniteSet(*(value for value in real if value.is_integer))
    return sympy.Intersection(real, sympy.S.Integers)


def _restrict(whole: Any, predicate: Any, x: Any) -> Any:
    """The members of ``whole`` meeting ``predicate``, filtered element by element where ``whole`` is bounded."""
    import sympy

    if whole.is_finite_set:
        return sympy.FiniteSet(*(value for value in whole if predicate.xreplace({x: value}) is sympy.true))
    parts = whole.args if isinstance(whole, sympy.Union) else (whole,)
    kept = []
    for part in parts:
        if part.is_finite_set:
            kept.append(_restrict(part, predicate, x))
            continue
        divisors = _divisors_bound(predicate, x)
        period = _period(predicate, x)
        if divisors is not None:
            kept.append(_restrict(sympy.Intersection(part, divisors), predicate, x))
        elif period is not None and isinstance(part, sympy.Range) and part.step == 1 and part.inf.is_finite:
            start = part.inf
            residues = [start + shift for shift in range(period) if predicate.xreplace({x: start + shift}) is sympy.true]
            kept.extend(sympy.Range(first, part.sup + 1, period) for first in residues)
        else:
            kept.append(sympy.ConditionSet(x, predicate, part))
    return sympy.Union(*kept)


def _period(predicate: Any, x: Any) -> int | None:
    """Rules 'a(x) mod m = 0' with numeric m and integer polynomials a repeat every lcm of the m."""
    import math

    import sympy

    period = 1
    for mod in predicate.atoms(sympy.Mod):
        dividend, divisor = mod.args
        if not (divisor.is_Integer and divisor > 0):
            return None
        polynomial = sympy.Poly(dividend, x) if dividend.is_polynomial(x) else None
        if polynomial is None or not all(coefficient.is_Integer for coefficient in polynomial.coeffs()):
            return None
        period = math.lcm(period, int(divisor))
    return period


def _divisors_bound(predicate: Any, x: Any) -> Any:
    """x must divide a nonzero number c (c mod x = 0): then |x| ≤ |c|, a finite range to filter."""
    import sympy

    for mod in predicate.atoms(sympy.Mod):
        dividend, divisor = mod.args
        if divisor == x and dividend.is_number and dividend != 0:
            limit = abs(int(dividend))
            return sympy.Union(sympy.Range(-limit, 0), sympy.Range(1, limit + 1))
    return None


def normal_form(solutions: Any) -> Any:
    """A bounded set of at most LISTED numbers is listed; a larger or unbounded one stays a Range."""
    import sympy

    if solutions.is_finite_set and not solutions.free_symbols:
        values = list(solutions)
        if len(values) <= LISTED:
            return sympy.FiniteSet(*values)
    return solutions
