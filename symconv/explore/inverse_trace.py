"""A formula's checks run on sympy stand-ins: every test they make is recorded as a condition, and passes."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from symconv.core.formula import Formula
from symconv.core.values import exact, is_symbolic, is_sympy
from symconv.explore.integer_sets import floor_of, relational


def recorded_checks(formula: Formula, values: Mapping[str, Any]) -> Callable[[Any], list[Any]]:
    """A function of the result giving the sympy conditions that ``formula``'s checks test with ``values``."""

    def checks(result: Any) -> list[Any]:
        log: list[Any] = []
        traced = {name: _Traced(value, log) if is_sympy(value) else value for name, value in values.items()}
        if formula.check is not None:
            formula.check(traced)
        if formula.check_result is not None:
            formula.check_result(traced, _Traced(result, log) if is_symbolic(result) else exact(result))
        return log

    return checks


class _Traced:
    """A sympy value handed to a formula's checks: each test it takes part in is recorded, and passes."""

    is_Integer = True  # require_integer accepts it: the unknown ranges over whole numbers

    def __init__(self, value: Any, log: list[Any]) -> None:
        self.value, self.log = value, log

    def _lift(self, other: Any) -> Any:
        return other.value if isinstance(other, _Traced) else other

    def _wrap(self, value: Any) -> "_Traced":
        return _Traced(value, self.log)

    def __add__(self, other):
        return self._wrap(self.value + self._lift(other))

    def __radd__(self, other):
        return self._wrap(self._lift(other) + self.value)

    def __sub__(self, other):
        return self._wrap(self.value - self._lift(other))

    def __rsub__(self, other):
        return self._wrap(self._lift(other) - self.value)

    def __mul__(self, other):
        return self._wrap(self.value * self._lift(other))

    def __rmul__(self, other):
        return self._wrap(self._lift(other) * self.value)

    def __truediv__(self, other):
        return self._wrap(self.value / self._lift(other))

    def __rtruediv__(self, other):
        return self._wrap(self._lift(other) / self.value)

    def __floordiv__(self, other):
        return self._wrap(floor_of(self.value / self._lift(other)))

    def __rfloordiv__(self, other):
        return self._wrap(floor_of(self._lift(other) / self.value))

    def __mod__(self, other):
        return self._wrap(_mod(self.value, self._lift(other)))

    def __rmod__(self, other):
        return self._wrap(_mod(self._lift(other), self.value))

    def __pow__(self, other):
        return self._wrap(self.value ** self._lift(other))

    def __neg__(self):
        return self._wrap(-self.value)

    def _condition(self, relation: str, other: Any) -> "_Condition":
        return _Condition(relational(relation, self.value, self._lift(other)), self.log)

    def __ge__(self, other):
        return self._condition(">=", other)

    def __gt__(self, other):
        return self._condition(">", other)

    def __le__(self, other):
        return self._condition("<=", other)

    def __lt__(self, other):
        return self._condition("<", other)

    def __eq__(self, other):
        return self._condition("=", other)  # type: ignore[override]

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:  # f-strings in rule messages
        return str(self.value)


class _Condition:
    """A recorded test; ``bool()`` of it logs the condition and lets the check go on."""

    def __init__(self, condition: Any, log: list[Any]) -> None:
        self.condition, self.log = condition, log

    def _combine(self, other: Any, function_name: str) -> "_Condition":
        import sympy

        other_condition = other.condition if isinstance(other, _Condition) else sympy.sympify(bool(other))
        return _Condition(getattr(sympy, function_name)(self.condition, other_condition), self.log)

    def __and__(self, other):
        return self._combine(other, "And")

    __rand__ = __and__

    def __or__(self, other):
        return self._combine(other, "Or")

    __ror__ = __or__

    def __bool__(self) -> bool:
        self.log.append(self.condition)
        return True


def _mod(a: Any, b: Any) -> Any:
    import sympy

    return sympy.Mod(a, b)
