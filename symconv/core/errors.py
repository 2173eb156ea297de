"""The one exception type symconv raises for bad input, and the boundary around code that is not ours."""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, TypeVar

T = TypeVar("T")


class SymconvError(ValueError):
    """Invalid input: the message names the argument, its value and the rule broken."""


def invalid(argument: str, value: object, rule: str) -> SymconvError:
    """Build the standard one-line error: ``kernel_size=0: must be at least 1``."""
    shown = str(value) if isinstance(value, Fraction) else repr(value)  # 1/2, not Fraction(1, 2)
    return SymconvError(f"{argument}={shown}: {rule}")


def guarded(where: str, call: Callable[[], T]) -> T:
    """Run someone else's code (a model factory, an exercise module): whatever it raises, ``sys.exit`` and
    endless recursion included, becomes one SymconvError naming ``where`` and the exception.

    SymconvError passes unchanged (it already names its argument); Ctrl-C is left to the signal handling.
    """
    try:
        return call()
    except SymconvError:
        raise
    except (Exception, SystemExit) as error:
        raise SymconvError(f"{where}: {describe(error)}") from None


def describe(error: BaseException) -> str:
    """What someone else's code raised, on one short line."""
    if isinstance(error, RecursionError):
        return "RecursionError: it calls itself without end"
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    return one_line(f"{type(error).__name__}: {error}")


def one_line(text: str, limit: int = 300) -> str:
    """A message of someone else's on one line, and short: the error line is one line."""
    flat = " ".join(str(text).split()).rstrip(":")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
