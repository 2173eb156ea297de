"""What kind of value an argument is (integer, numpy array, sympy expression), and exact arithmetic.

Nothing here imports sympy or numpy: the numeric path must not pay for them. Kinds are recognised by
the attributes the libraries give their objects.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Number, Rational
from typing import Any


def is_symbolic(value: Any) -> bool:
    """True for a sympy expression that still contains free symbols."""
    return bool(getattr(value, "free_symbols", None))


def is_sympy(value: Any) -> bool:
    return hasattr(value, "free_symbols") and hasattr(value, "subs")


def is_array(value: Any) -> bool:
    """True for a numpy array (a 0-d array counts too); numpy scalars are numbers, not arrays."""
    return hasattr(value, "__array__") and hasattr(value, "shape") and not isinstance(value, Number) and not is_sympy(value)


def is_integer(value: Any) -> bool:
    """An exact integer: Python int or numpy integer scalar, never a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def exact(value: Any) -> Any:
    """Normalise a number to its simplest exact form: Fraction(4, 2) -> 2, numpy ints -> int.

    Sympy numbers become int or Fraction; everything else is returned unchanged.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Rational):
        return int(value) if value.denominator == 1 else Fraction(value)
    if is_sympy(value) and not value.free_symbols:
        if value.is_Integer:
            return int(value)
        if value.is_Rational:
            return Fraction(int(value.p), int(value.q))
    return value


def divide(numerator: Any, denominator: Any) -> Any:
    """True division that stays exact on integers and fractions (1/4 is Fraction(1, 4), not 0.25)."""
    if isinstance(numerator, Rational) and isinstance(denominator, Rational):
        return exact(Fraction(numerator) / Fraction(denominator))
    return numerator / denominator


def minimum(a: Any, b: Any) -> Any:
    """min() that works element-wise on arrays and stays symbolic on sympy expressions."""
    if is_array(a) or is_array(b):
        import numpy

        return numpy.minimum(a, b)
    if is_sympy(a) or is_sympy(b):
        import sympy

        return sympy.Min(a, b)
    return min(a, b)


def maximum(a: Any, b: Any) -> Any:
    """max() that works element-wise on arrays and stays symbolic on sympy expressions."""
    if is_array(a) or is_array(b):
        import numpy

        return numpy.maximum(a, b)
    if is_sympy(a) or is_sympy(b):
        import sympy

        return sympy.Max(a, b)
    return max(a, b)
