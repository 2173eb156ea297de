"""Argument checks shared by the formulas: decide what can be decided, say exactly what is wrong.

A check names the argument, its value and the rule. Symbolic values are accepted without a verdict
where the rule cannot be decided; numpy arrays are checked element by element and the first
offending element is reported.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from symconv.core.errors import invalid
from symconv.core.values import is_array, is_integer, is_symbolic


def require(name: str, value: Any, rule: str, test: Callable[[Any], Any], *related: Any) -> None:
    """Raise SymconvError unless ``test(value)`` holds; skipped when anything involved is symbolic."""
    if type(value) is int and all(type(other) is int for other in related):  # the numeric path: plain ints
        passed = test(value)
        if passed is True:
            return
        if passed is False:
            raise invalid(name, value, rule)
    if value is None or is_symbolic(value) or any(is_symbolic(other) for other in related):
        return
    passed = test(value)
    if is_array(value) or is_array(passed):
        import numpy

        failed = ~numpy.asarray(passed, dtype=bool)
        if failed.any():
            offending = numpy.broadcast_to(numpy.asarray(value), failed.shape)[failed].flat[0]
            raise invalid(name, offending.item(), rule)
    elif not passed:
        raise invalid(name, value, rule)


def require_integer(name: str, value: Any) -> None:
    """Sizes, counts and hyperparameters are whole numbers (sympy integers and numpy ints count)."""
    if value is None or is_symbolic(value) or is_integer(value):
        return
    if is_array(value):
        if value.dtype.kind not in "iu":
            raise invalid(name, value.dtype.name, "must be an array of integers")
        return
    if getattr(value, "is_Integer", False):
        return
    raise invalid(name, value, "must be an integer")


def require_at_least(minimum: int, values: Mapping[str, Any], *names: str) -> None:
    for name in names:
        value = values[name]
        if type(value) is int:  # the numeric path: a plain int (never a bool) needs no kind tests
            if value < minimum:
                raise invalid(name, value, f"must be at least {minimum}")
            continue
        require_integer(name, value)
        require(name, value, f"must be at least {minimum}", lambda v: v >= minimum)
