"""Argument checks shared by the formulas: decide what can be decided, say exactly what is wrong.

A check names the argument, its value and the rule. Symbolic values are accepted without a verdict
where the rule cannot be decided; numpy arrays are checked element by element and the first
offending element is reported.
"""

from __future__ import annotations

import keyword
import re
from fractions import Fraction
from numbers import Integral, Number
from typing import Any, Callable, Mapping

from symconv.core.errors import invalid
from symconv.core.values import is_array, is_integer, is_symbolic, is_sympy


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
            raise invalid(name, offending.item() if hasattr(offending, "item") else offending, rule)
    elif not passed:
        raise invalid(name, value, rule)


def require_integer(name: str, value: Any) -> None:
    """Sizes, counts and hyperparameters are whole numbers (sympy integers and numpy ints count)."""
    if type(value) is int or value is None or is_symbolic(value) or is_integer(value):
        return
    if is_array(value):
        if value.dtype.kind == "O" and all(map(is_integer, value.ravel().tolist())):
            return  # Python ints, kept exact (see exact_arrays)
        if value.dtype.kind not in "iu":
            raise invalid(name, value.dtype.name, "must be an array of integers")
        return
    if getattr(value, "is_Integer", False):
        return
    raise invalid(name, value, "must be an integer")


def require_rational(name: str, value: Any) -> None:
    """An exact number: an integer or a fraction (a float would make the working inexact)."""
    if is_array(value):
        require_integer(name, value)
    elif not (
        value is None
        or is_symbolic(value)
        or is_integer(value)
        or isinstance(value, Fraction)
        or getattr(value, "is_Rational", False)
    ):
        raise invalid(name, value, "must be an integer or a fraction (exact)")


def require_at_least(minimum: int, values: Mapping[str, Any], *names: str) -> None:
    for name in names:
        value = values[name]
        if type(value) is int:  # the numeric path: a plain int (never a bool) needs no kind tests
            if value < minimum:
                raise invalid(name, value, f"must be at least {minimum}")
            continue
        require_integer(name, value)
        require(name, value, f"must be at least {minimum}", lambda v: v >= minimum)


# ---- argument kinds: what every formula argument may be, before any rule about its value ------------

_INDEXED_NAME = re.compile(r"^[A-Za-z]\[[0-9A-Za-z_, ]+\]$")
KINDS = "an integer, a sympy expression, a numpy integer array or the name of a symbol"


def require_symbol_name(name: str, value: Any) -> str:
    """A symbol is named by an identifier (``H``, ``C_in``) or an indexed entry (``Y[0,0]``).

    A string of digits is a number written as text, not a name, and a Python keyword cannot be
    compiled into the exact evaluator of a symbolic report.
    """
    if not isinstance(value, str):
        raise invalid(name, value, "a symbol name must be a string such as H or C_in")
    text = value.strip()
    if _is_number_text(text):
        raise invalid(name, value, f"is a number written as text; pass the number {text} itself, or a symbol name such as H")
    if not (text.isidentifier() or _INDEXED_NAME.match(text)) or text != value:
        raise invalid(
            name, value, "a symbol name must be an identifier such as H or C_in (letters, digits, _; not starting with a digit)"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise invalid(name, value, "a Python keyword cannot name a symbol")
    return value


def _is_number_text(text: str) -> bool:
    try:
        Fraction(text)
    except (ValueError, ZeroDivisionError):
        return False
    return True


def require_flag(name: str, value: Any) -> bool:
    """A switch (``ceil_mode``, ``bias``) is True or False; "yes" or 1 would be silently truthy."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise invalid(name, value, "must be True or False")


def check_argument(name: str, value: Any, flag: bool = False, optional: bool = False) -> Any:
    """The kind of one formula argument, before the formula's own rules; returns it normalised.

    Numpy integer scalars become Python ints (their arithmetic wraps at 2**63); strings must name a
    symbol; None only where the formula derives a default; bools only for switches.
    """
    if type(value) is int and not flag:  # the common case first: ABC isinstance checks cost microseconds
        return value
    if value is None:
        if optional:
            return None
        raise invalid(name, None, f"is required: give {'True or False' if flag else KINDS}")
    if flag:
        if is_array(value) and value.dtype.kind == "b":
            return value  # a sweep over a switch: the formula decides whether it can branch on an array
        return require_flag(name, value)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise invalid(name, value, f"must be {KINDS}, not True or False")
    if isinstance(value, str):
        return require_symbol_name(name, value)
    if is_sympy(value) or isinstance(value, Fraction):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Number):
        if isinstance(value, complex):
            raise invalid(name, value, f"must be {KINDS}")
        return value
    if is_array(value):
        if value.dtype.kind == "b":
            raise invalid(name, value.dtype.name, f"must be {KINDS}, not an array of True or False")
        if value.dtype.kind not in "iufO":
            raise invalid(name, value.dtype.name, f"must be {KINDS}")
        return value
    raise invalid(name, value, f"must be {KINDS}")


def exact_arrays(values: dict[str, Any]) -> dict[str, Any]:
    """Integer arrays as arrays of Python ints, so no intermediate wraps at 2**63 (numpy would, silently)."""
    if not any(is_array(value) and value.dtype.kind in "iu" for value in values.values()):
        return values
    return {
        name: value.astype(object) if is_array(value) and value.dtype.kind in "iu" else value for name, value in values.items()
    }


def narrowed(result: Any) -> Any:
    """An array of Python ints back as int64 when every entry fits; otherwise kept exact."""
    if not is_array(result) or result.dtype.kind != "O" or result.size == 0:
        return result
    import numpy

    entries = result.ravel().tolist()
    if all(is_integer(entry) and -(2**63) <= entry < 2**63 for entry in entries):
        return result.astype(numpy.int64)
    return result
