"""What kind of value an argument is (integer, numpy array, sympy expression), and exact arithmetic.

Nothing here imports sympy or numpy: the numeric path must not pay for them. Kinds are recognised by
the attributes the libraries give their objects.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Number, Rational
from typing import Any, Callable


def is_symbolic(value: Any) -> bool:
    """True for a sympy expression that still contains free symbols."""
    return bool(getattr(value, "free_symbols", None))


def is_sympy(value: Any) -> bool:
    # Asked of the type: free_symbols on an instance walks the whole expression.
    return hasattr(type(value), "free_symbols") and hasattr(type(value), "subs")


def is_array(value: Any) -> bool:
    """True for a numpy array (a 0-d array counts too); numpy scalars are numbers, not arrays."""
    return hasattr(value, "__array__") and hasattr(value, "shape") and not isinstance(value, Number) and not is_sympy(value)


def is_integer(value: Any) -> bool:
    """An exact integer: Python int or numpy integer scalar, never a bool."""
    return type(value) is int or (isinstance(value, Integral) and not isinstance(value, bool))


def exact(value: Any) -> Any:
    """Normalise a number to its simplest exact form: Fraction(4, 2) -> 2, numpy ints -> int.

    Sympy numbers become int or Fraction; everything else is returned unchanged.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Rational):
        return int(value.numerator) if value.denominator == 1 else Fraction(value)
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


def _elementwise(builtin: Callable[[Any, Any], Any], numpy_name: str, sympy_name: str) -> Callable[[Any, Any], Any]:
    """A two-argument builtin that works element-wise on arrays and stays symbolic on sympy expressions."""

    def apply(a: Any, b: Any) -> Any:
        if is_array(a) or is_array(b):
            import numpy

            return getattr(numpy, numpy_name)(a, b)
        if is_sympy(a) or is_sympy(b):
            import sympy

            return getattr(sympy, sympy_name)(a, b)
        return builtin(a, b)

    apply.__name__ = numpy_name
    apply.__doc__ = f"{builtin.__name__}() element-wise on arrays, {sympy_name} on sympy expressions."
    return apply


minimum = _elementwise(min, "minimum", "Min")
maximum = _elementwise(max, "maximum", "Max")


def same(a: Any, b: Any) -> bool:
    """Equal sizes: ints compare; symbolic sizes must be the same expression for every input size."""
    if a == b:
        return True
    if is_sympy(a) or is_sympy(b):
        import sympy

        return sympy.expand(a - b) == 0
    return False
